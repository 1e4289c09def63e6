package chaos_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/dev/chaos"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
)

// make chaos, small: a dozen onboardings through worker kills and a Temporal restart, and
// through a storm of Heroku faults; every guarantee holds, lifecycle events included.
func TestChaosShort(t *testing.T) {
	testenv.TemporalCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	results, err := chaos.Run(ctx, chaos.Options{Root: testenv.Root(t), N: 12, Kills: 2, Scenarios: []string{"crashes", "storm"},
		Out: io.Discard, Deadline: 5 * time.Minute, TerminateEach: 4})
	require.NoError(t, err)
	require.Len(t, results, 2)
	for _, r := range results {
		assert.False(t, r.Broken(), "%s: %v", r.Scenario, r.Problems)
		assert.Equal(t, 12, r.Active+r.Stuck+sum(r.Failed), "%s: every customer accounted for", r.Scenario)
		assert.Positive(t, r.Terminated, "%s: some customers were terminated by hand", r.Scenario)
		assert.Equal(t, r.Terminated, r.Reconciled, "%s: the reconciler destroyed the terminated customers' add-ons", r.Scenario)
		assert.GreaterOrEqual(t, r.Events, 3*12, "%s: every customer's events reached the receiver (none lost or out of order: Broken)", r.Scenario)
	}
	assert.Equal(t, 2, results[0].Kills)
	assert.Equal(t, 1, results[0].Restarts)
	assert.Positive(t, results[1].Faults, "the storm injected faults")
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
