package bench

// Scenario 5: lifecycle events. On one stack, the same onboardings for three integrations:
// one without endpoints, one whose receiver never answers (a connection accepted and left
// hanging), one whose receiver answers at once. Onboarding throughput with the dead receiver
// is compared with none in the same run (delivery runs on its own queue: it should not
// matter), and the live receiver's arrivals give the event delay (the event's timestamp, when
// the workflow made it, to its arrival).

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"sort"
	"time"

	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/dev/eventsink"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Events is scenario 5.
type Events struct {
	N int `json:"onboardings_per_integration"`
	// PerSecond is onboardings (start to active) per second with no endpoint, with a dead
	// receiver and with a live one; DeadRatio is dead over none (target ≥ 0.95).
	PerSecondNone float64 `json:"per_second_no_receiver"`
	PerSecondDead float64 `json:"per_second_dead_receiver"`
	PerSecondLive float64 `json:"per_second_live_receiver"`
	DeadRatio     float64 `json:"dead_over_none"`
	// DelayMS is each event's delay, from its timestamp to the live receiver.
	DelayMS  Quantiles `json:"event_delay_ms"`
	Received int       `json:"events_received"`
	Lost     int       `json:"events_lost"`
}

func (r *runner) events(ctx context.Context) error {
	n := r.o.EventsOnboardings
	key, err := devstack.EventsKey()
	if err != nil {
		return err
	}
	r.on.Events.Key = key
	// A receiver that accepts connections and never answers.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer dead.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := dead.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	sink := eventsink.New("")
	live := httptest.NewServer(sink)
	defer live.Close()

	ev := &r.rep.Events
	ev.N = n
	// Customers of the three integrations differ (their default schemas would collide).
	run := func(slug, url string) (float64, error) {
		prefix := slug[len(slug)-4:]
		started := make([]bool, n)
		if err := r.partner(ctx, slug); err != nil {
			return 0, err
		}
		if url != "" {
			_, secret, err := r.on.AddEndpoint(ctx, slug, contract.EndpointSpec{URL: url})
			if err != nil {
				return 0, err
			}
			if url == live.URL {
				sink.SetSecrets(secret)
			}
		}
		t0 := time.Now()
		parallel(n, r.o.Concurrency, func(i int) {
			cust := fmt.Sprintf("%s%05d", prefix, i)
			res, err := r.start(ctx, input(slug, cust))
			if err != nil || res.AuthorizationURL == "" {
				r.fail("start %s/%s: %v", slug, cust, err)
				return
			}
			if err := r.simAuthorize(ctx, res.AuthorizationURL, "00D000000000062", "int@"+cust+".example"); err != nil {
				r.fail("authorize %s/%s: %v", slug, cust, err)
				return
			}
			if err := r.on.CustomerReturned(ctx, slug, cust, res.Attempt); err != nil {
				r.fail("signal %s/%s: %v", slug, cust, err)
				return
			}
			started[i] = true
		})
		last := t0
		for i := 0; i < n; i++ {
			if !started[i] {
				continue
			}
			cust := fmt.Sprintf("%s%05d", prefix, i)
			for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
				st, err := r.on.Status(ctx, slug, cust)
				if err == nil && st.Stage == contract.StageActive {
					if at := activeAt(st); at.After(last) {
						last = at
					}
					break
				}
				if time.Now().After(deadline) {
					r.fail("%s/%s not active after 5 minutes", slug, cust)
					break
				}
			}
		}
		return float64(n) / last.Sub(t0).Seconds(), nil
	}
	r.say("scenario 5: %d onboardings per integration: no receiver, a receiver that never answers, a live one", n)
	if ev.PerSecondNone, err = run("bench-ev-none", ""); err != nil {
		return err
	}
	if ev.PerSecondDead, err = run("bench-ev-dead", "http://"+dead.Addr().String()+"/hooks"); err != nil {
		return err
	}
	if ev.PerSecondLive, err = run("bench-ev-live", live.URL); err != nil {
		return err
	}
	ev.DeadRatio = ev.PerSecondDead / ev.PerSecondNone
	// Four events per customer reach the live receiver: started, url_issued, authorized,
	// active.
	want := 4 * n
	for deadline := time.Now().Add(2 * time.Minute); len(sink.Received()) < want && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
	}
	var delays []float64
	seen := map[string]bool{}
	for _, e := range sink.Received() {
		if !e.Verified || seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		delays = append(delays, float64(e.At.Sub(e.Happened).Microseconds())/1000)
	}
	sort.Float64s(delays)
	ev.Received, ev.Lost = len(seen), max(0, want-len(seen))
	ev.DelayMS = quantiles(delays)
	if ev.Lost > 0 {
		r.fail("scenario 5: %d of %d events did not reach the live receiver", ev.Lost, want)
	}
	r.say("scenario 5: %.1f/s with no receiver, %.1f/s with a dead one (%.2f×), %.1f/s with a live one; event delay p50 %.0f ms, p95 %.0f ms",
		ev.PerSecondNone, ev.PerSecondDead, ev.DeadRatio, ev.PerSecondLive, ev.DelayMS.P50, ev.DelayMS.P95)
	return nil
}
