package payloadcrypt_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/connect-onboarding/worker/internal/payloadcrypt"
)

func ring(t *testing.T, entries ...string) *payloadcrypt.Ring {
	t.Helper()
	r, err := payloadcrypt.Parse(strings.Join(entries, ","))
	require.NoError(t, err)
	return r
}

func key(t *testing.T, id string) string {
	t.Helper()
	k, err := payloadcrypt.NewKey(id)
	require.NoError(t, err)
	return k
}

const username = "integration.user@customer.example"

func TestEncryptsAndDecrypts(t *testing.T) {
	dc := payloadcrypt.DataConverter(ring(t, key(t, "k1")))
	p, err := dc.ToPayload(map[string]string{"sf_username": username})
	require.NoError(t, err)
	assert.Equal(t, payloadcrypt.Encoding, string(p.Metadata[converter.MetadataEncoding]))
	assert.Equal(t, "k1", string(p.Metadata[payloadcrypt.MetadataKeyID]))
	assert.NotContains(t, string(p.Data), "customer.example", "ciphertext only")
	var back map[string]string
	require.NoError(t, dc.FromPayload(p, &back))
	assert.Equal(t, username, back["sf_username"])

	// A fresh nonce each time: the same value never encrypts to the same bytes.
	p2, err := dc.ToPayload(map[string]string{"sf_username": username})
	require.NoError(t, err)
	assert.NotEqual(t, p.Data, p2.Data)
}

// Rotation: a new key first encrypts; payloads of the old key still decrypt while it stays
// in the ring, and name it when it is gone.
func TestRotation(t *testing.T) {
	old, next := key(t, "2026-10"), key(t, "2026-11")
	before := payloadcrypt.DataConverter(ring(t, old))
	p, err := before.ToPayload("written before the rotation")
	require.NoError(t, err)

	rotated := payloadcrypt.DataConverter(ring(t, next, old))
	var s string
	require.NoError(t, rotated.FromPayload(p, &s))
	assert.Equal(t, "written before the rotation", s)
	q, err := rotated.ToPayload("after")
	require.NoError(t, err)
	assert.Equal(t, "2026-11", string(q.Metadata[payloadcrypt.MetadataKeyID]))

	dropped := payloadcrypt.DataConverter(ring(t, next))
	err = dropped.FromPayload(p, &s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"2026-10"`, "the error names the missing key")
	assert.NotContains(t, err.Error(), strings.SplitN(old, ":", 2)[1], "never the key itself")
}

func TestRejectsTamperingAndKeySwaps(t *testing.T) {
	a, b := key(t, "a"), key(t, "b")
	codec := payloadcrypt.NewCodec(ring(t, a, b))
	enc, err := codec.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"x"`)}})
	require.NoError(t, err)

	flipped := &commonpb.Payload{Metadata: enc[0].Metadata, Data: append([]byte{}, enc[0].Data...)}
	flipped.Data[len(flipped.Data)-1] ^= 1
	_, err = codec.Decode([]*commonpb.Payload{flipped})
	assert.ErrorContains(t, err, "authentication failed")

	// The key ID is authenticated: relabelling a payload as another key's fails.
	relabelled := &commonpb.Payload{Metadata: map[string][]byte{}, Data: enc[0].Data}
	for k, v := range enc[0].Metadata {
		relabelled.Metadata[k] = v
	}
	relabelled.Metadata[payloadcrypt.MetadataKeyID] = []byte("b")
	_, err = codec.Decode([]*commonpb.Payload{relabelled})
	assert.ErrorContains(t, err, "authentication failed")

	short := &commonpb.Payload{Metadata: enc[0].Metadata, Data: []byte{1, 2, 3}}
	_, err = codec.Decode([]*commonpb.Payload{short})
	assert.ErrorContains(t, err, "too short")

	weird := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(payloadcrypt.Encoding), payloadcrypt.MetadataKeyID: []byte("\x00evil\n")}, Data: enc[0].Data}
	_, err = codec.Decode([]*commonpb.Payload{weird})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "\n", "attacker-chosen metadata is made printable")
}

// With keys, a payload in clear is refused (issue 22 item 12): whoever can start a workflow
// or write history without the keys cannot feed the workers input. A namespace written
// before its keys is read while migrating (AllowPlaintext); the codec server's codec shows
// such payloads as they are (it only displays).
func TestPlainPayloadsRefusedWithKeys(t *testing.T) {
	plain, err := converter.GetDefaultDataConverter().ToPayload("injected")
	require.NoError(t, err)
	r := ring(t, key(t, "k"))
	var s string
	err = payloadcrypt.DataConverter(r).FromPayload(plain, &s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "in clear")
	assert.Contains(t, err.Error(), "PAYLOAD_ALLOW_PLAINTEXT")

	r.AllowPlaintext = true
	require.NoError(t, payloadcrypt.DataConverter(r).FromPayload(plain, &s), "while migrating")
	assert.Equal(t, "injected", s)

	out, err := payloadcrypt.NewCodec(ring(t, key(t, "k"))).Decode([]*commonpb.Payload{plain})
	require.NoError(t, err, "the codec server displays what it gets")
	assert.Equal(t, plain.Data, out[0].Data)
}

func TestParseErrorsNameTheEntryNotTheKey(t *testing.T) {
	good := key(t, "good")
	for _, tc := range []struct{ in, want string }{
		{"nocolon", "key 1 is not id:base64-key"},
		{"bad id!:" + strings.SplitN(good, ":", 2)[1], "the ID must be"},
		{"short:c2VjcmV0", `key "short" must be 32 bytes`},
		{good + "," + good, `"good" appears twice`},
	} {
		_, err := payloadcrypt.Parse(tc.in)
		require.Error(t, err, tc.in)
		assert.Contains(t, err.Error(), tc.want)
		assert.NotContains(t, err.Error(), "c2VjcmV0")
		assert.NotContains(t, err.Error(), strings.SplitN(good, ":", 2)[1])
	}
	r, err := payloadcrypt.Parse("# comment\n\n" + good + "\n")
	require.NoError(t, err)
	assert.Equal(t, []string{"good"}, r.IDs())
	assert.NotContains(t, r.String(), strings.SplitN(good, ":", 2)[1])
	empty, err := payloadcrypt.Load("", "")
	require.NoError(t, err)
	assert.True(t, empty.Empty())
	_, err = payloadcrypt.Load("", "/nonexistent/keys")
	assert.ErrorContains(t, err, "PAYLOAD_KEYS_FILE")
}

// Failure messages can name a customer's identity: with keys they travel encoded.
func TestFailureMessagesAreEncrypted(t *testing.T) {
	r := ring(t, key(t, "k"))
	fc := payloadcrypt.FailureConverter(r)
	f := fc.ErrorToFailure(temporal.NewApplicationError("authorized by user "+username, "IdentityMismatch"))
	assert.NotContains(t, f.GetMessage(), username)
	assert.NotContains(t, f.String(), "customer.example")
	back := fc.FailureToError(f)
	var ae *temporal.ApplicationError
	require.True(t, errors.As(back, &ae))
	assert.Contains(t, ae.Error(), username)
	assert.Equal(t, "IdentityMismatch", ae.Type(), "the type stays readable for operators and retries")
}

// A process without keys writes in clear and, reading an encrypted payload, says what to set.
func TestWithoutKeys(t *testing.T) {
	none := payloadcrypt.DataConverter(ring(t))
	p, err := none.ToPayload("clear")
	require.NoError(t, err)
	assert.Equal(t, "json/plain", string(p.Metadata[converter.MetadataEncoding]))

	enc, err := payloadcrypt.DataConverter(ring(t, key(t, "k7"))).ToPayload("secret")
	require.NoError(t, err)
	var s string
	err = none.FromPayload(enc, &s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `encrypted (key "k7"): set PAYLOAD_KEYS`)
}
