package workflows

// The connection workflow's inbox: signal receivers, update handlers and validators, and
// the single-use check of a customer return.

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// registerHandlers sets up the inbox before anything can block, so no message is missed.
// Signals are read by receivers; each update has a handler method and, where the request
// can be refused before it is accepted, a validator method.
func (w *connection) registerHandlers(ctx workflow.Context) error {
	w.returnedCh = contract.SignalCustomerReturned.Channel(ctx)
	w.stateCh = contract.SignalConnectionState.Channel(ctx)
	w.deactivatedCh = contract.SignalIntegrationDeactivated.Channel(ctx)
	w.mappingsCh = contract.SignalMappingsChanged.Channel(ctx)
	workflow.Go(ctx, w.receiveMappingChanges)
	workflow.Go(ctx, w.receiveReturns)
	workflow.Go(ctx, w.receiveStates)
	workflow.Go(ctx, w.receiveDeactivations)
	return errors.Join(
		contract.QueryStatus.Handle(ctx, w.status),
		contract.UpdateStart.Handle(ctx, w.onStart, nil),
		contract.UpdateReissueURL.Handle(ctx, w.onReissueURL, w.validateReissueURL),
		contract.UpdateCurrentURL.Handle(ctx, w.onCurrentURL, w.validateCurrentURL),
		contract.UpdateReauthorize.Handle(ctx, w.onReauthorize, w.validateReauthorize),
		contract.UpdateOffboard.Handle(ctx, w.onOffboard, w.validateOffboard),
		contract.UpdateStatus.Handle(ctx, w.onStatus, nil),
		contract.UpdateCustomerReturned.Handle(ctx, w.onCustomerReturned, w.validateCustomerReturned),
		contract.UpdateRefreshHealth.Handle(ctx, w.onRefreshHealth, w.validateRefreshHealth),
	)
}

// receiveMappingChanges takes a rollout's signal (connectionSyncsMappings): only a customer
// past its authorization acts on it; one still onboarding imports the template current
// when it gets there.
func (w *connection) receiveMappingChanges(ctx workflow.Context) {
	for {
		contract.SignalMappingsChanged.Receive(ctx, w.mappingsCh)
		w.onMappingsChanged()
	}
}

func (w *connection) onMappingsChanged() {
	if w.syncs && w.pastAuthorization() {
		w.templateWanted = true
	}
}

func (w *connection) receiveReturns(ctx workflow.Context) {
	for {
		w.onReturned(contract.SignalCustomerReturned.Receive(ctx, w.returnedCh))
	}
}

func (w *connection) receiveStates(ctx workflow.Context) {
	for {
		w.onState(contract.SignalConnectionState.Receive(ctx, w.stateCh))
	}
}

func (w *connection) receiveDeactivations(ctx workflow.Context) {
	for {
		contract.SignalIntegrationDeactivated.Receive(ctx, w.deactivatedCh)
		w.deactivated = true
	}
}

// status answers QueryStatus.
func (w *connection) status() (contract.Status, error) { return w.st, nil }

// onStatus answers UpdateStatus: the status through history (read-your-writes).
func (w *connection) onStatus(workflow.Context, contract.None) (contract.Status, error) {
	return w.st, nil
}

// onStart answers Update-with-Start once there is an authorization URL, or an end.
func (w *connection) onStart(ctx workflow.Context, _ contract.None) (contract.StartResult, error) {
	err := workflow.Await(ctx, func() bool {
		return w.st.Stage.Terminal() || w.st.AuthorizationURL != "" || w.pastAuthorization()
	})
	return w.result(), err
}

// urlAfter is true once a URL newer than attempt was issued, or the run ended.
func (w *connection) urlAfter(attempt int) bool {
	return w.st.Stage.Terminal() || (w.st.URLsIssued > attempt && w.st.AuthorizationURL != "")
}

// onReissueURL asks for a fresh URL. The customer may authorize before it is issued: the
// request then settles with the active stage instead of waiting for a URL never issued.
func (w *connection) onReissueURL(ctx workflow.Context, _ contract.None) (contract.StartResult, error) {
	issued := w.st.URLsIssued
	w.reissueWanted = true
	err := workflow.Await(ctx, func() bool { return w.urlAfter(issued) || w.pastAuthorization() })
	return w.result(), err
}

func (w *connection) validateReissueURL(workflow.Context, contract.None) error {
	if !w.waitingForCustomer() {
		return fmt.Errorf("a new authorization URL can only be issued while waiting for the customer; the stage is %s", w.st.Stage)
	}
	return nil
}

// onCurrentURL answers the current URL when it stays valid until in.ValidUntil, at no
// Heroku call; else it asks for a fresh one, as onReissueURL. Many requests at once share
// one reissue: each waits for a URL newer than the one it saw.
func (w *connection) onCurrentURL(ctx workflow.Context, in contract.URLWanted) (contract.StartResult, error) {
	if w.st.AuthorizationURL != "" && w.st.URLExpiresAt.After(in.ValidUntil) {
		return w.result(), nil
	}
	return w.onReissueURL(ctx, contract.None{})
}

func (w *connection) validateCurrentURL(ctx workflow.Context, _ contract.URLWanted) error {
	return w.validateReissueURL(ctx, contract.None{})
}

// onReauthorize asks an active connection to be authorized again; it answers with the new URL.
func (w *connection) onReauthorize(ctx workflow.Context, _ contract.None) (contract.StartResult, error) {
	issued := w.st.URLsIssued
	w.reauthWanted = true
	err := workflow.Await(ctx, func() bool { return w.urlAfter(issued) })
	return w.result(), err
}

func (w *connection) validateReauthorize(workflow.Context, contract.None) error {
	if !w.pastAuthorization() {
		return fmt.Errorf("re-authorization needs an authorized connection; the stage is %s", w.st.Stage)
	}
	return nil
}

// onOffboard ends the connection and answers with the final status.
func (w *connection) onOffboard(ctx workflow.Context, _ contract.None) (contract.Status, error) {
	w.offboardWanted = true
	err := workflow.Await(ctx, func() bool { return w.st.Stage.Terminal() })
	return w.st, err
}

func (w *connection) validateOffboard(workflow.Context, contract.None) error {
	if w.st.Stage.Terminal() || w.st.Stage == contract.StageCompensating {
		return fmt.Errorf("the connection is already %s", w.st.Stage)
	}
	return nil
}

// onCustomerReturned triggers one verification and answers what it found.
func (w *connection) onCustomerReturned(ctx workflow.Context, r contract.CustomerReturned) (contract.ReturnResult, error) {
	w.st.ReturnsUsed = append(w.st.ReturnsUsed, r.Attempt)
	before := w.st.Verifications
	w.returned = true
	err := workflow.Await(ctx, func() bool {
		return w.st.Stage.Terminal() || w.pastAuthorization() || w.st.Verifications > before && w.st.Stage != contract.StageVerifying
	})
	out := contract.ReturnResult{Stage: w.st.Stage, Verified: w.pastAuthorization()}
	if !out.Verified {
		out.Problem = "the connection is not authorized yet (state " + w.st.LastState + ")"
		if w.st.LastProblem != "" {
			out.Problem = w.st.LastProblem
		}
	}
	return out, err
}

func (w *connection) validateCustomerReturned(_ workflow.Context, r contract.CustomerReturned) error {
	return w.acceptReturn(r)
}

// waitingForCustomer is true in the stages that wait for the customer's authorization.
func (w *connection) waitingForCustomer() bool {
	return w.st.Stage == contract.StageAwaitingAuthorization || w.st.Stage == contract.StageReauthorizing || w.st.Stage == contract.StageVerifying
}

// acceptReturn is the single-use check of a customer return: only the URL issued last, only
// once, and only while waiting for the customer.
func (w *connection) acceptReturn(r contract.CustomerReturned) error {
	switch {
	case !w.waitingForCustomer():
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

func (w *connection) onReturned(r contract.CustomerReturned) {
	if r.Attempt != 0 && r.Attempt != w.st.URLsIssued {
		w.record(fmt.Sprintf("customer return for attempt %d ignored: the current URL is #%d", r.Attempt, w.st.URLsIssued))
		return
	}
	switch {
	case w.waitingForCustomer():
		w.returned = true
	default:
		w.record(fmt.Sprintf("customer return for attempt %d ignored in stage %s", r.Attempt, w.st.Stage))
	}
}

func (w *connection) onState(r contract.ConnectionStateReport) {
	if w.st.Connection != nil && r.ConnectionID != "" && r.ConnectionID != w.st.Connection.ID {
		return // not ours (a stale registration)
	}
	if r.State == contract.StateGone {
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
		var r contract.CustomerReturned
		if !w.returnedCh.ReceiveAsync(&r) {
			break
		}
		w.onReturned(r)
	}
	for {
		var r contract.ConnectionStateReport
		if !w.stateCh.ReceiveAsync(&r) {
			break
		}
		w.onState(r)
	}
	var d contract.IntegrationDeactivated
	for w.deactivatedCh.ReceiveAsync(&d) {
		w.deactivated = true
	}
	var m contract.MappingsChanged
	for w.mappingsCh.ReceiveAsync(&m) {
		w.onMappingsChanged()
	}
}
