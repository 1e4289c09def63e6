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

// WatcherWorkflow polls every connection of one ISV app in a single Heroku call and
// signals the customer workflows whose connection state changed. One watcher per app keeps
// the Heroku calls flat however many customers wait: fast while anyone waits for the
// customer, slow when all are active, and it ends when nobody is left.
func WatcherWorkflow(ctx workflow.Context, in contract.WatcherInput) error {
	if in.Members == nil {
		in.Members = map[string]contract.WatchMember{}
	}
	if workflow.GetVersion(ctx, changeTrust, workflow.DefaultVersion, 1) >= 1 {
		// Anyone with namespace access can start a watcher: its queue and pace come from the
		// worker, never from its input, and its reads go to region hosts the Heroku client
		// allows only.
		var s activities.Settings
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
		if err := workflow.ExecuteLocalActivity(lctx, "WorkerSettings").Get(ctx, &s); err != nil {
			return err
		}
		if err := s.Validate(); err != nil {
			return temporal.NewNonRetryableApplicationError("the worker's settings: "+err.Error(), contract.ErrInvalidInput, nil)
		}
		in.HerokuTaskQueue, in.WaitingInterval, in.ActiveInterval = s.HerokuTaskQueue, s.WatchWaitingInterval, s.WatchActiveInterval
		if in.IdleTimeout < time.Minute || in.IdleTimeout > 24*time.Hour {
			in.IdleTimeout = time.Hour
		}
		if in.ContinueAsNewAfter < 10 || in.ContinueAsNewAfter > 500 {
			in.ContinueAsNewAfter = 500
		}
	}
	if in.WaitingInterval <= 0 {
		in.WaitingInterval = 30 * time.Second
	}
	if in.ActiveInterval <= 0 {
		in.ActiveInterval = 5 * time.Minute
	}
	if in.IdleTimeout <= 0 {
		in.IdleTimeout = time.Hour
	}
	if in.ContinueAsNewAfter <= 0 {
		in.ContinueAsNewAfter = 500
	}
	if workflow.GetVersion(ctx, changeWatchFromTruth, workflow.DefaultVersion, 1) >= 1 {
		return runWatcherFromTruth(ctx, in)
	}
	register := contract.SignalWatchRegister.Channel(ctx)
	unregister := contract.SignalWatchUnregister.Channel(ctx)
	drain := func() bool {
		got := false
		for {
			var m contract.WatchMember
			if !register.ReceiveAsync(&m) {
				break
			}
			got = true
			in.Members[m.WorkflowID] = m
		}
		for {
			var id string
			if !unregister.ReceiveAsync(&id) {
				break
			}
			got = true
			delete(in.Members, id)
		}
		return got
	}
	if err := contract.QueryWatcherStatus.Handle(ctx, func() (map[string]contract.WatchMember, error) { return in.Members, nil }); err != nil {
		return err
	}
	actx := workflow.WithActivityOptions(ctx, HerokuActivityOptions(in.HerokuTaskQueue, 10*time.Minute))
	polls := 0
	for {
		drain()
		if len(in.Members) == 0 {
			ok, err := workflow.AwaitWithTimeout(ctx, in.IdleTimeout, func() bool { return register.Len() > 0 })
			if err != nil {
				return err
			}
			if !ok && !drain() {
				return nil // nobody to watch: end; a new registration starts a new run
			}
			continue
		}
		workflow.SetCurrentDetails(ctx, watcherDetails(in))
		// While anyone waits, this read is how a silent authorization is noticed: it goes
		// before onboarding work; a health read of active connections goes after it.
		level := priorityBackground
		if anyWaiting(in.Members) {
			level = priorityPerson
		}
		states, err := listConnections(ctx, withPriority(actx, level, "watch/"+in.App), in)
		if temporal.IsCanceledError(err) {
			return err
		}
		if err == nil {
			if workflow.GetVersion(ctx, changeWatchNoMidRoundJoin, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
				drain() // the old behaviour: a member that joined during the read was judged by it
			}
			// A member that joins while the read is in flight waits for the next round: its
			// connection may be newer than the read, and must not be taken for gone.
			reportChanges(ctx, in.Members, states)
		} else {
			workflow.GetLogger(ctx).Warn("reading app connections failed; trying at the next interval", "app", in.App, "error", err)
		}
		polls++
		if polls >= in.ContinueAsNewAfter || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			drain()
			return workflow.NewContinueAsNewError(ctx, WatcherWorkflow, in)
		}
		interval := in.ActiveInterval
		if anyWaiting(in.Members) {
			interval = in.WaitingInterval
		}
		// Sleep, but wake early for a new waiting customer so its first check is prompt.
		if _, err := workflow.AwaitWithTimeout(ctx, interval, func() bool { return register.Len() > 0 && interval == in.ActiveInterval }); err != nil {
			return err
		}
	}
}

// reportChanges signals every member whose connection state differs from what it knows.
// A member whose connection is gone is told so once ("GONE") and dropped; a member whose
// workflow is gone is dropped.
// listConnections reads the app's connections; runs recorded before the watcher compared
// auth_updated keep the older activity.
func listConnections(ctx, actx workflow.Context, in contract.WatcherInput) (map[string]activities.ConnectionSnapshot, error) {
	args := activities.AppConnectionsInput{App: in.App, RegionURL: in.RegionURL}
	if workflow.GetVersion(ctx, changeWatchAuthUpdated, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		var states map[string]string
		err := workflow.ExecuteActivity(actx, a.ListAppConnections, args).Get(ctx, &states)
		out := make(map[string]activities.ConnectionSnapshot, len(states))
		// Building a map does not depend on order.
		//workflowcheck:ignore
		for id, st := range states {
			out[id] = activities.ConnectionSnapshot{State: st}
		}
		return out, err
	}
	var snaps map[string]activities.ConnectionSnapshot
	if workflow.GetVersion(ctx, changeWatchOmitWaiting, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		err := workflow.ExecuteActivity(actx, a.ListAppConnectionStates, args).Get(ctx, &snaps)
		return snaps, err
	}
	err := workflow.ExecuteActivity(actx, a.ListAppConnectionsNotWaiting, args).Get(ctx, &snaps)
	if err != nil {
		return nil, err
	}
	if snaps == nil {
		snaps = map[string]activities.ConnectionSnapshot{}
	}
	// Members absent from the read are still waiting: report them as what they know.
	for _, id := range sortedKeys(in.Members) {
		m := in.Members[id]
		if _, ok := snaps[m.ConnectionID]; !ok && m.KnownState == heroku.StateNeedAuthentication && m.KnownAuth.IsZero() {
			snaps[m.ConnectionID] = activities.ConnectionSnapshot{State: heroku.StateNeedAuthentication}
		}
	}
	return snaps, nil
}

func reportChanges(ctx workflow.Context, members map[string]contract.WatchMember, states map[string]activities.ConnectionSnapshot) {
	type sent struct {
		id string
		f  workflow.Future
	}
	var futures []sent
	for _, id := range sortedKeys(members) {
		m := members[id]
		snap, ok := states[m.ConnectionID]
		state := snap.State
		if !ok {
			state = contract.StateGone
		}
		newAuth := !snap.AuthUpdated.IsZero() && snap.AuthUpdated.After(m.KnownAuth)
		if state == m.KnownState && !newAuth {
			continue
		}
		m.KnownState = state
		if newAuth {
			m.KnownAuth = snap.AuthUpdated
		}
		if state != heroku.StateNeedAuthentication && state != heroku.StateUnauthorized && state != heroku.StateNew {
			m.Waiting = false
		}
		members[id] = m
		f := contract.SignalConnectionState.SendExternal(ctx, m.WorkflowID, contract.ConnectionStateReport{ConnectionID: m.ConnectionID, State: state, AuthUpdated: snap.AuthUpdated})
		futures = append(futures, sent{id, f})
	}
	for _, s := range futures {
		if err := s.f.Get(ctx, nil); err != nil {
			delete(members, s.id)
			continue
		}
		if members[s.id].KnownState == contract.StateGone {
			delete(members, s.id)
		}
	}
}

func anyWaiting(members map[string]contract.WatchMember) bool {
	// "any member waiting" does not depend on order.
	//workflowcheck:ignore
	for _, m := range members {
		if m.Waiting {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]contract.WatchMember) []string {
	keys := make([]string, 0, len(m))
	// The keys are sorted below.
	//workflowcheck:ignore
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // map order is random; signals go out in a replayable order
	return keys
}

func watcherDetails(in contract.WatcherInput) string {
	waiting := 0
	// Counting does not depend on order.
	//workflowcheck:ignore
	for _, m := range in.Members {
		if m.Waiting {
			waiting++
		}
	}
	return fmt.Sprintf("Watching app `%s`: %d connections, %d waiting for the customer", in.App, len(in.Members), waiting)
}
