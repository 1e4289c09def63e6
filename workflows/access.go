package workflows

import (
	"fmt"
	"math"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

const (
	// accessGiveUp is how long an add-on waits for Connect to list its connection (what a
	// customer's own discovery poll allowed before 1.4.0).
	accessGiveUp = 30 * time.Minute
	// accessRejoinAfter is how many reads may miss an add-on a join covered before it is
	// joined again: the contract does not say a join covers an add-on still being set up.
	accessRejoinAfter = 3
	// accessGather is how long a round waits after the request that wakes it, so the
	// requests of a burst share it.
	accessGather = time.Second
	// accessMaxPages bounds a round's pages of the app's connections.
	accessMaxPages = 10
	// accessIdleTimeout ends a coordinator nobody asked for this long; the next request
	// starts it again (with Update-with-Start).
	accessIdleTimeout = 10 * time.Minute
	// accessRunRounds is how many rounds a run makes before it continues as new.
	accessRunRounds = 500
	// accessMaxWaiting bounds the add-ons one coordinator holds: a request beyond it is
	// refused (the customer's activity asks again).
	accessMaxWaiting = 20000
	// accessKeepAnswers is how long an answer stays for its asker to read (it polls every
	// few seconds).
	accessKeepAnswers = 10 * time.Minute
)

// accessRunSignals is how many requests a run takes before it continues as new: each is an
// event of its history (the server takes at most 10,000 signals a run). A variable only so
// a test can make it small.
var accessRunSignals = 2000

// access is one run of the Connect access coordinator of one app. Every customer of the app
// asks it for its add-on's connection; a round serves everyone waiting with one join (only
// when an add-on is newer than the last join) and one read of the app's connections, so a
// burst of new customers on one app costs two Heroku calls, not two each.
type access struct {
	in       contract.AccessInput
	settings contract.Settings
	st       contract.AccessStatus
	waiting  map[string]*accessWait // by add-on name
	answers  map[string]contract.AccessAnswer
	results  map[string]accessResult // of requests by update (access_before_1_4_1.go)
	updates  int                     // requests by update waiting for their result
	signals  workflow.ReceiveChannel
	arrivals int  // requests taken in this run
	taken    int  // of them, by signal
	closing  bool // ending or continuing as new: requests are refused until the next run
	// signalled is accessTakesSignals: answers are kept for the askers' queries, and a
	// request raised during a round waits for the next one.
	signalled bool
}

type accessWait struct {
	contract.ConnectionWanted
	asked  time.Time // the first request's arrival, for the give-up
	misses int       // reads that did not find it
	unseen int       // of them, since the last join
}

// AccessWorkflow joins the access list and discovers new connections for every customer of
// one ISV app at once: customers signal SignalConnectionWanted and read their answer with
// QueryConnectionAnswer. Its queue and pace are the worker's settings; a request's add-on is
// only a name to look for: the connection handed back is the one Heroku lists for that
// name, read after the request arrived.
func AccessWorkflow(ctx workflow.Context, in contract.AccessInput) error {
	if !contract.ValidApp(in.App) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("app %q is not a Heroku app name", in.App), contract.ErrInvalidInput, nil)
	}
	c := &access{in: in, st: contract.AccessStatus{App: in.App}, waiting: map[string]*accessWait{},
		answers: map[string]contract.AccessAnswer{}, results: map[string]accessResult{}}
	if err := contract.QueryAccess.Handle(ctx, c.status); err != nil {
		return err
	}
	if err := contract.QueryConnectionAnswer.Handle(ctx, c.answer); err != nil {
		return err
	}
	if err := contract.UpdateConnectionWanted.Handle(ctx, c.onWanted, c.validateWanted); err != nil {
		return err
	}
	s, err := loadSettings(ctx)
	if err != nil {
		return err
	}
	c.settings = s
	c.signalled = accessVersions.hasMinVersion(ctx, accessTakesSignals)
	c.carryIn(ctx)
	c.signals = contract.SignalConnectionWanted.Channel(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			c.take(ctx, contract.SignalConnectionWanted.Receive(ctx, c.signals))
		}
	})
	return c.run(ctx)
}

func (c *access) status() (contract.AccessStatus, error) {
	c.st.Waiting, c.st.JoinedAt = len(c.waiting), c.in.JoinedAt
	return c.st, nil
}

// answer is what the coordinator knows of an add-on's request.
func (c *access) answer(addon string) (contract.AccessAnswer, error) {
	if w, ok := c.waiting[addon]; ok {
		return contract.AccessAnswer{Addon: addon, State: contract.AccessWaiting, Since: w.Since}, nil
	}
	if a, ok := c.answers[addon]; ok {
		return a, nil
	}
	return contract.AccessAnswer{Addon: addon, State: contract.AccessUnknown}, nil
}

// take enters a signalled request. Anyone with namespace access can signal: an invalid
// request, or one beyond accessMaxWaiting, is dropped (its asker, finding it unknown, asks
// again).
func (c *access) take(ctx workflow.Context, w contract.ConnectionWanted) {
	if err := w.Validate(); err != nil || len(c.waiting) >= accessMaxWaiting {
		c.st.Refused++
		return
	}
	c.taken++
	c.want(ctx, w)
}

// want enters a request: a new add-on waits; one waiting already is looked for as of the
// later of the two requests.
func (c *access) want(ctx workflow.Context, w contract.ConnectionWanted) {
	c.arrivals++
	if cur, ok := c.waiting[w.Addon]; ok {
		if w.Since.After(cur.Since) {
			cur.Since = w.Since
		}
		return
	}
	c.waiting[w.Addon] = &accessWait{ConnectionWanted: w, asked: workflow.Now(ctx)}
}

// carryIn takes what the previous run carried over.
func (c *access) carryIn(ctx workflow.Context) {
	for _, w := range c.in.Waiting {
		if w.Validate() == nil {
			c.want(ctx, w)
		}
	}
	for _, a := range c.in.Answers {
		c.answers[a.Addon] = a
	}
	c.in.Waiting, c.in.Answers = nil, nil
}

// carryOut is the next run's input: the requests still waiting and the answers not yet
// stale, up to contract.AccessCarryMax of each (the rest are asked again).
func (c *access) carryOut() contract.AccessInput {
	next := contract.AccessInput{App: c.in.App, JoinedAt: c.in.JoinedAt}
	for _, n := range workflow.DeterministicKeys(c.waiting) {
		if len(next.Waiting) == contract.AccessCarryMax {
			break
		}
		next.Waiting = append(next.Waiting, c.waiting[n].ConnectionWanted)
	}
	for _, n := range workflow.DeterministicKeys(c.answers) {
		if len(next.Answers) == contract.AccessCarryMax {
			break
		}
		next.Answers = append(next.Answers, c.answers[n])
	}
	return next
}

// drain takes the requests signalled but not yet received (before the run ends or
// continues as new).
func (c *access) drain(ctx workflow.Context) {
	var w contract.ConnectionWanted
	for c.signals.ReceiveAsync(&w) {
		c.take(ctx, w)
		w = contract.ConnectionWanted{}
	}
}

// run makes a round whenever add-ons wait, and ends when nobody has asked for a while.
func (c *access) run(ctx workflow.Context) error {
	seen := 0 // requests a round has started with
	for {
		ok, err := workflow.AwaitWithTimeout(ctx, accessIdleTimeout, func() bool { return len(c.waiting) > 0 })
		if err != nil {
			return err
		}
		if !ok {
			c.drain(ctx)
			if len(c.waiting) > 0 {
				continue
			}
			c.closing = true
			return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
		}
		if c.arrivals > seen {
			if err := workflow.Sleep(ctx, accessGather); err != nil {
				return err
			}
		}
		seen = c.arrivals
		c.round(ctx)
		workflow.SetCurrentDetails(ctx, c.details())
		if c.st.Rounds >= accessRunRounds || c.taken >= accessRunSignals || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			c.closing = true // requests by update still waiting are asked again by their activities
			c.giveBack("the coordinator continued as new; ask again")
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return err
			}
			next := contract.AccessInput{App: c.in.App, JoinedAt: c.in.JoinedAt}
			if c.signalled {
				c.drain(ctx)
				next = c.carryOut()
			}
			return workflow.NewContinueAsNewError(ctx, AccessWorkflow, next)
		}
		if len(c.waiting) > 0 {
			// Connect has not listed some yet: read again at the poll pace (slower the
			// longer the newest has waited, as a customer's own poll slowed), or sooner
			// for a newcomer.
			if _, err := workflow.AwaitWithTimeout(ctx, c.pause(), func() bool { return c.arrivals > seen }); err != nil {
				return err
			}
		}
	}
}

// pause is the wait before reading again for add-ons Connect has not listed: the poll
// interval, times 1.2 for every read that missed the newest of them, up to 30 intervals.
func (c *access) pause() time.Duration {
	misses := math.MaxInt
	for _, n := range workflow.DeterministicKeys(c.waiting) {
		misses = min(misses, c.waiting[n].misses)
	}
	d := float64(c.settings.PollInterval) * math.Pow(1.2, float64(min(misses, 20)))
	return min(time.Duration(d), 30*c.settings.PollInterval)
}

func (c *access) details() string {
	return fmt.Sprintf("**app `%s`** · %d add-ons waiting for their connection · %d rounds, %d joins, %d reads, %d found",
		c.in.App, len(c.waiting), c.st.Rounds, c.st.Joins, c.st.Reads, c.st.Found)
}

// round joins when an add-on waiting is newer than the last join (or was missed too often
// since), then reads the app's connections for everyone waiting.
func (c *access) round(ctx workflow.Context) {
	c.st.Rounds++
	names := workflow.DeterministicKeys(c.waiting)
	since := make(map[string]time.Time, len(names)) // what this round answers for
	for _, n := range names {
		since[n] = c.waiting[n].Since
	}
	hctx := withPriority(herokuCall(ctx, c.settings, time.Hour), priorityConfigure, c.waiting[names[0]].ISVSlug)
	join := false
	for _, n := range names {
		w := c.waiting[n]
		join = join || !w.Since.Before(c.in.JoinedAt) || w.unseen >= accessRejoinAfter
	}
	if join {
		asked := workflow.Now(ctx)
		if err := workflow.ExecuteActivity(hctx, a.JoinConnectAccess, c.in.App).Get(ctx, nil); err != nil {
			c.failAll(ctx, names, since, "joining the Connect access list of "+c.in.App+": "+errorMessage(err))
			return
		}
		c.st.Joins++
		c.in.JoinedAt = asked
		for _, n := range names {
			c.waiting[n].unseen = 0
		}
	}
	found, err := c.read(ctx, hctx, names)
	if err != nil {
		c.failAll(ctx, names, since, "reading the connections of "+c.in.App+": "+errorMessage(err))
		return
	}
	now := workflow.Now(ctx)
	for _, n := range names {
		if ref, ok := found[n]; ok {
			c.result(n, accessResult{round: c.st.Rounds, ref: ref})
			c.answerOne(ctx, n, since[n], contract.AccessAnswer{State: contract.AccessFound, Connection: ref})
			c.st.Found++
			continue
		}
		w := c.waiting[n]
		w.misses++
		w.unseen++
		if now.Sub(w.asked) >= accessGiveUp {
			why := fmt.Sprintf("Heroku Connect listed no connection for add-on %s within %s", n, accessGiveUp)
			c.result(n, accessResult{round: c.st.Rounds, err: why})
			c.answerOne(ctx, n, since[n], contract.AccessAnswer{State: contract.AccessFailed, Error: why})
		}
	}
	c.forgetStale(now)
}

// answerOne records a round's answer for the add-on n, looked for as of since. A request
// raised during the round (a later since) keeps waiting for the next round: this round's
// read may have started before its add-on existed.
func (c *access) answerOne(ctx workflow.Context, n string, since time.Time, a contract.AccessAnswer) {
	a.Addon, a.Since, a.At = n, since, workflow.Now(ctx)
	c.answers[n] = a
	if c.signalled && c.waiting[n].Since.After(since) {
		return
	}
	delete(c.waiting, n)
}

// forgetStale drops the answers their askers had time to read.
func (c *access) forgetStale(now time.Time) {
	if !c.signalled {
		return
	}
	for _, n := range workflow.DeterministicKeys(c.answers) {
		if now.Sub(c.answers[n].At) > accessKeepAnswers {
			delete(c.answers, n)
		}
	}
}

// read finds the connections of the named add-ons: one read per add-on when they are fewer
// than the pages of the app, else the app's pages (up to accessMaxPages).
func (c *access) read(ctx, hctx workflow.Context, names []string) (map[string]contract.ConnectionRef, error) {
	found := map[string]contract.ConnectionRef{}
	pages := max(1, (c.st.Connections+heroku.AppConnectionsPage-1)/heroku.AppConnectionsPage)
	if len(names) < pages {
		for _, n := range names {
			var got activities.Discovered
			if err := workflow.ExecuteActivity(hctx, a.DiscoverConnectionsPage, activities.DiscoveryInput{App: c.in.App, Addon: n, Wanted: []string{n}}).Get(ctx, &got); err != nil {
				return nil, err
			}
			c.st.Reads++
			for _, k := range workflow.DeterministicKeys(got.Connections) {
				found[k] = got.Connections[k]
			}
		}
		return found, nil
	}
	in := activities.DiscoveryInput{App: c.in.App, Wanted: names}
	for p := 0; p < accessMaxPages; p++ {
		var got activities.Discovered
		if err := workflow.ExecuteActivity(hctx, a.DiscoverConnectionsPage, in).Get(ctx, &got); err != nil {
			return nil, err
		}
		c.st.Reads++
		c.st.Connections = got.Count
		for _, k := range workflow.DeterministicKeys(got.Connections) {
			found[k] = got.Connections[k]
		}
		if !got.More || len(found) == len(names) {
			break
		}
		in.Offset += heroku.AppConnectionsPage
	}
	return found, nil
}

// failAll answers everyone waiting with why the round failed.
func (c *access) failAll(ctx workflow.Context, names []string, since map[string]time.Time, why string) {
	for _, n := range names {
		c.result(n, accessResult{round: c.st.Rounds, err: why})
		c.answerOne(ctx, n, since[n], contract.AccessAnswer{State: contract.AccessFailed, Error: why})
	}
}
