package onboarding_test

// End-to-end: the real dev server, the real worker binary, herokusim over HTTP, and this
// package as a backend service would use it.

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

const (
	org  = "00D000000000062"
	user = "integration@customer.example"
)

type stack struct {
	dev    *testenv.DevServer
	sim    *testenv.Sim
	worker *testenv.WorkerProcess
	c      *onboarding.Client
}

func startStack(t *testing.T, simCfg ...func(*herokusim.Config)) *stack {
	return startStackEnv(t, nil, simCfg...)
}

// startStackEnv starts the stack with extra worker settings (WORKER_* variables).
func startStackEnv(t *testing.T, workerEnv []string, simCfg ...func(*herokusim.Config)) *stack {
	t.Helper()
	dev := testenv.StartDevServer(t)
	sim := testenv.StartSim(t, simCfg...)
	sim.CreateIntegration(t, testenv.ISV)
	w := testenv.StartWorkerProcess(t, dev.Address, sim.URL, workerEnv...)
	c := onboarding.New(dev.Client, "", "")
	_, err := c.AdoptPartner(ctx(t), testenv.ISV) // registered with the worker, as onboarding requires
	require.NoError(t, err)
	return &stack{dev: dev, sim: sim, worker: w, c: c}
}

func fastInput(customer string) contract.ConnectionInput {
	return contract.ConnectionInput{ISVSlug: testenv.ISV, CustomerID: customer, Mode: contract.ModeProvision, App: testenv.ISVApp,
		Salesforce: contract.Salesforce{OrgID: org, Username: user, Environment: "production"}}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return c
}

// signInAsCustomer drives the simulator's pages the way a browser does.
func signInAsCustomer(t *testing.T, authURL, org, user string) string {
	t.Helper()
	resp, err := http.Get(authURL)
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(page))
	require.Contains(t, string(page), "Connect ")
	require.Contains(t, string(page), "Authorize")
	resp, err = http.PostForm(authURL+"/login", url.Values{"org_id": {org}, "username": {user}})
	require.NoError(t, err)
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(page)
}

func TestOnboardingEndToEnd(t *testing.T) {
	s := startStack(t)
	c := ctx(t)

	// Bad input: field errors, nothing created, no workflow.
	bad := fastInput("c1")
	bad.Salesforce.OrgID, bad.App = "nope", ""
	_, err := s.c.Start(c, bad)
	var inv *onboarding.InvalidInputError
	require.ErrorAs(t, err, &inv)
	assert.Contains(t, err.Error(), "salesforce.sf_org_id")
	assert.Contains(t, err.Error(), "app:")
	_, err = s.c.Status(c, testenv.ISV, "c1")
	assert.ErrorIs(t, err, onboarding.ErrNotFound)
	assert.Zero(t, s.sim.Snapshot().Calls["addons.create"])

	// Start twice: one workflow, one add-on, the same URL.
	first, err := s.c.Start(c, fastInput("c1"))
	require.NoError(t, err)
	assert.Equal(t, "connection/acme/c1", first.WorkflowID)
	assert.Contains(t, first.AuthorizationURL, s.sim.URL+"/authorize/")
	again, err := s.c.Start(c, fastInput("c1"))
	require.NoError(t, err)
	assert.Equal(t, first.AuthorizationURL, again.AuthorizationURL)
	assert.Equal(t, 1, s.sim.Snapshot().AddonsCreated)

	// The customer authorizes on the page; nobody signals: the watcher notices.
	page := signInAsCustomer(t, first.AuthorizationURL, org, user)
	assert.Contains(t, page, "Authorized")
	testenv.Eventually(t, 30*time.Second, "the connection to become active", func() bool {
		st, err := s.c.Status(c, testenv.ISV, "c1")
		return err == nil && st.Stage == "active"
	})
	testenv.Eventually(t, 30*time.Second, "visibility to list the active onboarding", func() bool {
		list, err := s.c.List(c, testenv.ISV, "active")
		return err == nil && len(list) == 1 && list[0].CustomerID == "c1" && list[0].AddonID != ""
	})

	// Offboard: the add-on is destroyed and gone.
	st, err := s.c.Offboard(c, testenv.ISV, "c1")
	require.NoError(t, err)
	assert.Equal(t, contract.Stage("offboarded"), st.Stage)
	snap := s.sim.Snapshot()
	assert.Equal(t, 0, snap.Live)
	assert.Equal(t, 1, snap.AddonsDestroyed)
	_, err = s.c.Offboard(c, testenv.ISV, "c1")
	assert.Error(t, err, "offboarding twice is refused")
}

func TestWorkerKilledMidFlightMakesNoSecondAddon(t *testing.T) {
	s := startStack(t)
	c := ctx(t)
	// The first create's answer is lost although the add-on was made. The adoption's read
	// passes; then the provisioning polls fail until the crash is over, so the crash surely
	// lands mid-provisioning however slowly a busy machine observes it.
	s.sim.AddFaults(herokusim.Fault{Route: "addons.create", Status: 500, Count: 1, AfterEffect: true},
		herokusim.Fault{Route: "addons.info", Mode: "latency", Count: 1},
		herokusim.Fault{Route: "addons.info", Status: 503})

	var wg sync.WaitGroup
	var res contract.StartResult
	var startErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		res, startErr = s.c.Start(c, fastInput("c2"))
	}()
	testenv.Eventually(t, 30*time.Second, "the add-on to be provisioning", func() bool {
		st, err := s.c.Status(c, testenv.ISV, "c2")
		return err == nil && st.Stage == "provisioning" && st.Addon != nil
	})
	s.worker.Kill()
	time.Sleep(time.Second)
	s.sim.ClearFaults()
	s.worker.Restart()
	wg.Wait()
	require.NoError(t, startErr)
	assert.NotEmpty(t, res.AuthorizationURL)
	snap := s.sim.Snapshot()
	assert.Equal(t, 1, snap.AddonsCreated, "one add-on despite the lost response and the crash")
	assert.Equal(t, 1, snap.LivePerISV[testenv.ISV])
	_, err := s.c.Offboard(c, testenv.ISV, "c2")
	require.NoError(t, err)
	assert.Equal(t, 0, s.sim.Snapshot().Live)
}

func TestContinueAsNewOnTheServer(t *testing.T) {
	s := startStackEnv(t, []string{"WORKER_CONTINUE_AS_NEW_AFTER=60"})
	c := ctx(t)
	in := fastInput("c3")
	res, err := s.c.Start(c, in)
	require.NoError(t, err)
	signInAsCustomer(t, res.AuthorizationURL, org, user)
	testenv.Eventually(t, 30*time.Second, "active", func() bool {
		st, err := s.c.Status(c, testenv.ISV, "c3")
		return err == nil && st.Stage == "active"
	})
	desc, err := s.dev.Client.DescribeWorkflow(c, res.WorkflowID, "")
	require.NoError(t, err)
	firstRun := desc.RawResponse.WorkflowExecutionInfo.Execution.RunId
	// Flip the connection state, each time waiting until the watcher has reported it, so the
	// history grows until the workflow continues as new.
	st, err := s.c.Status(c, testenv.ISV, "c3")
	require.NoError(t, err)
	addon := st.Addon.Name
	deadline := time.Now().Add(5 * time.Minute)
	for i := 0; desc.RawResponse.WorkflowExecutionInfo.Execution.RunId == firstRun && time.Now().Before(deadline); i++ {
		state := heroku.StateSystemError // a fault and its recovery: the watcher tells both
		if i%2 == 1 {
			state = heroku.StateIdle
		}
		s.sim.Post(t, "/_sim/connection-state", map[string]string{"addon": addon, "state": state})
		testenv.Eventually(t, 30*time.Second, "the watcher to report "+state, func() bool {
			st, err := s.c.Status(c, testenv.ISV, "c3")
			return err == nil && st.LastState == state
		})
		desc, err = s.dev.Client.DescribeWorkflow(c, res.WorkflowID, "")
		require.NoError(t, err)
	}
	assert.NotEqual(t, firstRun, desc.RawResponse.WorkflowExecutionInfo.Execution.RunId, "the workflow continued as new")
	st, err = s.c.Status(c, testenv.ISV, "c3")
	require.NoError(t, err)
	assert.Equal(t, contract.Stage("active"), st.Stage)
	assert.Contains(t, st.Events[len(st.Events)-1].What+st.Events[len(st.Events)-2].What+st.Events[len(st.Events)-3].What, "continued as new")
	assert.True(t, strings.HasPrefix(st.Addon.Name, "hc-acme-"))
	_, err = s.c.Offboard(c, testenv.ISV, "c3")
	require.NoError(t, err)
	assert.Equal(t, 0, s.sim.Snapshot().Live)
	assert.Equal(t, 1, s.sim.Snapshot().AddonsCreated)

}
