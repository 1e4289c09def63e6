package onboarding_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/connect-onboarding/worker/activities"

	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/metrics"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Customers terminated at every stage, an add-on made by hand under our names for a customer
// this namespace never had, enrolled add-ons with a live and with a terminated customer, and
// a live customer: the reconciler (a dry run first) destroys exactly the add-ons this
// namespace's customers created that no live customer owns, never an enrolled one, a live
// customer's nor one no run of this namespace made (reported foreign), and tells a live
// customer whose add-on went away.
func TestReconcilerLeavesNoOrphans(t *testing.T) {
	s := startStackEnv(t, append(testenv.FastWorkerEnv, "WORKER_RECONCILE_GRACE=0s"))
	c, dev, sim := s.c, s.dev, s.sim
	ctx := ctx(t)

	sched, err := dev.Client.ScheduleClient().GetHandle(ctx, contract.ReconcileScheduleID(testenv.ISV)).Describe(ctx)
	require.NoError(t, err, "adopting the integration scheduled its reconciler")
	assert.NotEmpty(t, sched.Schedule.Spec.Intervals)

	terminate := func(customer string) {
		require.NoError(t, dev.Client.TerminateWorkflow(ctx, contract.ConnectionWorkflowID(testenv.ISV, customer), "", "an operator's mistake"))
	}
	addonOf := func(customer string) string {
		st, err := c.Status(ctx, testenv.ISV, customer)
		require.NoError(t, err)
		require.NotNil(t, st.Addon, customer)
		return st.Addon.ID
	}

	// A live customer waiting for its authorization, and one already active.
	_, err = c.Start(ctx, fastInput("live-waiting"))
	require.NoError(t, err)
	liveWaiting := addonOf("live-waiting")
	active, err := c.Start(ctx, fastInput("term-active"))
	require.NoError(t, err)
	testenv.SignIn(t, active.AuthorizationURL, org, user)
	testenv.Eventually(t, 30*time.Second, "term-active active", func() bool {
		st, err := c.Status(ctx, testenv.ISV, "term-active")
		return err == nil && st.Stage == contract.StageActive
	})
	orphanActive := addonOf("term-active")
	terminate("term-active")
	_, err = c.Start(ctx, fastInput("term-waiting"))
	require.NoError(t, err)
	orphanWaiting := addonOf("term-waiting")
	terminate("term-waiting")
	// Terminated while provisioning: started without waiting for its URL.
	_, err = dev.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: contract.ConnectionWorkflowID(testenv.ISV, "term-early"),
		TaskQueue: contract.OnboardingTaskQueue}, contract.ConnectionWorkflowName, fastInput("term-early"))
	require.NoError(t, err)
	testenv.Eventually(t, 30*time.Second, "term-early's add-on created", func() bool {
		_, err := sim.Heroku.AddonInfo(ctx, "", contract.AddonName(testenv.ISV, "term-early"))
		return err == nil
	})
	terminate("term-early")
	// Made by hand under our names, for a customer this namespace never had (as another
	// deployment sharing the account and slug would): foreign, kept.
	byHand, err := sim.Heroku.CreateAddon(ctx, testenv.ISVApp, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: contract.AddonName(testenv.ISV, "nobody")})
	require.NoError(t, err)
	// Enrolled: one customer stays, the other is terminated. Neither add-on is ours to destroy.
	enrolled := map[string]string{}
	for _, customer := range []string{"enrolled-live", "enrolled-gone"} {
		own, err := sim.Heroku.CreateAddon(ctx, testenv.ISVApp, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: "own-" + customer})
		require.NoError(t, err)
		enrolled[customer] = own.ID
		in := fastInput(customer)
		in.Mode, in.App, in.Addon = contract.ModeEnroll, "", own.Name
		_, err = c.Start(ctx, in)
		require.NoError(t, err)
	}
	terminate("enrolled-gone")
	orphans := []string{orphanActive, orphanWaiting}
	testenv.Eventually(t, 30*time.Second, "visibility to see the live customers", func() bool {
		list, err := c.List(ctx, testenv.ISV, "")
		running := 0
		for _, l := range list {
			if l.Status == "Running" {
				running++
			}
		}
		return err == nil && running == 2 // live-waiting and enrolled-live; the terminated ones no longer run
	})

	// An operator terminates the app's watcher: the sweep starts it again.
	watcher := contract.WatcherWorkflowID(testenv.ISVApp)
	require.NoError(t, dev.Client.TerminateWorkflow(ctx, watcher, "", "an operator's mistake"))

	before := sim.Snapshot().AddonsDestroyed
	dry, err := c.Reconcile(ctx, testenv.ISV, true)
	require.NoError(t, err)
	assert.True(t, dry.DryRun)
	assert.Subset(t, ids(dry.Destroyed), orphans, "a dry run lists the orphans")
	assert.Equal(t, before, sim.Snapshot().AddonsDestroyed, "and destroys nothing")

	r, err := c.Reconcile(ctx, testenv.ISV, false)
	require.NoError(t, err)
	assert.Subset(t, ids(r.Destroyed), orphans)
	assert.Empty(t, r.Failed)
	assert.Equal(t, []string{byHand.ID}, ids(r.Foreign), "made by no run of this namespace: kept and reported")
	assert.NotContains(t, ids(r.Destroyed), byHand.ID)
	assert.NotContains(t, ids(r.Destroyed), liveWaiting, "a live customer's add-on is kept")
	assert.NotContains(t, ids(r.Destroyed), enrolled["enrolled-live"])
	assert.NotContains(t, ids(r.Destroyed), enrolled["enrolled-gone"], "an enrolled add-on is never destroyed")
	assert.Contains(t, ids(r.Enrolled), enrolled["enrolled-live"], "and is reported")
	assert.Equal(t, []string{testenv.ISVApp}, r.WatchersWoken)
	// The sweep took the integration's census for the operator's metrics, and every Heroku
	// request of the worker is counted by operation and status.
	m := s.worker.Metrics(t)
	running, ok := testenv.Sum(m, metrics.Customers.Name, "isv", testenv.ISV)
	assert.True(t, ok, "the census is published")
	assert.Equal(t, 2.0, running, "live-waiting and enrolled-live run")
	atAuth, _ := testenv.Sum(m, metrics.Customers.Name, "isv", testenv.ISV, "stage", string(contract.StageAwaitingAuthorization))
	assert.Equal(t, 2.0, atAuth)
	slow, ok := testenv.Sum(m, metrics.CustomersStartedDayAgo.Name, "isv", testenv.ISV)
	assert.True(t, ok)
	assert.Zero(t, slow, "all started minutes ago")
	at, _ := testenv.Sum(m, metrics.CensusAt.Name, "isv", testenv.ISV)
	assert.InDelta(t, float64(time.Now().Unix()), at, 300)
	created, _ := testenv.Sum(m, metrics.HerokuRequests.Name, "op", "create add-on", "status", "201")
	assert.GreaterOrEqual(t, created, 3.0, "live-waiting, term-active, term-waiting and term-early were provisioned")
	// The worker binary is versioned by default: the first build of the namespace became its
	// deployment's current version, and says so.
	cur, ok := testenv.Sum(m, metrics.BuildCurrent.Name, "deployment", "connect-onboarding")
	assert.True(t, ok, "a versioned worker says whether it runs the current build")
	assert.Equal(t, 1.0, cur)
	left, ok := testenv.Sum(m, metrics.HerokuRateLimitRemaining.Name)
	assert.True(t, ok, "the budget left is published")
	assert.Positive(t, left)
	assert.Empty(t, dry.WatchersWoken, "a dry run wakes nobody")
	desc, err := dev.Client.DescribeWorkflow(ctx, watcher, "")
	require.NoError(t, err)
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.RawResponse.WorkflowExecutionInfo.Status, "the terminated watcher runs again")
	testenv.Eventually(t, 30*time.Second, "no orphan left", func() bool {
		for _, a := range sim.Addons(t) {
			if !a.Gone && contract.IsProductAddonName(testenv.ISV, a.Name) && a.ID != liveWaiting && a.ID != byHand.ID {
				return false
			}
		}
		return true
	})
	for _, id := range []string{liveWaiting, enrolled["enrolled-live"], enrolled["enrolled-gone"], byHand.ID} {
		_, err := sim.Heroku.AddonInfo(ctx, "", id)
		assert.NoError(t, err, "add-on %s is untouched", id)
	}

	// The live customer's add-on goes away behind its back: the next sweep tells it.
	_, err = sim.Heroku.DestroyAddon(ctx, testenv.ISVApp, liveWaiting)
	require.NoError(t, err)
	testenv.Eventually(t, 30*time.Second, "the add-on gone", func() bool {
		_, err := sim.Heroku.AddonInfo(ctx, "", liveWaiting)
		return err != nil
	})
	r, err = c.Reconcile(ctx, testenv.ISV, false)
	require.NoError(t, err)
	assert.Contains(t, ids(r.Gone), liveWaiting)
	testenv.Eventually(t, 30*time.Second, "the customer told", func() bool {
		st, err := c.Status(ctx, testenv.ISV, "live-waiting")
		return err == nil && st.LastState == contract.StateGone
	})
}

func ids(fs []contract.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.AddonID
	}
	return out
}

// The reproduction, on the dev server: an operator terminates customer c1 (its
// add-on is an orphan now) and onboards c1 again, which adopts the leftover add-on. A sweep
// that listed before the adoption then comes to destroy it: DestroyOrphan asks again at that
// moment and keeps it, and c1 waits for its customer on a live add-on (issue 22 item 1).
func TestOrphanAdoptedSinceTheListingIsKept(t *testing.T) {
	s := startStack(t)
	c, dev, sim := s.c, s.dev, s.sim
	ctx := ctx(t)
	_, err := c.Start(ctx, fastInput("c1"))
	require.NoError(t, err)
	st, err := c.Status(ctx, testenv.ISV, "c1")
	require.NoError(t, err)
	require.NotNil(t, st.Addon)
	stale := *st.Addon // what the sweep's listing saw: an add-on of ours
	require.NoError(t, dev.Client.TerminateWorkflow(ctx, contract.ConnectionWorkflowID(testenv.ISV, "c1"), "", "an operator's mistake"))

	again, err := c.Start(ctx, fastInput("c1"))
	require.NoError(t, err, "onboarded again: the create finds the name taken and adopts the add-on")
	require.Equal(t, contract.StageAwaitingAuthorization, again.Stage)
	st, err = c.Status(ctx, testenv.ISV, "c1")
	require.NoError(t, err)
	require.Equal(t, stale.ID, st.Addon.ID, "the same add-on, adopted")

	acts := &activities.Activities{Heroku: sim.Heroku, Temporal: dev.Client, Settings: testenv.FastSettings()}
	env := testsuite.WorkflowTestSuite{}
	aenv := env.NewTestActivityEnvironment()
	aenv.RegisterActivity(acts.DestroyOrphan)
	testenv.Eventually(t, 30*time.Second, "visibility to show c1's add-on", func() bool {
		v, err := aenv.ExecuteActivity(acts.DestroyOrphan, activities.OrphanInput{ISVSlug: testenv.ISV, Addon: stale})
		if err != nil {
			return false
		}
		var out activities.OrphanOutcome
		require.NoError(t, v.Get(&out))
		require.NotEmpty(t, out.OwnedBy, "DestroyOrphan destroyed the live customer's add-on")
		return out.OwnedBy == contract.ConnectionWorkflowID(testenv.ISV, "c1")
	})
	info, err := sim.Heroku.AddonInfo(ctx, "", stale.ID)
	require.NoError(t, err, "the live customer's add-on is still there")
	assert.Equal(t, "provisioned", info.State)
}

// Two deployments (namespaces) sharing one Heroku account and slug each see only their own
// customers (issue 22 item 1): an add-on of the product's name that no run of this
// namespace made or recorded is the other's, and DestroyOrphan keeps it (Foreign); one a
// terminated customer of this namespace made is an orphan, and goes.
func TestAnotherDeploymentsAddonIsKept(t *testing.T) {
	s := startStack(t)
	c, dev, sim := s.c, s.dev, s.sim
	ctx := ctx(t)
	// The other deployment's customer: made on the shared account, unknown here.
	theirs, err := sim.Heroku.CreateAddon(ctx, testenv.ISVApp, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: contract.AddonName(testenv.ISV, "their-customer"), Config: map[string]string{"isv": testenv.ISV}})
	require.NoError(t, err)
	// This namespace's customer, terminated by an operator: its add-on is a real orphan.
	_, err = c.Start(ctx, fastInput("c1"))
	require.NoError(t, err)
	st, err := c.Status(ctx, testenv.ISV, "c1")
	require.NoError(t, err)
	require.NotNil(t, st.Addon)
	ours := *st.Addon
	require.NoError(t, dev.Client.TerminateWorkflow(ctx, contract.ConnectionWorkflowID(testenv.ISV, "c1"), "", "an operator's mistake"))

	acts := &activities.Activities{Heroku: sim.Heroku, Temporal: dev.Client, Settings: testenv.FastSettings()}
	aenv := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
	aenv.RegisterActivity(acts.DestroyOrphan)
	v, err := aenv.ExecuteActivity(acts.DestroyOrphan, activities.OrphanInput{ISVSlug: testenv.ISV,
		Addon: contract.AddonRef{ID: theirs.ID, Name: theirs.Name, App: testenv.ISVApp, Created: true}})
	require.NoError(t, err)
	var out activities.OrphanOutcome
	require.NoError(t, v.Get(&out))
	assert.True(t, out.Foreign, "another deployment's add-on is not an orphan of ours")
	info, err := sim.Heroku.AddonInfo(ctx, "", theirs.ID)
	require.NoError(t, err, "the other deployment's add-on is still there")
	assert.NotEqual(t, "deprovisioned", info.State)

	// The first calls answer "not yet" while Heroku deprovisions; each asks Temporal again.
	testenv.Eventually(t, 30*time.Second, "the orphan destroyed", func() bool {
		v, err := aenv.ExecuteActivity(acts.DestroyOrphan, activities.OrphanInput{ISVSlug: testenv.ISV, Addon: ours})
		if err != nil {
			return false
		}
		var out activities.OrphanOutcome
		require.NoError(t, v.Get(&out))
		require.False(t, out.Foreign, "a terminated customer of this namespace made it")
		require.Empty(t, out.OwnedBy)
		return true
	})
	_, err = sim.Heroku.AddonInfo(ctx, "", ours.ID)
	assert.ErrorIs(t, err, heroku.ErrNotFound, "the orphan was destroyed")
}
