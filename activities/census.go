package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/connect-onboarding/worker/internal/metrics"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// censusSlowAfter is the age from which an onboarding not yet active counts as taking long
// (metrics.CustomersStartedDayAgo).
const censusSlowAfter = 24 * time.Hour

// censusBudget bounds a census: the sweep's first page waits for it, and the page has its
// own deadline (a census that runs out is dropped, not the page).
const censusBudget = 15 * time.Second

// Census is an integration's running onboardings by stage, counted in visibility.
type Census struct {
	At        time.Time
	Stages    map[string]int64 // every stage a running onboarding can be in
	SlowSoFar map[string]int64 // of a first onboarding's stages, those whose run started censusSlowAfter ago
}

// takeCensus counts an integration's running onboardings by stage (a count per stage that
// has anyone, never a list; at most 15 seconds) and publishes it as metrics.Customers, metrics.CustomersStartedDayAgo and
// metrics.CensusAt on the activity's metrics handler. The reconciler's first page of each
// sweep takes it, so it is as fresh as the reconcile interval.
func (a *Activities) takeCensus(ctx context.Context, slug string) (Census, error) {
	c := Census{At: time.Now().UTC(), Stages: map[string]int64{}, SlowSoFar: map[string]int64{}}
	budget := censusBudget
	if d, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(d)/3)
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	count := func(v *contract.Visibility) (int64, error) {
		n, err := v.Count(ctx, a.Temporal)
		if err != nil {
			return 0, fmt.Errorf("the census of %s: %w", slug, err)
		}
		return n, nil
	}
	total, err := count(contract.Customers().Running().Is(contract.SAIsvSlug, slug))
	if err != nil {
		return c, err
	}
	for _, s := range contract.StageNames() {
		st := contract.Stage(s)
		if st.Terminal() {
			continue
		}
		c.Stages[s] = 0
		if st.FirstOnboarding() {
			c.SlowSoFar[s] = 0
		}
		if total == 0 {
			continue // nobody runs: every count is zero, and none is asked
		}
		running := func() *contract.Visibility {
			return contract.Customers().Running().Is(contract.SAIsvSlug, slug).Is(contract.SAOnboardingStage, s)
		}
		n, err := count(running())
		if err != nil {
			return c, err
		}
		c.Stages[s] = n
		if st.FirstOnboarding() && n > 0 {
			if c.SlowSoFar[s], err = count(running().StartedBefore(c.At.Add(-censusSlowAfter))); err != nil {
				return c, err
			}
		}
	}
	if activity.IsActivity(ctx) {
		h := activity.GetMetricsHandler(ctx)
		for s, n := range c.Stages {
			metrics.Customers.Set(h, float64(n), "isv", slug, "stage", s)
		}
		for s, n := range c.SlowSoFar {
			metrics.CustomersStartedDayAgo.Set(h, float64(n), "isv", slug, "stage", s)
		}
		metrics.CensusAt.Set(h, float64(c.At.UnixMilli())/1000, "isv", slug)
	}
	return c, nil
}
