package herokusim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/logo/logotest"
)

func newTestSim(t *testing.T, cfg Config) (*Sim, *httptest.Server) {
	t.Helper()
	if cfg.Apps == nil {
		cfg.Apps = map[string]string{"acme-app": "acme-team"}
	}
	s, err := New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	s.SetPublicURL(srv.URL)
	t.Cleanup(func() { srv.Close(); _ = s.Close() })
	return s, srv
}

func do(t *testing.T, method, url, accept, token, ctype string, body []byte) (int, apiError, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e apiError
	_ = json.Unmarshal(raw, &e)
	return resp.StatusCode, e, resp.Header
}

func multipartBody(t *testing.T, fields map[string]string, filename string, logo []byte) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	if filename != "" {
		fw, err := mw.CreateFormFile("logo_image", filename)
		require.NoError(t, err)
		_, _ = fw.Write(logo)
	}
	require.NoError(t, mw.Close())
	return buf.Bytes(), mw.FormDataContentType()
}

// Bad input gets the contract's error, never a 500.
func TestBadInputGetsContractErrors(t *testing.T) {
	_, srv := newTestSim(t, Config{})
	good := map[string]string{"slug": "acme", "name": "Acme", "team": "acme-team", "contact_email": "a@acme.example",
		"description": "d", "docs_url": "https://acme.example"}
	withSlug := func(slug string) map[string]string {
		m := map[string]string{}
		for k, v := range good {
			m[k] = v
		}
		m["slug"] = slug
		return m
	}
	badSlug, ct1 := multipartBody(t, withSlug("Bad Slug"), "l.png", logotest.PNG(200, 200))
	wrongType, ct2 := multipartBody(t, good, "l.png", []byte("GIF89a not really"))
	heavy, ct3 := multipartBody(t, good, "l.png", bytes.Repeat([]byte{0}, 6<<20))

	cases := []struct {
		name, method, path, accept, token, ctype string
		body                                     []byte
		status                                   int
		id, field                                string
	}{
		{"missing token", "GET", "/apps/acme-app/addons", heroku.AcceptPlatform, "", "", nil, 401, "unauthorized", ""},
		{"wrong token", "GET", "/apps/acme-app/addons", heroku.AcceptPlatform, "nope", "", nil, 401, "unauthorized", ""},
		{"missing accept", "GET", "/apps/acme-app/addons", "", "sim-token", "", nil, 406, "not_acceptable", ""},
		{"partner with platform accept", "GET", "/partner/connect/acme", heroku.AcceptPlatform, "sim-token", "", nil, 406, "not_acceptable", ""},
		{"bad json", "POST", "/apps/acme-app/addons", heroku.AcceptPlatform, "sim-token", "application/json", []byte("{"), 400, "bad_request", ""},
		{"no plan", "POST", "/apps/acme-app/addons", heroku.AcceptPlatform, "sim-token", "application/json", []byte(`{}`), 422, "invalid_params", ""},
		{"bad addon name", "POST", "/apps/acme-app/addons", heroku.AcceptPlatform, "sim-token", "application/json", []byte(`{"plan":"herokuconnect:enterprise","name":"9bad!"}`), 422, "invalid_params", ""},
		{"unknown app", "GET", "/apps/ghost-app/addons", heroku.AcceptPlatform, "sim-token", "", nil, 404, "not_found", ""},
		{"bad slug", "POST", "/partner/connect", heroku.AcceptPartner, "sim-token", ct1, badSlug, 400, "validation_error", "slug"},
		{"wrong-type logo", "POST", "/partner/connect", heroku.AcceptPartner, "sim-token", ct2, wrongType, 400, "validation_error", "logo_image"},
		{"oversize logo", "POST", "/partner/connect", heroku.AcceptPartner, "sim-token", ct3, heavy, 400, "validation_error", "logo_image"},
		{"json instead of multipart", "POST", "/partner/connect", heroku.AcceptPartner, "sim-token", "application/json", []byte(`{}`), 400, "bad_request", ""},
		{"bad org id", "POST", "/partner/connect/acme/addon/x/authorize", heroku.AcceptPartner, "sim-token", "application/json", []byte(`{"sf_org_id":"001xx","sf_username":"a@b.example"}`), 400, "validation_error", "sf_org_id"},
		{"unknown route", "GET", "/nothing-here", heroku.AcceptPlatform, "sim-token", "", nil, 404, "not_found", ""},
		{"discovery without app", "GET", "/connections", "", "sim-token", "", nil, 400, "bad_request", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, e, h := do(t, tc.method, srv.URL+tc.path, tc.accept, tc.token, tc.ctype, tc.body)
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.id, e.ID)
			if tc.field != "" {
				assert.NotEmpty(t, e.Errors[tc.field], "errors: %v", e.Errors)
			}
			assert.NotEmpty(t, h.Get("Request-Id"))
		})
	}
}

func TestRequestIDEchoed(t *testing.T) {
	_, srv := newTestSim(t, Config{})
	req, _ := http.NewRequest("GET", srv.URL+"/account/rate-limits", nil)
	req.Header.Set("Accept", heroku.AcceptPlatform)
	req.Header.Set("Authorization", "Bearer sim-token")
	req.Header.Set("Request-Id", "0b1a7d3e-8f7b-4c1e-9a3c-6f2d2b0e9c11")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "0b1a7d3e-8f7b-4c1e-9a3c-6f2d2b0e9c11", resp.Header.Get("Request-Id"))
	assert.NotEmpty(t, resp.Header.Get("RateLimit-Remaining"))
}

// Many clients at once: every create lands exactly once and counters add up.
func TestConcurrentCreates(t *testing.T) {
	s, srv := newTestSim(t, Config{})
	c, err := heroku.New(heroku.Options{PlatformURL: srv.URL, ConnectURL: srv.URL, Token: "sim-token"})
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Two racers per name: exactly one wins.
			for r := 0; r < 2; r++ {
				_, err := c.CreateAddon(t.Context(), "acme-app", heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: fmt.Sprintf("hc-%d", i)})
				if err != nil && !isInvalid(err) {
					errs <- err
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	snap := s.Snapshot()
	assert.Equal(t, 50, snap.AddonsCreated)
	assert.Equal(t, 50, snap.DuplicateCreates)
	assert.Equal(t, 50, snap.Live)
	assert.Equal(t, 100, snap.Calls["addons.create"])
}

func isInvalid(err error) bool {
	he, ok := heroku.AsError(err)
	return ok && he.Kind == heroku.KindInvalid
}

func TestStatePersistsAcrossRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sim.json")
	s1, srv1 := newTestSim(t, Config{StateFile: file})
	c, err := heroku.New(heroku.Options{PlatformURL: srv1.URL, ConnectURL: srv1.URL, Token: "sim-token"})
	require.NoError(t, err)
	a, err := c.CreateAddon(t.Context(), "acme-app", heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: "kept"})
	require.NoError(t, err)
	srv1.Close()
	require.NoError(t, s1.Close())

	_, srv2 := newTestSim(t, Config{StateFile: file})
	c2, err := heroku.New(heroku.Options{PlatformURL: srv2.URL, ConnectURL: srv2.URL, Token: "sim-token"})
	require.NoError(t, err)
	got, err := c2.AddonInfo(t.Context(), "acme-app", "kept")
	require.NoError(t, err)
	assert.Equal(t, a.ID, got.ID)
}

func TestDurationJSON(t *testing.T) {
	var f Fault
	require.NoError(t, json.Unmarshal([]byte(`{"route":"*","latency":"250ms"}`), &f))
	assert.Equal(t, Duration(250*time.Millisecond), f.Latency)
	b, _ := json.Marshal(f)
	assert.Contains(t, string(b), `"250ms"`)
}

// Without a configured public URL, region URLs follow the Host the client used (a worker
// reaching the simulator by a container name), while pages keep the browser-facing URL.
func TestRegionURLFollowsRequestHost(t *testing.T) {
	s, err := New(Config{Apps: map[string]string{"acme-app": "acme-team"}, PageURL: "http://localhost:5100"})
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	t.Cleanup(func() { srv.Close(); _ = s.Close() })
	c, err := heroku.New(heroku.Options{PlatformURL: srv.URL, ConnectURL: srv.URL, Token: "sim-token"})
	require.NoError(t, err)
	_, err = c.CreateAddon(t.Context(), "acme-app", heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: "hc-x"})
	require.NoError(t, err)
	require.NoError(t, c.ConnectAuth(t.Context(), "acme-app"))
	refs, err := c.DiscoverConnections(t.Context(), "acme-app", "")
	require.NoError(t, err)
	require.Len(t, refs, 1)
	assert.Equal(t, srv.URL, refs[0].RegionURL)
	a, err := c.AddonInfo(t.Context(), "acme-app", "hc-x")
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:5100/connect/"+a.ID, a.WebURL)
}
