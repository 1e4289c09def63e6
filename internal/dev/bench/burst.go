package bench

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/connect-onboarding/worker/internal/dev/devstack"
)

// Burst is the budget-saturated burst: customers start one after the other within seconds
// at the real budget (make run's defaults: 4,500 calls an hour, 2 s provisioning and polls,
// 30 s watcher), each signs in as soon as its URL exists and comes back. Measured with the
// priority matcher (budget-aware ordering) and webhooks and, as the baseline, on a dev
// server with its default matcher and provisioning polled, in the same run.
type Burst struct {
	Customers int      `json:"customers"`
	Ordered   BurstRun `json:"ordered"`
	Baseline  BurstRun `json:"baseline_default_matcher"`
	Config    []string `json:"dynamic_config"`
}

// BurstRun is one burst.
type BurstRun struct {
	FirstURLSeconds  float64   `json:"first_url_s"`
	MedianURLSeconds float64   `json:"median_url_s"`
	LastURLSeconds   float64   `json:"last_url_s"`
	RankCorrelation  float64   `json:"url_order_rank_correlation"`
	AuthToActive     Quantiles `json:"authorization_to_active_ms"`
	HerokuCallsPer   float64   `json:"heroku_calls_per_onboarding"`
	CallsPerSecond   float64   `json:"heroku_calls_per_second"`
	// CallsPerRoute splits HerokuCallsPer by route. FloorSeconds is the soonest the last URL
	// could come at the budget: the calls made until then ÷ the budget's rate; FloorRatio
	// the last URL over it (target ≤ 1.2).
	CallsPerRoute map[string]float64 `json:"heroku_calls_per_onboarding_by_route"`
	FloorSeconds  float64            `json:"last_url_floor_s"`
	FloorRatio    float64            `json:"last_url_over_floor"`
	urlAt         []float64
}

// realBudgetPerSecond is Heroku's budget, 4,500 calls an hour.
const realBudgetPerSecond = 4500.0 / 3600

// maxFloorRatio is issue 25's target for the burst's last URL over its floor.
const maxFloorRatio = 1.2

// burst runs one burst of n customers on the current stack.
func (r *runner) burst(ctx context.Context, n int, slug string) (BurstRun, error) {
	var out BurstRun
	if err := r.partner(ctx, slug); err != nil {
		return out, err
	}
	before := r.counters(ctx)
	callsBefore := len(r.callTimes(ctx))
	t0 := time.Now()
	urlAt := make([]float64, n)
	authAt := make([]time.Time, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		// Arrival order is well defined: one start every 100 ms, all within seconds.
		time.Sleep(time.Until(t0.Add(time.Duration(i) * 100 * time.Millisecond)))
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cust := fmt.Sprintf("u%04d", i)
			res, err := r.start(ctx, input(slug, cust))
			if err != nil || res.AuthorizationURL == "" {
				r.fail("burst start %s: %v", cust, err)
				return
			}
			urlAt[i] = time.Since(t0).Seconds()
			if err := r.simAuthorize(ctx, res.AuthorizationURL, "00D000000000062", "int@"+cust+".example"); err != nil {
				r.fail("burst authorize %s: %v", cust, err)
				return
			}
			authAt[i] = time.Now()
			if err := r.on.CustomerReturned(ctx, slug, cust, res.Attempt); err != nil {
				r.fail("burst return %s: %v", cust, err)
			}
		}(i)
	}
	wg.Wait()
	var authToActive []float64
	deadline := time.Now().Add(10 * time.Minute)
	for i := 0; i < n; i++ {
		if authAt[i].IsZero() {
			continue
		}
		cust := fmt.Sprintf("u%04d", i)
		for {
			st, err := r.on.Status(ctx, slug, cust)
			if err == nil && st.Stage == "active" {
				authToActive = append(authToActive, float64(activeAt(st).Sub(authAt[i]).Microseconds())/1000)
				break
			}
			if (err == nil && st.Stage.Terminal()) || time.Now().After(deadline) {
				r.fail("burst %s did not become active (%v %v)", cust, st.Stage, err)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	after := r.counters(ctx)
	times := r.callTimes(ctx)[callsBefore:]
	sorted := append([]float64(nil), urlAt...)
	sort.Float64s(sorted)
	out.urlAt = urlAt
	out.FirstURLSeconds, out.MedianURLSeconds, out.LastURLSeconds = sorted[0], sorted[len(sorted)/2], sorted[len(sorted)-1]
	out.RankCorrelation = spearman(urlAt)
	out.AuthToActive = quantiles(authToActive)
	out.HerokuCallsPer = float64(totalCalls(after)-totalCalls(before)) / float64(n)
	out.CallsPerRoute = perCustomer(routeDelta(before, after), n)
	lastURL := t0.Add(time.Duration(out.LastURLSeconds * float64(time.Second)))
	beforeLast := 0
	for _, at := range times {
		if !at.After(lastURL) {
			beforeLast++
		}
	}
	out.FloorSeconds = float64(beforeLast) / realBudgetPerSecond
	if out.FloorSeconds > 0 {
		out.FloorRatio = out.LastURLSeconds / out.FloorSeconds
	}
	if len(times) > 1 {
		out.CallsPerSecond = float64(len(times)) / times[len(times)-1].Sub(times[0]).Seconds()
	}
	r.checkAddons(after, slug, n, n)
	return out, nil
}

// spearman is the rank correlation between arrival order (the index) and the values.
func spearman(values []float64) float64 {
	n := len(values)
	if n < 2 {
		return 1
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return values[idx[a]] < values[idx[b]] })
	var d2 float64
	for rank, i := range idx {
		d := float64(rank - i)
		d2 += d * d
	}
	fn := float64(n)
	return 1 - 6*d2/(fn*(fn*fn-1))
}

// bursts runs the burst with the priority matcher and on the default matcher.
func (r *runner) bursts(ctx context.Context) error {
	n := r.o.BurstCustomers
	b := &r.rep.Burst
	b.Customers = n
	b.Config = devstack.MatchingArgs()
	for _, ordered := range []bool{true, false} {
		name := "budget-aware ordering, provisioning from webhooks"
		if !ordered {
			name = "baseline: the default matcher, provisioning polled"
		}
		err := r.withStackOptions(ctx, realBudget(!ordered), func() error {
			r.say("burst (%s): %d customers at the real budget", name, n)
			run, err := r.burst(ctx, n, "bench-burst")
			if err != nil {
				return err
			}
			r.say("burst (%s): first URL %.0f s, median %.0f s, rank correlation %.2f, authorization → active p95 %.1f s, %.1f calls/onboarding",
				name, run.FirstURLSeconds, run.MedianURLSeconds, run.RankCorrelation, run.AuthToActive.P95/1000, run.HerokuCallsPer)
			r.say("burst (%s): last URL %.0f s against a floor of %.0f s (%.2fx)", name, run.LastURLSeconds, run.FloorSeconds, run.FloorRatio)
			if ordered {
				if run.FloorRatio > maxFloorRatio {
					r.fail("burst: the last URL came %.2fx its floor (%.0f s for %.0f s), more than %.1fx", run.FloorRatio, run.LastURLSeconds, run.FloorSeconds, maxFloorRatio)
				}
				b.Ordered = run
			} else {
				b.Baseline = run
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// realBudget is make run's stack: Heroku's real budget and pace, quiet logs; the baseline
// runs the server's default matcher and polls for provisioning, as before this round.
func realBudget(baseline bool) devstack.Options {
	return devstack.Options{Out: io.Discard, NoPriorityMatcher: baseline, NoWebhooks: baseline,
		SimEnv:    []string{"LOG_LEVEL=error"},
		WorkerEnv: []string{"LOG_LEVEL=error"},
	}
}
