package workflows_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// One read per round; only members whose state or authorization changed are signalled;
// waiting members left out of the read are not; the watcher ends when nobody is left.
func TestWatcherSignalsOnlyChanges(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	workflows.Register(env)
	acts := &activities.Activities{}
	activities.RegisterHeroku(env, acts)
	activities.RegisterOnboarding(env, acts)

	authAt := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	reads := 0
	env.OnActivity("ListAppConnectionsNotWaiting", mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AppConnectionsInput) (map[string]activities.ConnectionSnapshot, error) {
			reads++
			out := map[string]activities.ConnectionSnapshot{"conn-active": {State: heroku.StateIdle, AuthUpdated: authAt}}
			if reads >= 2 {
				out["conn-active"] = activities.ConnectionSnapshot{State: heroku.StateUnauthorized, AuthUpdated: authAt}
			}
			if reads >= 3 {
				out["conn-wait"] = activities.ConnectionSnapshot{State: heroku.StateIdle, AuthUpdated: authAt.Add(time.Hour)}
			}
			return out, nil
		})
	var signalled []string
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, contract.SignalConnectionState.Name, mock.Anything).Return(
		func(_, id, _, _ string, arg any) error {
			r := arg.(contract.ConnectionStateReport)
			signalled = append(signalled, id+"="+r.State)
			return nil
		})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.SignalWatchRegister.Name, contract.WatchMember{WorkflowID: "wf-wait", ConnectionID: "conn-wait", Waiting: true, KnownState: heroku.StateNeedAuthentication})
		env.SignalWorkflow(contract.SignalWatchRegister.Name, contract.WatchMember{WorkflowID: "wf-active", ConnectionID: "conn-active", KnownState: heroku.StateIdle, KnownAuth: authAt})
	}, 0)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.SignalWatchUnregister.Name, "wf-wait")
		env.SignalWorkflow(contract.SignalWatchUnregister.Name, "wf-active")
	}, 2*time.Minute)
	env.ExecuteWorkflow(workflows.WatcherWorkflow, contract.WatcherInput{App: "acme-app", RegionURL: "http://x", HerokuTaskQueue: "heroku",
		WaitingInterval: 30 * time.Second, ActiveInterval: 5 * time.Minute, IdleTimeout: 10 * time.Minute})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError(), "the watcher ends when nobody is left")
	assert.Equal(t, []string{"wf-active=UNAUTHORIZED", "wf-wait=IDLE"}, signalled)
	assert.GreaterOrEqual(t, reads, 3)
	assert.LessOrEqual(t, reads, 6, "30s rounds while someone waits, for 2 minutes")
}

// A customer registering while the watcher's read is in flight is not judged by that read
// (its connection can be newer than it): it is neither reported gone nor dropped.
func TestWatcherMemberJoiningMidReadIsKept(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	workflows.Register(env)
	activities.RegisterHeroku(env, &activities.Activities{})
	activities.RegisterOnboarding(env, &activities.Activities{})
	authAt := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	reads := 0
	env.OnActivity("ListAppConnectionsNotWaiting", mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AppConnectionsInput) (map[string]activities.ConnectionSnapshot, error) {
			reads++
			if reads == 1 {
				// The newcomer registers now; this read predates its connection.
				env.SignalWorkflow(contract.SignalWatchRegister.Name, contract.WatchMember{WorkflowID: "wf-new", ConnectionID: "conn-new", Waiting: true, KnownState: heroku.StateNeedAuthentication})
				return map[string]activities.ConnectionSnapshot{"conn-old": {State: heroku.StateIdle, AuthUpdated: authAt}}, nil
			}
			out := map[string]activities.ConnectionSnapshot{"conn-old": {State: heroku.StateIdle, AuthUpdated: authAt}}
			if reads >= 3 {
				out["conn-new"] = activities.ConnectionSnapshot{State: heroku.StateIdle, AuthUpdated: authAt.Add(time.Hour)}
			}
			return out, nil
		})
	var signalled []string
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, contract.SignalConnectionState.Name, mock.Anything).Return(
		func(_, id, _, _ string, arg any) error {
			signalled = append(signalled, id+"="+arg.(contract.ConnectionStateReport).State)
			return nil
		})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.SignalWatchRegister.Name, contract.WatchMember{WorkflowID: "wf-old", ConnectionID: "conn-old", KnownState: heroku.StateIdle, KnownAuth: authAt})
	}, 0)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.SignalWatchUnregister.Name, "wf-old")
		env.SignalWorkflow(contract.SignalWatchUnregister.Name, "wf-new")
	}, 3*time.Minute)
	env.ExecuteWorkflow(workflows.WatcherWorkflow, contract.WatcherInput{App: "acme-app", RegionURL: "http://x", HerokuTaskQueue: "heroku",
		WaitingInterval: 30 * time.Second, ActiveInterval: time.Minute, IdleTimeout: 10 * time.Minute})
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, []string{"wf-new=IDLE"}, signalled, "never reported GONE; its authorization is reported")
}

// The named list (make run, compose) and the typed keys (tests) are the same set.
func TestSearchAttributeListsAgree(t *testing.T) {
	typed := contract.SearchAttributeTypes()
	var names []string
	for k := range typed.GetUntypedValues() {
		names = append(names, k.GetName())
	}
	assert.ElementsMatch(t, contract.SearchAttributes(), names)
}

// Customers spread evenly and stably over the shards.
func TestWatcherShardsSpreadCustomers(t *testing.T) {
	counts := map[string]int{}
	for i := 0; i < 4000; i++ {
		id := contract.ConnectionWorkflowID("acme", fmt.Sprintf("customer-%d", i))
		shard := contract.WatcherShardID("acme-app", id, 4)
		assert.Equal(t, shard, contract.WatcherShardID("acme-app", id, 4), "stable")
		counts[shard]++
	}
	require.Len(t, counts, 4)
	for shard, n := range counts {
		assert.InDelta(t, 1000, n, 150, shard)
	}
	assert.Equal(t, "watch/acme-app/0", contract.WatcherShardID("acme-app", "x", 1))
}
