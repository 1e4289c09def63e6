package eventsign

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

func TestParseKeyNamesTheVariable(t *testing.T) {
	k, err := ParseKey("")
	assert.NoError(t, err)
	assert.Nil(t, k, "no key is no key, not an error: events wait for one")
	for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		_, err := ParseKey(bad)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "EVENTS_SECRET_KEY")
		assert.NotContains(t, err.Error(), bad, "a bad key is not echoed")
	}
	_, err = Key(nil).Secret("acme", "ep_1", 1)
	assert.ErrorIs(t, err, ErrNoKey)
}

// A secret is a function of the key, the integration, the endpoint and the generation:
// the same every time (nothing to store), different when any of them differs.
func TestSecretsAreDerived(t *testing.T) {
	k, err := ParseKey(testKey)
	require.NoError(t, err)
	s := func(slug, ep string, gen int) string {
		v, err := k.Secret(slug, ep, gen)
		require.NoError(t, err)
		return v
	}
	a := s("acme", "ep_1", 1)
	assert.True(t, strings.HasPrefix(a, "whsec_"))
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	require.NoError(t, err)
	assert.Len(t, raw, 32)
	assert.Equal(t, a, s("acme", "ep_1", 1))
	for _, other := range []string{s("acme", "ep_1", 2), s("acme", "ep_2", 1), s("acmf", "ep_1", 1), s("acme\x00ep", "_1", 1)} {
		assert.NotEqual(t, a, other)
	}
}

// During a rotation both secrets sign: a receiver holding either verifies, one holding
// neither does not.
func TestSignatureVerifiesWithEitherSecret(t *testing.T) {
	k, _ := ParseKey(testKey)
	old, _ := k.Secret("acme", "ep_1", 1)
	cur, _ := k.Secret("acme", "ep_1", 2)
	other, _ := k.Secret("acme", "ep_9", 1)
	body := []byte(`{"type":"onboarding.active","timestamp":"2026-12-04T12:00:00Z","data":{"isv_slug":"acme","sequence":4}}`)
	now := time.Now()
	sig, err := Signature([]string{cur, old}, "evt_1", now, body)
	require.NoError(t, err)
	assert.Len(t, strings.Fields(sig), 2)
	h := http.Header{}
	h.Set("webhook-id", "evt_1")
	h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set("webhook-signature", sig)
	for _, secret := range []string{old, cur} {
		wh, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		assert.NoError(t, wh.Verify(body, h))
	}
	wh, _ := standardwebhooks.NewWebhook(other)
	assert.Error(t, wh.Verify(body, h))
	_, err = Signature(nil, "evt_1", now, body)
	assert.Error(t, err)
}
