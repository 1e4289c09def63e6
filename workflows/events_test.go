package workflows_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/workflows"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// receivers plays two endpoints for an event stream in the test environment: deliver says
// whether an attempt to an endpoint succeeds at that moment.
type receivers struct {
	mu        sync.Mutex
	env       *testsuite.TestWorkflowEnvironment
	deliver   func(ep string, now time.Time) bool
	got       map[string][]int // endpoint → sequences delivered, in order
	firstAt   map[string]time.Time
	attempts  map[string]int
	failing   map[string]bool
	marked    []contract.EndpointHealth
	scheduled int
}

func newReceivers(t *testing.T, deliver func(ep string, now time.Time) bool) *receivers {
	var s testsuite.WorkflowTestSuite
	r := &receivers{env: s.NewTestWorkflowEnvironment(), deliver: deliver, got: map[string][]int{}, firstAt: map[string]time.Time{},
		attempts: map[string]int{}, failing: map[string]bool{}}
	r.env.RegisterWorkflowWithOptions(workflows.EventsWorkflow, workflow.RegisterOptions{Name: contract.EventsWorkflowName})
	r.env.RegisterActivityWithOptions(func(context.Context, activities.TargetsInput) ([]string, error) {
		return []string{"ep_down", "ep_up"}, nil
	}, activity.RegisterOptions{Name: "EventTargets"})
	r.env.RegisterActivityWithOptions(func(ctx context.Context, in activities.DeliverInput) (activities.DeliverOutcome, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if activity.GetInfo(ctx).Attempt == 1 {
			r.scheduled++
		}
		if r.failing[in.EndpointID] {
			return activities.DeliverOutcome{Outcome: contract.DeliverySkipped}, nil
		}
		r.attempts[in.EndpointID]++
		now := r.env.Now()
		if !r.deliver(in.EndpointID, now) {
			return activities.DeliverOutcome{}, temporal.NewApplicationError("the receiver answered HTTP 503", contract.ErrDeliveryFailed)
		}
		if _, ok := r.firstAt[in.EndpointID]; !ok {
			r.firstAt[in.EndpointID] = now
		}
		r.got[in.EndpointID] = append(r.got[in.EndpointID], in.Event.Data.Sequence)
		return activities.DeliverOutcome{Outcome: contract.DeliveryDelivered, StatusCode: 204}, nil
	}, activity.RegisterOptions{Name: "DeliverEvent"})
	r.env.RegisterActivityWithOptions(func(_ context.Context, in activities.MarkInput) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.marked = append(r.marked, in.Health)
		r.failing[in.Health.ID] = true
		return nil
	}, activity.RegisterOptions{Name: "MarkEndpoint"})
	return r
}

func event(seq int) contract.LifecycleEvent {
	return contract.LifecycleEvent{ID: fmt.Sprintf("evt_%d", seq), Type: contract.EventURLIssued,
		Data: contract.EventData{ISVSlug: isv, CustomerID: "c1", Sequence: seq}}
}

// emit signals events 1..n a second apart, and event 3 twice (a retried emission).
func (r *receivers) emit(n int) {
	for i := 1; i <= n; i++ {
		r.env.RegisterDelayedCallback(func() { r.env.SignalWorkflow(contract.SignalEventEmit.Name, event(i)) }, time.Duration(i)*time.Second)
	}
	r.env.RegisterDelayedCallback(func() { r.env.SignalWorkflow(contract.SignalEventEmit.Name, event(3)) }, time.Duration(n+1)*time.Second)
}

// A receiver down for an hour, then up: every event reaches it, in order, once; the other
// endpoint is not held up by it; the retries are the activity's, so the stream's history
// has one delivery per event and endpoint, however many attempts.
func TestEventsWaitOutAReceiverDownForAnHour(t *testing.T) {
	var start time.Time
	r := newReceivers(t, func(ep string, now time.Time) bool { return ep != "ep_down" || now.Sub(start) > time.Hour })
	start = r.env.Now()
	r.emit(5)
	r.env.RegisterDelayedCallback(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		assert.Equal(t, []int{1, 2, 3, 4, 5}, r.got["ep_up"], "the healthy endpoint got everything while the other was down")
		assert.Empty(t, r.got["ep_down"])
	}, 30*time.Minute)
	r.env.ExecuteWorkflow(contract.EventsWorkflowName, contract.EventsInput{ISVSlug: isv, CustomerID: "c1"})
	require.True(t, r.env.IsWorkflowCompleted())
	require.NoError(t, r.env.GetWorkflowError(), "an idle stream completes")
	assert.Equal(t, []int{1, 2, 3, 4, 5}, r.got["ep_down"], "every event, in order, once")
	assert.Equal(t, []int{1, 2, 3, 4, 5}, r.got["ep_up"])
	assert.GreaterOrEqual(t, r.firstAt["ep_down"].Sub(start), time.Hour)
	assert.Less(t, r.firstAt["ep_down"].Sub(start), 3*time.Hour, "retries back off, but not past an hour")
	assert.Greater(t, r.attempts["ep_down"], 8, "the dead receiver was retried")
	assert.Equal(t, 10, r.scheduled, "one delivery per event and endpoint, whatever the attempts")
	assert.Empty(t, r.marked)
}

// A receiver that never answers: after 3 days of retries the endpoint is marked failing,
// and the events after it are not attempted (skipped, kept for redelivery) while the other
// endpoint got everything.
func TestEventsMarkAnEndpointFailingAfterThreeDays(t *testing.T) {
	r := newReceivers(t, func(ep string, _ time.Time) bool { return ep != "ep_down" })
	start := r.env.Now()
	r.emit(3)
	r.env.ExecuteWorkflow(contract.EventsWorkflowName, contract.EventsInput{ISVSlug: isv, CustomerID: "c1"})
	require.NoError(t, r.env.GetWorkflowError())
	require.Len(t, r.marked, 1)
	assert.Equal(t, contract.EndpointHealth{ID: "ep_down", State: contract.EndpointFailing, Reason: r.marked[0].Reason}, r.marked[0])
	assert.Contains(t, r.marked[0].Reason, "72h0m0s")
	assert.Equal(t, []int{1, 2, 3}, r.got["ep_up"])
	assert.Empty(t, r.got["ep_down"])
	assert.GreaterOrEqual(t, r.env.Now().Sub(start), 72*time.Hour)
}

func types(evs []contract.LifecycleEvent) []contract.EventType {
	out := make([]contract.EventType, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// A full onboarding emits its lifecycle in order, numbered from 1 within one onboarding,
// each event with an ID of its own.
func TestConnectionEmitsItsLifecycleInOrder(t *testing.T) {
	h := newHarness(t)
	st := onboardAndOffboard(t, h)
	assert.Equal(t, []contract.EventType{contract.EventOnboardingStarted, contract.EventURLIssued, contract.EventAuthorized,
		contract.EventActive, contract.EventOffboarded}, types(h.emitted))
	ids := map[string]bool{}
	for i, e := range h.emitted {
		assert.Equal(t, i+1, e.Data.Sequence)
		assert.Equal(t, st.OnboardingID, e.Data.OnboardingID)
		assert.NotEmpty(t, e.Data.OnboardingID)
		assert.False(t, ids[e.ID], "event IDs are unique")
		ids[e.ID] = true
	}
	issued := h.emitted[1].Data
	assert.NotEmpty(t, issued.AuthorizationURL)
	assert.Equal(t, 1, issued.Attempt)
	assert.NotEmpty(t, h.emitted[4].Data.CleanedUp, "the offboarding says what it removed")
}

// Too many mismatches: each mismatch and the failure are told; the failure's message names
// no Salesforce identity (it goes only with the identity, to endpoints that opted in).
func TestFailedEventKeepsIdentitiesApart(t *testing.T) {
	h := newHarness(t, func(c *herokusim.Config) { c.Lenient = true })
	in := input("c1")
	in.Options.MaxMismatches = 2
	h.start()
	h.at(time.Minute, func() { h.customerSignsIn("c1", "00D000000000099", "intruder@other.example"); h.returned(1) })
	h.at(2*time.Minute, func() { h.customerSignsIn("c1", "00D000000000099", "intruder@other.example"); h.returned(2) })
	_, err := h.run(in)
	require.Error(t, err)
	assert.Equal(t, []contract.EventType{contract.EventOnboardingStarted, contract.EventURLIssued, contract.EventIdentityMismatch,
		contract.EventURLIssued, contract.EventIdentityMismatch, contract.EventFailed}, types(h.emitted))
	failed := h.emitted[len(h.emitted)-1].Data
	assert.Equal(t, contract.ErrIdentityMismatch, failed.ErrorType)
	for _, who := range []string{"intruder@other.example", "00D000000000099", username, orgID} {
		assert.NotContains(t, failed.Error, who)
	}
	require.NotNil(t, failed.Salesforce)
	assert.Contains(t, failed.Salesforce.Problem, "00D000000000099", "the detail travels with the identity only")
	assert.NotEmpty(t, failed.CleanedUp)
	assert.Equal(t, 2, h.emitted[4].Data.Mismatches)
}

// While a new event's endpoints are being looked up, a delivery that settles shrinks the
// queue: the event after it must still be resolved, and delivered, before the one after
// that (issue 23 review: E4 overtook E3).
func TestEventsKeepOrderWhileTheQueueShrinks(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.EventsWorkflow, workflow.RegisterOptions{Name: contract.EventsWorkflowName})
	var mu sync.Mutex
	var got []int
	env.RegisterActivityWithOptions(func(_ context.Context, in activities.TargetsInput) ([]string, error) {
		if in.Type == contract.EventAuthorized { // E2: a slow lookup, while E1's delivery ends
			time.Sleep(300 * time.Millisecond)
		}
		return []string{"ep_a"}, nil
	}, activity.RegisterOptions{Name: "EventTargets"})
	env.RegisterActivityWithOptions(func(_ context.Context, in activities.DeliverInput) (activities.DeliverOutcome, error) {
		if in.Event.Data.Sequence == 1 {
			time.Sleep(50 * time.Millisecond)
		}
		mu.Lock()
		got = append(got, in.Event.Data.Sequence)
		mu.Unlock()
		return activities.DeliverOutcome{Outcome: contract.DeliveryDelivered}, nil
	}, activity.RegisterOptions{Name: "DeliverEvent"})
	ev := func(seq int, typ contract.EventType) contract.LifecycleEvent {
		e := event(seq)
		e.Type = typ
		return e
	}
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(contract.SignalEventEmit.Name, ev(1, contract.EventOnboardingStarted)) }, time.Second)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(contract.SignalEventEmit.Name, ev(2, contract.EventAuthorized))
		env.SignalWorkflow(contract.SignalEventEmit.Name, ev(3, contract.EventActive))
		env.SignalWorkflow(contract.SignalEventEmit.Name, ev(4, contract.EventOffboarded))
	}, time.Second+time.Millisecond)
	env.ExecuteWorkflow(contract.EventsWorkflowName, contract.EventsInput{ISVSlug: isv, CustomerID: "c1"})
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, []int{1, 2, 3, 4}, got)
}
