package herokusim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/dev/tsdef"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/logo/logotest"
)

// herokuDefinitions reads Heroku's published Platform API definitions: npm
// @heroku-cli/schema, which `make tools` installs (pinned) under bin/npm.
func herokuDefinitions(t *testing.T) tsdef.Defs {
	t.Helper()
	path := os.Getenv("HEROKU_SCHEMA_DTS") // make test sets it
	if path == "" {
		found, _ := filepath.Glob(filepath.Join("..", "..", "..", "bin", "npm", "schema-*", "node_modules", "@heroku-cli", "schema", "lib", "index.d.ts"))
		if len(found) > 0 {
			path = found[len(found)-1]
		}
	}
	src, err := os.ReadFile(path)
	require.NoError(t, err, "Heroku's resource definitions are missing: run `make tools` (it installs npm @heroku-cli/schema)")
	defs, err := tsdef.Parse(string(src))
	require.NoError(t, err)
	return defs
}

// Every answer of every Platform API route holds to Heroku's published definition of its
// resource: every member present with the right type and nullability, nothing invented.
func TestPlatformAnswersHoldToHerokusDefinitions(t *testing.T) {
	defs := herokuDefinitions(t)
	s, srv := newTestSim(t, Config{Apps: map[string]string{"acme-app": "acme-team", "acme-other": "acme-team"}})
	call := func(method, path, accept string, body any, headers map[string]string) (int, []byte) {
		var buf []byte
		if body != nil {
			buf, _ = json.Marshal(body)
		}
		req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(buf))
		require.NoError(t, err)
		req.Header.Set("Accept", accept)
		req.Header.Set("Authorization", "Bearer sim-token")
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, raw
	}
	v3, sdk := heroku.AcceptPlatform, heroku.AcceptPlatform+".sdk"

	// Something of every resource exists: two add-ons, one shared with the other app.
	status, raw := call("POST", "/apps/acme-app/addons", v3, map[string]any{"plan": "herokuconnect:enterprise", "name": "hc-one"}, nil)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	status, raw = call("POST", "/apps/acme-app/addons", v3, map[string]any{"plan": "herokuconnect:demo", "name": "hc-two"}, nil)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	var two struct{ ID string }
	require.NoError(t, json.Unmarshal(raw, &two))
	status, raw = call("POST", "/addon-attachments", v3, map[string]any{"addon": "hc-one", "app": "acme-other", "name": "shared"}, nil)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	var shared struct{ ID string }
	require.NoError(t, json.Unmarshal(raw, &shared))
	s.mu.Lock()
	appID := s.st.Apps["acme-app"].ID
	s.mu.Unlock()

	expand := map[string]string{"Accept-Expansion": "addon_service,plan"}
	cases := []struct {
		pattern, method, path, accept string
		body                          any
		headers                       map[string]string
		resource                      string // the definition; "" with why: none is published
		list                          bool
		why                           string
	}{
		{pattern: "GET /account/rate-limits", method: "GET", path: "/account/rate-limits", resource: "RateLimit"},
		{pattern: "GET /account", method: "GET", path: "/account", resource: "Account"},
		{pattern: "GET /apps", method: "GET", path: "/apps", resource: "App", list: true},
		{pattern: "GET /users/{user}/apps", method: "GET", path: "/users/~/apps", accept: sdk, resource: "App", list: true},
		{pattern: "GET /apps/{app}", method: "GET", path: "/apps/" + appID, resource: "App"},
		{pattern: "POST /apps/{app}/addons", method: "POST", path: "/apps/acme-other/addons", body: map[string]any{"plan": "herokuconnect:shield"}, resource: "AddOn"},
		{pattern: "GET /apps/{app}/addons", method: "GET", path: "/apps/acme-app/addons", accept: sdk, headers: expand, resource: "AddOn", list: true},
		{pattern: "GET /apps/{app}/addons/{addon}", method: "GET", path: "/apps/" + appID + "/addons/hc-one", resource: "AddOn"},
		{pattern: "GET /addons/{addon}", method: "GET", path: "/addons/hc-one", headers: expand, resource: "AddOn"},
		{pattern: "GET /addons", method: "GET", path: "/addons", resource: "AddOn", list: true},
		{pattern: "POST /actions/addons/resolve", method: "POST", path: "/actions/addons/resolve", body: map[string]any{"addon": "hc-one", "app": "acme-app"}, resource: "AddOn", list: true},
		{pattern: "GET /addon-attachments", method: "GET", path: "/addon-attachments", resource: "AddOnAttachment", list: true},
		{pattern: "GET /addons/{addon}/addon-attachments", method: "GET", path: "/addons/hc-one/addon-attachments", resource: "AddOnAttachment", list: true},
		{pattern: "GET /apps/{app}/addon-attachments", method: "GET", path: "/apps/acme-other/addon-attachments", resource: "AddOnAttachment", list: true},
		{pattern: "GET /apps/{app}/addon-attachments/{attachment}", method: "GET", path: "/apps/acme-other/addon-attachments/SHARED", resource: "AddOnAttachment"},
		{pattern: "GET /addon-attachments/{attachment}", method: "GET", path: "/addon-attachments/" + shared.ID, resource: "AddOnAttachment"},
		{pattern: "POST /actions/addon-attachments/resolve", method: "POST", path: "/actions/addon-attachments/resolve", body: map[string]any{"addon_attachment": "HEROKUCONNECT", "app": "acme-app"}, resource: "AddOnAttachment", list: true},
		{pattern: "POST /addon-attachments", method: "POST", path: "/addon-attachments", body: map[string]any{"addon": "hc-two", "app": "acme-other"}, resource: "AddOnAttachment"},
		{pattern: "DELETE /addon-attachments/{attachment}", method: "DELETE", path: "/addon-attachments/" + shared.ID, resource: "AddOnAttachment"},
		{pattern: "GET /addon-services", method: "GET", path: "/addon-services", resource: "AddOnService", list: true},
		{pattern: "GET /addon-services/{service}", method: "GET", path: "/addon-services/herokuconnect", resource: "AddOnService"},
		{pattern: "GET /addon-services/{service}/plans", method: "GET", path: "/addon-services/herokuconnect/plans", resource: "Plan", list: true},
		{pattern: "GET /addon-services/{service}/plans/{plan}", method: "GET", path: "/addon-services/herokuconnect/plans/enterprise", resource: "Plan"},
		{pattern: "DELETE /apps/{app}/addons/{addon}", method: "DELETE", path: "/apps/" + appID + "/addons/" + two.ID, resource: "AddOn"},
		{pattern: "GET /apps/{app}/releases", method: "GET", path: "/apps/acme-other/releases", accept: sdk,
			headers: map[string]string{"Range": "version ..; max=10, order=desc"}, resource: "Release", list: true},
		{pattern: "GET /apps/{app}/releases/{release}", method: "GET", path: "/apps/acme-app/releases/v2", resource: "Release"},
		{pattern: "POST /apps/{app}/webhooks", why: "@heroku-cli/schema 2.0.1 publishes AppWebhook as an empty interface (the webhooks variant has its own schema)"},
		{pattern: "GET /apps/{app}/webhooks", why: "@heroku-cli/schema 2.0.1 publishes AppWebhook as an empty interface (the webhooks variant has its own schema)"},
	}
	opts := tsdef.Options{
		// Heroku sends provision_message on create only.
		MayBeAbsent: map[string]bool{"AddOn.provision_message": true},
		// A destroyed add-on answers "deprovisioning" until it is gone (the wire contract, §3;
		// the Heroku CLI's addons:destroy --wait waits on it), a state the published enum lacks.
		AlsoAllowed: map[string][]string{"AddOn.state": {"deprovisioning"}},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.pattern] = true
		if tc.resource == "" {
			assert.NotEmpty(t, tc.why, tc.pattern)
			continue
		}
		t.Run(tc.pattern, func(t *testing.T) {
			accept := tc.accept
			if accept == "" {
				accept = v3
			}
			status, raw := call(tc.method, tc.path, accept, tc.body, tc.headers)
			require.True(t, status >= 200 && status < 300, "%d %s", status, raw)
			docs := []json.RawMessage{raw}
			if tc.list {
				require.NoError(t, json.Unmarshal(raw, &docs))
				require.NotEmpty(t, docs, "an empty list proves nothing")
			}
			for _, doc := range docs {
				problems, err := defs.Check(tc.resource, doc, opts)
				require.NoError(t, err)
				assert.Empty(t, problems, "%s answers a %s that differs from Heroku's definition:\n%s", tc.pattern, tc.resource, strings.Join(problems, "\n"))
			}
		})
	}
	for _, r := range s.platformRoutes() {
		assert.True(t, covered[r.pattern], "route %s has no definitions case", r.pattern)
	}
}

// Lists page with Heroku's Range and Next-Range, by any field the list is ordered by, in
// either order; release versions order by number.
func TestListsPageWithRange(t *testing.T) {
	_, srv := newTestSim(t, Config{})
	for i := range 5 {
		status, _, _ := do(t, "POST", srv.URL+"/apps/acme-app/addons", heroku.AcceptPlatform, "sim-token", "application/json",
			[]byte(`{"plan":"herokuconnect:demo","name":"hc-page-`+string(rune('a'+i))+`"}`))
		require.Equal(t, http.StatusCreated, status)
	}
	get := func(path, rng string) (int, []map[string]any, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Accept", heroku.AcceptPlatform)
		req.Header.Set("Authorization", "Bearer sim-token")
		req.Header.Set("Range", rng)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out []map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out, resp.Header.Get("Next-Range")
	}
	var names []string
	rng := "name ..; max=2"
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5, "paging does not end")
		status, items, next := get("/apps/acme-app/addons", rng)
		for _, it := range items {
			names = append(names, it["name"].(string))
		}
		if next == "" {
			assert.Equal(t, http.StatusOK, status)
			break
		}
		assert.Equal(t, http.StatusPartialContent, status)
		rng = next
	}
	assert.Equal(t, []string{"hc-page-a", "hc-page-b", "hc-page-c", "hc-page-d", "hc-page-e"}, names)

	status, items, next := get("/apps/acme-app/releases", "version ..; max=4, order=desc")
	assert.Equal(t, http.StatusPartialContent, status)
	require.Len(t, items, 4)
	var versions []string
	for _, it := range items {
		versions = append(versions, fmt.Sprint(it["version"]))
	}
	assert.Equal(t, []string{"6", "5", "4", "3"}, versions, "an app's creation and five attachments, newest first")
	assert.Equal(t, "version ]3..; max=4, order=desc", next)
	_, items, next = get("/apps/acme-app/releases", next)
	require.Len(t, items, 2)
	assert.Equal(t, "2", fmt.Sprint(items[0]["version"]))
	assert.Empty(t, next)

	status, _, _ = get("/apps/acme-app/addons", "color ..")
	assert.Equal(t, http.StatusBadRequest, status)
}

// Connect lists page by offset and limit with absolute next and previous links.
func TestConnectListsPage(t *testing.T) {
	_, srv := newTestSim(t, Config{})
	for i := range 3 {
		status, _, _ := do(t, "POST", srv.URL+"/apps/acme-app/addons", heroku.AcceptPlatform, "sim-token", "application/json",
			[]byte(fmt.Sprintf(`{"plan":"herokuconnect:demo","name":"hc-list-%d"}`, i)))
		require.Equal(t, http.StatusCreated, status)
	}
	status, _, _ := do(t, "POST", srv.URL+"/auth/acme-app", "", "sim-token", "", nil)
	require.Equal(t, http.StatusOK, status)
	type page struct {
		Count          int
		Next, Previous *string
		Results        []map[string]any
	}
	get := func(url string) (int, page) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer sim-token")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var p page
		_ = json.NewDecoder(resp.Body).Decode(&p)
		return resp.StatusCode, p
	}
	for _, path := range []string{"/connections?app=acme-app", "/api/v3/connections?app=acme-app&deep=true"} {
		status, first := get(srv.URL + path + "&limit=2")
		require.Equal(t, http.StatusOK, status, path)
		assert.Equal(t, 3, first.Count)
		assert.Len(t, first.Results, 2)
		assert.Nil(t, first.Previous)
		require.NotNil(t, first.Next, path)
		assert.True(t, strings.HasPrefix(*first.Next, srv.URL), "an absolute link: %s", *first.Next)
		_, second := get(*first.Next)
		assert.Len(t, second.Results, 1)
		assert.Nil(t, second.Next)
		require.NotNil(t, second.Previous)
		assert.Contains(t, *second.Previous, "offset=0")
		status, _ = get(srv.URL + path + "&limit=0")
		assert.Equal(t, http.StatusBadRequest, status)
	}
}

// A deactivation is answered 202 while Heroku destroys the integration's add-ons later:
// they stay alive for a while, then go.
func TestDeactivatedAddonsLiveAWhile(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, srv := newTestSim(t, Config{DeactivationDelay: time.Minute, Now: clock})
	hc, err := heroku.New(heroku.Options{PlatformURL: srv.URL, ConnectURL: srv.URL, Token: "sim-token"})
	require.NoError(t, err)
	ctx := t.Context()
	_, err = hc.CreateIntegration(ctx, heroku.IntegrationCreate{Slug: "acme", Name: "Acme", Team: "acme-team", ContactEmail: "dev@acme.example",
		Description: "d", DocsURL: "https://acme.example", Logo: heroku.Logo{Filename: "l.png", Data: logotest.PNG(200, 200)}})
	require.NoError(t, err)
	a, err := hc.CreateAddon(ctx, "acme-app", heroku.AddonCreate{Plan: "herokuconnect:enterprise", Config: map[string]string{"isv": "acme"}})
	require.NoError(t, err)

	d, err := hc.Deactivate(ctx, "acme")
	require.NoError(t, err)
	assert.Equal(t, 1, d.Summary.Succeeded)
	got, err := hc.AddonInfo(ctx, "", a.ID)
	require.NoError(t, err, "still alive right after the 202")
	assert.Equal(t, heroku.AddonProvisioned, got.State)
	assert.Equal(t, 1, s.Snapshot().LivePerISV["acme"])

	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	_, err = hc.AddonInfo(ctx, "", a.ID)
	assert.ErrorIs(t, err, heroku.ErrNotFound, "gone once Heroku got to it")
	assert.Equal(t, 0, s.Snapshot().LivePerISV["acme"])
	assert.Equal(t, 1, s.Snapshot().AddonsDestroyed)
}

// The sign-in form's inputs are as wide as their card, padding and border included (they
// overflowed it before box-sizing was set).
func TestSignInInputsFitTheirCard(t *testing.T) {
	var b strings.Builder
	require.NoError(t, pages.ExecuteTemplate(&b, "head", map[string]string{"Title": "Sign in"}))
	css := b.String()
	start := strings.Index(css, "input{")
	require.GreaterOrEqual(t, start, 0, "the page styles its inputs")
	rule := css[start : start+strings.Index(css[start:], "}")]
	assert.Contains(t, rule, "width:100%")
	assert.Contains(t, rule, "box-sizing:border-box", "a 100%% wide input with padding needs border-box to stay inside its card")
}

// Every route can be faulted by name.
func TestEveryRouteCanBeFaulted(t *testing.T) {
	s, _ := newTestSim(t, Config{})
	for _, r := range s.platformRoutes() {
		assert.Contains(t, Routes, r.name, "route %s is missing from Routes", r.pattern)
	}
}

// A fault bounded by time ends when its time is up, however few calls came; one rule is
// removed without touching the others.
func TestFaultsEndInTimeAndComeOffOneByOne(t *testing.T) {
	s, srv := newTestSim(t, Config{})
	list := func() int {
		status, _, _ := do(t, "GET", srv.URL+"/apps/acme-app/addons", heroku.AcceptPlatform, "sim-token", "", nil)
		return status
	}
	burst := s.AddFaults(Fault{Route: "addons.list", Status: 429, For: Duration(300 * time.Millisecond)})[0]
	other := s.AddFaults(Fault{Route: "addons.info", Status: 503})[0]
	assert.NotEmpty(t, burst.ID)
	assert.Equal(t, http.StatusTooManyRequests, list())
	time.Sleep(400 * time.Millisecond)
	assert.Equal(t, http.StatusOK, list(), "the burst ended with its time")

	status, _, _ := do(t, "DELETE", srv.URL+AdminPrefix+"/faults/"+other.ID, "", "", "", nil)
	assert.Equal(t, http.StatusNoContent, status)
	status, _, _ = do(t, "DELETE", srv.URL+AdminPrefix+"/faults/"+other.ID, "", "", "", nil)
	assert.Equal(t, http.StatusNotFound, status, "removed once")
	kept := s.AddFaults(Fault{Route: "addons.list", Status: 500}, Fault{Route: "addons.list", Status: 502})
	require.True(t, s.RemoveFault(kept[0].ID))
	assert.Equal(t, http.StatusBadGateway, list(), "the other rule stays")
}
