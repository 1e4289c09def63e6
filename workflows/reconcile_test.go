package workflows_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/workflows"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// reconcileEnv runs a sweep with every activity mocked: the listings and the destroy are
// the test's.
func reconcileEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *[]string) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	workflows.Register(env)
	acts := &activities.Activities{Settings: testSettings()}
	activities.RegisterHeroku(env, acts)
	activities.RegisterOnboarding(env, acts)
	env.OnActivity(act.RegisterWithWatcher, mock.Anything, mock.Anything).Return(nil).Maybe()
	gone := &[]string{}
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, contract.SignalConnectionState.Name, mock.Anything).Return(
		func(_, id, _, _ string, arg any) error {
			*gone = append(*gone, id+"="+arg.(contract.ConnectionStateReport).State)
			return nil
		}).Maybe()
	return env, gone
}

func sweep(t *testing.T, env *testsuite.TestWorkflowEnvironment) contract.ReconcileReport {
	t.Helper()
	env.ExecuteWorkflow(workflows.ReconcileWorkflow, contract.ReconcileInput{Slug: isv})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var r contract.ReconcileReport
	require.NoError(t, env.GetWorkflowResult(&r))
	return r
}

// A customer that makes its add-on between the sweep's two listings is not told GONE while
// it is active (issue 22 item 6): the customers are listed first, so its add-on is only a
// young add-on of Heroku's list.
func TestReconcilerTellsNoFalseGone(t *testing.T) {
	env, gone := reconcileEnv(t)
	listings := 0
	newCustomer := activities.CustomerWorkflow{WorkflowID: contract.ConnectionWorkflowID(isv, "c-new"), CustomerID: "c-new", AddonID: "addon-new"}
	env.OnActivity(act.RunningCustomersPage, mock.Anything, mock.Anything).Return(func(context.Context, activities.CustomersPageInput) (activities.CustomersPage, error) {
		if listings++; listings == 1 {
			return activities.CustomersPage{}, nil // listed before the customer's add-on exists
		}
		return activities.CustomersPage{Customers: []activities.CustomerWorkflow{newCustomer}}, nil
	})
	env.OnActivity(act.ListAccountAddons, mock.Anything, mock.Anything).Return(func(context.Context, string) (activities.AccountAddons, error) {
		if listings++; listings == 1 {
			return activities.AccountAddons{}, nil
		}
		return activities.AccountAddons{Addons: []activities.AddonSummary{{ID: "addon-new", Name: contract.AddonName(isv, "c-new"), App: isvApp,
			State: "provisioned", CreatedAt: time.Now()}}}, nil
	})
	r := sweep(t, env)
	assert.Empty(t, *gone, "no GONE for a customer whose add-on Heroku lists")
	assert.Empty(t, r.Gone)
	assert.Empty(t, r.Destroyed)
}

// An orphan of the listing that a live customer owns at the moment of its destroy (the
// customer was terminated and onboarded again, and adopted its add-on) is kept and reported
// (issue 22 item 1): the destroy is DestroyOrphan's to decide, never the listing's.
func TestReconcilerDecidesADestroyAtItsMoment(t *testing.T) {
	env, _ := reconcileEnv(t)
	old := time.Now().Add(-48 * time.Hour)
	adopted := activities.AddonSummary{ID: "addon-c1", Name: contract.AddonName(isv, "c1"), App: isvApp, State: "provisioned", CreatedAt: old}
	orphan := activities.AddonSummary{ID: "addon-c2", Name: contract.AddonName(isv, "c2"), App: isvApp, State: "provisioned", CreatedAt: old}
	env.OnActivity(act.RunningCustomersPage, mock.Anything, mock.Anything).Return(activities.CustomersPage{}, nil)
	env.OnActivity(act.ListAccountAddons, mock.Anything, mock.Anything).Return(activities.AccountAddons{Addons: []activities.AddonSummary{adopted, orphan}}, nil)
	var asked []string
	env.OnActivity(act.DestroyOrphan, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.OrphanInput) (activities.OrphanOutcome, error) {
		asked = append(asked, in.Addon.ID)
		if in.Addon.ID == adopted.ID {
			return activities.OrphanOutcome{OwnedBy: contract.ConnectionWorkflowID(isv, "c1")}, nil
		}
		return activities.OrphanOutcome{}, nil
	})
	r := sweep(t, env)
	assert.ElementsMatch(t, []string{adopted.ID, orphan.ID}, asked, "every destroy asked at its moment")
	require.Len(t, r.Destroyed, 1)
	assert.Equal(t, orphan.ID, r.Destroyed[0].AddonID)
	require.Len(t, r.Owned, 1)
	assert.Equal(t, adopted.ID, r.Owned[0].AddonID)
	assert.Equal(t, contract.ConnectionWorkflowID(isv, "c1"), r.Owned[0].WorkflowID)
}

// 100,000 running customers are read a page of 1,000 per activity: every result stays far
// below Temporal's 2 MB payload limit (one result of 12,000 was over it, issue 22 item 4),
// and the sweep holds them all against Heroku's pages: none is an orphan, none is gone.
func TestReconcilerPagesItsCustomers(t *testing.T) {
	env, gone := reconcileEnv(t)
	// The race detector on a busy machine runs workflow code many times slower than a
	// worker does; the detector's default (1 s) is for production speed.
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
	const total, per = 100_000, 1000
	customer := func(i int) activities.CustomerWorkflow {
		id := fmt.Sprintf("9f0c2b6e-1d4a-4c8e-9a51-%012d", i) // UUID-long IDs, the worst case measured
		return activities.CustomerWorkflow{WorkflowID: contract.ConnectionWorkflowID(isv, id), CustomerID: id,
			AddonID: fmt.Sprintf("3b7e9d10-5a2f-4e61-8c3d-%012d", i), AddonName: contract.AddonName(isv, id)}
	}
	largest := 0
	measure := func(v any) {
		p, err := converter.GetDefaultDataConverter().ToPayload(v)
		require.NoError(t, err)
		largest = max(largest, len(p.Data))
	}
	next := func(token string) int {
		start := 0
		if token != "" {
			_, _ = fmt.Sscan(token, &start)
		}
		return start
	}
	env.OnActivity(act.RunningCustomersPage, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.CustomersPageInput) (activities.CustomersPage, error) {
		start := next(string(in.PageToken))
		var page activities.CustomersPage
		for i := start; i < min(start+per, total); i++ {
			page.Customers = append(page.Customers, customer(i))
		}
		if start+per < total {
			page.NextPageToken = []byte(fmt.Sprint(start + per))
		}
		measure(page)
		return page, nil
	})
	created := time.Now().Add(-48 * time.Hour)
	env.OnActivity(act.ListAccountAddons, mock.Anything, mock.Anything).Return(func(_ context.Context, rng string) (activities.AccountAddons, error) {
		start := next(rng)
		var page activities.AccountAddons
		for i := start; i < min(start+per, total); i++ {
			c := customer(i)
			page.Addons = append(page.Addons, activities.AddonSummary{ID: c.AddonID, Name: c.AddonName, App: isvApp, State: "provisioned", CreatedAt: created})
		}
		page.Seen = len(page.Addons)
		if start+per < total {
			page.NextRange = fmt.Sprint(start + per)
		}
		measure(page)
		return page, nil
	})
	r := sweep(t, env)
	assert.Equal(t, total, r.LiveCustomers)
	assert.Equal(t, total, r.Ours)
	assert.Less(t, largest, 512<<10, "a page's result is far below the 2 MB payload limit")
	assert.Empty(t, r.Destroyed, "every add-on has its live customer")
	assert.Empty(t, r.Gone)
	assert.Empty(t, *gone)
}
