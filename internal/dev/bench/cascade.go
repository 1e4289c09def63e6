package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Cascade is the deactivation of an integration with every customer of scenario 2 (waiting,
// active after a silent authorization) and a few mid-onboarding.
type Cascade struct {
	Customers        int     `json:"customers"`
	MidOnboarding    int     `json:"mid_onboarding"`
	Seconds          float64 `json:"seconds"`
	Completed        bool    `json:"completed"`
	Deactivated      int     `json:"customers_deactivated"`
	Ended            int     `json:"customers_ended"`
	BatchJobs        int     `json:"batch_jobs"`
	LiveAddonsAfter  int     `json:"live_addons_after"`
	HerokuDestroyed  int     `json:"heroku_destroyed"`
	CustomerDestroys int     `json:"destroys_by_customers"`
	// ConfirmReads are the partner workflow's pages of the account's add-on list that
	// confirmed the add-ons gone; CustomerReads the customers' reads of their own add-on;
	// CallsPerCustomer both and the destroys, per customer: Heroku's calls beyond its own
	// deactivate (target ≤ 0.01).
	ConfirmReads     int     `json:"confirmation_reads"`
	CustomerReads    int     `json:"customer_addon_reads"`
	CallsPerCustomer float64 `json:"heroku_calls_per_customer_beyond_deactivate"`
}

// cascade deactivates slug while its n customers wait and mid customers are being onboarded,
// and checks that everyone ended deactivated and no add-on is left.
func (r *runner) cascade(ctx context.Context, slug string, n int) (Cascade, error) {
	const mid = 20
	c := Cascade{Customers: n, MidOnboarding: mid}
	var wg sync.WaitGroup
	for i := range mid {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = r.on.Start(ctx, input(slug, fmt.Sprintf("m%03d", i))) // ends when the cascade reaches it
		}()
	}
	// They are configuring now (provisioned after the simulator's 200 ms, polled at 100 ms):
	// mid-onboarding, and past the add-on reads of provisioning, so the add-on reads counted
	// below are the deactivation's.
	time.Sleep(time.Second)
	before := r.counters(ctx)
	t0 := time.Now()
	info, err := r.on.DeactivatePartner(ctx, slug, "acme-team", slug)
	c.Seconds = time.Since(t0).Seconds()
	wg.Wait()
	if err != nil {
		r.fail("deactivate %s: %v", slug, err)
		return c, nil
	}
	rep := info.Report
	if rep == nil {
		r.fail("deactivate %s: no report", slug)
		return c, nil
	}
	c.Completed, c.Deactivated, c.Ended, c.BatchJobs, c.HerokuDestroyed = rep.Completed, rep.CustomersDeactivated, rep.CustomersEnded, len(rep.BatchJobs), rep.Destroyed
	// Heroku removes the add-ons after its deactivation delay; wait for it, then count.
	deadline := time.Now().Add(5 * time.Minute)
	var after = r.counters(ctx)
	for after.LivePerISV[slug] > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		after = r.counters(ctx)
	}
	c.LiveAddonsAfter = after.LivePerISV[slug]
	c.CustomerDestroys = after.Calls["addons.destroy"] - before.Calls["addons.destroy"]
	c.ConfirmReads = rep.ListReads
	c.CustomerReads = after.Calls["addons.info"] - before.Calls["addons.info"]
	beyond := after.Calls["addons.list-all"] - before.Calls["addons.list-all"] + c.CustomerReads + c.CustomerDestroys
	c.CallsPerCustomer = float64(beyond) / float64(n+mid)
	if c.CallsPerCustomer > 0.01 {
		r.fail("deactivation: %.3f Heroku calls per customer beyond Heroku's deactivate (%d confirmation reads, %d add-on reads by customers, %d destroys), more than 0.01",
			c.CallsPerCustomer, c.ConfirmReads, c.CustomerReads, c.CustomerDestroys)
	}
	if !c.Completed {
		var sample []string
		for _, o := range rep.Customers {
			sample = append(sample, o.CustomerID+" "+o.Outcome)
		}
		r.fail("deactivation of %d customers did not complete: %d ended, %d deactivated, %d batch jobs; error %q; ended otherwise: %v",
			n, rep.CustomersEnded, rep.CustomersDeactivated, len(rep.BatchJobs), info.Error, sample)
	}
	if c.Deactivated < n {
		r.fail("deactivation: %d of %d waiting customers ended deactivated", c.Deactivated, n)
	}
	if c.LiveAddonsAfter != 0 {
		r.fail("deactivation left %d live add-ons", c.LiveAddonsAfter)
	}
	r.say("cascade: %d customers (+%d mid-onboarding) deactivated in %.0f s in %d batch jobs; %d live add-ons after; %.3f Heroku calls per customer beyond the deactivate",
		c.Deactivated, mid, c.Seconds, c.BatchJobs, c.LiveAddonsAfter, c.CallsPerCustomer)
	return c, nil
}

// ReplayCost is what the bounded workflow cache costs: workflow tasks that found their run
// evicted and replayed its history first, and how long replays took (the worker's own
// metrics).
type ReplayCost struct {
	CacheMisses   float64 `json:"sticky_cache_misses"`  // tasks whose run was not in the cache
	Tasks         float64 `json:"workflow_tasks"`       // tasks the replay timer measured
	ReplaySeconds float64 `json:"replay_seconds_total"` // time spent replaying, all tasks
	CacheSizeNote string  `json:"cache_size"`
}

// replayCost reads the worker's Prometheus metrics.
func (r *runner) replayCost(ctx context.Context) ReplayCost {
	out := ReplayCost{CacheSizeNote: "WORKER_WORKFLOW_CACHE_SIZE default"}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.stack.WorkerURL+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := metricLine(line)
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(name, "temporal_sticky_cache_miss"):
			out.CacheMisses += value
		case strings.HasPrefix(name, "temporal_workflow_task_replay_latency") && strings.HasSuffix(name, "_count"):
			out.Tasks += value
		case strings.HasPrefix(name, "temporal_workflow_task_replay_latency") && strings.HasSuffix(name, "_sum"):
			out.ReplaySeconds += value
		}
	}
	return out
}

// metricLine splits a Prometheus text line into its name (without labels) and value.
func metricLine(line string) (string, float64, bool) {
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return "", 0, false
	}
	name := fields[0]
	if i := strings.IndexByte(name, '{'); i >= 0 {
		name = name[:i]
	}
	v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
	return name, v, err == nil
}
