package api

import (
	"context"
	"encoding/json"
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
	"go.temporal.io/api/workflowservice/v1"

	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/returnstate"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

const (
	apiToken = "api-token-1"
	org      = "00D000000000062"
	user     = "integration@customer.example"
	stateKey = testenv.StateKey
)

type env struct {
	dev *testenv.DevServer
	sim *testenv.Sim
	c   *onboarding.Client
}

// setup starts the stack (with the worker's extra environment) and adopts the ISV's
// integration, which every API test onboards into.
func setup(t *testing.T, workerEnv ...string) *env {
	t.Helper()
	s := testenv.StartStack(t, workerEnv...)
	e := &env{dev: s.Dev, sim: s.Sim, c: onboarding.New(s.Dev.Client, "", "")}
	e.sim.CreateIntegration(t, testenv.ISV)
	_, err := e.c.AdoptPartner(t.Context(), testenv.ISV)
	require.NoError(t, err)
	return e
}

func TestHTTPAPI(t *testing.T) {
	e := setup(t)
	keys := &Keys{}
	keys.FullAccess("test", apiToken)
	a := New(e.c, keys, []byte(stateKey), "", zerolog.Nop())
	srv := httptest.NewServer(a)
	defer srv.Close()
	a.returnURL = srv.URL + "/return"

	answered := newDocumented(t)
	call := func(method, path, token string, body any) (int, []byte) {
		resp, out := answered.send(t, nil, method, srv.URL+path, token, jsonBody(t, body))
		return resp.StatusCode, out
	}
	input := map[string]any{"isv_slug": "acme", "customer_id": "c9", "mode": "provision", "app": testenv.ISVApp,
		"salesforce": map[string]string{"sf_org_id": org, "sf_username": user}}

	// Auth missing or wrong: 401, nothing started.
	code, _ := call("POST", "/v1/onboardings", "", input)
	assert.Equal(t, 401, code)
	code, _ = call("POST", "/v1/onboardings", "wrong", input)
	assert.Equal(t, 401, code)

	// Bad input: field errors.
	bad := map[string]any{"isv_slug": "ACME", "customer_id": "c9", "mode": "teleport", "salesforce": map[string]string{}}
	code, body := call("POST", "/v1/onboardings", apiToken, bad)
	assert.Equal(t, 400, code)
	var apiErr apiError
	require.NoError(t, json.Unmarshal(body, &apiErr))
	fields := map[string]bool{}
	for _, f := range apiErr.Fields {
		fields[f.Field] = true
	}
	assert.True(t, fields["isv_slug"] && fields["mode"] && fields["salesforce.sf_org_id"], "%v", apiErr.Fields)
	code, _ = call("POST", "/v1/onboardings", apiToken, map[string]any{"nonsense": 1})
	assert.Equal(t, 400, code, "unknown fields are refused")
	assert.Zero(t, e.sim.Snapshot().Calls["addons.create"])

	// Hostile bodies (issue 10 item 11): each refused with a clear error, nothing started.
	raw := func(contentType, body string) (int, apiError) {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/onboardings", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apiToken)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out apiError
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &out)
		return resp.StatusCode, out
	}
	before := e.sim.Snapshot()
	good := `"isv_slug":"acme","mode":"provision","app":"` + testenv.ISVApp + `","salesforce":{"sf_org_id":"` + org + `","sf_username":"` + user + `"}`
	hostile := []struct {
		name, contentType, body string
		status                  int
		field                   string
	}{
		{"text/plain", "text/plain", `{"customer_id":"h1",` + good + `}`, 415, ""},
		{"no content type", "", `{"customer_id":"h1",` + good + `}`, 415, ""},
		{"duplicate key", "application/json", `{"customer_id":"x/y","customer_id":"h1",` + good + `}`, 400, "customer_id"},
		{"upper-case key", "application/json", `{"customer_id":"h1","ISV_SLUG":"acme",` + good[len(`"isv_slug":"acme",`):] + `}`, 400, "ISV_SLUG"},
		{"trailing garbage", "application/json", `{"customer_id":"h1",` + good + `}{"x":1}`, 400, ""},
		{"huge number", "application/json", `{"customer_id":"h1",` + good + `,"options":{"max_mismatches":1e400}}`, 400, "options.max_mismatches"},
		{"invalid utf-8", "application/json", "{\"customer_id\":\"h\xff1\"," + good + "}", 400, ""},
		{"5 MB", "application/json", `{"customer_id":"` + strings.Repeat("a", 5<<20) + `"}`, 413, ""},
		{"worker setting", "application/json", `{"customer_id":"h1",` + good + `,"options":{"heroku_task_queue":"nobody-polls-this"}}`, 400, "options.heroku_task_queue"},
		{"no integration", "application/json", `{"customer_id":"h1","isv_slug":"nobody",` + good[len(`"isv_slug":"acme",`):] + `}`, 409, ""},
	}
	for _, h := range hostile {
		code, out := raw(h.contentType, h.body)
		assert.Equal(t, h.status, code, "%s: %+v", h.name, out)
		assert.NotContains(t, out.Message, "Go struct", h.name)
		if h.field != "" && assert.NotEmpty(t, out.Fields, h.name) {
			assert.Equal(t, h.field, out.Fields[0].Field, h.name)
		}
	}
	list, err := e.dev.Client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: "WorkflowType = 'ConnectionWorkflow'"})
	require.NoError(t, err)
	assert.Empty(t, list.Executions, "no hostile request started a workflow")
	snap := e.sim.Snapshot()
	assert.Equal(t, before.Calls["addons.create"]+before.Calls["partner.info"], snap.Calls["addons.create"]+snap.Calls["partner.info"],
		"no hostile request reached Heroku")

	// Start twice: one workflow, one add-on.
	code, body = call("POST", "/v1/onboardings", apiToken, input)
	require.Equal(t, 200, code, string(body))
	var res contract.StartResult
	require.NoError(t, json.Unmarshal(body, &res))
	code, body = call("POST", "/v1/onboardings", apiToken, input)
	require.Equal(t, 200, code)
	var again contract.StartResult
	require.NoError(t, json.Unmarshal(body, &again))
	assert.Equal(t, res.AuthorizationURL, again.AuthorizationURL)
	assert.Equal(t, 1, e.sim.Snapshot().AddonsCreated)
	// The list cannot be steered past its integration (issue 22 item 10): a slug or stage
	// that could end its literal is refused naming the field, and lists nothing.
	for _, q := range []struct{ query, field string }{
		{`isv=x%5C&stage=%27%20or%20WorkflowType%20!%3D%20%27x`, "isv"},
		{`isv=acme&stage=%27%20or%20WorkflowType%20!%3D%20%27x`, "stage"},
		{`isv=acme&stage=nope`, "stage"},
		{`isv=acme%27%20or%20%271%27%3D%271`, "isv"},
	} {
		code, body := call("GET", "/v1/onboardings?"+q.query, apiToken, nil)
		assert.Equal(t, 400, code, "%s: %s", q.query, body)
		var e apiError
		require.NoError(t, json.Unmarshal(body, &e))
		if assert.NotEmpty(t, e.Fields, q.query) {
			assert.Equal(t, q.field, e.Fields[0].Field, q.query)
		}
	}
	code, body = call("GET", "/v1/onboardings?isv=acme", apiToken, nil)
	require.Equal(t, 200, code, string(body))
	var listed []onboarding.Summary
	require.NoError(t, json.Unmarshal(body, &listed))
	assert.Len(t, listed, 1, "the integration's one onboarding")
	// A deactivation without the team is refused naming team (issue 22 item 9); nothing ends.
	code, body = call("POST", "/v1/partners/acme/deactivate", apiToken, map[string]string{"confirm": "acme"})
	assert.Equal(t, 400, code, string(body))
	assert.Contains(t, string(body), `"field":"team"`)
	// A wrong team is refused naming team too (issue 22 item 13), not a bare 409.
	code, body = call("POST", "/v1/partners/acme/deactivate", apiToken, map[string]string{"confirm": "acme", "team": "someone-elses-team"})
	assert.Equal(t, 400, code, string(body))
	assert.Contains(t, string(body), `"field":"team"`)

	// The same customer with another org or user: a conflict naming the fields.
	other := map[string]any{"isv_slug": "acme", "customer_id": "c9", "mode": "provision", "app": testenv.ISVApp,
		"salesforce": map[string]string{"sf_org_id": "00D000000000063", "sf_username": "other@cust.example"}}
	code, body = call("POST", "/v1/onboardings", apiToken, other)
	assert.Equal(t, 409, code, string(body))
	assert.Contains(t, string(body), "salesforce.sf_org_id")
	assert.Contains(t, string(body), "salesforce.sf_username")
	assert.Equal(t, 1, e.sim.Snapshot().AddonsCreated)

	// A return before the customer signed in is not "all set".
	early := returnstate.Sign([]byte(stateKey), returnstate.State{WorkflowID: res.WorkflowID, Attempt: res.Attempt, Expires: time.Now().Add(time.Hour).Unix()})
	earlyPage, err := http.Get(srv.URL + "/return?state=" + url.QueryEscape(early))
	require.NoError(t, err)
	earlyHTML, _ := io.ReadAll(earlyPage.Body)
	earlyPage.Body.Close()
	assert.NotContains(t, string(earlyHTML), "all set")
	assert.Contains(t, string(earlyHTML), "Not connected yet")
	// That state is spent: used again, or spelled another way, it is refused.
	again2, err := http.Get(srv.URL + "/return?state=" + url.QueryEscape(early))
	require.NoError(t, err)
	again2.Body.Close()
	assert.Equal(t, 409, again2.StatusCode)
	code, body = call("POST", "/v1/onboardings/acme/c9/reissue", apiToken, nil)
	require.Equal(t, 200, code, string(body))
	require.NoError(t, json.Unmarshal(body, &res))

	// The returned action names its URL's attempt and is single use (issue 22 item 11): no
	// attempt, or attempt 0, is refused; the current attempt is verified once; again, refused.
	for _, body := range []any{nil, map[string]int{"attempt": 0}} {
		code, out := call("POST", "/v1/onboardings/acme/c9/returned", apiToken, body)
		assert.True(t, code == 400 || code == 415, "%v: %d %s", body, code, out)
	}
	code, body = call("POST", "/v1/onboardings/acme/c9/returned", apiToken, map[string]int{"attempt": res.Attempt})
	require.Equal(t, 200, code, string(body))
	var rr contract.ReturnResult
	require.NoError(t, json.Unmarshal(body, &rr))
	assert.False(t, rr.Verified, "nobody signed in yet")
	code, body = call("POST", "/v1/onboardings/acme/c9/returned", apiToken, map[string]int{"attempt": res.Attempt})
	assert.Equal(t, 409, code, "a return state is used once: %s", body)
	assert.Contains(t, string(body), "already used")
	code, body = call("POST", "/v1/onboardings/acme/c9/reissue", apiToken, nil) // a fresh URL for the path below
	require.Equal(t, 200, code, string(body))
	require.NoError(t, json.Unmarshal(body, &res))

	// Forged and expired return states are refused and signal nothing.
	forged := returnstate.Sign([]byte("some-other-key-that-is-32-bytes-long"), returnstate.State{WorkflowID: res.WorkflowID, Attempt: 1, Expires: time.Now().Add(time.Hour).Unix()})
	expired := returnstate.Sign([]byte(stateKey), returnstate.State{WorkflowID: res.WorkflowID, Attempt: 1, Expires: time.Now().Add(-time.Minute).Unix()})
	for _, tok := range []string{forged, expired, "garbage"} {
		resp, err := http.Get(srv.URL + "/return?state=" + url.QueryEscape(tok))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 400, resp.StatusCode)
	}
	hist := e.dev.Client.GetWorkflowHistory(context.Background(), res.WorkflowID, "", false, 0)
	for hist.HasNext() {
		ev, err := hist.Next()
		require.NoError(t, err)
		assert.Nil(t, ev.GetWorkflowExecutionSignaledEventAttributes(), "a refused return must not signal")
	}

	// The happy path: the customer authorizes, Heroku redirects to /return with the state
	// the worker signed, the workflow is signalled and goes active at once.
	resp := testenv.SignIn(t, res.AuthorizationURL, org, user)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	next := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(next, srv.URL+"/return?state="), next)
	page, err := http.Get(next)
	require.NoError(t, err)
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	assert.Equal(t, 200, page.StatusCode)
	assert.Contains(t, string(html), "You can close this page")
	replayed, err := http.Get(next)
	require.NoError(t, err)
	replayed.Body.Close()
	assert.Equal(t, 409, replayed.StatusCode, "a state works once")
	testenv.Eventually(t, 20*time.Second, "active after the return", func() bool {
		code, body := call("GET", "/v1/onboardings/acme/c9", apiToken, nil)
		return code == 200 && strings.Contains(string(body), `"stage":"active"`)
	})

	code, body = call("GET", "/v1/onboardings/acme/nobody", apiToken, nil)
	assert.Equal(t, 404, code, string(body))
	code, body = call("POST", "/v1/onboardings/acme/c9/offboard", apiToken, nil)
	assert.Equal(t, 200, code, string(body))
	assert.Contains(t, string(body), `"stage":"offboarded"`)
	assert.Equal(t, 0, e.sim.Snapshot().Live)

	code, body = call("GET", "/openapi.json", "", nil)
	assert.Equal(t, 200, code)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(body, &doc))
	assert.Contains(t, doc["paths"], "/v1/onboardings")
}

// Issue 10 item 8: a client that goes quiet holds no connection for long.
func TestServerTimeouts(t *testing.T) {
	srv := NewServer(http.NotFoundHandler())
	assert.Equal(t, readHeaderTimeout, srv.ReadHeaderTimeout)
	assert.Positive(t, srv.ReadTimeout)
	assert.Greater(t, srv.WriteTimeout, startTimeout, "a start is answered before the write deadline")
	assert.Positive(t, srv.IdleTimeout)
	assert.Equal(t, 16<<10, srv.MaxHeaderBytes)
}
