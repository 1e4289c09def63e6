package workflows

// The customer connection workflow: its state, its lifecycle from start to end or
// continue-as-new, and how a step's outcome becomes "go on" or a reason to end.

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// maxEvents is how many events the status keeps; older ones are dropped.
const maxEvents = 100

// end says why a connection's active life ended.
type end int

const (
	endNone end = iota
	endOffboard
	endDeactivated
	endFailed
	endCancelled
	endContinueAsNew
)

// connection is one run of the customer connection workflow.
type connection struct {
	in    contract.ConnectionInput
	raw   contract.ConnectionInput // as started, before defaults: what validation judges
	st    contract.Status
	comps []contract.Compensation
	err   error // the failure that ended the run, for endFailed
	root  workflow.Context
	// goneAsked and goneConfirmed: whether the partner workflow confirmed the integration's
	// add-ons gone after its deactivation (asked once per run).
	goneAsked, goneConfirmed bool

	// inbox, filled by signal receivers and update handlers
	returned        bool
	stateReport     *contract.ConnectionStateReport
	reissueWanted   bool
	reauthWanted    bool
	offboardWanted  bool
	deactivated     bool
	watchRegistered bool
	// addonProvisioned: Heroku's webhook said our add-on is provisioned (see hearAddonState).
	addonProvisioned bool

	settings contract.Settings
	// emits and mismatchOnce are connectionEmitsEvents, syncs connectionSyncsMappings and
	// shares connectionSharesAccess, decided once per run.
	emits, mismatchOnce, syncs, shares bool
	// templateWanted: the integration's template changed (a rollout signal).
	templateWanted bool

	returnedCh, stateCh, deactivatedCh, mappingsCh workflow.ReceiveChannel
}

// ConnectionWorkflow onboards one customer and keeps the connection authorized for its
// whole life; see docs/architecture.md.
func ConnectionWorkflow(ctx workflow.Context, in contract.ConnectionInput) (contract.Status, error) {
	w := &connection{in: in.WithDefaults(), raw: in, root: ctx}
	info := workflow.GetInfo(ctx)
	w.st = contract.Status{WorkflowID: info.WorkflowExecution.ID, ISVSlug: in.ISVSlug, CustomerID: in.CustomerID, Stage: contract.StageValidating, Events: []contract.Event{}}
	if in.Carry != nil {
		w.st, w.comps = in.Carry.Status, in.Carry.Compensations
		w.in.Carry = nil
	}
	if err := w.registerHandlers(ctx); err != nil {
		return w.st, err
	}
	w.emits = connectionVersions.hasMinVersion(ctx, connectionEmitsEvents)
	w.mismatchOnce = w.emits
	w.syncs = connectionVersions.hasMinVersion(ctx, connectionSyncsMappings)
	w.shares = connectionVersions.hasMinVersion(ctx, connectionSharesAccess)
	if w.emits && w.st.OnboardingID == "" {
		w.st.OnboardingID = firstRunID(info)
	}
	return w.run(ctx)
}

func (w *connection) result() contract.StartResult {
	return contract.StartResult{WorkflowID: w.st.WorkflowID, Stage: w.st.Stage, AuthorizationURL: w.st.AuthorizationURL,
		ExpiresAt: w.st.URLExpiresAt, Attempt: w.st.URLsIssued, Error: w.st.Error, ErrorType: w.st.ErrorType, Identity: w.st.Identity, OnboardingID: w.st.OnboardingID}
}

func (w *connection) run(ctx workflow.Context) (contract.Status, error) {
	var settingsErr error
	w.settings, settingsErr = loadSettings(ctx)
	if w.in.Carry == nil && w.st.Stage == contract.StageValidating {
		err := settingsErr
		if err == nil {
			err = validateStart(w.raw, w.settings)
		}
		if err != nil {
			var ve *contract.ValidationError
			errors.As(err, &ve)
			w.st.Stage, w.st.Error, w.st.ErrorType = contract.StageFailed, err.Error(), contract.ErrInvalidInput
			_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
			return w.st, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrInvalidInput, nil, ve)
		}
		_ = workflow.UpsertTypedSearchAttributes(ctx, contract.SAIsvSlug.ValueSet(w.in.ISVSlug), contract.SACustomerID.ValueSet(w.in.CustomerID))
		w.st.Identity = w.in.IdentityHashes()
		w.record("onboarding started (" + w.in.Mode + ")")
		w.emit(ctx, contract.EventOnboardingStarted, nil)
	}
	if settingsErr != nil {
		// A continued run holds an add-on: it must not decide anything on broken settings.
		// The workflow task fails and retries until the worker is fixed.
		panic(settingsErr)
	}
	why := w.live(ctx)
	if why == endContinueAsNew {
		return w.st, workflow.NewContinueAsNewError(ctx, ConnectionWorkflow, w.carryInput())
	}
	return w.finish(ctx, why)
}

// live runs the connection from wherever it is until it ends or must continue as new.
func (w *connection) live(ctx workflow.Context) end {
	if w.st.Stage == contract.StageValidating {
		if why := w.onboard(ctx); why != endNone {
			return why
		}
	}
	for {
		var why end
		switch w.st.Stage {
		case contract.StageAwaitingAuthorization, contract.StageReauthorizing, contract.StageVerifying:
			why = w.awaitAuthorization(ctx)
		case contract.StageActive:
			why = w.keepActive(ctx)
		case contract.StageConfiguringSync, contract.StageSyncing, contract.StageNeedsAttention:
			why = w.finishSync(ctx)
		default:
			w.err = fmt.Errorf("unexpected stage %s", w.st.Stage)
			return endFailed
		}
		if why != endNone {
			return why
		}
	}
}

// step waits for an activity and turns its outcome, and whatever arrived meanwhile, into
// "go on" or a reason to end.
func (w *connection) step(ctx workflow.Context, f workflow.Future, out any) end {
	err := f.Get(ctx, out)
	switch {
	case err != nil && temporal.IsCanceledError(err):
		return endCancelled
	case err != nil:
		if w.deactivatedUnderUs(ctx) {
			return endDeactivated
		}
		w.err = err
		return endFailed
	}
	return w.interrupted()
}

// deactivatedUnderUs tells a failed step caused by the integration's deactivation (Heroku
// destroyed the add-on mid-step, before the partner workflow's signal arrived) from a real
// failure: the run then ends as deactivated, not failed.
func (w *connection) deactivatedUnderUs(ctx workflow.Context) bool {
	w.drainSignals()
	if w.deactivated {
		return true
	}
	if w.st.Addon == nil {
		// Nothing created yet (Heroku refused the create of an integration going away): the
		// partner workflow's stage tells, at no Heroku call.
		err := w.askTemporal(ctx, 5*time.Minute, []string{contract.ErrIntegrationInactive}, a.PartnerStage, w.in.ISVSlug).Get(ctx, nil)
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) && ae.Type() == contract.ErrIntegrationInactive {
			w.deactivated = true
			w.record("the integration was deactivated during the step: " + ae.Message())
			return true
		}
		return false
	}
	err := workflow.ExecuteActivity(w.heroku(ctx, 10*time.Minute, priorityConfigure), a.CheckIntegration, w.in.ISVSlug).Get(ctx, nil)
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.Type() == contract.ErrIntegrationInactive {
		w.deactivated = true
		w.record("the integration was deactivated during the step")
		return true
	}
	return false
}

// interrupted reports an offboard or deactivation that arrived.
func (w *connection) interrupted() end {
	switch {
	case w.deactivated:
		return endDeactivated
	case w.offboardWanted:
		return endOffboard
	}
	return endNone
}

func (w *connection) failWith(err error) end {
	if temporal.IsCanceledError(err) {
		return endCancelled
	}
	w.err = err
	return endFailed
}

// shouldContinueAsNew is true when the history is long and nothing is pending; handlers
// finish first and unread signals are applied, so nothing is lost on the way.
func (w *connection) shouldContinueAsNew(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	limit := w.settings.ContinueAsNewAfter
	if !info.GetContinueAsNewSuggested() && (limit == 0 || info.GetCurrentHistoryLength() < limit) {
		return false
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return false
	}
	w.drainSignals()
	return !w.pending() && !w.templateWanted
}

func (w *connection) carryInput() contract.ConnectionInput {
	in := w.in
	st := w.st
	st.Events = append([]contract.Event{}, st.Events...)
	st.Events = append(st.Events, contract.Event{At: workflow.Now(w.root), Stage: st.Stage, What: "continued as new"})
	in.Carry = &contract.Carry{Status: st, Compensations: w.comps}
	return in
}

// validateStart checks a start input as given (before defaults) against the worker's
// settings: operational options are the worker's, per-customer options are bounded, and the
// return URL must be on a host the worker was configured to send customers back to.
func validateStart(in contract.ConnectionInput, s contract.Settings) error {
	v := in.RequestProblems()
	// Customer IDs land unencrypted in the workflow ID and search attributes: a new
	// onboarding refuses one that is an email address or the org ID.
	v.Fields = append(v.Fields, in.OpaqueIDProblems().Fields...)
	if in.ReturnURL != "" && !s.ReturnAllowed(in.ReturnURL) {
		v.Add("return_url", "must be on a return host the worker allows (WORKER_RETURN_HOSTS)")
	}
	return v.Err()
}
