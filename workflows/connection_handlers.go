package workflows

// The connection workflow's inbox: signal receivers, update handlers and validators, and
// the single-use check of a customer return.

import (
	"fmt"

	"go.temporal.io/sdk/workflow"
)

func (w *connection) registerHandlers(ctx workflow.Context) error {
	w.returnedCh = signalChannel(ctx, SignalCustomerReturned)
	w.stateCh = signalChannel(ctx, SignalConnectionState)
	w.deactivatedCh = signalChannel(ctx, SignalIntegrationDeactivated)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var r CustomerReturned
			w.returnedCh.Receive(ctx, &r)
			w.onReturned(r)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var r ConnectionStateReport
			w.stateCh.Receive(ctx, &r)
			w.onState(r)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var r IntegrationDeactivated
			w.deactivatedCh.Receive(ctx, &r)
			w.deactivated = true
		}
	})

	if err := workflow.SetQueryHandlerWithOptions(ctx, QueryStatus, func() (Status, error) { return w.st, nil },
		workflow.QueryHandlerOptions{Description: descriptions[QueryStatus]}); err != nil {
		return err
	}
	urlOrEnd := func(attempt int) func() bool {
		return func() bool {
			return w.st.Stage.Terminal() || (w.st.URLsIssued > attempt && w.st.AuthorizationURL != "") || w.st.Stage == StageActive && attempt < 0
		}
	}
	handlers := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateStart, func(ctx workflow.Context) (StartResult, error) {
			err := workflow.Await(ctx, func() bool {
				return w.st.Stage.Terminal() || w.st.AuthorizationURL != "" || w.st.Stage == StageActive
			})
			return w.result(), err
		}, nil},
		{UpdateReissueURL, func(ctx workflow.Context) (StartResult, error) {
			issued := w.st.URLsIssued
			w.reissueWanted = true
			done := urlOrEnd(issued)
			if w.trusted {
				// The customer may authorize before the new URL is issued: the request then
				// settles with the active stage instead of waiting for a URL never issued.
				done = func() bool { return urlOrEnd(issued)() || w.st.Stage == StageActive }
			}
			err := workflow.Await(ctx, done)
			return w.result(), err
		}, func(ctx workflow.Context) error {
			if w.st.Stage != StageAwaitingAuthorization && w.st.Stage != StageReauthorizing && w.st.Stage != StageVerifying {
				return fmt.Errorf("a new authorization URL can only be issued while waiting for the customer; the stage is %s", w.st.Stage)
			}
			return nil
		}},
		{UpdateReauthorize, func(ctx workflow.Context) (StartResult, error) {
			issued := w.st.URLsIssued
			w.reauthWanted = true
			err := workflow.Await(ctx, urlOrEnd(issued))
			return w.result(), err
		}, func(ctx workflow.Context) error {
			if w.st.Stage != StageActive {
				return fmt.Errorf("re-authorization needs an active connection; the stage is %s", w.st.Stage)
			}
			return nil
		}},
		{UpdateOffboard, func(ctx workflow.Context) (Status, error) {
			w.offboardWanted = true
			err := workflow.Await(ctx, func() bool { return w.st.Stage.Terminal() })
			return w.st, err
		}, func(ctx workflow.Context) error {
			if w.st.Stage.Terminal() || w.st.Stage == StageCompensating {
				return fmt.Errorf("the connection is already %s", w.st.Stage)
			}
			return nil
		}},
		{UpdateStatus, func(ctx workflow.Context) (Status, error) { return w.st, nil }, nil},
		{UpdateCustomerReturned, func(ctx workflow.Context, r CustomerReturned) (ReturnResult, error) {
			w.st.ReturnsUsed = append(w.st.ReturnsUsed, r.Attempt)
			before := w.st.Verifications
			w.returned = true
			err := workflow.Await(ctx, func() bool {
				return w.st.Stage.Terminal() || w.st.Stage == StageActive || w.st.Verifications > before && w.st.Stage != StageVerifying
			})
			out := ReturnResult{Stage: w.st.Stage, Verified: w.st.Stage == StageActive}
			if !out.Verified {
				out.Problem = "the connection is not authorized yet (state " + w.st.LastState + ")"
				if w.st.LastProblem != "" {
					out.Problem = w.st.LastProblem
				}
			}
			return out, err
		}, func(ctx workflow.Context, r CustomerReturned) error { return w.acceptReturn(r) }},
	}
	for _, h := range handlers {
		opts := workflow.UpdateHandlerOptions{Validator: h.validator, Description: descriptions[h.name]}
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler, opts); err != nil {
			return err
		}
	}
	return nil
}

// signalChannel is the named signal's channel, described for the UI.
func signalChannel(ctx workflow.Context, name string) workflow.ReceiveChannel {
	return workflow.GetSignalChannelWithOptions(ctx, name, workflow.SignalChannelOptions{Description: descriptions[name]})
}

// acceptReturn is the single-use check of a customer return: only the URL issued last, only
// once, and only while waiting for the customer.
func (w *connection) acceptReturn(r CustomerReturned) error {
	switch {
	case w.st.Stage != StageAwaitingAuthorization && w.st.Stage != StageReauthorizing && w.st.Stage != StageVerifying:
		return fmt.Errorf("attempt: the connection is not waiting for the customer (stage %s)", w.st.Stage)
	case r.Attempt != w.st.URLsIssued:
		return fmt.Errorf("attempt: %d is not the current authorization URL (#%d); an older URL's return is not accepted", r.Attempt, w.st.URLsIssued)
	}
	for _, used := range w.st.ReturnsUsed {
		if used == r.Attempt {
			return fmt.Errorf("attempt: the return state of attempt %d was already used", r.Attempt)
		}
	}
	return nil
}

func (w *connection) onReturned(r CustomerReturned) {
	if w.trusted && r.Attempt != 0 && r.Attempt != w.st.URLsIssued {
		w.record(fmt.Sprintf("customer return for attempt %d ignored: the current URL is #%d", r.Attempt, w.st.URLsIssued))
		return
	}
	switch {
	case w.st.Stage == StageAwaitingAuthorization || w.st.Stage == StageReauthorizing || w.st.Stage == StageVerifying:
		w.returned = true
	default:
		w.record(fmt.Sprintf("customer return for attempt %d ignored in stage %s", r.Attempt, w.st.Stage))
	}
}

func (w *connection) onState(r ConnectionStateReport) {
	if w.st.Connection != nil && r.ConnectionID != "" && r.ConnectionID != w.st.Connection.ID {
		return // not ours (a stale registration)
	}
	if r.State == StateGone {
		// The add-on went away under us: during a deactivation cascade this comes before the
		// partner workflow's signal, so it is recorded, not acted on.
		w.st.LastState = r.State
		w.record("the watcher no longer sees the connection")
		return
	}
	w.stateReport = &r
}

// drainSignals applies signals that arrived but were not read, so none is silently lost
// when the run ends or continues as new.
func (w *connection) drainSignals() {
	for {
		var r CustomerReturned
		if !w.returnedCh.ReceiveAsync(&r) {
			break
		}
		w.onReturned(r)
	}
	for {
		var r ConnectionStateReport
		if !w.stateCh.ReceiveAsync(&r) {
			break
		}
		w.onState(r)
	}
	var d IntegrationDeactivated
	for w.deactivatedCh.ReceiveAsync(&d) {
		w.deactivated = true
	}
}
