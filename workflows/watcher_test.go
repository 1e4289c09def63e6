package workflows_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/metrics"
	"github.com/connect-onboarding/worker/internal/metrics/metricstest"
	"github.com/connect-onboarding/worker/workflows"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// fakeApp is Heroku's regional list of one app's connections, paged by offset and limit.
type fakeApp struct {
	activities.Heroku
	mu     sync.Mutex // the workflow's callbacks change the app while an activity reads it
	conns  []heroku.Connection
	reads  []int       // offset of every read, in order
	readAt []time.Time // the workflow clock at every read
	now    func() time.Time
	// afterRead runs under the lock after each read (the app changing between reads).
	afterRead func(f *fakeApp, offset int)
}

func (f *fakeApp) AppConnectionsAt(_ context.Context, _, _ string, offset, limit int) (*heroku.ConnectionsPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads = append(f.reads, offset)
	if f.now != nil {
		f.readAt = append(f.readAt, f.now())
	}
	end := min(offset+limit, len(f.conns))
	if offset > end {
		offset = end
	}
	page := &heroku.ConnectionsPage{Count: len(f.conns), Results: append([]heroku.Connection(nil), f.conns[offset:end]...), More: end < len(f.conns)}
	if f.afterRead != nil {
		f.afterRead(f, offset)
	}
	return page, nil
}

// readTimes copies the read times under the lock: a read cancelled with the workflow may still
// be running when the test looks.
func (f *fakeApp) readTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.readAt...)
}

func (f *fakeApp) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reads)
}

func (f *fakeApp) set(id, state string, auth time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.conns {
		if f.conns[i].ID == id {
			f.conns[i].State = state
			f.conns[i].AuthUpdated = nil
			if !auth.IsZero() {
				f.conns[i].AuthUpdated = &auth
			}
		}
	}
}

// conn is connection id of add-on "addon-"+id, in state, authorized at auth (zero: never).
func conn(id, state string, auth time.Time) heroku.Connection {
	c := heroku.Connection{ID: id, AddonID: "addon-" + id, State: state}
	if !auth.IsZero() {
		c.AuthUpdated = &auth
	}
	return c
}

// watcherEnv runs the watcher with the real page reader over app; every add-on "addon-X" is
// owned by workflow "wf-X" unless owned says otherwise; signals land in told.
func watcherEnv(t *testing.T, app *fakeApp, owned func(addon string) bool) (*testsuite.TestWorkflowEnvironment, *[]string) {
	env, told, _ := watcherEnvAt(t, app, owned)
	return env, told
}

// watcherEnvAt is watcherEnv that also keeps when each signal went out.
func watcherEnvAt(t *testing.T, app *fakeApp, owned func(addon string) bool) (*testsuite.TestWorkflowEnvironment, *[]string, *[]time.Time) {
	return watcherEnvMetrics(t, app, owned, metricstest.New())
}

// watcherEnvMetrics is watcherEnvAt whose workflows emit their metrics on rec.
func watcherEnvMetrics(t *testing.T, app *fakeApp, owned func(addon string) bool, rec *metricstest.Recorder) (*testsuite.TestWorkflowEnvironment, *[]string, *[]time.Time) {
	var s testsuite.WorkflowTestSuite
	s.SetMetricsHandler(rec)
	env := s.NewTestWorkflowEnvironment()
	workflows.Register(env)
	acts := &activities.Activities{Heroku: app, Settings: testSettings()}
	activities.RegisterHeroku(env, acts)
	activities.RegisterOnboarding(env, acts)
	env.OnActivity(act.FindConnectionOwners, mock.Anything, mock.Anything).Return(func(_ context.Context, addons []string) (map[string]string, error) {
		out := map[string]string{}
		for _, a := range addons {
			if owned == nil || owned(a) {
				out[a] = "wf-" + strings.TrimPrefix(a, "addon-")
			}
		}
		return out, nil
	})
	app.now = env.Now
	told, at := &[]string{}, &[]time.Time{}
	var mu sync.Mutex // signals of one round are sent concurrently
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, contract.SignalConnectionState.Name, mock.Anything).Return(
		func(_, id, _, _ string, arg any) error {
			mu.Lock()
			defer mu.Unlock()
			*told = append(*told, id+"="+arg.(contract.ConnectionStateReport).State)
			*at = append(*at, env.Now())
			return nil
		})
	return env, told, at
}

var watchIn = contract.WatcherInput{App: "acme-app", RegionURL: "http://x"}

// The watcher keeps no members and tells each piece of news once: a watcher that starts
// afresh tells every authorization and every connection that needs someone (nobody is lost
// when a watcher is replaced); a silent authorization, a revocation and a recovery are told
// once each; a connection still waiting or still revoked is not told again; with nothing
// left in the app it ends.
func TestWatcherTellsNewsOnce(t *testing.T) {
	long := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	app := &fakeApp{conns: []heroku.Connection{
		conn("a", heroku.StateNeedAuthentication, time.Time{}), conn("b", heroku.StateIdle, long), conn("c", heroku.StateUnauthorized, long)}}
	env, told := watcherEnv(t, app, nil)
	env.RegisterDelayedCallback(func() { app.set("a", heroku.StateIdle, env.Now()) }, 70*time.Second)
	env.RegisterDelayedCallback(func() { app.set("c", heroku.StateIdle, env.Now()) }, 3*time.Minute)
	env.RegisterDelayedCallback(func() { app.mu.Lock(); app.conns = nil; app.mu.Unlock() }, 10*time.Minute)
	env.ExecuteWorkflow(workflows.WatcherWorkflow, watchIn)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError(), "ends once the app has no connections")
	require.Len(t, *told, 4)
	assert.ElementsMatch(t, []string{"wf-b=IDLE", "wf-c=UNAUTHORIZED"}, (*told)[:2], "the first pass of a fresh watcher")
	assert.Equal(t, []string{"wf-a=IDLE", "wf-c=IDLE"}, (*told)[2:], "then each change, once")
}

// Reads are bounded per round: an app of 25,000 connections is read 10 pages a round, a
// pass in three rounds, and an authorization on its last page is told within one pass; an
// app of 10,000 is read whole every round, so a silent authorization is told at the next
// round (within one interval).
func TestWatcherReadsAreBoundedPerRound(t *testing.T) {
	for _, n := range []int{25_000, 10_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			app := &fakeApp{}
			for i := range n {
				app.conns = append(app.conns, conn(fmt.Sprintf("c%05d", i), heroku.StateNeedAuthentication, time.Time{}))
			}
			env, told, at := watcherEnvAt(t, app, nil)
			last := app.conns[n-1].ID
			var authorizedAt time.Time
			env.RegisterDelayedCallback(func() { app.set(last, heroku.StateIdle, env.Now()); authorizedAt = env.Now() }, 5*time.Minute+time.Second)
			env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 20*time.Minute)
			env.ExecuteWorkflow(workflows.WatcherWorkflow, watchIn)
			require.Equal(t, []string{"wf-" + last + "=IDLE"}, *told)
			perRound := readsPerRound(app.readTimes())
			require.NotEmpty(t, perRound)
			for _, k := range perRound {
				assert.LessOrEqual(t, k, 10, "pages read in one round")
			}
			assert.Equal(t, min(10, (n+999)/1000), perRound[0], "a round reads up to ten pages")
			pass := time.Duration((n+9_999)/10_000) * 30 * time.Second
			assert.LessOrEqual(t, (*at)[0].Sub(authorizedAt), pass, "told within one pass")
		})
	}
}

// readsPerRound counts the reads made at each instant of the workflow clock: a round's
// reads happen at one instant (the test clock moves only while the workflow sleeps).
func readsPerRound(at []time.Time) []int {
	var out []int
	for i, t := range at {
		if i == 0 || !t.Equal(at[i-1]) {
			out = append(out, 0)
		}
		out[len(out)-1]++
	}
	return out
}

// News whose owner visibility does not show yet is told at a later round, not lost.
func TestWatcherRetriesNewsWithoutOwner(t *testing.T) {
	app := &fakeApp{conns: []heroku.Connection{conn("a", heroku.StateNeedAuthentication, time.Time{})}}
	lookups := 0
	env, told := watcherEnv(t, app, func(string) bool { lookups++; return lookups > 1 })
	env.RegisterDelayedCallback(func() { app.set("a", heroku.StateIdle, env.Now()) }, 40*time.Second)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 5*time.Minute)
	env.ExecuteWorkflow(workflows.WatcherWorkflow, watchIn)
	assert.Equal(t, []string{"wf-a=IDLE"}, *told)
	assert.Equal(t, 2, lookups, "looked up again at the next round, then told once")
}

// A revocation whose owner visibility hides for a while (45 s here, a customer mid
// continue-as-new or a lagging index) is told once the owner shows, not marked told at the
// first miss and lost (issue 22 item 2a: over 3 hours it was never told).
func TestWatcherTellsARevocationOnceItsOwnerShows(t *testing.T) {
	long := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	app := &fakeApp{conns: []heroku.Connection{conn("a", heroku.StateIdle, long)}}
	var env *testsuite.TestWorkflowEnvironment
	var revokedAt time.Time
	lookupsAfter := 0
	env, told := watcherEnv(t, app, func(string) bool {
		if revokedAt.IsZero() {
			return true
		}
		lookupsAfter++
		return env.Now().Sub(revokedAt) > 45*time.Second // hidden from visibility for 45 s
	})
	env.RegisterDelayedCallback(func() {
		revokedAt = env.Now()
		app.set("a", heroku.StateUnauthorized, long)
	}, 4*time.Minute+59*time.Second)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 3*time.Hour)
	env.ExecuteWorkflow(workflows.WatcherWorkflow, watchIn)
	assert.Equal(t, []string{"wf-a=IDLE", "wf-a=UNAUTHORIZED"}, *told, "the fresh watcher's first pass, then the revocation once its owner shows")
	assert.Greater(t, lookupsAfter, 1, "looked up again after the first miss")
}

// Connections removed while a pass is under way (offboardings) shift the unread ones onto
// pages already read; the watcher reads the shifted ones too, so an authorization there is
// told in that pass (issue 22 item 2b).
func TestWatcherReadsConnectionsShiftedByRemovals(t *testing.T) {
	app := &fakeApp{}
	for i := range 2500 {
		app.conns = append(app.conns, conn(fmt.Sprintf("c%04d", i), heroku.StateNeedAuthentication, time.Time{}))
	}
	env, told := watcherEnv(t, app, nil)
	// Authorized at index 1050; when the first page has been read, 100 connections before
	// it go away, so it moves to 950: onto the page already read.
	removed := false
	env.RegisterDelayedCallback(func() {
		app.set("c1050", heroku.StateIdle, env.Now())
		app.mu.Lock()
		app.afterRead = func(f *fakeApp, offset int) {
			if offset == 0 && !removed {
				removed = true
				f.conns = append(f.conns[:100:100], f.conns[200:]...)
			}
		}
		app.mu.Unlock()
	}, 5*time.Minute+time.Second)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 6*time.Minute)
	env.ExecuteWorkflow(workflows.WatcherWorkflow, watchIn)
	assert.True(t, removed)
	assert.Equal(t, []string{"wf-c1050=IDLE"}, *told, "told in the pass the removal happened in")
}

// The named list (make run, compose) and the typed keys (tests) are the same set.
func TestSearchAttributeListsAgree(t *testing.T) {
	typed := contract.SearchAttributeTypes()
	var names []string
	for k := range typed.GetUntypedValues() {
		names = append(names, k.GetName())
	}
	assert.ElementsMatch(t, contract.SearchAttributes(), names)
}

// An authorization nobody here owns (another product's add-on on the app) is looked up for a
// few rounds, then left alone: it neither costs a lookup every round nor keeps the pace fast.
func TestWatcherGivesUpOnNewsNobodyOwns(t *testing.T) {
	app := &fakeApp{conns: []heroku.Connection{conn("x", heroku.StateNeedAuthentication, time.Time{})}}
	lookups := 0
	env, told := watcherEnv(t, app, func(string) bool { lookups++; return false })
	env.RegisterDelayedCallback(func() { app.set("x", heroku.StateIdle, env.Now()) }, 10*time.Second)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, time.Hour)
	env.ExecuteWorkflow(workflows.WatcherWorkflow, watchIn)
	assert.Empty(t, *told)
	assert.Equal(t, 3, lookups)
	assert.LessOrEqual(t, app.readCount(), 3+12+1, "fast while looking, then every 5 minutes")
}

// A page's news is told as soon as the page is read (watcherKeepsPace): an authorization on
// the first page of a large app is told before the round reads its next page.
func TestWatcherTellsEachPageAtOnce(t *testing.T) {
	app := &fakeApp{}
	for i := range 2_500 {
		app.conns = append(app.conns, conn(fmt.Sprintf("c%05d", i), heroku.StateNeedAuthentication, time.Time{}))
	}
	first := app.conns[0].ID
	app.conns[0] = conn(first, heroku.StateIdle, time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	env, told := watcherEnv(t, app, nil)
	toldBeforePage2 := -1
	app.afterRead = func(_ *fakeApp, offset int) {
		if offset == 1000 && toldBeforePage2 < 0 {
			toldBeforePage2 = len(*told)
		}
	}
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, time.Minute)
	env.ExecuteWorkflow(workflows.WatcherWorkflow, watchIn)
	require.Contains(t, *told, "wf-"+first+"=IDLE")
	assert.Equal(t, 1, toldBeforePage2, "told before the second page was read")
}

// The watcher counts each round it read whole and going idle: what the WatcherStalled alert
// reads (a watcher that went idle owes no round).
func TestWatcherCountsItsRounds(t *testing.T) {
	app := &fakeApp{conns: []heroku.Connection{conn("a", heroku.StateNeedAuthentication, time.Time{})}}
	rec := metricstest.New()
	env, _, _ := watcherEnvMetrics(t, app, nil, rec)
	var rounds int64
	env.RegisterDelayedCallback(func() {
		rounds = rec.Count(metrics.WatcherRounds, "app", watchIn.App)
		assert.Zero(t, rec.Count(metrics.WatcherIdles, "app", watchIn.App))
		app.mu.Lock()
		app.conns = nil
		app.mu.Unlock()
	}, 5*time.Minute)
	env.ExecuteWorkflow(workflows.WatcherWorkflow, watchIn)
	require.NoError(t, env.GetWorkflowError())
	interval := testSettings().WatchWaitingInterval
	assert.InDelta(t, float64(5*time.Minute/interval), float64(rounds), 2, "a round every waiting interval while someone waits")
	assert.Equal(t, int64(1), rec.Count(metrics.WatcherIdles, "app", watchIn.App), "then idle once, and the run ends")
}
