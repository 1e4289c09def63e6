package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// accessAnswer is what one request to the coordinator got.
type accessAnswer struct {
	addon    string
	since    time.Time
	ref      contract.ConnectionRef
	err      error
	rejected error // an update's, by the validator
	done     bool
}

// want signals SignalConnectionWanted for addon now, known to exist since now; resolve
// reads the answers once the coordinator has run.
func (h *harness) want(addon string) *accessAnswer {
	return h.wantSince(addon, h.env.Now())
}

func (h *harness) wantSince(addon string, since time.Time) *accessAnswer {
	h.env.SignalWorkflow(contract.SignalConnectionWanted.Name, contract.ConnectionWanted{Addon: addon, ISVSlug: isv, Since: since})
	return &accessAnswer{addon: addon, since: since}
}

// resolve reads each request's answer with QueryConnectionAnswer, as AwaitConnection does:
// only an answer for a request of that time or later counts.
func (h *harness) resolve(answers ...*accessAnswer) {
	for _, a := range answers {
		got := query[contract.AccessAnswer](h, contract.QueryConnectionAnswer.Name, a.addon)
		if got.Since.Before(a.since) {
			continue
		}
		switch got.State {
		case contract.AccessFound:
			a.ref, a.done = got.Connection, true
		case contract.AccessFailed:
			a.err, a.done = errors.New(got.Error), true
		}
	}
}

// wantByUpdate sends UpdateConnectionWanted, as 1.4.0's activities do.
func (h *harness) wantByUpdate(addon string) *accessAnswer {
	out := &accessAnswer{addon: addon, since: h.env.Now()}
	h.updates++
	h.env.UpdateWorkflow(contract.UpdateConnectionWanted.Name, fmt.Sprintf("want-%d", h.updates), &testsuite.TestUpdateCallback{
		OnReject: func(err error) { out.rejected, out.done = err, true },
		OnComplete: func(v any, err error) {
			out.err, out.done = err, true
			if err == nil {
				decodeInto(h.t, v, &out.ref)
			}
		},
	}, contract.ConnectionWanted{Addon: addon, ISVSlug: isv, Since: out.since})
	return out
}

// addons creates n provisioned add-ons of customers named prefix-i on the simulator.
func (h *harness) addons(prefix string, n int) []*heroku.Addon {
	var out []*heroku.Addon
	for i := range n {
		a, err := h.client.CreateAddon(context.Background(), isvApp, heroku.AddonCreate{Plan: "herokuconnect:enterprise",
			Name: contract.AddonName(isv, fmt.Sprintf("%s-%d", prefix, i)), Config: map[string]string{"isv": isv}})
		require.NoError(h.t, err)
		out = append(out, a)
	}
	return out
}

// connectionOf is the simulator's connection of an add-on (read with a join of its own).
func (h *harness) connectionOf(addon string) string {
	require.NoError(h.t, h.client.ConnectAuth(context.Background(), isvApp))
	refs, err := h.client.DiscoverConnections(context.Background(), isvApp, addon)
	require.NoError(h.t, err)
	require.Len(h.t, refs, 1)
	return refs[0].ID
}

// A burst of new customers on one app costs one join and one read, however many they are,
// and each gets its own add-on's connection.
func TestAccessServesABurstWithOneJoinAndOneRead(t *testing.T) {
	h := newHarness(t)
	added := h.addons("burst", 25)
	var answers []*accessAnswer
	h.at(time.Second, func() {
		for _, a := range added {
			answers = append(answers, h.want(a.Name))
		}
	})
	before := h.sim.Snapshot().Calls
	h.env.ExecuteWorkflow(workflows.AccessWorkflow, contract.AccessInput{App: isvApp})
	require.NoError(t, h.env.GetWorkflowError(), "the coordinator ends when idle")
	after := h.sim.Snapshot().Calls
	h.resolve(answers...)
	assert.Equal(t, 1, after["connect.auth"]-before["connect.auth"], "one join for the burst")
	assert.Equal(t, 1, after["connect.discover"]-before["connect.discover"], "one read for the burst")
	for i, a := range added {
		require.True(t, answers[i].done, a.Name)
		require.NoError(t, answers[i].err, a.Name)
		assert.Equal(t, h.connectionOf(a.Name), answers[i].ref.ID, "%s gets its own connection", a.Name)
	}
}

// Heroku puts the user on the access list of the add-ons that exist when it joins: an add-on
// made after the last join needs another, and an add-on older than it needs none.
func TestAccessJoinsOnlyForAddonsNewerThanTheLastJoin(t *testing.T) {
	h := newHarness(t)
	first := h.addons("early", 1)[0]
	var a1, a2, a3 *accessAnswer
	h.at(time.Second, func() { a1 = h.want(first.Name) })
	var late *heroku.Addon
	h.at(time.Minute, func() {
		late = h.addons("late", 1)[0]
		a2 = h.want(late.Name)
	})
	// Asked again (a retry, or an enrolled add-on looked up long ago): no join.
	h.at(2*time.Minute, func() { a3 = h.wantSince(first.Name, h.env.Now().Add(-90*time.Second)) })
	before := h.sim.Snapshot().Calls
	h.env.ExecuteWorkflow(workflows.AccessWorkflow, contract.AccessInput{App: isvApp})
	require.NoError(t, h.env.GetWorkflowError())
	after := h.sim.Snapshot().Calls
	h.resolve(a1, a2, a3)
	for _, a := range []*accessAnswer{a1, a2, a3} {
		require.True(t, a.done)
		require.NoError(t, a.err)
	}
	assert.Equal(t, h.connectionOf(late.Name), a2.ref.ID)
	assert.Equal(t, a1.ref, a3.ref)
	assert.Equal(t, 2, after["connect.auth"]-before["connect.auth"], "a join for the first, one for the late add-on, none for the repeat")
	assert.Equal(t, 3, after["connect.discover"]-before["connect.discover"])
}

// Without the join, the simulator shows nothing of an add-on made after it (the coordinator
// would never find it): the model the coordinator's rule rests on.
func TestSimulatorHidesAddonsMadeAfterTheJoin(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.client.ConnectAuth(context.Background(), isvApp))
	a := h.addons("after-join", 1)[0]
	refs, err := h.client.DiscoverConnections(context.Background(), isvApp, a.Name)
	require.NoError(t, err)
	assert.Empty(t, refs, "not on the access list of an add-on made after the join")
	require.NoError(t, h.client.ConnectAuth(context.Background(), isvApp))
	refs, err = h.client.DiscoverConnections(context.Background(), isvApp, a.Name)
	require.NoError(t, err)
	assert.Len(t, refs, 1)
}

// A request for an add-on Heroku never lists (a typo, or anyone's request with namespace
// access) gives up after 30 minutes, reading at a slowing pace and joining again only every
// few misses; bad requests are dropped before they cost anything.
func TestAccessGivesUpAndDropsBadRequests(t *testing.T) {
	h := newHarness(t)
	var missing *accessAnswer
	var bad []*accessAnswer
	h.at(time.Second, func() {
		missing = h.want("hc-acme-nosuchaddon")
		for _, name := range []string{"", "1starts-with-digit", "has space", "x"} {
			bad = append(bad, h.want(name))
		}
		bad = append(bad, h.wantSince("hc-acme-zero", time.Time{}))
	})
	before := h.sim.Snapshot().Calls
	h.env.ExecuteWorkflow(workflows.AccessWorkflow, contract.AccessInput{App: isvApp})
	require.NoError(t, h.env.GetWorkflowError())
	after := h.sim.Snapshot().Calls
	h.resolve(append(bad, missing)...)
	require.True(t, missing.done)
	require.Error(t, missing.err)
	assert.Contains(t, missing.err.Error(), "listed no connection for add-on hc-acme-nosuchaddon within 30m")
	for _, b := range bad {
		assert.False(t, b.done, "%q is not answered", b.addon)
	}
	st := h.accessStatus()
	assert.Equal(t, len(bad), st.Refused, "each bad request dropped")
	assert.Zero(t, st.Waiting)
	reads := after["connect.discover"] - before["connect.discover"]
	joins := after["connect.auth"] - before["connect.auth"]
	assert.LessOrEqual(t, reads, 50, "30 minutes of reads at a slowing pace (the poll interval times 1.2 per miss, up to 30 intervals)")
	assert.LessOrEqual(t, joins, reads/3+1, "a join every few misses at most")
}

func (h *harness) accessStatus() contract.AccessStatus {
	return query[contract.AccessStatus](h, contract.QueryAccess.Name)
}

// A 1.4.0 worker still running in a rolling upgrade asks by update: a 1.4.1 coordinator
// answers it from the same rounds as the signalled requests, and its validator still
// refuses a bad request.
func TestAccessStillAnswersUpdates(t *testing.T) {
	h := newHarness(t)
	added := h.addons("mixed", 2)
	var byUpdate, bySignal, bad *accessAnswer
	h.at(time.Second, func() {
		byUpdate = h.wantByUpdate(added[0].Name)
		bySignal = h.want(added[1].Name)
		bad = h.wantByUpdate("has space")
	})
	before := h.sim.Snapshot().Calls
	h.env.ExecuteWorkflow(workflows.AccessWorkflow, contract.AccessInput{App: isvApp})
	require.NoError(t, h.env.GetWorkflowError())
	after := h.sim.Snapshot().Calls
	h.resolve(bySignal)
	require.True(t, byUpdate.done)
	require.NoError(t, byUpdate.err)
	assert.Equal(t, h.connectionOf(added[0].Name), byUpdate.ref.ID)
	require.True(t, bySignal.done)
	assert.Equal(t, h.connectionOf(added[1].Name), bySignal.ref.ID)
	var ae *temporal.ApplicationError
	require.ErrorAs(t, bad.rejected, &ae)
	assert.Equal(t, contract.ErrInvalidInput, ae.Type())
	assert.Equal(t, 1, after["connect.discover"]-before["connect.discover"], "one read for both")
}

// A request raised while a round reads (the same add-on name asked again, for a newer
// add-on) is not answered by that round: it waits for the next, and the answer says which
// request it is for.
func TestAccessAnswersARaisedRequestWithTheNextRound(t *testing.T) {
	h := newHarness(t)
	a := h.addons("raised", 1)[0]
	var first, raised *accessAnswer
	h.at(time.Second, func() { first = h.want(a.Name) })
	// The round starts after the 1 s gather; its join and read are activities the test
	// environment runs at once, so the raise lands between the round's start and its end
	// only if it is sent when the round's first activity starts.
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "JoinConnectAccess" && raised == nil {
			raised = h.wantSince(a.Name, h.env.Now().Add(time.Millisecond))
		}
	})
	before := h.sim.Snapshot().Calls
	h.env.ExecuteWorkflow(workflows.AccessWorkflow, contract.AccessInput{App: isvApp})
	require.NoError(t, h.env.GetWorkflowError())
	after := h.sim.Snapshot().Calls
	require.NotNil(t, raised)
	h.resolve(first, raised)
	assert.True(t, first.done)
	assert.True(t, raised.done, "answered by a later round")
	assert.Equal(t, 2, after["connect.discover"]-before["connect.discover"], "a second round for the raised request")
}

// The coordinator continues as new after accessRunSignals requests (2,000), carrying what waits and
// what was answered: nothing asked is lost, nothing answered is read again.
func TestAccessCarriesRequestsOverContinueAsNew(t *testing.T) {
	defer workflows.SetAccessRunSignals(20)()
	h := newHarness(t)
	added := h.addons("carry", 3)
	h.at(time.Second, func() {
		for i := 0; i < 20; i++ {
			h.want(added[0].Name)
		}
		h.want(added[1].Name)
	})
	// Signalled while the run decides to continue as new: carried, not lost.
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "DiscoverConnectionsPage" {
			h.want(added[2].Name)
		}
	})
	h.env.ExecuteWorkflow(workflows.AccessWorkflow, contract.AccessInput{App: isvApp})
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, h.env.GetWorkflowError(), &can)
	var next contract.AccessInput
	require.NoError(t, decodeArg(can, &next))
	assert.Equal(t, isvApp, next.App)
	assert.False(t, next.JoinedAt.IsZero())
	names := map[string]string{}
	for _, a := range next.Answers {
		names[a.Addon] = a.State
	}
	for _, w := range next.Waiting {
		names[w.Addon] = "waiting"
	}
	assert.Equal(t, map[string]string{added[0].Name: contract.AccessFound, added[1].Name: contract.AccessFound, added[2].Name: "waiting"}, names)
}

// The coordinator's calls are configuration steps of the customers who wait (priority 2),
// shared under the first waiting customer's integration.
func TestAccessCallsCarryConfigurePriority(t *testing.T) {
	h := newHarness(t)
	a := h.addons("prio", 1)[0]
	h.at(time.Second, func() { h.want(a.Name) })
	h.env.ExecuteWorkflow(workflows.AccessWorkflow, contract.AccessInput{App: isvApp})
	require.NoError(t, h.env.GetWorkflowError())
	require.Equal(t, []string{"JoinConnectAccess", "DiscoverConnectionsPage"}, h.started())
	for _, s := range h.scheduled {
		assert.Equal(t, 2, s.Priority.PriorityKey, s.Type)
		assert.Equal(t, isv, s.Priority.FairnessKey, s.Type)
	}
}
