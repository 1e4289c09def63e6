// Package chaos proves the product's guarantees with numbers under faults: a stack of its own
// (dev server on a SQLite file, herokusim, the worker binary), many onboardings at once, the
// worker SIGKILLed at random moments and the Temporal server restarted, a storm of Heroku
// faults, then offboardings, terminations and the reconciler. It counts what reached active,
// what failed and what is stuck; add-ons created, live, duplicated and orphaned; and Heroku
// requests per minute against the budget. `make chaos` runs it; a short variant runs in the
// tests.
package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/dev/eventsink"
	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/logo/logotest"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Options shape a run.
type Options struct {
	Root          string
	N             int           // onboardings per scenario (200)
	Kills         int           // worker SIGKILLs in the crash scenario (10)
	CallsPerHour  int           // the Heroku budget (36,000: 600 a minute)
	Concurrency   int           // customers started at once (25)
	Scenarios     []string      // of "baseline", "crashes", "storm"
	Deadline      time.Duration // per scenario, for every customer to settle (10m)
	Out           io.Writer
	TerminateEach int // every TerminateEach-th active customer is terminated instead of offboarded (10)
	// Cluster runs each scenario on the production topology (devstack.StartCluster:
	// PostgreSQL, the Temporal server, two workers sharing the queues) instead of the dev
	// server and one worker; the crash scenario kills one of the two workers.
	Cluster bool
}

func (o *Options) defaults() {
	if o.N <= 0 {
		o.N = 200
	}
	if o.Kills < 0 {
		o.Kills = 0
	}
	if o.CallsPerHour <= 0 {
		o.CallsPerHour = 36000
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 25
	}
	if len(o.Scenarios) == 0 {
		o.Scenarios = []string{"baseline", "crashes", "storm"}
	}
	if o.Deadline <= 0 {
		o.Deadline = 10 * time.Minute
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.TerminateEach <= 0 {
		o.TerminateEach = 10
	}
}

// Result is one scenario's numbers.
type Result struct {
	Scenario     string         `json:"scenario"`
	Customers    int            `json:"customers"`
	Active       int            `json:"reached_active"`
	Failed       map[string]int `json:"failed_by_type"`
	Stuck        int            `json:"stuck"`
	Offboarded   int            `json:"offboarded"`
	Terminated   int            `json:"terminated"`
	Created      int            `json:"addons_created"`
	Live         int            `json:"addons_live"`
	Duplicates   int            `json:"duplicates"`
	Orphans      int            `json:"orphans"`
	Reconciled   int            `json:"destroyed_by_reconciler"`
	WorstMinute  int            `json:"worst_minute_calls"`
	BudgetMinute int            `json:"budget_per_minute"`
	Faults       int            `json:"faults_injected"`
	Kills        int            `json:"worker_kills"`
	Restarts     int            `json:"temporal_restarts"`
	Seconds      float64        `json:"seconds_to_settle"`
	VsBaseline   float64        `json:"vs_baseline,omitempty"` // Seconds over the no-fault run's
	// Events: lifecycle events the receiver verified (duplicates included), those a
	// customer emitted that never arrived, and arrivals after a later event of the same
	// customer.
	// Synced counts the active customers whose template's mappings all synced (every
	// customer of the scenario's integration gets its template); ImportedTwice the add-ons
	// whose connection got a template more than once.
	Synced        int `json:"synced"`
	ImportedTwice int `json:"imported_twice"`
	Events        int `json:"events_received"`
	LostEvents    int `json:"events_lost"`
	OutOfOrder    int `json:"events_out_of_order"`
	// The upgrade drill: active customers whose last task ran on the new build, offboarded
	// ones that ended on the first build after the rollback, and failed workflow tasks.
	OnNext       int      `json:"active_on_next_build,omitempty"`
	BackOnFirst  int      `json:"ended_on_first_build,omitempty"`
	TaskFailures int      `json:"workflow_task_failures"`
	Problems     []string `json:"problems,omitempty"`
}

// Broken reports whether a guarantee failed: a duplicate, an orphan, a lost customer, or a
// minute over the budget (5 % tolerance for a minute boundary).
func (r Result) Broken() bool { return len(r.Problems) > 0 }

func (r *Result) check() {
	if r.Duplicates > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d customers got more than one add-on", r.Duplicates))
	}
	if r.Orphans > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d add-ons live with no live customer", r.Orphans))
	}
	if r.Stuck > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d customers neither active nor ended (lost)", r.Stuck))
	}
	if r.Synced < r.Active {
		r.Problems = append(r.Problems, fmt.Sprintf("%d active customers without every mapping synced", r.Active-r.Synced))
	}
	if r.ImportedTwice > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d connections got their template more than once", r.ImportedTwice))
	}
	if r.LostEvents > 0 || r.OutOfOrder > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d lifecycle events lost and %d out of order", r.LostEvents, r.OutOfOrder))
	}
	if float64(r.WorstMinute) > float64(r.BudgetMinute)*1.05 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d Heroku requests in one minute, over the budget of %d", r.WorstMinute, r.BudgetMinute))
	}
}

const isv = "chaos"

// Run runs the scenarios and returns their results; err is a run that could not be carried
// out (a stack that would not start), not a broken guarantee.
func Run(ctx context.Context, o Options) ([]Result, error) {
	o.defaults()
	var out []Result
	baseline := 0.0
	for _, sc := range o.Scenarios {
		fmt.Fprintf(o.Out, "scenario %s: %d onboardings\n", sc, o.N)
		r, err := runScenario(ctx, o, sc)
		if err != nil {
			return out, fmt.Errorf("scenario %s: %w", sc, err)
		}
		if sc == "baseline" {
			baseline = r.Seconds
		} else if baseline > 0 {
			r.VsBaseline = r.Seconds / baseline
		}
		out = append(out, r)
		fmt.Fprintf(o.Out, "  %s\n", summary(r))
	}
	return out, nil
}

func summary(r Result) string {
	s := fmt.Sprintf("active %d/%d (synced %d, imported twice %d), failed %v, stuck %d; add-ons created %d, live %d, duplicates %d, orphans %d (reconciler destroyed %d); events received %d, lost %d, out of order %d; worst minute %d of %d Heroku requests; %d faults, %d worker kills, %d Temporal restarts; settled in %.0fs",
		r.Active, r.Customers, r.Synced, r.ImportedTwice, r.Failed, r.Stuck, r.Created, r.Live, r.Duplicates, r.Orphans, r.Reconciled, r.Events, r.LostEvents, r.OutOfOrder,
		r.WorstMinute, r.BudgetMinute, r.Faults, r.Kills, r.Restarts, r.Seconds)
	if r.VsBaseline > 0 {
		s += fmt.Sprintf(" (%.1f× the no-fault run)", r.VsBaseline)
	}
	if r.Scenario == "upgrade" {
		s += fmt.Sprintf("; upgrade: %d active on build %s, %d offboarded back on the first build, %d workflow tasks failed", r.OnNext, nextBuildID, r.BackOnFirst, r.TaskFailures)
	}
	if r.Broken() {
		s += fmt.Sprintf("\n  BROKEN: %v", r.Problems)
	}
	return s
}

type run struct {
	o      Options
	stack  *devstack.Stack
	victim string // the worker process the crash scenario kills
	tc     client.Client
	on     *onboarding.Client
	hc     *heroku.Client
	sink   *eventsink.Sink
	// upgrade is the upgrade drill's state (scenario "upgrade"), nil otherwise.
	upgrade *upgrade
	res     Result
	mu      sync.Mutex
}

func runScenario(ctx context.Context, o Options, scenario string) (Result, error) {
	data, err := os.MkdirTemp("", "chaos-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(data)
	perMinute := o.CallsPerHour / 60
	simEnv := []string{"SIM_PROVISION_DELAY=500ms", "SIM_DEPROVISION_DELAY=300ms", "SIM_DEACTIVATION_DELAY=1s", "LOG_LEVEL=error",
		"SIM_RATE_CAPACITY=" + strconv.Itoa(perMinute*10), "SIM_RATE_PER_MINUTE=" + strconv.Itoa(perMinute*2)}
	workerEnv := []string{"HEROKU_CALLS_PER_HOUR=" + strconv.Itoa(o.CallsPerHour), "LOG_LEVEL=error", "WORKER_POLL_INTERVAL=250ms",
		"WORKER_WATCH_WAITING_INTERVAL=1s", "WORKER_WATCH_ACTIVE_INTERVAL=5s", "WORKER_RECONCILE_GRACE=0s", "WORKER_STOP_TIMEOUT=5s"}
	var stack *devstack.Stack
	var cluster *devstack.Cluster
	victim := "worker"
	if scenario == "upgrade" && !o.Cluster {
		return Result{}, errNeedsCluster
	}
	if o.Cluster {
		co := devstack.ClusterOptions{Root: o.Root, DataDir: data, Out: io.Discard, SimEnv: simEnv, WorkerEnv: workerEnv}
		co.FreshPorts(2)
		c, err := devstack.StartCluster(ctx, co)
		if err != nil {
			return Result{}, err
		}
		stack, victim, cluster = c.Stack, c.Workers[0], c
	} else {
		stack, err = devstack.StartFresh(ctx, devstack.Options{Root: o.Root, DataDir: data, Out: io.Discard, SimEnv: simEnv, WorkerEnv: workerEnv})
		if err != nil {
			return Result{}, err
		}
	}
	defer stack.Stop()
	r := &run{o: o, stack: stack, victim: victim, res: Result{Scenario: scenario, Customers: o.N, Failed: map[string]int{}, BudgetMinute: perMinute}}
	if r.tc, err = client.Dial(stack.ClientOptions()); err != nil {
		return Result{}, err
	}
	defer r.tc.Close()
	r.on = onboarding.New(r.tc, "", "")
	if scenario == "upgrade" {
		r.upgrade = &upgrade{cluster: cluster, authorize: make(chan struct{})}
		if r.upgrade.first, err = r.current(ctx); err != nil || r.upgrade.first == "" {
			return Result{}, fmt.Errorf("the first build is not the deployment's current version (%q): %v", r.upgrade.first, err)
		}
	}
	if r.hc, err = heroku.New(heroku.Options{PlatformURL: stack.SimURL, ConnectURL: stack.SimURL, Token: stack.SimToken}); err != nil {
		return Result{}, err
	}
	if _, err := r.hc.CreateIntegration(ctx, heroku.IntegrationCreate{Slug: isv, Name: "Chaos Sync", Team: "acme-team", ContactEmail: "dev@chaos.example",
		Description: "Chaos", DocsURL: "https://chaos.example/docs", Logo: heroku.Logo{Filename: "l.png", Data: logotest.PNG(200, 200)}}); err != nil {
		return Result{}, err
	}
	if _, err := r.on.AdoptPartner(ctx, isv); err != nil {
		return Result{}, err
	}
	// Every customer's onboarding ends with its data syncing: the integration's template.
	if _, err := r.on.UpdatePartner(ctx, isv, contract.PartnerChanges{Mappings: devstack.MappingTemplate("")}); err != nil {
		return Result{}, err
	}
	// The ISV backend's receiver: every customer's events must arrive, in order, whatever
	// the scenario breaks.
	if r.on.Events.Key, err = devstack.EventsKey(); err != nil {
		return Result{}, err
	}
	r.sink = eventsink.New("")
	rcv := httptest.NewServer(r.sink)
	defer rcv.Close()
	_, secret, err := r.on.AddEndpoint(ctx, isv, contract.EndpointSpec{URL: rcv.URL})
	if err != nil {
		return Result{}, err
	}
	r.sink.SetSecrets(secret)

	cctx, stopChaos := context.WithCancel(ctx)
	chaosDone := make(chan struct{})
	go func() { defer close(chaosDone); r.chaos(cctx, scenario) }()
	t0 := time.Now()
	r.onboardAll(ctx)
	active := r.settle(ctx, t0)
	r.res.Seconds = time.Since(t0).Seconds()
	r.measureSync(ctx, active)
	if r.upgrade != nil {
		r.countOnNext(ctx, active)
		if err := r.rollback(ctx); err != nil {
			r.res.Problems = append(r.res.Problems, "the rollback: "+err.Error())
		}
	}
	offboarded := r.endHalf(ctx, active)
	stopChaos()
	<-chaosDone
	r.post(ctx, "DELETE", herokusim.AdminPrefix+"/faults", nil)
	r.waitEnded(ctx)
	if r.upgrade != nil {
		r.checkUpgrade(ctx, offboarded)
	}
	rep, err := r.on.Reconcile(ctx, isv, false)
	if err != nil {
		r.res.Problems = append(r.res.Problems, "the reconciler failed: "+err.Error())
	}
	r.res.Reconciled = len(rep.Destroyed)
	r.measure(ctx)
	r.measureEvents(ctx)
	r.res.check()
	return r.res, nil
}

func customer(i int) string { return fmt.Sprintf("c%04d", i) }

// measureSync counts the active customers whose mappings all synced, and the connections
// that got a template more than once (a retry, a crash or a restart must never import
// twice).
func (r *run) measureSync(ctx context.Context, active []string) {
	for _, cust := range active {
		if st, err := r.on.Status(ctx, isv, cust); err == nil && st.Sync != nil && !st.Sync.SyncedAt.IsZero() && st.Sync.Imports == 1 {
			r.res.Synced++
		}
	}
	var imports map[string]int
	if status, body := r.post(ctx, "GET", herokusim.AdminPrefix+"/imports", nil); status == http.StatusOK {
		_ = json.Unmarshal(body, &imports)
	}
	for _, n := range imports {
		if n > 1 {
			r.res.ImportedTwice++
		}
	}
}

func input(cust string) contract.ConnectionInput {
	return contract.ConnectionInput{ISVSlug: isv, CustomerID: cust, Mode: contract.ModeProvision, App: "acme-isv-app",
		Salesforce: contract.Salesforce{OrgID: "00D000000000062", Username: "int@" + cust + ".example", Environment: "production"}}
}

// onboardAll starts every customer (retrying through crashes and restarts: a start is
// idempotent) and has each sign in as soon as its URL exists.
func (r *run) onboardAll(ctx context.Context) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, r.o.Concurrency)
	for i := range r.o.N {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			counted, released := false, false
			defer func() {
				if !released {
					<-sem
				}
			}()
			cust := customer(i)
			deadline := time.Now().Add(r.o.Deadline)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				res, err := r.on.Start(sctx, input(cust))
				cancel()
				var ended *onboarding.EndedError
				if errors.As(err, &ended) {
					return // failed: counted when settled
				}
				if err != nil || res.AuthorizationURL == "" {
					time.Sleep(time.Second)
					continue
				}
				if u := r.upgrade; u != nil { // the drill: sign in once the new build is current
					if !counted {
						counted = true
						u.withURL.Add(1)
						<-sem // waiting holds no slot: the other customers start meanwhile
						released = true
					}
					select {
					case <-u.authorize:
					case <-ctx.Done():
						return
					}
				}
				if r.authorize(ctx, res.AuthorizationURL, cust) == nil {
					_ = r.on.CustomerReturned(ctx, isv, cust, res.Attempt)
					return
				}
				time.Sleep(time.Second)
			}
		}()
	}
	wg.Wait()
}

func (r *run) authorize(ctx context.Context, url, cust string) error {
	status, body := r.post(ctx, "POST", herokusim.AdminPrefix+"/authorize", map[string]string{"url": url, "org_id": "00D000000000062", "username": "int@" + cust + ".example"})
	if status != http.StatusOK {
		return fmt.Errorf("authorize %s: %d %s", cust, status, body)
	}
	return nil
}

// settle waits until every customer is active or ended, or the deadline; it returns the
// active ones.
func (r *run) settle(ctx context.Context, t0 time.Time) []string {
	deadline := t0.Add(r.o.Deadline)
	pending := map[string]bool{}
	for i := range r.o.N {
		pending[customer(i)] = true
	}
	var active []string
	for len(pending) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		for cust := range pending {
			st, err := r.on.Status(ctx, isv, cust)
			switch {
			case err != nil:
			case st.Stage == contract.StageActive:
				active = append(active, cust)
				delete(pending, cust)
			case st.Stage.Terminal():
				r.res.Failed[st.ErrorType+" ("+string(st.Stage)+")"]++
				delete(pending, cust)
			}
		}
		if len(pending) > 0 {
			time.Sleep(time.Second)
		}
	}
	r.res.Active, r.res.Stuck = len(active), len(pending)
	sort.Strings(active)
	return active
}

// endHalf offboards every other active customer and terminates every TerminateEach-th
// (an operator's mistake that runs no workflow code: the reconciler's to clean); it returns
// the offboarded.
func (r *run) endHalf(ctx context.Context, active []string) (offboarded []string) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, r.o.Concurrency)
	for i, cust := range active {
		switch {
		case i%r.o.TerminateEach == r.o.TerminateEach-1:
			if r.tc.TerminateWorkflow(ctx, contract.ConnectionWorkflowID(isv, cust), "", "chaos: terminated by hand") == nil {
				r.res.Terminated++
			}
		case i%2 == 0:
			r.res.Offboarded++
			offboarded = append(offboarded, cust)
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				for attempt := 0; attempt < 30 && ctx.Err() == nil; attempt++ {
					octx, cancel := context.WithTimeout(ctx, time.Minute)
					_, err := r.on.Offboard(octx, isv, cust)
					cancel()
					if err == nil || errors.Is(err, onboarding.ErrRejected) { // rejected: already ending
						return
					}
					time.Sleep(2 * time.Second)
				}
			}()
		}
	}
	wg.Wait()
	return offboarded
}

// waitEnded waits until no customer is compensating any more.
func (r *run) waitEnded(ctx context.Context) {
	deadline := time.Now().Add(r.o.Deadline)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		busy := 0
		for i := range r.o.N {
			if st, err := r.on.Status(ctx, isv, customer(i)); err == nil && st.Stage == contract.StageCompensating {
				busy++
			}
		}
		if busy == 0 {
			return
		}
		time.Sleep(time.Second)
	}
}

// chaos runs the scenario's faults until ctx ends.
func (r *run) chaos(ctx context.Context, scenario string) {
	switch scenario {
	case "crashes":
		// Kills spread over the time the onboardings take (about 300 ms each at the default
		// budget), at jittered moments; the server restarted once, in the middle.
		window := max(time.Duration(r.o.N)*300*time.Millisecond, 6*time.Second)
		step := window / time.Duration(r.o.Kills+1)
		start := time.Now()
		for k := 1; k <= r.o.Kills && ctx.Err() == nil; k++ {
			at := time.Duration(k)*step + time.Duration(rand.Int64N(int64(step/2))) - step/4
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(start.Add(at))):
			}
			if r.stack.Restart(context.Background(), r.victim, true) == nil {
				r.mu.Lock()
				r.res.Kills++
				r.mu.Unlock()
			}
			if k == (r.o.Kills+1)/2 && r.stack.Restart(context.Background(), "temporal", false) == nil {
				r.mu.Lock()
				r.res.Restarts++
				r.mu.Unlock()
			}
		}
	case "upgrade":
		r.drill(ctx)
	case "storm":
		// About 20 % of Heroku calls fail (5xx, lost answers, resets), plus 429 bursts that
		// end with their time.
		r.post(ctx, "POST", herokusim.AdminPrefix+"/faults", []herokusim.Fault{
			{ID: "5xx", Route: "*", Status: 503, Rate: 0.09},
			{ID: "lost", Route: "*", Status: 500, Rate: 0.06, AfterEffect: true},
			{ID: "reset", Route: "*", Mode: "reset", Rate: 0.05},
		})
		for ctx.Err() == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Second):
			}
			r.post(ctx, "POST", herokusim.AdminPrefix+"/faults", []herokusim.Fault{{Route: "*", Status: 429, For: herokusim.Duration(2 * time.Second)}})
		}
	}
}

// measure counts add-ons and requests on the simulator.
func (r *run) measure(ctx context.Context) {
	var addons []herokusim.AdminAddon
	if status, body := r.post(ctx, "GET", herokusim.AdminPrefix+"/addons", nil); status == http.StatusOK {
		_ = json.Unmarshal(body, &addons)
	}
	live := map[string]bool{} // customers still active
	for i := range r.o.N {
		if st, err := r.on.Status(ctx, isv, customer(i)); err == nil && st.Stage == contract.StageActive {
			desc, derr := r.tc.DescribeWorkflow(ctx, contract.ConnectionWorkflowID(isv, customer(i)), "")
			if derr == nil && desc.RawResponse.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				live[contract.AddonName(isv, customer(i))] = true
			}
		}
	}
	perName := map[string]int{}
	for _, a := range addons {
		if a.ISV != isv && !contract.IsProductAddonName(isv, a.Name) {
			continue
		}
		perName[a.Name]++
		r.res.Created++
		if !a.Gone && a.State != heroku.AddonDeprovisioning && a.State != heroku.AddonDeprovisioned {
			r.res.Live++
			if !live[a.Name] {
				r.res.Orphans++
			}
		}
	}
	for _, n := range perName {
		if n > 1 {
			r.res.Duplicates++
		}
	}
	var counters herokusim.Counters
	if status, body := r.post(ctx, "GET", herokusim.AdminPrefix+"/counters", nil); status == http.StatusOK {
		_ = json.Unmarshal(body, &counters)
	}
	r.res.Faults = counters.FaultsInjected
	var calls struct {
		Times []int64 `json:"times_ms"`
	}
	if status, body := r.post(ctx, "GET", herokusim.AdminPrefix+"/calls", nil); status == http.StatusOK {
		_ = json.Unmarshal(body, &calls)
	}
	r.res.WorstMinute = worstMinute(calls.Times)
}

// measureEvents counts the events that never reached the receiver (of every customer not
// terminated by hand: a terminated run may have numbered an event it never emitted), and
// arrivals after a later event of their customer. Deliveries still on their way get a
// minute.
func (r *run) measureEvents(ctx context.Context) {
	emitted := map[string]int{}
	for i := range r.o.N {
		cust := customer(i)
		desc, err := r.tc.DescribeWorkflow(ctx, contract.ConnectionWorkflowID(isv, cust), "")
		if err != nil || desc.RawResponse.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED {
			continue
		}
		if st, err := r.on.Status(ctx, isv, cust); err == nil {
			emitted[cust] = st.EventSeq
		}
	}
	missing := func() int {
		n := 0
		for cust, seq := range emitted {
			got := map[int]bool{}
			for _, e := range r.sink.Customer(cust) {
				got[e.Data.Sequence] = true
			}
			for s := 1; s <= seq; s++ {
				if !got[s] {
					n++
				}
			}
		}
		return n
	}
	for deadline := time.Now().Add(time.Minute); missing() > 0 && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(time.Second)
	}
	r.res.LostEvents = missing()
	last := map[string]int{}
	for _, e := range r.sink.Received() {
		if !e.Verified {
			r.res.Problems = append(r.res.Problems, "an event did not verify: "+e.Error)
			continue
		}
		r.res.Events++
		if c := e.Data.CustomerID; c != "" {
			if e.Data.Sequence < last[c] {
				r.res.OutOfOrder++
			}
			last[c] = max(last[c], e.Data.Sequence)
		}
	}
}

// worstMinute is the most requests in any 60-second window.
func worstMinute(ms []int64) int {
	sort.Slice(ms, func(i, j int) bool { return ms[i] < ms[j] })
	worst, lo := 0, 0
	for hi := range ms {
		for ms[hi]-ms[lo] >= 60_000 {
			lo++
		}
		worst = max(worst, hi-lo+1)
	}
	return worst
}

func (r *run) post(ctx context.Context, method, path string, body any) (int, []byte) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.stack.SimURL+path, rd)
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Root finds the repository root (for bin/).
func Root() (string, error) { return devstack.FindRoot() }
