// Package bench is `make bench`: it starts its own stack (dev server, herokusim, the worker
// binary), runs the scenarios of issue 7 against it with baselines in the same run, checks
// that no onboarding failed and no add-on was duplicated or orphaned, and reports a table,
// a JSON file and an SVG chart of the latency distributions.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/logo/logotest"
	"github.com/connect-onboarding/worker/internal/payloadcrypt"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Options are the flags of `make bench`.
type Options struct {
	Onboardings    int           // scenario 1 size
	Concurrency    int           // clients starting onboardings at once
	WaitingSizes   []int         // scenario 2 sizes
	SilentShare    float64       // share of waiting customers who authorize silently
	TimeScale      float64       // simulated seconds per real second in scenario 2
	Window         time.Duration // real measuring window of scenario 2
	BaselineLimit  int           // at most this many per-workflow pollers (extrapolated beyond)
	BurstCustomers int           // the saturated burst's size (0: skip it)
	// EventsOnboardings per integration of scenario 5 (lifecycle events; 0: skip it).
	EventsOnboardings int
	// SyncCustomers of scenario 6 (onboarding to data flowing, and a template rollout; 0: skip it).
	SyncCustomers int
	Out           io.Writer
	// StackLog takes the output of every stack's processes (the worker's errors above all),
	// so a tail or a failure can be read after the run; nil discards it.
	StackLog io.Writer
	Root     string
}

// Report is the JSON report.
type Report struct {
	StartedAt  time.Time      `json:"started_at"`
	Machine    string         `json:"machine"`
	Options    map[string]any `json:"options"`
	Throughput Throughput     `json:"throughput"`
	Budget     []Budget       `json:"budget"`
	Cost       Cost           `json:"cost"`
	Burst      Burst          `json:"burst"`
	Events     Events         `json:"events"`
	Sync       Sync           `json:"sync"`
	Failures   []string       `json:"failures"`
	// StartRetries are starts answered ErrUnavailable (the worker too busy to answer the
	// integration check in time) that the bench, as a backend should, retried.
	StartRetries int64 `json:"start_retries"`
}

// Throughput is scenario 1.
type Throughput struct {
	N              int       `json:"n"`
	Seconds        float64   `json:"seconds"`
	PerSecond      float64   `json:"onboardings_per_second"`
	StartToURL     Quantiles `json:"start_to_url_ms"`
	AuthToActive   Quantiles `json:"authorization_to_active_ms"`
	HerokuCallsPer float64   `json:"heroku_calls_per_onboarding"`
	// CallsPerRoute splits HerokuCallsPer by Heroku route, so a regression shows which
	// call came back.
	CallsPerRoute map[string]float64 `json:"heroku_calls_per_onboarding_by_route"`
	ActivitiesPer int                `json:"activities_per_onboarding"`
	BaselineSame  float64            `json:"baseline_same_activities_per_second"`
	BaselineFour  float64            `json:"baseline_four_activities_per_second"`
	RatioSame     float64            `json:"ratio_to_same_activities"`
	RatioFour     float64            `json:"ratio_to_four_activities"`
	// SlowestStart is where the slowest start's time went: its stages, each with the
	// seconds since the start, so a tail can be read without rerunning.
	SlowestStart        string `json:"slowest_start"`
	startToURL, authToA []float64
}

// Budget is scenario 2 at one size.
type Budget struct {
	Waiting             int        `json:"waiting"`
	SetupSeconds        float64    `json:"setup_seconds"`
	SimulatedHours      float64    `json:"simulated_hours"`
	CallsPerHour        float64    `json:"heroku_calls_per_simulated_hour"`
	WatcherPerHour      float64    `json:"watcher_reads_per_simulated_hour"`
	VerifyPerHour       float64    `json:"verification_reads_per_simulated_hour"`
	BudgetShare         float64    `json:"share_of_4500_budget"`
	SilentAuthorized    int        `json:"silent_authorizations"`
	Detected            int        `json:"detected"`
	DetectionSimSeconds Quantiles  `json:"detection_latency_simulated_s"`
	BaselinePollers     int        `json:"baseline_pollers_run"`
	BaselinePerHour     float64    `json:"baseline_calls_per_simulated_hour"`
	Ratio               float64    `json:"baseline_to_watcher_ratio"`
	WorkerRSSMB         float64    `json:"worker_rss_mb"`
	RSSPerWaitingKB     float64    `json:"worker_rss_per_waiting_kb"`
	IntervalSimSeconds  float64    `json:"watcher_interval_simulated_s"`
	Replay              ReplayCost `json:"replay"`
	Cascade             Cascade    `json:"cascade"`
	// ServerPerStart is where the dev server's time went while the customers started: its
	// requests, persistence and visibility calls per start, the costliest first.
	ServerPerStart []ServerOp `json:"server_per_start,omitempty"`
}

// Cost is scenario 3.
type Cost struct {
	RSSPerWaitingKB  float64 `json:"worker_rss_per_waiting_customer_kb"`
	HistoryEvents    int     `json:"history_events_per_completed_onboarding"`
	HistoryBytes     int     `json:"history_bytes_per_completed_onboarding"`
	WorkerRSSIdleMB  float64 `json:"worker_rss_idle_mb"`
	WorkerRSSLargeMB float64 `json:"worker_rss_with_largest_waiting_mb"`
}

// Quantiles summarise a latency distribution.
type Quantiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func quantiles(xs []float64) Quantiles {
	if len(xs) == 0 {
		return Quantiles{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	q := func(p float64) float64 { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return Quantiles{P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: s[len(s)-1]}
}

type runner struct {
	o     Options
	stack *devstack.Stack
	tc    client.Client
	on    *onboarding.Client
	hc    *heroku.Client
	rep   *Report
	say   func(string, ...any)
	// retries counts starts a backend retried after ErrUnavailable.
	retries atomic.Int64
}

// Run runs every scenario; it returns an error when a correctness check failed.
func Run(ctx context.Context, o Options) (*Report, error) {
	r := &runner{o: o, rep: &Report{StartedAt: time.Now().UTC(), Machine: machine(), Options: map[string]any{
		"onboardings": o.Onboardings, "concurrency": o.Concurrency, "waiting_sizes": o.WaitingSizes, "silent_share": o.SilentShare,
		"time_scale": o.TimeScale, "window": o.Window.String(), "baseline_limit": o.BaselineLimit, "burst": o.BurstCustomers, "events": o.EventsOnboardings, "sync": o.SyncCustomers}, Failures: []string{}}}
	r.say = func(f string, a ...any) {
		fmt.Fprintf(o.Out, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(f, a...))
	}
	interval := time.Duration(float64(30*time.Second) / o.TimeScale)
	// Each scenario gets its own stack: the watchers' pace is a worker setting, and scenario
	// 1 runs at the real 30 s interval while scenario 2 compresses time.
	if o.Onboardings > 0 {
		err := r.withStack(ctx, 30*time.Second, func() error {
			r.rep.Cost.WorkerRSSIdleMB = rssMB(r.stack.PID("worker"))
			return r.throughput(ctx)
		})
		if err != nil {
			return r.rep, err
		}
	}
	for _, n := range o.WaitingSizes {
		if err := r.withStack(ctx, interval, func() error { return r.budget(ctx, n, interval) }); err != nil {
			return r.rep, err
		}
	}
	if o.BurstCustomers > 0 {
		if err := r.bursts(ctx); err != nil {
			return r.rep, err
		}
	}
	if o.EventsOnboardings > 0 {
		if err := r.withStack(ctx, 30*time.Second, func() error { return r.events(ctx) }); err != nil {
			return r.rep, err
		}
	}
	if o.SyncCustomers > 0 {
		if err := r.withSyncStack(ctx, func() error { return r.sync(ctx) }); err != nil {
			return r.rep, err
		}
	}
	if len(r.rep.Budget) > 0 {
		last := r.rep.Budget[len(r.rep.Budget)-1]
		r.rep.Cost.WorkerRSSLargeMB = last.WorkerRSSMB
		r.rep.Cost.RSSPerWaitingKB = last.RSSPerWaitingKB
	}
	r.rep.StartRetries = r.retries.Load()
	if len(r.rep.Failures) > 0 {
		return r.rep, fmt.Errorf("%d correctness failures: %s", len(r.rep.Failures), strings.Join(r.rep.Failures, "; "))
	}
	return r.rep, nil
}

// start starts an onboarding as a backend should: an ErrUnavailable (no worker answered in
// time, under load) is retried, which is safe; the retries are counted in the report.
func (r *runner) start(ctx context.Context, in contract.ConnectionInput) (contract.StartResult, error) {
	for attempt := 1; ; attempt++ {
		res, err := r.on.Start(ctx, in)
		if !errors.Is(err, onboarding.ErrUnavailable) || attempt == 5 {
			return res, err
		}
		r.retries.Add(1)
		time.Sleep(time.Duration(attempt) * time.Second)
	}
}

func (r *runner) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.rep.Failures = append(r.rep.Failures, msg)
	r.say("FAILED: %s", msg)
}

func (r *runner) partner(ctx context.Context, slug string) error {
	_, err := r.on.CreatePartner(ctx, contract.PartnerSpec{Slug: slug, Team: "acme-team", Name: "Bench " + slug, Description: "bench",
		DocsURL: "https://bench.example", ContactEmail: "bench@bench.example", Logo: contract.Logo{Filename: "l.png", Data: logotest.PNG(128, 128)}})
	return err
}

func input(slug, customer string) contract.ConnectionInput {
	return contract.ConnectionInput{ISVSlug: slug, CustomerID: customer, Mode: contract.ModeProvision, App: "acme-isv-app",
		Salesforce: contract.Salesforce{OrgID: "00D000000000062", Username: "int@" + customer + ".example"}}
}

// withStack runs fn on a fresh stack (dev server, herokusim, worker) whose watchers read
// every interval.
func (r *runner) withStack(ctx context.Context, interval time.Duration, fn func() error) error {
	r.say("starting the stack (dev server, herokusim, worker; watcher interval %s)", interval)
	return r.withStackOptions(ctx, devstack.Options{Out: io.Discard, ServerMetricsPort: 1, // a fresh port
		// Throughput is measured without Heroku's limit (it would cap every design at 1.25
		// calls/s); scenario 2 measures the calls against the budget instead.
		SimEnv: []string{"SIM_PROVISION_DELAY=200ms", "SIM_DEPROVISION_DELAY=100ms", "SIM_RATE_CAPACITY=100000000", "SIM_RATE_PER_MINUTE=100000000", "LOG_LEVEL=error"},
		WorkerEnv: []string{"HEROKU_CALLS_PER_HOUR=100000000", "LOG_LEVEL=error", "WORKER_POLL_INTERVAL=100ms",
			"WORKER_WATCH_WAITING_INTERVAL=" + interval.String(), "WORKER_WATCH_ACTIVE_INTERVAL=" + (10 * interval).String()},
	}, fn)
}

// withStackOptions runs fn on a fresh stack started with o (under the repository root).
func (r *runner) withStackOptions(ctx context.Context, o devstack.Options, fn func() error) error {
	o.Root = r.o.Root
	if r.o.StackLog != nil {
		o.Out = r.o.StackLog
	}
	stack, err := devstack.StartFresh(ctx, o)
	if err != nil {
		return err
	}
	defer stack.Stop()
	r.stack = stack
	if r.tc, err = client.Dial(stack.ClientOptions()); err != nil {
		return err
	}
	defer r.tc.Close()
	r.on = onboarding.New(r.tc, "", "")
	r.on.Payloads = payloadcrypt.DataConverter(stack.PayloadRing) // reads the partner memo, as the starter does
	if r.hc, err = heroku.New(heroku.Options{PlatformURL: stack.SimURL, ConnectURL: stack.SimURL, Token: stack.SimToken}); err != nil {
		return err
	}
	w := worker.New(r.tc, BaselineQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(BaselineWorkflow, workflow.RegisterOptions{Name: "BaselineWorkflow"})
	w.RegisterWorkflowWithOptions(PollerWorkflow, workflow.RegisterOptions{Name: "PollerWorkflow"})
	w.RegisterActivity(Noop)
	w.RegisterActivity(&Poller{Heroku: r.hc})
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	return fn()
}

// parallel runs f(i) for i in [0,n) on c goroutines.
func parallel(n, c int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < c; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// throughput is scenario 1: N onboardings as fast as the stack takes them; the simulated
// customer authorizes as soon as the URL exists and the backend reports the return.
func (r *runner) throughput(ctx context.Context) error {
	n := r.o.Onboardings
	slug := "bench-tput"
	if err := r.partner(ctx, slug); err != nil {
		return err
	}
	before := r.counters(ctx)
	r.say("scenario 1: %d onboardings, %d at a time", n, r.o.Concurrency)
	startURL := make([]float64, n)
	authAt := make([]time.Time, n)
	var failed atomic.Int64
	t0 := time.Now()
	parallel(n, r.o.Concurrency, func(i int) {
		cust := fmt.Sprintf("t%05d", i)
		s := time.Now()
		// The customer returns with a signal: the watcher runs at its real 30 s interval here.
		res, err := r.start(ctx, input(slug, cust))
		if err != nil || res.AuthorizationURL == "" {
			failed.Add(1)
			r.fail("start %s: %v", cust, err)
			return
		}
		startURL[i] = float64(time.Since(s).Microseconds()) / 1000
		if err := r.simAuthorize(ctx, res.AuthorizationURL, "00D000000000062", "int@"+cust+".example"); err != nil {
			r.fail("authorize %s: %v", cust, err)
			return
		}
		authAt[i] = time.Now()
		if err := r.on.CustomerReturned(ctx, slug, cust, res.Attempt); err != nil {
			r.fail("signal %s: %v", cust, err)
		}
	})
	// Wait for every onboarding to be active, then read when each became active.
	active := make([]time.Time, n)
	deadline := time.Now().Add(10 * time.Minute)
	remaining := map[int]bool{}
	for i := 0; i < n; i++ {
		if !authAt[i].IsZero() {
			remaining[i] = true
		}
	}
	for len(remaining) > 0 && time.Now().Before(deadline) {
		for i := range remaining {
			st, err := r.on.Status(ctx, slug, fmt.Sprintf("t%05d", i))
			if err != nil {
				continue
			}
			if st.Stage == "active" {
				active[i] = activeAt(st)
				delete(remaining, i)
			} else if st.Stage.Terminal() {
				r.fail("onboarding t%05d ended %s: %s", i, st.Stage, st.Error)
				delete(remaining, i)
			}
		}
		if len(remaining) > 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if len(remaining) > 0 {
		r.fail("%d onboardings not active after 10 minutes", len(remaining))
	}
	last := t0
	var authToActive []float64
	for i := 0; i < n; i++ {
		if active[i].IsZero() {
			continue
		}
		if active[i].After(last) {
			last = active[i]
		}
		authToActive = append(authToActive, float64(active[i].Sub(authAt[i]).Microseconds())/1000)
	}
	elapsed := last.Sub(t0).Seconds()
	after := r.counters(ctx)
	tp := &r.rep.Throughput
	tp.N, tp.Seconds, tp.PerSecond = n, elapsed, float64(n)/elapsed
	tp.startToURL, tp.authToA = startURL, authToActive
	tp.StartToURL, tp.AuthToActive = quantiles(startURL), quantiles(authToActive)
	tp.HerokuCallsPer = float64(totalCalls(after)-totalCalls(before)) / float64(n)
	tp.CallsPerRoute = perCustomer(routeDelta(before, after), n)
	if math.Round(tp.HerokuCallsPer*100)/100 > maxCallsToAuthorized {
		r.fail("scenario 1: %.2f Heroku calls per onboarding to authorized, more than %.1f: %v", tp.HerokuCallsPer, maxCallsToAuthorized, tp.CallsPerRoute)
	}
	r.checkAddons(after, slug, n, n)
	tp.SlowestStart = r.slowestStart(ctx, slug, startURL)
	r.say("scenario 1: slowest start %s", tp.SlowestStart)

	// History of one completed onboarding: offboard a customer and read its history.
	if _, err := r.on.Offboard(ctx, slug, "t00000"); err != nil {
		r.fail("offboard t00000: %v", err)
	} else {
		events, size, acts := r.history(ctx, onboarding.WorkflowID(slug, "t00000"))
		r.rep.Cost.HistoryEvents, r.rep.Cost.HistoryBytes, tp.ActivitiesPer = events, size, acts
	}

	// Baselines on the same stack: bare workflows of as many activities as ours ran, and of four.
	acts := max(tp.ActivitiesPer, 1)
	tp.BaselineSame = r.baseline(ctx, n, acts)
	tp.BaselineFour = r.baseline(ctx, n, 4)
	tp.RatioSame, tp.RatioFour = tp.PerSecond/tp.BaselineSame, tp.PerSecond/tp.BaselineFour
	r.say("scenario 1: %.1f onboardings/s (baselines: %.1f/s with %d activities, %.1f/s with 4)", tp.PerSecond, tp.BaselineSame, acts, tp.BaselineFour)
	return nil
}

// slowestStart describes the timeline of the slowest start of scenario 1 (customer t%05d).
func (r *runner) slowestStart(ctx context.Context, slug string, startURL []float64) string {
	slowest := 0
	for i, ms := range startURL {
		if ms > startURL[slowest] {
			slowest = i
		}
	}
	cust := fmt.Sprintf("t%05d", slowest)
	st, err := r.on.Status(ctx, slug, cust)
	if err != nil || len(st.Events) == 0 {
		return fmt.Sprintf("%s %.1f s (no status: %v)", cust, startURL[slowest]/1000, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %.1f s:", cust, startURL[slowest]/1000)
	for _, e := range st.Events {
		if e.Stage == contract.StageActive {
			break
		}
		fmt.Fprintf(&b, " %s %q +%.1fs;", e.Stage, e.What, e.At.Sub(st.Events[0].At).Seconds())
	}
	return b.String()
}

func activeAt(st contract.Status) time.Time {
	for i := len(st.Events) - 1; i >= 0; i-- {
		if st.Events[i].Stage == "active" || strings.HasPrefix(st.Events[i].What, "authorized by") {
			return st.Events[i].At
		}
	}
	return time.Time{}
}

func (r *runner) baseline(ctx context.Context, n, activities int) float64 {
	t0 := time.Now()
	var failed atomic.Int64
	parallel(n, r.o.Concurrency, func(i int) {
		run, err := r.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("baseline-%d-%d-%d", activities, t0.UnixNano(), i), TaskQueue: BaselineQueue},
			"BaselineWorkflow", activities)
		if err == nil {
			err = run.Get(ctx, nil)
		}
		if err != nil {
			failed.Add(1)
		}
	})
	if failed.Load() > 0 {
		r.fail("%d baseline workflows failed", failed.Load())
	}
	return float64(n) / time.Since(t0).Seconds()
}

func (r *runner) history(ctx context.Context, id string) (events, size, activities int) {
	it := r.tc.GetWorkflowHistory(ctx, id, "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return
		}
		events++
		b, _ := json.Marshal(ev)
		size += len(b)
		if ev.GetActivityTaskScheduledEventAttributes() != nil {
			activities++
		}
	}
	return
}

// budget is scenario 2 at one size: n customers wait; a share authorize silently (no
// signal); the Heroku calls are counted over a window of simulated time.
func (r *runner) budget(ctx context.Context, n int, interval time.Duration) error {
	slug := fmt.Sprintf("bench-wait-%d", n)
	if err := r.partner(ctx, slug); err != nil {
		return err
	}
	r.say("scenario 2: starting %d waiting customers", n)
	rssBefore := rssMB(r.stack.PID("worker"))
	serverBefore := r.serverMetrics(ctx)
	t0 := time.Now()
	urls := make([]string, n)
	parallel(n, r.o.Concurrency, func(i int) {
		res, err := r.start(ctx, input(slug, fmt.Sprintf("w%05d", i)))
		if err != nil {
			r.fail("start waiting %d: %v", i, err)
			return
		}
		urls[i] = res.AuthorizationURL
	})
	b := Budget{Waiting: n, SetupSeconds: time.Since(t0).Seconds(), IntervalSimSeconds: interval.Seconds() * r.o.TimeScale}
	b.ServerPerStart = serverOps(serverBefore, r.serverMetrics(ctx), n, 15)
	r.say("scenario 2: %d started in %.0f s; the server per start: %s", n, b.SetupSeconds, topOps(b.ServerPerStart, 6))
	time.Sleep(3 * interval) // every watcher round has seen everyone
	before := r.counters(ctx)
	start := time.Now()
	end := start.Add(r.o.Window)

	// Silent authorizations spread over the first half of the window.
	silent := int(float64(n) * r.o.SilentShare)
	picks := rand.Perm(n)[:silent]
	authAt := map[int]time.Time{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for k, i := range picks {
		wg.Add(1)
		go func(k, i int) {
			defer wg.Done()
			time.Sleep(time.Duration(float64(r.o.Window/2) * float64(k) / float64(max(silent, 1))))
			if err := r.simAuthorize(ctx, urls[i], "00D000000000062", fmt.Sprintf("int@w%05d.example", i)); err != nil {
				r.fail("silent authorize %d: %v", i, err)
				return
			}
			mu.Lock()
			authAt[i] = time.Now()
			mu.Unlock()
		}(k, i)
	}
	wg.Wait()
	time.Sleep(time.Until(end))
	after := r.counters(ctx)
	real := time.Since(start).Seconds()
	b.SimulatedHours = real * r.o.TimeScale / 3600
	b.CallsPerHour = float64(totalCalls(after)-totalCalls(before)) / b.SimulatedHours
	// Of them: the watcher's page reads, and the customers' own verification reads (one per
	// silent authorization, so they grow with -silent, not with who waits).
	b.WatcherPerHour = float64(after.Calls["connect.list"]-before.Calls["connect.list"]) / b.SimulatedHours
	b.VerifyPerHour = float64(after.Calls["connect.detail"]-before.Calls["connect.detail"]) / b.SimulatedHours
	b.BudgetShare = b.CallsPerHour / 4500
	b.SilentAuthorized = len(authAt)
	var detect []float64
	for i, at := range authAt {
		st, err := r.on.Status(ctx, slug, fmt.Sprintf("w%05d", i))
		if err == nil && st.Stage == "active" {
			detect = append(detect, activeAt(st).Sub(at).Seconds()*r.o.TimeScale)
		}
	}
	b.Detected = len(detect)
	b.DetectionSimSeconds = quantiles(detect)
	if b.Detected < b.SilentAuthorized {
		r.fail("%d of %d silent authorizations were not detected in the window", b.SilentAuthorized-b.Detected, b.SilentAuthorized)
	}
	b.WorkerRSSMB = rssMB(r.stack.PID("worker"))
	b.Replay = r.replayCost(ctx)
	b.RSSPerWaitingKB = (b.WorkerRSSMB - rssBefore) * 1024 / float64(n)
	r.checkAddons(after, slug, n, n)

	// Baseline: one poller per waiting customer, polling at the interval that gives the same
	// mean detection latency (a poller detects after half its interval on average).
	mean := 0.0
	for _, d := range detect {
		mean += d
	}
	if len(detect) > 0 {
		mean /= float64(len(detect))
	}
	every := time.Duration(2 * mean / r.o.TimeScale * float64(time.Second))
	if every < 10*time.Millisecond {
		every = 10 * time.Millisecond
	}
	pollers := min(n-silent, r.o.BaselineLimit)
	b.BaselinePollers = pollers
	conns := r.waitingConnections(ctx, slug, pollers)
	beforeB := r.counters(ctx)
	until := time.Now().Add(r.o.Window)
	startB := time.Now()
	parallel(len(conns), r.o.Concurrency, func(i int) {
		_, err := r.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("poller-%s-%d", slug, i), TaskQueue: BaselineQueue},
			"PollerWorkflow", PollerInput{RegionURL: r.stack.SimURL, ConnectionID: conns[i], Every: every, Until: until})
		if err != nil {
			r.fail("start poller: %v", err)
		}
	})
	time.Sleep(time.Until(until))
	afterB := r.counters(ctx)
	hoursB := time.Since(startB).Seconds() * r.o.TimeScale / 3600
	if pollers > 0 {
		perPoller := float64(afterB.Calls["connect.detail"]-beforeB.Calls["connect.detail"]) / hoursB / float64(pollers)
		b.BaselinePerHour = perPoller * float64(n) // every waiting customer would poll
		b.Ratio = b.BaselinePerHour / b.CallsPerHour
	}
	// Deactivate the integration with all of them: the cascade at this size.
	cas, err := r.cascade(ctx, slug, n)
	if err != nil {
		return err
	}
	b.Cascade = cas
	r.rep.Budget = append(r.rep.Budget, b)
	r.say("scenario 2 (%d waiting): %.0f calls per simulated hour (%.1f%% of the budget); per-workflow pollers: %.0f (%.0fx)",
		n, b.CallsPerHour, 100*b.BudgetShare, b.BaselinePerHour, b.Ratio)
	return nil
}

// waitingConnections finds the connection IDs of up to k customers still waiting.
func (r *runner) waitingConnections(ctx context.Context, slug string, k int) []string {
	var out []string
	for i := 0; len(out) < k && i < 1_000_000; i++ {
		st, err := r.on.Status(ctx, slug, fmt.Sprintf("w%05d", i))
		if err != nil {
			break
		}
		if st.Stage == "awaiting_authorization" && st.Connection != nil {
			out = append(out, st.Connection.ID)
		}
	}
	return out
}

// checkAddons fails the run on a duplicate (more creates than customers) or an orphan (a
// live add-on without a customer, or a customer without its add-on).
func (r *runner) checkAddons(c herokusim.Counters, slug string, created, live int) {
	if got := c.CreatedPerISV[slug]; got != created {
		r.fail("%s: %d add-ons created for %d customers (duplicate or missing)", slug, got, created)
	}
	if got := c.LivePerISV[slug]; got != live {
		r.fail("%s: %d add-ons live, want %d (orphaned or lost)", slug, got, live)
	}
}

func (r *runner) simAuthorize(ctx context.Context, authURL, org, user string) error {
	b, _ := json.Marshal(map[string]string{"url": authURL, "org_id": org, "username": user})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.stack.SimURL+herokusim.AdminPrefix+"/authorize", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return errors.New(string(body))
	}
	return nil
}

// callTimes are the arrival times of every counted request so far.
func (r *runner) callTimes(ctx context.Context) []time.Time {
	var body struct {
		TimesMS []int64 `json:"times_ms"`
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.stack.SimURL+herokusim.AdminPrefix+"/calls", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
	}
	out := make([]time.Time, len(body.TimesMS))
	for i, ms := range body.TimesMS {
		out[i] = time.UnixMilli(ms)
	}
	return out
}

func (r *runner) counters(ctx context.Context) herokusim.Counters {
	var c herokusim.Counters
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.stack.SimURL+herokusim.AdminPrefix+"/counters", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
	}
	return c
}

// totalCalls counts the API calls that spend the budget (the rate-limit status is free).
func totalCalls(c herokusim.Counters) int {
	n := 0
	for route, k := range c.Calls {
		if route != "account.rate-limits" {
			n += k
		}
	}
	return n
}

func rssMB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores", cpu, numCPU())
}
