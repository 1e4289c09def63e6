package returnstate

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func TestSignVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tok := Sign(key, State{WorkflowID: "connection/acme/c1", Attempt: 2, Expires: now.Add(time.Hour).Unix()})
	s, err := Verify(key, tok, now)
	require.NoError(t, err)
	assert.Equal(t, "connection/acme/c1", s.WorkflowID)
	assert.Equal(t, 2, s.Attempt)

	_, err = Verify(key, tok, now.Add(2*time.Hour))
	assert.ErrorIs(t, err, ErrExpired)
	_, err = Verify([]byte("another key of at least 32 bytes!!"), tok, now)
	assert.ErrorIs(t, err, ErrForged)

	// Changing the payload (another customer or attempt) breaks the signature.
	forged := Sign(key, State{WorkflowID: "connection/acme/c2", Attempt: 2, Expires: now.Add(time.Hour).Unix()})
	p, _, _ := strings.Cut(forged, ".")
	_, sig, _ := strings.Cut(tok, ".")
	_, err = Verify(key, p+"."+sig, now)
	assert.ErrorIs(t, err, ErrForged)
	for _, bad := range []string{"", "x", "x.", ".y", "!!.??"} {
		_, err = Verify(key, bad, now)
		assert.Error(t, err, bad)
	}
}

func TestAddToURL(t *testing.T) {
	u, err := AddToURL("https://isv.example/return?x=1", "tok.sig")
	require.NoError(t, err)
	assert.Equal(t, "https://isv.example/return?state=tok.sig&x=1", u)
}

func BenchmarkSignVerify(b *testing.B) {
	now := time.Now()
	for b.Loop() {
		tok := Sign(key, State{WorkflowID: "connection/acme/c1", Attempt: 1, Expires: now.Add(time.Hour).Unix()})
		if _, err := Verify(key, tok, now); err != nil {
			b.Fatal(err)
		}
	}
}

// Issue 10 item 7: another spelling of a signature (the last character's unused bits
// changed) is not a second valid state.
func TestOtherSpellingsOfASignatureAreRefused(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	tok := Sign(key, State{WorkflowID: "connection/acme/c1", Attempt: 1, Expires: now.Add(time.Hour).Unix()})
	_, err := Verify(key, tok, now)
	require.NoError(t, err)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	accepted := 0
	for _, c := range alphabet {
		other := tok[:len(tok)-1] + string(c)
		if _, err := Verify(key, other, now); err == nil {
			accepted++
		}
	}
	assert.Equal(t, 1, accepted, "exactly one spelling (the original) is valid")
}
