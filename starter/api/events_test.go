package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/dev/eventsink"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/eventsign"
	"github.com/connect-onboarding/worker/internal/returnstate"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// The endpoints over HTTP, every answer held to /openapi.json; and a customer's connect
// link: a redirect to the current URL at no Heroku call however often it is opened (one
// call when the URL is about to expire), "connected" once active, "ended" after, and a
// forged or foreign link refused (issue 23).
func TestEventsAPIAndConnectLinks(t *testing.T) {
	e := setup(t)
	key, err := eventsign.ParseKey(testenv.EventsKey)
	require.NoError(t, err)
	readerToken, line, err := NewKey("reader", []string{"read:acme"})
	require.NoError(t, err)
	writerToken, wline, err := NewKey("writer", []string{"write:acme"})
	require.NoError(t, err)
	keys, err := ParseKeys(strings.NewReader(line + "\n" + wline + "\n"))
	require.NoError(t, err)
	keys.FullAccess("test", apiToken)
	a := New(e.c, keys, []byte(stateKey), "", zerolog.Nop())
	srv := httptest.NewServer(a)
	defer srv.Close()
	a.returnURL = srv.URL + "/return"
	e.c.Events = onboarding.Events{Key: key, LinkKey: []byte(stateKey), LinkBase: srv.URL + "/connect/"}

	answered := newDocumented(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path, token string, body any) (*http.Response, []byte) {
		return answered.send(t, noRedirect, method, srv.URL+path, token, jsonBody(t, body))
	}
	call := func(method, path string, body any) (int, []byte) {
		resp, out := do(method, path, apiToken, body)
		return resp.StatusCode, out
	}

	sink := eventsink.New("")
	rcv := httptest.NewServer(sink)
	defer rcv.Close()

	// Bad input names its field; nothing is added.
	code, body := call("POST", "/v1/partners/acme/endpoints", map[string]any{"url": "ftp://x.example"})
	assert.Equal(t, 400, code, string(body))
	assert.Contains(t, string(body), `"field":"url"`)
	code, body = call("POST", "/v1/partners/acme/endpoints", map[string]any{"url": rcv.URL, "event_types": []string{"onboarding.nope"}})
	assert.Equal(t, 400, code, string(body))
	assert.Contains(t, string(body), `"field":"event_types[0]"`)

	// An endpoint receives every customer's events: a key that cannot read them cannot add one.
	resp, body := do("POST", "/v1/partners/acme/endpoints", writerToken, map[string]any{"url": rcv.URL})
	assert.Equal(t, 403, resp.StatusCode, string(body))
	assert.Contains(t, string(body), "read:acme")
	code, body = call("POST", "/v1/partners/acme/endpoints", map[string]any{"url": rcv.URL, "description": "backend"})
	require.Equal(t, 201, code, string(body))
	var added endpointWithSecret
	require.NoError(t, json.Unmarshal(body, &added))
	require.Regexp(t, `^whsec_`, added.Secret)
	sink.SetSecrets(added.Secret)
	code, body = call("GET", "/v1/partners/acme/endpoints", nil)
	require.Equal(t, 200, code, string(body))
	assert.NotContains(t, string(body), added.Secret, "a list never shows a secret")
	resp, body = do("GET", "/v1/partners/acme/endpoints/"+added.ID+"/secret", readerToken, nil)
	assert.Equal(t, 403, resp.StatusCode, "revealing a secret needs the write scope")
	assert.NotContains(t, string(body), added.Secret)
	resp, _ = do("GET", "/v1/partners/acme/endpoints", readerToken, nil)
	assert.Equal(t, 200, resp.StatusCode)
	code, body = call("GET", "/v1/partners/acme/endpoints/"+added.ID+"/secret", nil)
	require.Equal(t, 200, code, string(body))
	assert.Contains(t, string(body), added.Secret)
	code, body = call("POST", "/v1/partners/acme/endpoints/"+added.ID+"/test", nil)
	require.Equal(t, 200, code, string(body))
	assert.Contains(t, string(body), `"outcome":"delivered"`)
	code, body = call("PATCH", "/v1/partners/acme/endpoints/ep_nope", map[string]any{"enabled": false})
	assert.Equal(t, 404, code, string(body))
	code, body = call("POST", "/v1/partners/acme/endpoints/"+added.ID+"/rotate-secret", map[string]any{"keep_previous_seconds": 3600})
	require.Equal(t, 200, code, string(body))
	var rotated endpointWithSecret
	require.NoError(t, json.Unmarshal(body, &rotated))
	assert.Equal(t, 2, rotated.SecretGeneration)
	code, body = call("POST", "/v1/partners/acme/endpoints/"+added.ID+"/redeliver", map[string]any{"event_id": "evt_unknown"})
	assert.Equal(t, 404, code, string(body))
	code, body = call("GET", "/v1/partners/acme/endpoints/"+added.ID+"/deliveries", nil)
	require.Equal(t, 200, code, string(body))
	assert.Contains(t, string(body), "endpoint.ping")

	// The connect link: in the start result and the status, and the url_issued event.
	in := map[string]any{"isv_slug": "acme", "customer_id": "c1", "mode": "provision", "app": testenv.ISVApp,
		"salesforce": map[string]string{"sf_org_id": org, "sf_username": user}}
	code, body = call("POST", "/v1/onboardings", in)
	require.Equal(t, 200, code, string(body))
	var res contract.StartResult
	require.NoError(t, json.Unmarshal(body, &res))
	require.NotEmpty(t, res.ConnectLink)
	link := strings.TrimPrefix(res.ConnectLink, srv.URL)
	code, body = call("GET", "/v1/onboardings/acme/c1", nil)
	require.Equal(t, 200, code)
	assert.Contains(t, string(body), res.ConnectLink)
	testenv.Eventually(t, 30*time.Second, "the url_issued event with the link", func() bool {
		for _, r := range sink.Customer("c1") {
			if r.Type == contract.EventURLIssued {
				return r.Data.ConnectLink != "" && strings.HasSuffix(r.Data.ConnectLink, strings.TrimPrefix(link, "/connect/"))
			}
		}
		return false
	})

	// 1,000 visits: one Heroku call, the first, whose clock says the URL is about to expire.
	authorizeCalls := func() int { return e.sim.Snapshot().Calls["partner.authorize"] }
	before := authorizeCalls()
	real := a.now
	a.now = func() time.Time { return res.ExpiresAt.Add(-5 * time.Minute) }
	resp, _ = do("GET", link, "", nil)
	a.now = real
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	fresh := resp.Header.Get("Location")
	assert.NotEqual(t, res.AuthorizationURL, fresh, "a fresh URL for the one about to expire")
	assert.Equal(t, before+1, authorizeCalls())
	var wg sync.WaitGroup
	var mu sync.Mutex
	locations := map[string]int{}
	visits := make(chan int, 999)
	for i := range 999 {
		visits <- i
	}
	close(visits)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range visits {
				r, err := noRedirect.Get(srv.URL + link)
				if !assert.NoError(t, err) {
					continue
				}
				r.Body.Close()
				mu.Lock()
				locations[r.Header.Get("Location")]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, map[string]int{fresh: 999}, locations, "every visit redirected to the current URL")
	assert.Equal(t, before+1, authorizeCalls(), "1,000 visits cost one Heroku call")

	// A forged link, and a link signed with another key, are refused.
	resp, _ = do("GET", link+"x", "", nil)
	assert.Equal(t, 404, resp.StatusCode)
	other := returnstate.SignLink([]byte("another-key-of-at-least-32-bytes!!!"), returnstate.Link{WorkflowID: "connection/acme/c1", OnboardingID: res.OnboardingID})
	resp, _ = do("GET", "/connect/"+other, "", nil)
	assert.Equal(t, 404, resp.StatusCode)

	// Active: the page says so, no redirect.
	testenv.SignIn(t, fresh, org, user).Body.Close()
	testenv.Eventually(t, 30*time.Second, "c1 active", func() bool {
		st, err := e.c.Status(t.Context(), "acme", "c1")
		return err == nil && st.Stage == contract.StageActive
	})
	resp, page := do("GET", link, "", nil)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(page), "connected")

	// Ended: 410, and a new onboarding of the same customer does not answer the old link.
	code, body = call("POST", "/v1/onboardings/acme/c1/offboard", nil)
	require.Equal(t, 200, code, string(body))
	resp, _ = do("GET", link, "", nil)
	assert.Equal(t, http.StatusGone, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"))
	code, body = call("POST", "/v1/onboardings", in)
	require.Equal(t, 200, code, string(body))
	var again contract.StartResult
	require.NoError(t, json.Unmarshal(body, &again))
	assert.NotEqual(t, res.OnboardingID, again.OnboardingID)
	resp, _ = do("GET", link, "", nil)
	assert.Equal(t, http.StatusGone, resp.StatusCode, "the old link opens nothing of the new onboarding")
	resp, _ = do("GET", strings.TrimPrefix(again.ConnectLink, srv.URL), "", nil)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
}
