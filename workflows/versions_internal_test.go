package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// hasMinVersion on a list with a change after 1.0.0: a new run takes the latest version
// (and records it), a run recorded before the change keeps 1.0.0's branch, and 1.0.0 itself
// is always there without a marker.
func TestHasMinVersion(t *testing.T) {
	const changed workflow.Version = 1
	l := versionList{workflow: "Probe", changeID: "probe", versions: []workflow.Version{release1_0, changed}}
	probe := func(ctx workflow.Context) ([]bool, error) {
		return []bool{l.hasMinVersion(ctx, release1_0), l.hasMinVersion(ctx, changed), l.hasMinVersion(ctx, changed)}, nil
	}
	for name, tc := range map[string]struct {
		recorded workflow.Version
		want     []bool
	}{
		"a new run":                    {changed, []bool{true, true, true}},
		"a run from before the change": {workflow.DefaultVersion, []bool{true, false, false}},
	} {
		t.Run(name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			env.RegisterWorkflowWithOptions(probe, workflow.RegisterOptions{Name: "Probe"})
			env.OnGetVersion("probe", release1_0, changed).Return(tc.recorded)
			env.ExecuteWorkflow("Probe")
			require.NoError(t, env.GetWorkflowError())
			var got []bool
			require.NoError(t, env.GetWorkflowResult(&got))
			assert.Equal(t, tc.want, got)
		})
	}
}

// watcherKeepsPace: the next round starts one interval after the last one started.
func TestUntilNextRound(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		took, want time.Duration
	}{
		{0, 30 * time.Second},
		{4 * time.Second, 26 * time.Second},
		{30 * time.Second, time.Millisecond},
		{45 * time.Second, time.Millisecond},
	} {
		if got := untilNextRound(30*time.Second, t0, t0.Add(tc.took)); got != tc.want {
			t.Errorf("a round of %s: pause %s, want %s", tc.took, got, tc.want)
		}
	}
}
