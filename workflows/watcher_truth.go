package workflows

import (
	"fmt"
	"sort"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

const (
	// watchMaxPages bounds a round's Heroku reads: 10 pages of 1,000 connections, so an app
	// of up to 10,000 connections is read whole every round; a bigger one takes several
	// rounds per pass.
	watchMaxPages = 10
	// watchNewsMargin widens "authorized since the last pass" against clocks that disagree
	// (Heroku's auth_updated against the workflow's time); repeats within it are deduplicated.
	watchNewsMargin = 2 * time.Minute
	// watchOwnerLookups is how many rounds news is looked up for an owner before it is taken
	// for news of an add-on nobody here owns.
	watchOwnerLookups = 3
	// watchSignalBatch bounds the signals in flight from one workflow (Temporal allows 2,000).
	watchSignalBatch = 500
)

// watcherFromTruth is the watcher from watch-from-truth on: one per app, no members. The
// truth is Heroku's list of the app's connections and Temporal's visibility of who owns each
// add-on; the watcher carries only its place in the pass and what it told.
type watcherFromTruth struct {
	in       contract.WatcherInput
	st       contract.WatchStatus
	actx     workflow.Context // Heroku reads
	lctx     workflow.Context // visibility lookups and hand-over
	wake     workflow.ReceiveChannel
	unreg    workflow.ReceiveChannel
	woken    bool
	untold   bool           // news whose owner was not found yet: look again soon
	misses   map[string]int // rounds in which a connection's news found no owner
	pass     passTally
	lastPass passTally
}

// passTally is what one pass over the app found.
type passTally struct {
	waiting   int
	unhealthy map[string]bool
}

func runWatcherFromTruth(ctx workflow.Context, in contract.WatcherInput) error {
	w := &watcherFromTruth{in: in, st: contract.WatchStatus{App: in.App},
		wake: contract.SignalWatchRegister.Channel(ctx), unreg: contract.SignalWatchUnregister.Channel(ctx)}
	if w.in.Reported == nil {
		w.in.Reported = map[string]time.Time{}
	}
	if w.in.Unhealthy == nil {
		w.in.Unhealthy = map[string]string{}
	}
	w.in.Members = nil
	w.pass.unhealthy = map[string]bool{}
	w.misses = map[string]int{}
	if err := contract.QueryWatch.Handle(ctx, func() (contract.WatchStatus, error) { return w.st, nil }); err != nil {
		return err
	}
	w.actx = workflow.WithActivityOptions(ctx, HerokuActivityOptions(in.HerokuTaskQueue, 10*time.Minute))
	w.lctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, ScheduleToCloseTimeout: 10 * time.Minute})

	if _, shard, err := contract.ParseWatcherWorkflowID(workflow.GetInfo(ctx).WorkflowExecution.ID); err == nil && shard >= 0 {
		return w.handOver(ctx)
	}
	if w.in.RegionURL == "" && workflow.GetVersion(ctx, changeReconcileWakesWatchers, workflow.DefaultVersion, 1) >= 1 {
		// Started by the reconciler, which knows the app but not where its connections live.
		dctx := withPriority(w.actx, priorityBackground, "watch/"+w.in.App)
		if err := workflow.ExecuteActivity(dctx, a.DiscoverRegion, w.in.App).Get(ctx, &w.in.RegionURL); err != nil {
			return err
		}
		if w.in.RegionURL == "" {
			return nil // no connection to watch; a customer's registration starts it again
		}
	}
	for {
		w.drain()
		if w.in.PassStart.IsZero() {
			w.in.PassStart = workflow.Now(ctx)
		}
		passDone, err := w.round(ctx)
		if temporal.IsCanceledError(err) {
			return err
		}
		if err != nil {
			workflow.GetLogger(ctx).Warn("reading the app's connections failed; trying at the next interval", "app", w.in.App, "error", err)
		}
		w.st.Rounds++
		w.st.LastRound = workflow.Now(ctx)
		workflow.SetCurrentDetails(ctx, w.details())
		if passDone {
			if w.st.Connections == 0 && !w.woken {
				// Nothing to watch: wait for a customer, then end (a registration starts a new run).
				ok, err := workflow.AwaitWithTimeout(ctx, w.in.IdleTimeout, func() bool { return w.wake.Len() > 0 })
				if err != nil {
					return err
				}
				if !ok && !w.drain() {
					return nil
				}
				continue
			}
			if w.st.Rounds >= w.in.ContinueAsNewAfter || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
				w.drain()
				return workflow.NewContinueAsNewError(ctx, WatcherWorkflow, w.in)
			}
		}
		interval := w.in.ActiveInterval
		if w.pass.waiting > 0 || w.lastPass.waiting > 0 || w.woken || w.untold || !passDone {
			interval = w.in.WaitingInterval
		}
		w.woken = false
		// Sleep, but wake early for a new waiting customer so its first check is prompt.
		if _, err := workflow.AwaitWithTimeout(ctx, interval, func() bool { return w.wake.Len() > 0 && interval == w.in.ActiveInterval }); err != nil {
			return err
		}
	}
}

// drain reads the registrations (they only wake the watcher) and the unregistrations of
// older customers (nothing to do); it reports whether anyone registered.
func (w *watcherFromTruth) drain() bool {
	got := false
	for {
		var m contract.WatchMember
		if !w.wake.ReceiveAsync(&m) {
			break
		}
		got = true
	}
	for {
		var id string
		if !w.unreg.ReceiveAsync(&id) {
			break
		}
	}
	w.woken = w.woken || got
	return got
}

// round reads up to watchMaxPages pages and tells the owners what is news; it reports
// whether the pass over the app is complete.
func (w *watcherFromTruth) round(ctx workflow.Context) (bool, error) {
	level := priorityBackground
	if w.pass.waiting > 0 || w.lastPass.waiting > 0 || w.woken || w.untold {
		level = priorityPerson // a silent authorization is noticed by this read
	}
	rctx := withPriority(w.actx, level, "watch/"+w.in.App)
	authAfter := time.Time{} // a watcher that starts afresh reports every authorization once
	if !w.in.LastPassStart.IsZero() {
		authAfter = w.in.LastPassStart.Add(-watchNewsMargin)
	}
	unhealthy := sortedStrings(w.in.Unhealthy)
	var news []activities.ConnectionNews
	passDone := false
	var readErr error
	for p := 0; p < watchMaxPages; p++ {
		var page activities.WatchPage
		in := activities.WatchPageInput{App: w.in.App, RegionURL: w.in.RegionURL, Offset: w.in.Offset, Limit: heroku.AppConnectionsPage,
			AuthAfter: authAfter, Unhealthy: unhealthy}
		if readErr = workflow.ExecuteActivity(rctx, a.ReadConnectionsPage, in).Get(ctx, &page); readErr != nil {
			break
		}
		w.st.Pages++
		w.st.Connections = page.Count
		w.pass.waiting += page.Waiting
		for _, id := range page.Unhealthy {
			w.pass.unhealthy[id] = true
		}
		news = append(news, page.News...)
		if !page.More || page.Read == 0 {
			passDone = true
			break
		}
		w.in.Offset += page.Read
	}
	w.untold = false
	w.tell(ctx, news)
	if passDone {
		w.endPass(ctx)
	}
	return passDone, readErr
}

// endPass forgets what a complete pass no longer shows and starts the next pass.
func (w *watcherFromTruth) endPass(ctx workflow.Context) {
	for _, id := range sortedStrings(w.in.Unhealthy) {
		if !w.pass.unhealthy[id] {
			delete(w.in.Unhealthy, id) // recovered (told in this pass) or gone
		}
	}
	w.in.LastPassStart, w.in.PassStart, w.in.Offset = w.in.PassStart, workflow.Now(ctx), 0
	cutoff := w.in.LastPassStart.Add(-watchNewsMargin)
	for _, id := range sortedStrings(w.in.Reported) {
		if w.in.Reported[id].Before(cutoff) {
			delete(w.in.Reported, id) // older than any future pass reports
		}
	}
	w.lastPass = w.pass
	w.pass = passTally{unhealthy: map[string]bool{}}
	w.st.Waiting, w.st.Unhealthy = w.lastPass.waiting, len(w.in.Unhealthy)
}

// tell signals the owner of every connection whose news it has not told yet. An
// authorization nobody owns is looked up again for watchOwnerLookups rounds (a customer whose
// add-on visibility had not shown yet hears of it then); an unhealthy connection nobody owns
// is marked told at once (an add-on of someone else, or an orphan the reconciler removes).
func (w *watcherFromTruth) tell(ctx workflow.Context, news []activities.ConnectionNews) {
	var fresh []activities.ConnectionNews
	seen := map[string]bool{}
	for _, n := range news {
		if seen[n.ConnectionID] {
			continue
		}
		seen[n.ConnectionID] = true
		if heroku.Healthy(n.State) {
			_, wasUnhealthy := w.in.Unhealthy[n.ConnectionID]
			if at, ok := w.in.Reported[n.ConnectionID]; ok && at.Equal(n.AuthUpdated) && !wasUnhealthy {
				continue
			}
		} else if w.in.Unhealthy[n.ConnectionID] == n.State {
			continue
		}
		fresh = append(fresh, n)
	}
	if len(fresh) == 0 {
		return
	}
	addons := make([]string, 0, len(fresh))
	for _, n := range fresh {
		addons = append(addons, n.AddonID)
	}
	var owners map[string]string
	if err := workflow.ExecuteActivity(w.lctx, a.FindConnectionOwners, addons).Get(ctx, &owners); err != nil {
		workflow.GetLogger(ctx).Warn("finding the owners of connections failed; telling them at the next round", "app", w.in.App, "error", err)
		w.untold = true
		return
	}
	for start := 0; start < len(fresh); start += watchSignalBatch {
		var sent []workflow.Future
		for _, n := range fresh[start:min(start+watchSignalBatch, len(fresh))] {
			owner, ok := owners[n.AddonID]
			if ok {
				sent = append(sent, contract.SignalConnectionState.SendExternal(ctx, owner,
					contract.ConnectionStateReport{ConnectionID: n.ConnectionID, State: n.State, AuthUpdated: n.AuthUpdated}))
				w.st.Told++
			}
			switch {
			case heroku.Healthy(n.State) && ok:
				w.in.Reported[n.ConnectionID] = n.AuthUpdated
				delete(w.in.Unhealthy, n.ConnectionID)
			case heroku.Healthy(n.State):
				delete(w.in.Unhealthy, n.ConnectionID)
				// Visibility may lag a new customer's add-on by a moment: look again next
				// round, but not forever (a connection of an add-on nobody here owns).
				if w.misses[n.ConnectionID]++; w.misses[n.ConnectionID] >= watchOwnerLookups {
					w.in.Reported[n.ConnectionID] = n.AuthUpdated
					delete(w.misses, n.ConnectionID)
				} else {
					w.untold = true
				}
			default:
				w.in.Unhealthy[n.ConnectionID] = n.State
			}
		}
		for _, f := range sent {
			_ = f.Get(ctx, nil) // a customer that ended meanwhile needs nothing
		}
	}
}

// handOver moves an older shard watcher's duty to the app's one watcher and ends: that
// watcher finds every customer, this shard's included, through visibility.
func (w *watcherFromTruth) handOver(ctx workflow.Context) error {
	in := activities.RegisterWatchInput{WatcherID: contract.WatcherWorkflowID(w.in.App), TaskQueue: workflow.GetInfo(ctx).TaskQueueName,
		Member: contract.WatchMember{WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID},
		Start:  contract.WatcherInput{App: w.in.App, RegionURL: w.in.RegionURL, IdleTimeout: w.in.IdleTimeout}}
	return workflow.ExecuteActivity(w.lctx, a.RegisterWithWatcher, in).Get(ctx, nil)
}

func (w *watcherFromTruth) details() string {
	return fmt.Sprintf("Watching app `%s`: %d connections, %d waiting for a customer, %d needing one again; %d Heroku reads, %d reports this run",
		w.in.App, w.st.Connections, w.st.Waiting, w.st.Unhealthy, w.st.Pages, w.st.Told)
}

func sortedStrings[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	// The keys are sorted below.
	//workflowcheck:ignore
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // map order is random; what follows must replay in one order
	return keys
}
