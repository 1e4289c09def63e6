package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/metrics"
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
	// watchIdleTimeout ends a watcher whose app has had no connection for this long; a
	// customer's registration starts it again.
	watchIdleTimeout = time.Hour
	// watchRunRounds is how many rounds a run reads before it continues as new.
	watchRunRounds = 500
)

// watcher is one run of the watcher of one app. It carries no members: the truth is Heroku's
// list of the app's connections and Temporal's visibility of who owns each add-on; the
// watcher carries only its place in the pass and what it told.
type watcher struct {
	in       contract.WatcherInput
	settings contract.Settings
	st       contract.WatchStatus
	actx     workflow.Context // Heroku reads
	lctx     workflow.Context // visibility lookups and hand-over
	wake     workflow.ReceiveChannel
	unreg    workflow.ReceiveChannel
	woken    bool
	untold   bool // news whose owner was not found yet: look again soon
	// untilFound is watcherTellsUntilFound and keepsPace watcherKeepsPace: decided once
	// per run.
	untilFound, keepsPace bool
	misses                map[string]int // rounds in which a connection's news found no owner
	pass                  passTally
	lastPass              passTally
}

// passTally is what one pass over the app found.
type passTally struct {
	waiting   int
	unhealthy map[string]bool
}

// WatcherWorkflow reads every connection of one ISV app, a page per Heroku call, and tells
// the customer workflow that owns a connection (found in visibility by its add-on) of a new
// authorization or a state that needs someone. One watcher per app keeps the Heroku calls
// flat however many customers wait; it paces itself by what Heroku shows waiting, and ends
// when the app has had no connection for an hour. Nobody can be lost: a new or restarted
// watcher reports every authorization once.
func WatcherWorkflow(ctx workflow.Context, in contract.WatcherInput) error {
	w := &watcher{in: in, st: contract.WatchStatus{App: in.App},
		wake: contract.SignalWatchRegister.Channel(ctx), unreg: contract.SignalWatchUnregister.Channel(ctx)}
	if w.in.Reported == nil {
		w.in.Reported = map[string]time.Time{}
	}
	if w.in.Unhealthy == nil {
		w.in.Unhealthy = map[string]string{}
	}
	w.pass.unhealthy = map[string]bool{}
	w.misses = map[string]int{}
	if err := contract.QueryWatch.Handle(ctx, w.status); err != nil {
		return err
	}
	// Anyone with namespace access can start a watcher: its queue and pace come from the
	// worker, never from its input, and its reads go to region hosts the Heroku client
	// allows only.
	s, err := loadSettings(ctx)
	if err != nil {
		return err
	}
	w.settings = s
	w.untilFound = watcherVersions.hasMinVersion(ctx, watcherTellsUntilFound)
	w.keepsPace = watcherVersions.hasMinVersion(ctx, watcherKeepsPace)
	w.actx = herokuCall(ctx, s, 10*time.Minute)
	w.lctx = temporalCall(ctx, 10*time.Minute)
	if w.in.RegionURL == "" {
		// Started by the reconciler, which knows the app but not where its connections live.
		dctx := withPriority(w.actx, priorityBackground, "watch/"+w.in.App)
		if err := workflow.ExecuteActivity(dctx, a.DiscoverRegion, w.in.App).Get(ctx, &w.in.RegionURL); err != nil {
			return err
		}
		if w.in.RegionURL == "" {
			return nil // no connection to watch; a customer's registration starts it again
		}
	}
	return w.run(ctx)
}

// status answers QueryWatch.
func (w *watcher) status() (contract.WatchStatus, error) { return w.st, nil }

// run reads the app round after round until it is idle or continues as new.
func (w *watcher) run(ctx workflow.Context) error {
	for {
		w.drain()
		if w.in.PassStart.IsZero() {
			w.in.PassStart = workflow.Now(ctx)
		}
		roundStart := workflow.Now(ctx)
		passDone, err := w.round(ctx)
		if temporal.IsCanceledError(err) {
			return err
		}
		if err != nil {
			workflow.GetLogger(ctx).Warn("reading the app's connections failed; trying at the next interval", "app", w.in.App, "error", err)
		} else {
			metrics.WatcherRounds.Add(workflow.GetMetricsHandler(ctx), 1, "app", w.in.App) // silent while replaying
		}
		w.st.Rounds++
		w.st.LastRound = workflow.Now(ctx)
		workflow.SetCurrentDetails(ctx, w.details())
		if passDone {
			if w.st.Connections == 0 && !w.woken {
				// Nothing to watch: wait for a customer, then end (a registration starts a new run).
				metrics.WatcherIdles.Add(workflow.GetMetricsHandler(ctx), 1, "app", w.in.App)
				ok, err := workflow.AwaitWithTimeout(ctx, watchIdleTimeout, func() bool { return w.wake.Len() > 0 })
				if err != nil {
					return err
				}
				if !ok && !w.drain() {
					return nil
				}
				continue
			}
			if w.st.Rounds >= watchRunRounds || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
				w.drain()
				return workflow.NewContinueAsNewError(ctx, WatcherWorkflow, w.in)
			}
		}
		interval := w.settings.WatchActiveInterval
		if w.pass.waiting > 0 || w.lastPass.waiting > 0 || w.woken || w.untold || !passDone {
			interval = w.settings.WatchWaitingInterval
		}
		w.woken = false
		pause := interval
		if w.keepsPace {
			pause = untilNextRound(interval, roundStart, workflow.Now(ctx))
		}
		// Sleep, but wake early for a new waiting customer so its first check is prompt.
		if _, err := workflow.AwaitWithTimeout(ctx, pause, func() bool { return w.wake.Len() > 0 && interval == w.settings.WatchActiveInterval }); err != nil {
			return err
		}
	}
}

// untilNextRound is the pause that starts rounds one interval apart, however long a round's
// reads took (watcherKeepsPace): a silent authorization is read within one interval of
// happening. A round that took longer than the interval is followed at once.
func untilNextRound(interval time.Duration, roundStart, now time.Time) time.Duration {
	return max(interval-now.Sub(roundStart), time.Millisecond)
}

// drain reads the registrations (they only wake the watcher) and the unregistrations of
// older customers (nothing to do); it reports whether anyone registered.
func (w *watcher) drain() bool {
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
func (w *watcher) round(ctx workflow.Context) (bool, error) {
	level := priorityBackground
	if w.pass.waiting > 0 || w.lastPass.waiting > 0 || w.woken || w.untold {
		level = priorityPerson // a silent authorization is noticed by this read
	}
	rctx := withPriority(w.actx, level, "watch/"+w.in.App)
	authAfter := time.Time{} // a watcher that starts afresh reports every authorization once
	if !w.in.LastPassStart.IsZero() {
		authAfter = w.in.LastPassStart.Add(-watchNewsMargin)
	}
	unhealthy := workflow.DeterministicKeys(w.in.Unhealthy)
	if w.keepsPace {
		w.untold = false // each page's tell says whether news stays untold
	}
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
		if w.keepsPace {
			w.tell(ctx, news) // this page's news now, not after the round's last page
			news = nil
		}
		if w.untilFound {
			// Connections removed since the last read shifted the unread ones toward the
			// start: the ones now just before this page were never read. Read them too.
			if removed := w.in.SeenCount - page.Count; removed > 0 && w.in.Offset > 0 && p+1 < watchMaxPages {
				p++
				back := activities.WatchPageInput{App: w.in.App, RegionURL: w.in.RegionURL, Offset: max(0, w.in.Offset-removed),
					Limit: min(removed, w.in.Offset, heroku.AppConnectionsPage), AuthAfter: authAfter, Unhealthy: unhealthy}
				var shifted activities.WatchPage
				if readErr = workflow.ExecuteActivity(rctx, a.ReadConnectionsPage, back).Get(ctx, &shifted); readErr != nil {
					break
				}
				w.st.Pages++
				for _, id := range shifted.Unhealthy {
					w.pass.unhealthy[id] = true
				}
				news = append(news, shifted.News...)
			}
			w.in.SeenCount = page.Count
		}
		if !page.More || page.Read == 0 {
			passDone = true
			break
		}
		w.in.Offset += page.Read
	}
	if !w.keepsPace {
		w.untold = false
	}
	w.tell(ctx, news) // the news not told yet (with watcherKeepsPace: a shifted range's)
	if passDone {
		w.endPass(ctx)
	}
	return passDone, readErr
}

// endPass forgets what a complete pass no longer shows and starts the next pass.
func (w *watcher) endPass(ctx workflow.Context) {
	for _, id := range workflow.DeterministicKeys(w.in.Unhealthy) {
		if !w.pass.unhealthy[id] {
			delete(w.in.Unhealthy, id) // recovered (told in this pass) or gone
		}
	}
	w.in.LastPassStart, w.in.PassStart, w.in.Offset = w.in.PassStart, workflow.Now(ctx), 0
	cutoff := w.in.LastPassStart.Add(-watchNewsMargin)
	for _, id := range workflow.DeterministicKeys(w.in.Reported) {
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
// add-on visibility had not shown yet hears of it then). An unhealthy connection nobody owns
// is looked up again every pass until its owner shows (from watcherTellsUntilFound; before
// it, it was marked told at once).
func (w *watcher) tell(ctx workflow.Context, news []activities.ConnectionNews) {
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
			case ok || !w.untilFound:
				w.in.Unhealthy[n.ConnectionID] = n.State
			default:
				// Needs someone, and nobody was found to tell: it stays news, so every pass
				// looks again until its owner shows (an add-on of someone else costs a
				// visibility lookup a pass, no Heroku call); the fast pace only for a few rounds.
				if w.misses[n.ConnectionID]++; w.misses[n.ConnectionID] < watchOwnerLookups {
					w.untold = true
				}
			}
		}
		for _, f := range sent {
			_ = f.Get(ctx, nil) // a customer that ended meanwhile needs nothing
		}
	}
}

func (w *watcher) details() string {
	return fmt.Sprintf("Watching app `%s`: %d connections, %d waiting for a customer, %d needing one again; %d Heroku reads, %d reports this run",
		w.in.App, w.st.Connections, w.st.Waiting, w.st.Unhealthy, w.st.Pages, w.st.Told)
}
