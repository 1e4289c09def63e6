package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/dev/testenv"
)

// Keys are scoped to integrations and to read, write or deactivate (issue 22 item 8): each
// key below tries what its scopes do not allow and is answered 403 naming the scope, with
// nothing created or ended; what they allow goes through. The key file holds hashes only,
// and GET /v1/keys shows names, scopes and last use, never a token or a hash.
func TestScopedKeys(t *testing.T) {
	e := setup(t)

	tokens := map[string]string{}
	var file strings.Builder
	for name, scopes := range map[string][]string{
		"reader":      {"read:acme"},
		"writer":      {"read:acme", "write:acme"},
		"writer-next": {"read:acme", "write:acme"}, // a rotation: two keys of one scope
		"other-isv":   {"read:beta", "write:beta", "deactivate:beta"},
		"admin":       {"read:*"},
		"ender":       {"deactivate:acme"},
	} {
		tok, line, err := NewKey(name, scopes)
		require.NoError(t, err)
		assert.NotContains(t, line, tok, "the key file holds the hash, not the token")
		tokens[name] = tok
		file.WriteString(line + "\n")
	}
	keys, err := ParseKeys(strings.NewReader("# the ISV's keys\n\n" + file.String()))
	require.NoError(t, err)
	srv := httptest.NewServer(New(e.c, keys, []byte(stateKey), "", zerolog.Nop()))
	defer srv.Close()

	answered := newDocumented(t)
	call := func(method, path, key string, body any) (int, apiError, []byte) {
		resp, out := answered.send(t, nil, method, srv.URL+path, tokens[key], jsonBody(t, body))
		var ae apiError
		_ = json.Unmarshal(out, &ae)
		return resp.StatusCode, ae, out
	}
	start := func(customer string) map[string]any {
		return map[string]any{"isv_slug": "acme", "customer_id": customer, "mode": "provision", "app": testenv.ISVApp,
			"salesforce": map[string]string{"sf_org_id": org, "sf_username": user}}
	}
	forbidden := func(method, path, key string, body any, scope string) {
		t.Helper()
		code, ae, _ := call(method, path, key, body)
		assert.Equal(t, http.StatusForbidden, code, "%s %s with %s", method, path, key)
		assert.Equal(t, "forbidden", ae.ID)
		assert.Contains(t, ae.Message, scope, "the 403 names the missing scope")
		require.Len(t, ae.Fields, 1)
		assert.Equal(t, "scope", ae.Fields[0].Field)
	}

	forbidden("POST", "/v1/onboardings", "reader", start("c1"), "write:acme")
	forbidden("POST", "/v1/onboardings", "other-isv", start("c1"), "write:acme")
	forbidden("POST", "/v1/onboardings", "ender", start("c1"), "write:acme")
	forbidden("GET", "/v1/onboardings?isv=acme", "other-isv", nil, "read:acme")
	forbidden("GET", "/v1/onboardings/acme/c1", "ender", nil, "read:acme")
	forbidden("POST", "/v1/partners/acme/deactivate", "writer", map[string]string{"confirm": "acme", "team": testenv.ISVTeam}, "deactivate:acme")
	forbidden("POST", "/v1/partners/acme/deactivate", "other-isv", map[string]string{"confirm": "acme", "team": testenv.ISVTeam}, "deactivate:acme")
	forbidden("PATCH", "/v1/partners/acme", "reader", map[string]string{"description": "taken over"}, "write:acme")
	forbidden("GET", "/v1/keys", "writer", nil, "read:*")
	assert.Zero(t, e.sim.Snapshot().Calls["addons.create"], "no refused key created anything")

	code, _, body := call("POST", "/v1/onboardings", "writer", start("c1"))
	require.Equal(t, http.StatusOK, code, string(body))
	code, _, _ = call("POST", "/v1/onboardings", "writer-next", start("c2"))
	assert.Equal(t, http.StatusOK, code, "the rotated key works alongside the old one")
	forbidden("POST", "/v1/onboardings/acme/c1/offboard", "reader", nil, "write:acme")
	code, _, _ = call("GET", "/v1/onboardings/acme/c1", "reader", nil)
	assert.Equal(t, http.StatusOK, code)
	code, _, _ = call("GET", "/v1/partners/acme", "admin", nil)
	assert.Equal(t, http.StatusOK, code, "read:* reads every integration")

	code, _, body = call("GET", "/v1/keys", "admin", nil)
	require.Equal(t, http.StatusOK, code)
	for _, tok := range tokens {
		assert.NotContains(t, string(body), tok)
	}
	assert.NotContains(t, string(body), "sha256")
	var infos []KeyInfo
	require.NoError(t, json.Unmarshal(body, &infos))
	used := map[string]bool{}
	for _, k := range infos {
		used[k.Name] = !k.LastUsedAt.IsZero()
	}
	assert.Equal(t, map[string]bool{"reader": true, "writer": true, "writer-next": true, "other-isv": true, "admin": true, "ender": true}, used)

	code, _, body = call("POST", "/v1/partners/acme/deactivate", "ender", map[string]string{"confirm": "acme", "team": testenv.ISVTeam})
	assert.Equal(t, http.StatusOK, code, "the deactivate scope deactivates: %s", body)
}

// A key file's errors name the line and the rule, never the hash.
func TestKeyFileErrors(t *testing.T) {
	good := "k1 sha256:" + strings.Repeat("ab", 32) + " read:acme"
	for _, tc := range []struct{ file, want string }{
		{"k1 sha256:" + strings.Repeat("ab", 32), "line 1: want NAME sha256:HEX SCOPES"},
		{"K1 sha256:" + strings.Repeat("ab", 32) + " read:acme", "line 1: name \"K1\""},
		{good + "\n" + good, "line 2: name \"k1\" is used twice"},
		{"k1 md5:" + strings.Repeat("ab", 16) + " read:acme", "line 1 (key k1): the hash must be sha256:"},
		{"k1 sha256:" + strings.Repeat("ab", 32) + " admin:acme", "scope \"admin:acme\": must be read, write or deactivate"},
		{"k1 sha256:" + strings.Repeat("ab", 32) + " read:ACME", "\"ACME\" is not an integration's slug"},
		{"k1 sha256:" + strings.Repeat("ab", 32) + " read", "scope \"read\""},
	} {
		_, err := ParseKeys(strings.NewReader(tc.file))
		require.Error(t, err, tc.file)
		assert.Contains(t, err.Error(), tc.want)
		assert.NotContains(t, err.Error(), strings.Repeat("ab", 16), "the hash is not echoed")
	}
	_, _, err := NewKey("k1", nil)
	assert.ErrorContains(t, err, "scope: at least one is required")
}
