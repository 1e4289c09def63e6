package bench

import (
	"context"
	"fmt"
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
	time.Sleep(300 * time.Millisecond) // they are in provisioning or configuring now
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
	if !c.Completed {
		r.fail("deactivation of %d customers did not complete: %+v", n, rep)
	}
	if c.Deactivated < n {
		r.fail("deactivation: %d of %d waiting customers ended deactivated", c.Deactivated, n)
	}
	if c.LiveAddonsAfter != 0 {
		r.fail("deactivation left %d live add-ons", c.LiveAddonsAfter)
	}
	r.say("cascade: %d customers (+%d mid-onboarding) deactivated in %.0f s in %d batch jobs; %d live add-ons after", c.Deactivated, mid, c.Seconds, c.BatchJobs, c.LiveAddonsAfter)
	return c, nil
}
