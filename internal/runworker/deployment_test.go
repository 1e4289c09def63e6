package runworker_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/runworker"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// The first build of a deployment becomes its current version and gets the work; a second
// build started beside it does not take over (an operator promotes it), and once promoted it
// gets the long-lived workflows at their next task while the reconciler's sweep keeps its
// build.
func TestFirstBuildBecomesCurrentAndTheNextWaits(t *testing.T) {
	dev := testenv.StartDevServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sim := testenv.StartSim(t)
	start := func(d runworker.Deployment) *runworker.Workers {
		acts := &activities.Activities{Heroku: sim.Heroku, Temporal: dev.Client, Settings: testenv.FastSettings(), Events: testenv.Events()}
		w, err := runworker.Start(dev.Client, acts, runworker.Options{Deployment: d})
		require.NoError(t, err)
		t.Cleanup(w.Stop)
		require.NoError(t, w.WaitRegistered(ctx, dev.Client))
		return w
	}
	a := runworker.Deployment{Name: "connect-onboarding", BuildID: "build-a"}
	b := runworker.Deployment{Name: "connect-onboarding", BuildID: "build-b"}
	start(a)
	current, err := runworker.BecomeCurrent(ctx, dev.Client, a, true)
	require.NoError(t, err)
	assert.Equal(t, "build-a", current)
	// Asked again (a restart, a second replica), it finds itself.
	current, err = runworker.BecomeCurrent(ctx, dev.Client, a, true)
	require.NoError(t, err)
	assert.Equal(t, "build-a", current)

	start(b)
	// Registered, B can be ramped at once (the server refuses a version missing a queue).
	_, err = dev.Client.WorkerDeploymentClient().GetHandle(b.Name).SetRampingVersion(ctx, client.WorkerDeploymentSetRampingVersionOptions{BuildID: b.BuildID, Percentage: 0})
	require.NoError(t, err)
	current, err = runworker.BecomeCurrent(ctx, dev.Client, b, true)
	require.NoError(t, err)
	assert.Equal(t, "build-a", current, "a later build does not take over by itself")

	// A partner workflow started now runs on build A, auto-upgrading.
	slug := "acme-crm"
	sim.CreateIntegration(t, slug)
	_, err = dev.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: contract.PartnerWorkflowID(slug), TaskQueue: contract.OnboardingTaskQueue},
		contract.PartnerWorkflowName, contract.PartnerInput{Slug: slug})
	require.NoError(t, err)
	testenv.Eventually(t, time.Minute, "the partner workflow's first task on build A", func() bool {
		return versionOf(ctx, t, dev.Client, contract.PartnerWorkflowID(slug)) == "build-a AutoUpgrade"
	})

	// WORKER_BECOME_CURRENT=always: the build takes over.
	current, err = runworker.BecomeCurrent(ctx, dev.Client, b, false)
	require.NoError(t, err)
	assert.Equal(t, "build-b", current)
	build, err := runworker.CurrentBuild(ctx, dev.Client, b.Name)
	require.NoError(t, err)
	assert.Equal(t, "build-b", build)
	// Its next task (a query does not make one; an update does) runs on build B.
	_, err = contract.UpdatePartnerRefresh.Call(ctx, dev.Client, contract.PartnerWorkflowID(slug), contract.None{})
	require.NoError(t, err)
	testenv.Eventually(t, time.Minute, "the partner workflow moved to build B", func() bool {
		return versionOf(ctx, t, dev.Client, contract.PartnerWorkflowID(slug)) == "build-b AutoUpgrade"
	})
	// A sweep started now is pinned to the build it started on.
	run, err := dev.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "reconcile-sweep-test", TaskQueue: contract.OnboardingTaskQueue},
		contract.ReconcileWorkflowName, contract.ReconcileInput{Slug: slug, DryRun: true})
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, nil))
	assert.Equal(t, "build-b Pinned", versionOf(ctx, t, dev.Client, run.GetID()))
}

// versionOf is "<build ID> <behavior>" (Pinned, AutoUpgrade) of a workflow's last completed task.
func versionOf(ctx context.Context, t *testing.T, c client.Client, id string) string {
	d, err := c.DescribeWorkflow(ctx, id, "")
	require.NoError(t, err)
	vi := d.RawResponse.GetWorkflowExecutionInfo().GetVersioningInfo()
	if vi.GetDeploymentVersion() == nil {
		return ""
	}
	return vi.GetDeploymentVersion().GetBuildId() + " " + vi.GetBehavior().String()
}

// A build's ID is the same at every start and one Temporal (and WORKER_BUILD_ID's rule)
// accepts. A test binary records no commit: its ID is the executable's hash.
func TestBuildIDIsStable(t *testing.T) {
	a, err := runworker.BuildID()
	require.NoError(t, err)
	b, err := runworker.BuildID()
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.Regexp(t, `^sha256-[0-9a-f]{12}$`, a)
}
