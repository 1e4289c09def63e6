package onboarding_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/starter/onboarding"
)

// Issue 10 item 1: every Heroku request draws from the account's budget, across worker
// processes. Two workers share a budget of 2 requests/s (120 a minute); 24 customers start at
// once (far more demand than the budget), sign in as soon as their URL exists and come back;
// the simulator's clock of every request shows no minute above budget + 5 %.
func TestBudgetHoldsAcrossTwoWorkers(t *testing.T) {
	const perHour, customers = 7200, 24
	dev := testenv.StartDevServer(t)
	sim := testenv.StartSim(t)
	sim.CreateIntegration(t, testenv.ISV)
	env := []string{fmt.Sprintf("HEROKU_CALLS_PER_HOUR=%d", perHour), "WORKER_WATCH_WAITING_INTERVAL=30s", "WORKER_WATCH_ACTIVE_INTERVAL=5m"}
	testenv.StartWorkerProcess(t, dev.Address, sim.URL, env...)
	testenv.StartWorkerProcess(t, dev.Address, sim.URL, env...)
	c := onboarding.New(dev.Client, "", "")
	cx, cancel := context.WithTimeout(context.Background(), 8*time.Minute) // a saturated budget is slow by design
	defer cancel()
	_, err := c.AdoptPartner(cx, testenv.ISV)
	require.NoError(t, err)
	began := len(sim.CallTimes())

	var wg sync.WaitGroup
	errs := make(chan error, customers)
	for i := range customers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("b%02d", i)
			res, err := c.Start(cx, fastInput(id))
			if err != nil {
				errs <- fmt.Errorf("%s: %w", id, err)
				return
			}
			signInAsCustomer(t, res.AuthorizationURL, org, user)
			if _, err := c.ConfirmReturn(cx, testenv.ISV, id, res.Attempt); err != nil {
				errs <- fmt.Errorf("%s return: %w", id, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	testenv.Eventually(t, 5*time.Minute, "every customer active", func() bool {
		list, err := c.List(cx, testenv.ISV, "active")
		return err == nil && len(list) == customers
	})
	times := sim.CallTimes()[began:]
	worst := herokusim.MaxPerWindow(times, time.Minute)
	budget := perHour / 60
	span := times[len(times)-1].Sub(times[0])
	t.Logf("%d Heroku requests over %s (%.2f/s); worst minute %d against a budget of %d/min", len(times), span.Round(time.Second),
		float64(len(times))/span.Seconds(), worst, budget)
	require.Greater(t, span, time.Minute, "the run is long enough to judge a minute")
	assert.LessOrEqual(t, float64(worst), float64(budget)*1.05, "no minute above budget + 5 %%")
	assert.GreaterOrEqual(t, float64(worst), float64(budget)*0.5, "the demand did saturate the budget (else this proves nothing)")
}
