package onboarding_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// A customer's request reaches its app's coordinator on the dev server by signal, and its
// answer by query. A coordinator run terminated while the request waits still answers
// "waiting" from its last state: the request is signalled again, which starts the next run,
// and that run finds the connection.
func TestAwaitConnectionOutlivesItsCoordinator(t *testing.T) {
	s := startStack(t)
	ctx := ctx(t)
	acts := &activities.Activities{Temporal: s.dev.Client}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts.AwaitConnection)
	in := func(addon string) activities.AwaitConnectionInput {
		return activities.AwaitConnectionInput{App: testenv.ISVApp, TaskQueue: contract.OnboardingTaskQueue,
			Wanted: contract.ConnectionWanted{Addon: addon, ISVSlug: testenv.ISV, Since: time.Now()}}
	}
	create := func(customer string) string {
		name := contract.AddonName(testenv.ISV, customer)
		_, err := s.sim.Heroku.CreateAddon(ctx, testenv.ISVApp, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: name, Config: map[string]string{"isv": testenv.ISV}})
		require.NoError(t, err)
		return name
	}

	// The plain path: asked, answered.
	first := create("first")
	v, err := env.ExecuteActivity(acts.AwaitConnection, in(first))
	require.NoError(t, err)
	var ref contract.ConnectionRef
	require.NoError(t, v.Get(&ref))
	assert.NotEmpty(t, ref.ID)

	// Asked for an add-on that does not exist yet; the coordinator is terminated while it
	// waits, then the add-on is made.
	late := contract.AddonName(testenv.ISV, "late")
	done := make(chan error, 1)
	go func() {
		v, err := env.ExecuteActivity(acts.AwaitConnection, in(late))
		if err == nil {
			err = v.Get(&ref)
		}
		done <- err
	}()
	id := contract.AccessWorkflowID(testenv.ISVApp)
	testenv.Eventually(t, 30*time.Second, "the request waiting", func() bool {
		ans, err := contract.QueryConnectionAnswer.Ask(ctx, s.dev.Client, id, late)
		return err == nil && ans.State == contract.AccessWaiting
	})
	desc, err := s.dev.Client.DescribeWorkflow(ctx, id, "")
	require.NoError(t, err)
	terminated := desc.WorkflowExecution.RunID
	require.NoError(t, s.dev.Client.TerminateWorkflow(ctx, id, terminated, "test: the coordinator goes away"))
	create("late")
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the request was not asked again")
	}
	assert.NotEmpty(t, ref.ID)
	desc, err = s.dev.Client.DescribeWorkflow(ctx, id, "")
	require.NoError(t, err)
	assert.NotEqual(t, terminated, desc.WorkflowExecution.RunID, "a new run answered")
}
