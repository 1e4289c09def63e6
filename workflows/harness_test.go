package workflows_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/logo/logotest"
	"github.com/connect-onboarding/worker/internal/metrics/metricstest"
	"github.com/connect-onboarding/worker/workflows"
	"github.com/connect-onboarding/worker/workflows/contract"
)

const (
	isv      = "acme"
	isvApp   = "acme-app"
	isvTeam  = "acme-team"
	orgID    = "00D000000000062"
	username = "integration@customer.example"
)

// harness runs the workflow in Temporal's test environment with the real activities against
// a real herokusim over HTTP; only the watcher registration (which needs a Temporal client)
// and external signals are mocked.
type harness struct {
	testsuite.WorkflowTestSuite
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	sim     *herokusim.Sim
	srv     *httptest.Server
	client  *heroku.Client
	claims  func(activities.ClaimInput) error // what CheckClaims answers (nil: free)
	updates int
	// scheduled records every activity the workflow started, with its priority.
	scheduled []scheduledActivity
	// webhookWait is the worker's WebhookWait (0: no webhooks); set it, then newEnv.
	webhookWait time.Duration
	// signaled are the signals the workflow sent to other workflows, in order.
	signaled []sentSignal
	// awaited are the customer's requests to its app's Connect access coordinator;
	// coordinatorSilent makes it never answer.
	awaited           []activities.AwaitConnectionInput
	coordinatorSilent bool
	// metrics records what the workflows emit on their metrics handler.
	metrics *metricstest.Recorder
	// emitted are the lifecycle events the workflow emitted, in order.
	emitted []contract.LifecycleEvent
}

// sentSignal is a signal a workflow sent to another.
type sentSignal struct {
	WorkflowID, Name string
	Arg              any
}

// scheduledActivity is one activity as the workflow asked for it.
type scheduledActivity struct {
	Type     string
	Priority temporal.Priority
}

// recordActivities is a workflow interceptor that keeps, per started activity, its type
// and the priority it was scheduled with.
type recordActivities struct {
	interceptor.WorkerInterceptorBase
	h *harness
}

func (r *recordActivities) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &recordInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, h: r.h}
}

type recordInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	h *harness
}

func (i *recordInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&recordOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, h: i.h})
}

type recordOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	h *harness
}

func (o *recordOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	if !workflow.IsReplaying(ctx) {
		o.h.scheduled = append(o.h.scheduled, scheduledActivity{Type: activityType, Priority: workflow.GetActivityOptions(ctx).Priority})
	}
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}

// started lists the types of the activities started, in order.
func (h *harness) started() []string {
	var out []string
	for _, s := range h.scheduled {
		out = append(out, s.Type)
	}
	return out
}

func newHarness(t *testing.T, simCfg ...func(*herokusim.Config)) *harness {
	t.Helper()
	cfg := herokusim.DefaultConfig()
	cfg.ProvisionDelay, cfg.DeprovisionDelay = 0, 0
	cfg.Apps = map[string]string{isvApp: isvTeam}
	h := &harness{t: t}
	// The simulator keeps the workflow's clock, so URL lifetimes and timers agree.
	cfg.Now = func() time.Time {
		if h.env == nil {
			return time.Now()
		}
		return h.env.Now()
	}
	for _, m := range simCfg {
		m(&cfg)
	}
	sim, err := herokusim.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(sim)
	sim.SetPublicURL(srv.URL)
	t.Cleanup(func() { srv.Close(); _ = sim.Close() })
	hc, err := heroku.New(heroku.Options{PlatformURL: srv.URL, ConnectURL: srv.URL, Token: "sim-token", Timeout: 5 * time.Second})
	require.NoError(t, err)
	_, err = hc.CreateIntegration(context.Background(), heroku.IntegrationCreate{Slug: isv, Name: "Acme Sync", Team: isvTeam,
		ContactEmail: "dev@acme.example", Description: "Acme", DocsURL: "https://acme.example/docs",
		Logo: heroku.Logo{Filename: "logo.png", Data: logotest.PNG(200, 200)}})
	require.NoError(t, err)

	h.sim, h.srv, h.client = sim, srv, hc
	h.env = h.newEnv()
	return h
}

// newEnv makes a fresh test environment on the same simulator (a continuation's run).
func (h *harness) newEnv() *testsuite.TestWorkflowEnvironment {
	if h.metrics == nil {
		h.metrics = metricstest.New()
	}
	h.SetMetricsHandler(h.metrics)
	env := h.NewTestWorkflowEnvironment()
	// The production heroku worker's interceptor: a second request in one dispatch fails.
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{activities.CallBudget(), &recordActivities{h: h}}})
	workflows.Register(env)
	acts := &activities.Activities{Heroku: h.client, Settings: testSettings()}
	acts.Settings.WebhookWait = h.webhookWait
	activities.RegisterHeroku(env, acts)
	activities.RegisterOnboarding(env, acts)
	env.OnActivity("RegisterWithWatcher", mock.Anything, mock.Anything).Return(nil)
	// The app's Connect access coordinator is another workflow (its own tests run it):
	// here it answers as it does for a customer alone, with a join and a discovery.
	env.OnActivity(act.AwaitConnection, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.AwaitConnectionInput) (contract.ConnectionRef, error) {
		h.awaited = append(h.awaited, in)
		if h.coordinatorSilent {
			<-ctx.Done() // the coordinator never answers (the add-on's connection never shows)
			return contract.ConnectionRef{}, ctx.Err()
		}
		if err := h.client.ConnectAuth(context.Background(), in.App); err != nil {
			return contract.ConnectionRef{}, err
		}
		refs, err := h.client.DiscoverConnections(context.Background(), in.App, in.Wanted.Addon)
		if err != nil || len(refs) == 0 {
			return contract.ConnectionRef{}, fmt.Errorf("no connection for %s: %v", in.Wanted.Addon, err)
		}
		return contract.ConnectionRef{ID: refs[0].ID, RegionURL: refs[0].RegionURL}, nil
	}).Maybe()
	// The reconciler's Schedule needs a Temporal client; its own test runs on the dev server.
	env.OnActivity(act.SetReconcileSchedule, mock.Anything, mock.Anything).Return(nil).Maybe()
	// CheckClaims reads Temporal's visibility; its own test runs on the dev server.
	env.OnActivity("CheckClaims", mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ClaimInput) error {
		if h.claims != nil {
			return h.claims(in)
		}
		return nil
	}).Maybe()
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_, workflowID, _, name string, arg any) error {
			h.signaled = append(h.signaled, sentSignal{WorkflowID: workflowID, Name: name, Arg: arg})
			return nil
		})
	// Events go to a stream through Temporal's client; here they are kept in order.
	env.OnActivity("EmitEvent", mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.EmitInput) error {
		h.emitted = append(h.emitted, in.Event)
		return nil
	}).Maybe()
	return env
}

// testSettings are the worker settings of the unit tests: the production pace, and the
// ISV's return host allowed.
func testSettings() contract.Settings {
	s := contract.DefaultSettings()
	s.ReturnHosts = []string{"isv.example"}
	return s
}

// decodeArg reads the input a workflow continued as new with.
func decodeArg(can *workflow.ContinueAsNewError, out any) error {
	return converter.GetDefaultDataConverter().FromPayloads(can.Input, out)
}

func input(customer string) contract.ConnectionInput {
	return contract.ConnectionInput{ISVSlug: isv, CustomerID: customer, Mode: contract.ModeProvision, App: isvApp,
		Salesforce: contract.Salesforce{OrgID: orgID, Username: username}, ReturnURL: "https://isv.example/return"}
}

// at runs fn when the workflow's clock has advanced by d.
func (h *harness) at(d time.Duration, fn func()) { h.env.RegisterDelayedCallback(fn, d) }

// start sends the start update at once, as Update-with-Start does, and keeps its result.
func (h *harness) start() *contract.StartResult {
	var out contract.StartResult
	h.at(0, func() {
		h.env.UpdateWorkflow(contract.UpdateStart.Name, "start", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { h.t.Errorf("start rejected: %v", err) },
			OnComplete: func(v any, err error) { require.NoError(h.t, err); decodeInto(h.t, v, &out) },
		})
	})
	return &out
}

// update sends an update now and returns where its result lands.
func (h *harness) update(name string, out any) *error {
	var rejected error
	h.env.UpdateWorkflow(name, name+"-"+h.env.Now().String(), &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { rejected = err },
		OnComplete: func(v any, err error) { rejected = err; decodeInto(h.t, v, out) },
	})
	return &rejected
}

// updateWith sends an update with one argument now.
func (h *harness) updateWith(name string, arg any, out any) *error {
	var rejected error
	h.updates++ // each update its own ID: two at one instant are not one
	h.env.UpdateWorkflow(name, fmt.Sprintf("%s-%d", name, h.updates), &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { rejected = err },
		OnComplete: func(v any, err error) { rejected = err; decodeInto(h.t, v, out) },
	}, arg)
	return &rejected
}

func decodeInto(t *testing.T, v any, out any) {
	if out == nil || v == nil {
		return
	}
	if ev, ok := v.(converter.EncodedValue); ok {
		require.NoError(t, ev.Get(out))
		return
	}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, out))
}

func (h *harness) status() contract.Status {
	return query[contract.Status](h, contract.QueryStatus.Name)
}

// query asks the workflow under test the named query and decodes its answer as T.
func query[T any](h *harness, name string, args ...any) T {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(name, args...)
	require.NoError(h.t, err)
	var out T
	require.NoError(h.t, v.Get(&out))
	return out
}

// customerSignsIn completes the authorization of a customer's add-on on the simulator as
// org/user, exactly as the sign-in page does.
func (h *harness) customerSignsIn(customer, org, user string) {
	h.t.Helper()
	h.signInOn(contract.AddonName(isv, customer), org, user)
}

func (h *harness) signInOn(addon, org, user string) {
	h.t.Helper()
	b, _ := json.Marshal(map[string]string{"addon": addon, "org_id": org, "username": user})
	resp, err := http.Post(h.srv.URL+"/_sim/authorize", "application/json", bytes.NewReader(b))
	require.NoError(h.t, err)
	resp.Body.Close()
	require.Equal(h.t, http.StatusOK, resp.StatusCode, "the simulator refused the sign-in")
}

func (h *harness) returned(attempt int) {
	h.env.SignalWorkflow(contract.SignalCustomerReturned.Name, contract.CustomerReturned{Attempt: attempt})
}

func (h *harness) watcherReports(state string) {
	h.env.SignalWorkflow(contract.SignalConnectionState.Name, contract.ConnectionStateReport{State: state})
}

func (h *harness) settings(s map[string]any) {
	b, _ := json.Marshal(s)
	resp, err := http.Post(h.srv.URL+"/_sim/settings", "application/json", bytes.NewReader(b))
	require.NoError(h.t, err)
	resp.Body.Close()
}

// run executes the workflow to its end and returns its final status (from the result, or
// from the status query when it failed) and its error.
func (h *harness) run(in contract.ConnectionInput) (contract.Status, error) {
	h.env.ExecuteWorkflow(workflows.ConnectionWorkflow, in)
	require.True(h.t, h.env.IsWorkflowCompleted(), "the workflow did not complete")
	err := h.env.GetWorkflowError()
	if err == nil {
		var st contract.Status
		require.NoError(h.t, h.env.GetWorkflowResult(&st))
		return st, nil
	}
	return h.status(), err
}

// live reports the simulator's add-ons that still exist.
func (h *harness) live() int { return h.sim.Snapshot().Live }

// act names activities by method value in mocks, as the workflows call them.
var act *activities.Activities
