package codecserver_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/connect-onboarding/worker/internal/codecserver"
	"github.com/connect-onboarding/worker/internal/payloadcrypt"
)

const ui = "http://localhost:8233"

type fixture struct {
	srv  *httptest.Server
	dc   converter.DataConverter
	now  time.Time
	body []byte // a /decode request body holding one encrypted payload
}

func setup(t *testing.T, tokens ...string) *fixture {
	t.Helper()
	return setupOpen(t, false, tokens...)
}

func setupOpen(t *testing.T, open bool, tokens ...string) *fixture {
	t.Helper()
	k, err := payloadcrypt.NewKey("k")
	require.NoError(t, err)
	r, err := payloadcrypt.Parse(k)
	require.NoError(t, err)
	f := &fixture{dc: payloadcrypt.DataConverter(r), now: time.Unix(1_800_000_000, 0)}
	f.srv = httptest.NewServer(codecserver.Handler(codecserver.Options{Codec: payloadcrypt.NewCodec(r), Tokens: tokens, Open: open,
		Origins: []string{ui}, Log: zerolog.Nop(), Now: func() time.Time { return f.now }}))
	t.Cleanup(f.srv.Close)
	p, err := f.dc.ToPayloads(map[string]string{"sf_org_id": "00D5e000000abcdEAA"})
	require.NoError(t, err)
	f.body, err = protojson.Marshal(p) // the protocol's body: {"payloads": [...]}
	require.NoError(t, err)
	return f
}

func (f *fixture) post(t *testing.T, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, bytes.NewReader(f.body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func decoded(t *testing.T, resp *http.Response) string {
	t.Helper()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(b, &out))
	require.Len(t, out.Payloads, 1)
	return string(out.Payloads[0].Metadata["encoding"]) + " " + string(out.Payloads[0].Data)
}

func TestDecodesWithABearerToken(t *testing.T) {
	f := setup(t, "tok-1", "tok-2")
	resp := f.post(t, "/decode", map[string]string{"Authorization": "Bearer tok-2", "X-Namespace": "default"})
	body := decoded(t, resp)
	assert.Contains(t, body, "json/plain")
	assert.Contains(t, body, "00D5e000000abcdEAA", "decrypted")
	assert.NotContains(t, body, payloadcrypt.Encoding)

	for name, hdr := range map[string]map[string]string{
		"no token":     nil,
		"wrong token":  {"Authorization": "Bearer tok-3"},
		"empty bearer": {"Authorization": "Bearer "},
		"basic auth":   {"Authorization": "Basic dG9rLTE6"},
		"prefix":       {"Authorization": "Bearer tok-"},
	} {
		resp := f.post(t, "/decode", hdr)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, name)
	}
}

func TestCORSLetsOnlyTheUIOriginIn(t *testing.T) {
	f := setup(t, "tok")
	req, _ := http.NewRequest(http.MethodOptions, f.srv.URL+"/decode", nil)
	req.Header.Set("Origin", ui)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace,authorization")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode, "a preflight needs no credentials")
	assert.Equal(t, ui, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "X-Namespace")

	evil := f.post(t, "/decode", map[string]string{"Origin": "https://evil.example", "Authorization": "Bearer tok"})
	assert.Equal(t, http.StatusForbidden, evil.StatusCode)
	assert.Empty(t, evil.Header.Get("Access-Control-Allow-Origin"))

	ok := f.post(t, "/api/decode", map[string]string{"Origin": ui, "Authorization": "Bearer tok"})
	decoded(t, ok)
	assert.Equal(t, ui, ok.Header.Get("Access-Control-Allow-Origin"))
}

// A browser signs in once with a token; the session cookie lets the UI's credentialed
// requests through, holds no token, and expires.
func TestLoginSession(t *testing.T) {
	f := setup(t, "s3cret-token")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	bad, err := noRedirect.PostForm(f.srv.URL+"/login", url.Values{"token": {"nope"}})
	require.NoError(t, err)
	bad.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, bad.StatusCode)
	assert.Empty(t, bad.Cookies())

	good, err := noRedirect.PostForm(f.srv.URL+"/login", url.Values{"token": {"s3cret-token"}})
	require.NoError(t, err)
	good.Body.Close()
	require.Equal(t, http.StatusOK, good.StatusCode)
	var session *http.Cookie
	for _, c := range good.Cookies() {
		if c.Name == codecserver.CookieName {
			session = c
		}
	}
	require.NotNil(t, session)
	assert.True(t, session.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, session.SameSite)
	assert.NotContains(t, session.Value, "s3cret")

	withCookie := map[string]string{"Origin": ui, "Cookie": codecserver.CookieName + "=" + session.Value}
	decoded(t, f.post(t, "/decode", withCookie))

	forged := map[string]string{"Cookie": codecserver.CookieName + "=" + strings.Replace(session.Value, ".", ".x", 1)}
	assert.Equal(t, http.StatusUnauthorized, f.post(t, "/decode", forged).StatusCode)

	f.now = f.now.Add(13 * time.Hour)
	assert.Equal(t, http.StatusUnauthorized, f.post(t, "/decode", withCookie).StatusCode, "sessions expire")
}

func TestRefusesWhatIsNotTheProtocol(t *testing.T) {
	f := setup(t, "tok")
	resp, err := http.Get(f.srv.URL + "/decode")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, http.StatusNotFound, f.post(t, "/other", map[string]string{"Authorization": "Bearer tok"}).StatusCode)

	f.body = bytes.Repeat([]byte("x"), 5<<20)
	assert.GreaterOrEqual(t, f.post(t, "/decode", map[string]string{"Authorization": "Bearer tok"}).StatusCode, 400, "bodies over 4 MB are refused")
}

// Without tokens and open (loopback only, as `make run` serves it) the codec answers anyone
// local; without tokens and not open (a configuration whose token list came out empty) it
// answers nobody: no tokens never means "let everyone in" by itself.
func TestNoTokensConfigured(t *testing.T) {
	decoded(t, setupOpen(t, true).post(t, "/encode", nil))
	closed := setupOpen(t, false)
	assert.Equal(t, http.StatusUnauthorized, closed.post(t, "/decode", nil).StatusCode)
	assert.Equal(t, http.StatusUnauthorized, closed.post(t, "/decode", map[string]string{"Authorization": "Bearer "}).StatusCode)
}

// Behind a proxy that terminates TLS, the session cookie is Secure.
func TestSessionCookieSecureBehindTLSProxy(t *testing.T) {
	f := setup(t, "s3cret-token")
	for hdr, secure := range map[string]bool{"": false, "X-Forwarded-Proto: https": true, "Forwarded: for=1.2.3.4;proto=https": true} {
		req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/login", strings.NewReader(url.Values{"token": {"s3cret-token"}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if k, v, ok := strings.Cut(hdr, ": "); ok {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.NotEmpty(t, resp.Cookies(), hdr)
		assert.Equal(t, secure, resp.Cookies()[0].Secure, hdr)
	}
}
