package workflows

// The event stream of one customer (or of one integration): events arrive by signal, each
// is resolved once to the endpoints subscribed at that moment, and each endpoint gets the
// stream's events one at a time, in order, so none overtakes an earlier one. A dead
// endpoint holds up only its own queue; its retries back off in the activity's retry
// policy, so a stream's history grows per event, never per attempt. And an endpoint's
// delivery log: every attempt, bounded.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/metrics"
	"github.com/connect-onboarding/worker/workflows/contract"
)

const (
	// deliveryGiveUp is how long an event's delivery to an endpoint is retried before the
	// endpoint is marked failing.
	deliveryGiveUp = 72 * time.Hour
	// pingGiveUp bounds a ping: it tests the endpoint now, it does not wait for it.
	pingGiveUp = 2 * time.Minute
	// eventsKept are the last events a stream keeps for redelivery by ID.
	eventsKept = 50
	// eventsSeenKept bounds the IDs remembered to drop duplicates (a retried emission).
	eventsSeenKept = 500
	// eventsIdle is how long an idle stream waits for more before it completes (and with it
	// what it kept for redelivery).
	eventsIdle = 7 * 24 * time.Hour
	// eventsContinueAfter continues a stream as new past this many history events.
	eventsContinueAfter = 5000
)

type events struct {
	in     contract.EventsInput
	queue  []contract.QueuedEvent
	recent []contract.LifecycleEvent
	seen   []string          // IDs received, oldest first
	active map[string]string // endpoint → the event being delivered to it
	// changed: a signal arrived or a delivery ended; draining: stop starting deliveries.
	changed, draining bool
	// stop cancels the deliveries in flight when the stream continues as new: their events
	// stay queued and are sent again by the next run (at least once, same webhook-id).
	stop workflow.CancelFunc
}

// EventsWorkflow delivers one customer's (or one integration's) lifecycle events to the
// integration's endpoints; see docs/architecture.md.
func EventsWorkflow(ctx workflow.Context, in contract.EventsInput) error {
	e := &events{in: in, active: map[string]string{}}
	if c := in.Carry; c != nil {
		e.queue, e.recent, e.seen = c.Queue, c.Recent, c.Seen
		e.in.Carry = nil
	}
	if err := contract.QueryEvents.Handle(ctx, e.status); err != nil {
		return err
	}
	workflow.Go(ctx, e.receiveEmits)
	workflow.Go(ctx, e.receiveRedeliveries)
	dctx, stop := workflow.WithCancel(ctx)
	e.stop = stop
	for {
		e.changed = false
		e.resolve(ctx)
		e.settle()
		if !e.draining && e.shouldContinueAsNew(ctx) {
			// A dead endpoint's delivery may retry for days: it is cancelled, not waited
			// for, so it holds up no other endpoint's events.
			e.draining = true
			e.stop()
		}
		if e.draining && len(e.active) == 0 {
			e.drain(ctx)
			return workflow.NewContinueAsNewError(ctx, EventsWorkflow, e.carry())
		}
		if !e.draining {
			for _, ep := range e.waitingEndpoints() {
				e.active[ep] = ""
				workflow.Go(dctx, func(ctx workflow.Context) { e.deliverTo(ctx, ep) })
			}
		}
		if len(e.queue) == 0 && len(e.active) == 0 {
			got, err := workflow.AwaitWithTimeout(ctx, eventsIdle, func() bool { return e.changed })
			if err != nil {
				return err
			}
			if !got && e.drain(ctx) == 0 && len(e.queue) == 0 {
				return nil
			}
			continue
		}
		if err := workflow.Await(ctx, func() bool { return e.changed }); err != nil {
			return err
		}
	}
}

func (e *events) status() (contract.EventsStatus, error) {
	return contract.EventsStatus{Queued: e.queue, Recent: e.recent, Active: e.active}, nil
}

func (e *events) receiveEmits(ctx workflow.Context) {
	ch := contract.SignalEventEmit.Channel(ctx)
	for {
		e.accept(ctx, contract.SignalEventEmit.Receive(ctx, ch))
	}
}

func (e *events) receiveRedeliveries(ctx workflow.Context) {
	ch := contract.SignalRedeliver.Channel(ctx)
	for {
		e.redeliver(ctx, contract.SignalRedeliver.Receive(ctx, ch))
	}
}

// drain applies the signals already received; it answers how many there were.
func (e *events) drain(ctx workflow.Context) int {
	n := 0
	for _, s := range []struct {
		ch    workflow.ReceiveChannel
		apply func(workflow.ReceiveChannel) bool
	}{
		{contract.SignalEventEmit.Channel(ctx), func(ch workflow.ReceiveChannel) bool {
			var ev contract.LifecycleEvent
			if !ch.ReceiveAsync(&ev) {
				return false
			}
			e.accept(ctx, ev)
			return true
		}},
		{contract.SignalRedeliver.Channel(ctx), func(ch workflow.ReceiveChannel) bool {
			var r contract.Redeliver
			if !ch.ReceiveAsync(&r) {
				return false
			}
			e.redeliver(ctx, r)
			return true
		}},
	} {
		for s.apply(s.ch) {
			n++
		}
	}
	return n
}

// accept queues an event, dropping one already received (a retried emission sends the
// same ID).
func (e *events) accept(ctx workflow.Context, ev contract.LifecycleEvent) {
	e.changed = true
	if ev.ID == "" || slices.Contains(e.seen, ev.ID) {
		return
	}
	e.seen = append(e.seen, ev.ID)
	if len(e.seen) > eventsSeenKept {
		e.seen = e.seen[len(e.seen)-eventsSeenKept:]
	}
	e.queue = append(e.queue, contract.QueuedEvent{Event: ev})
}

// redeliver queues a kept event again, for one endpoint.
func (e *events) redeliver(ctx workflow.Context, r contract.Redeliver) {
	e.changed = true
	for _, q := range e.queue {
		if q.Event.ID == r.EventID && slices.Contains(q.Pending, r.EndpointID) {
			return // already on its way to that endpoint
		}
	}
	for _, ev := range e.recent {
		if ev.ID == r.EventID && r.EndpointID != "" {
			e.queue = append(e.queue, contract.QueuedEvent{Event: ev, Resolved: true, Pending: []string{r.EndpointID}})
			return
		}
	}
	workflow.GetLogger(ctx).Warn("redelivery of an event this stream no longer keeps", "event", r.EventID)
}

// resolve finds, in order, the endpoints each new event is for (those subscribed now). The
// queue changes while an activity runs (deliveries settle), so each round looks for the
// first unresolved event again, by position, and resolves it by ID.
func (e *events) resolve(ctx workflow.Context) {
	for {
		i := slices.IndexFunc(e.queue, func(q contract.QueuedEvent) bool { return !q.Resolved })
		if i < 0 {
			return
		}
		ev := e.queue[i].Event
		var targets []string
		in := activities.TargetsInput{ISVSlug: e.in.ISVSlug, Type: ev.Type, Only: ev.Only}
		// Temporal unreachable is the only failure: retried until it answers.
		if err := workflow.ExecuteActivity(eventsCall(ctx, 0), a.EventTargets, in).Get(ctx, &targets); err != nil {
			return
		}
		for j := range e.queue {
			if e.queue[j].Event.ID == ev.ID && !e.queue[j].Resolved {
				e.queue[j].Resolved, e.queue[j].Pending = true, targets
				break
			}
		}
		e.changed = true
	}
}

// settle moves the events that reached every endpoint to the kept ones.
func (e *events) settle() {
	kept := e.queue[:0]
	for _, q := range e.queue {
		if q.Resolved && len(q.Pending) == 0 {
			if q.Event.Only == "" {
				e.recent = append(e.recent, q.Event)
			}
			continue
		}
		kept = append(kept, q)
	}
	e.queue = kept
	if len(e.recent) > eventsKept {
		e.recent = e.recent[len(e.recent)-eventsKept:]
	}
}

// waitingEndpoints are the endpoints with events to deliver and no delivery running, in a
// deterministic order.
func (e *events) waitingEndpoints() []string {
	var out []string
	for _, q := range e.queue {
		for _, ep := range q.Pending {
			if _, busy := e.active[ep]; !busy && !slices.Contains(out, ep) {
				out = append(out, ep)
			}
		}
	}
	return out
}

// next is the first queued event still pending for ep: the stream's order. An event not
// resolved yet may be for ep too: nothing after it goes before it is.
func (e *events) next(ep string) (contract.QueuedEvent, bool) {
	for _, q := range e.queue {
		if !q.Resolved {
			return contract.QueuedEvent{}, false
		}
		if slices.Contains(q.Pending, ep) {
			return q, true
		}
	}
	return contract.QueuedEvent{}, false
}

// deliverTo delivers the stream's events to one endpoint, one at a time, in order.
func (e *events) deliverTo(ctx workflow.Context, ep string) {
	defer func() {
		delete(e.active, ep)
		e.changed = true
	}()
	for !e.draining {
		q, ok := e.next(ep)
		if !ok {
			return
		}
		e.active[ep] = q.Event.ID
		if !e.deliverOne(ctx, ep, q) {
			return // cancelled for continue-as-new: the event stays pending
		}
		for i := range e.queue {
			if e.queue[i].Event.ID == q.Event.ID {
				e.queue[i].Pending = slices.DeleteFunc(e.queue[i].Pending, func(p string) bool { return p == ep })
				break
			}
		}
		e.settle()
		e.changed = true
	}
}

// deliverOne runs one event's delivery to an endpoint until it is delivered, skipped or
// given up (72 hours from its first attempt); an endpoint that answered 410, or whose
// retries were spent, is marked so. It reports false when cancelled (the event stays
// pending). A worker without EVENTS_SECRET_KEY cannot sign: the delivery waits for the key
// (tried again every half hour) instead of spending its retries, so nothing is lost.
func (e *events) deliverOne(ctx workflow.Context, ep string, q contract.QueuedEvent) bool {
	in := activities.DeliverInput{ISVSlug: e.in.ISVSlug, EndpointID: ep, Event: q.Event}
	giveUp := deliveryGiveUp
	if q.Event.Only != "" {
		giveUp = pingGiveUp
	}
	var out activities.DeliverOutcome
	var err error
	for {
		err = workflow.ExecuteActivity(eventsCall(ctx, giveUp), a.DeliverEvent, in).Get(ctx, &out)
		if !isErrorType(err, contract.ErrEventsNotConfigured) {
			break
		}
		if workflow.Sleep(ctx, eventsKeyWait) != nil {
			return false
		}
	}
	if ctx.Err() != nil {
		return false
	}
	health := contract.EndpointHealth{ID: ep}
	rec := contract.DeliveryAttempt{EventID: q.Event.ID, Type: q.Event.Type, CustomerID: q.Event.Data.CustomerID, Sequence: q.Event.Data.Sequence}
	switch {
	case q.Event.Only != "":
		return true // a ping says how it went in the log; the endpoint's state is not its to change
	case err != nil:
		health.State, health.Reason = contract.EndpointFailing, "deliveries failed for "+deliveryGiveUp.String()+": "+errorMessage(err)
		rec.Outcome, rec.Error = contract.DeliveryFailed, health.Reason
	case out.Outcome == contract.DeliveryGone:
		health.State, health.Reason = contract.EndpointDisabled, out.Reason
	case out.Outcome == contract.DeliveryRefused:
		health.State, health.Reason = contract.EndpointFailing, out.Reason
	default:
		return true
	}
	if rec.Outcome == "" {
		rec.Outcome, rec.Error = out.Outcome, out.Reason
	}
	mark := activities.MarkInput{ISVSlug: e.in.ISVSlug, Health: health, Record: rec}
	if err := workflow.ExecuteActivity(eventsCall(ctx, 0), a.MarkEndpoint, mark).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("could not mark the endpoint", "endpoint", ep, "state", health.State, "error", err)
	}
	return true
}

// eventsKeyWait paces deliveries waiting for the worker's EVENTS_SECRET_KEY.
const eventsKeyWait = 30 * time.Minute

func isErrorType(err error, t string) bool {
	var ae *temporal.ApplicationError
	return errors.As(err, &ae) && ae.Type() == t
}

func (e *events) shouldContinueAsNew(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() > eventsContinueAfter
}

func (e *events) carry() contract.EventsInput {
	next := e.in
	next.Carry = &contract.EventsCarry{Queue: e.queue, Recent: e.recent, Seen: e.seen}
	return next
}

// DeliveryLogWorkflow keeps one endpoint's delivery log: the last MaxLoggedDeliveries
// events, each with its last MaxLoggedAttempts attempts. It never completes: it waits for
// the next attempt at no cost, and continues as new to keep its history short.
func DeliveryLogWorkflow(ctx workflow.Context, in contract.DeliveryLogInput) error {
	log := in.Carry
	err := contract.QueryDeliveries.Handle(ctx, func() ([]contract.Delivery, error) {
		out := make([]contract.Delivery, 0, len(log))
		for i := len(log) - 1; i >= 0; i-- {
			out = append(out, log[i])
		}
		return out, nil
	})
	if err != nil {
		return err
	}
	ch := contract.SignalDeliveryAttempt.Channel(ctx)
	record := func(rec contract.DeliveryAttempt) {
		rec.Error = contract.Truncate(rec.Error, contract.MaxLoggedError)
		for i := len(log) - 1; i >= 0; i-- {
			if log[i].EventID == rec.EventID {
				d := &log[i]
				d.Outcome = rec.Outcome
				d.Attempts = append(d.Attempts, rec)
				if len(d.Attempts) > contract.MaxLoggedAttempts {
					d.Attempts = d.Attempts[len(d.Attempts)-contract.MaxLoggedAttempts:]
				}
				return
			}
		}
		log = append(log, contract.Delivery{EventID: rec.EventID, Type: rec.Type, CustomerID: rec.CustomerID, Sequence: rec.Sequence,
			Outcome: rec.Outcome, Attempts: []contract.DeliveryAttempt{rec}})
		if len(log) > contract.MaxLoggedDeliveries {
			log = log[len(log)-contract.MaxLoggedDeliveries:]
		}
	}
	for {
		record(contract.SignalDeliveryAttempt.Receive(ctx, ch))
		info := workflow.GetInfo(ctx)
		if info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() > eventsContinueAfter {
			var rec contract.DeliveryAttempt
			for ch.ReceiveAsync(&rec) {
				record(rec)
			}
			in.Carry = log
			return workflow.NewContinueAsNewError(ctx, DeliveryLogWorkflow, in)
		}
	}
}

// eventID is an event's ID, the same for every attempt to emit it: from the scope that
// numbers the events (an onboarding, or the partner workflow's chain) and its number.
func eventID(scope string, seq int) string {
	sum := sha256.Sum256([]byte(scope + ":" + strconv.Itoa(seq)))
	return "evt_" + hex.EncodeToString(sum[:12])
}

// firstRunID names a workflow's chain of runs (through continue-as-new): the first run's
// ID, or the run's own where the history does not say (Temporal's test environment).
func firstRunID(info *workflow.Info) string {
	if info.FirstRunID != "" {
		return info.FirstRunID
	}
	return info.WorkflowExecution.RunID
}

// emitEvent hands an event to its stream: a local activity (one marker in the emitter's
// history), retried while Temporal does not take it. The emitter waits for it, so its
// events reach the stream in the order it made them.
func emitEvent(ctx workflow.Context, s contract.Settings, ev contract.LifecycleEvent) {
	err := workflow.ExecuteLocalActivity(emitCall(ctx), a.EmitEvent, activities.EmitInput{Event: ev, TaskQueue: s.Events()}).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("EVENT NOT EMITTED: Temporal did not take it for a day", "event", ev.ID, "type", ev.Type, "error", err)
		metrics.EventsNotEmitted.Add(workflow.GetMetricsHandler(ctx), 1, "isv", ev.Data.ISVSlug)
	}
}
