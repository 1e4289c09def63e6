package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/salesforce"
)

// a is the activities' receiver: only its method names are used here, as in Temporal's
// samples; the worker registers a populated one.
var a *activities.Activities

// Versioned changes (workflow.GetVersion change IDs); each has replay fixtures recorded at
// its newest version.
const (
	// changeFreshReauthorization: a re-authorization round accepts only an authorization
	// newer than the one the connection was active on.
	changeFreshReauthorization = "fresh-reauthorization"
	// changeWatchAuthUpdated: the watcher reads auth_updated too and reports a newer
	// authorization even when the state did not change.
	changeWatchAuthUpdated = "watch-auth-updated"
	// changeWatchOmitWaiting: the watcher's read leaves out connections still waiting for
	// their first authorization, so its history does not grow with the waiting customers.
	changeWatchOmitWaiting = "watch-omit-waiting"
	// changeDeactivationDuringStep: a step that fails after the add-on exists checks whether
	// the integration was deactivated, and ends as deactivated if so.
	changeDeactivationDuringStep = "deactivation-during-step"
	// changeWatchNoMidRoundJoin: a member registering while the watcher's read is in flight
	// is compared from the next round on (it was taken for gone and dropped).
	changeWatchNoMidRoundJoin = "watch-no-midround-join"
	// changeWatchShards: customers of an app are spread over WatchShards watchers, so no
	// watcher's carried member list nears Temporal's 2 MB payload limit (it did at ~10,000
	// members, and the watcher stalled).
	changeWatchShards = "watch-shards"
	// changeTrust: the guarantees of issue 10, together. Operational settings come from the
	// worker (WorkerSettings), not the start input; every Heroku activity makes one request;
	// the add-on's compensation is recorded before its create; cleanup retries every error
	// within its 24 hours; the authorization deadline is carried; enroll and schema claims
	// are checked; a return honours its attempt once; a reissue settles when the customer
	// authorizes first.
	changeTrust = "trust-guarantees"
	// changePartnerCreateOneRequest: the partner workflow creates its integration with one
	// request per activity (CreateIntegrationOnce, then IntegrationInfo when the slug is
	// taken) instead of an activity that made both.
	changePartnerCreateOneRequest = "partner-create-one-request"
)

// Error types a connection workflow fails with.
const (
	ErrInvalidInput          = "InvalidInput"
	ErrAuthorizationTimeout  = "AuthorizationTimeout"
	ErrIdentityMismatch      = "IdentityMismatch"
	ErrCompensationFailed    = "CompensationFailed"
	ErrIdentityConflict      = "IdentityConflict"
	maxEvents                = 100 // events kept in the status; older ones are dropped
	compensationScheduleTime = 24 * time.Hour
)

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
	in    ConnectionInput
	raw   ConnectionInput // as started, before defaults: what validation judges
	st    Status
	comps []Compensation
	err   error // the failure that ended the run, for endFailed
	root  workflow.Context

	// inbox, filled by signal receivers and update handlers
	returned        bool
	stateReport     *ConnectionStateReport
	reissueWanted   bool
	reauthWanted    bool
	offboardWanted  bool
	deactivated     bool
	watchRegistered bool

	// trusted is true for runs on the trust-guarantees version (see changeTrust).
	trusted  bool
	settings activities.Settings

	returnedCh, stateCh, deactivatedCh workflow.ReceiveChannel
}

// ConnectionWorkflow onboards one customer and keeps the connection authorized for its
// whole life; see docs/architecture.md.
func ConnectionWorkflow(ctx workflow.Context, in ConnectionInput) (Status, error) {
	w := &connection{in: in.WithDefaults(), raw: in, root: ctx}
	info := workflow.GetInfo(ctx)
	w.st = Status{WorkflowID: info.WorkflowExecution.ID, ISVSlug: in.ISVSlug, CustomerID: in.CustomerID, Stage: StageValidating, Events: []Event{}}
	if in.Carry != nil {
		w.st, w.comps = in.Carry.Status, in.Carry.Compensations
		w.in.Carry = nil
	}
	// Decided before the handlers exist, so every handler sees the same version.
	w.trusted = workflow.GetVersion(ctx, changeTrust, workflow.DefaultVersion, 1) >= 1
	if !w.trusted && in.Schema == "" && in.Carry == nil {
		w.in.Schema = legacyDefaultSchema(in.CustomerID)
	}
	if err := w.registerHandlers(ctx); err != nil {
		return w.st, err
	}
	return w.run(ctx)
}

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

func (w *connection) result() StartResult {
	return StartResult{WorkflowID: w.st.WorkflowID, Stage: w.st.Stage, AuthorizationURL: w.st.AuthorizationURL,
		ExpiresAt: w.st.URLExpiresAt, Attempt: w.st.URLsIssued, Error: w.st.Error, ErrorType: w.st.ErrorType, Identity: w.st.Identity}
}

func (w *connection) run(ctx workflow.Context) (Status, error) {
	var settingsErr error
	if w.trusted {
		settingsErr = w.loadSettings(ctx)
	}
	if w.in.Carry == nil && w.st.Stage == StageValidating {
		err := settingsErr
		if err == nil && w.trusted {
			err = w.raw.ValidateStart(w.settings)
		} else if err == nil {
			err = w.in.Validate()
		}
		if err != nil {
			var ve *ValidationError
			errors.As(err, &ve)
			w.st.Stage, w.st.Error, w.st.ErrorType = StageFailed, err.Error(), ErrInvalidInput
			_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
			return w.st, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidInput, nil, ve)
		}
		_ = workflow.UpsertTypedSearchAttributes(ctx, SAIsvSlug.ValueSet(w.in.ISVSlug), SACustomerID.ValueSet(w.in.CustomerID))
		if w.trusted {
			w.st.Identity = w.in.IdentityHashes()
		}
		w.record("onboarding started (" + w.in.Mode + ")")
	}
	why := w.live(ctx)
	if why == endContinueAsNew {
		return w.st, workflow.NewContinueAsNewError(ctx, ConnectionWorkflow, w.carryInput())
	}
	return w.finish(ctx, why)
}

// live runs the connection from wherever it is until it ends or must continue as new.
func (w *connection) live(ctx workflow.Context) end {
	if w.st.Stage == StageValidating {
		onboard := w.onboard
		if w.trusted {
			onboard = w.onboardOneCallSteps
		}
		if why := onboard(ctx); why != endNone {
			return why
		}
	}
	for {
		var why end
		switch w.st.Stage {
		case StageAwaitingAuthorization, StageReauthorizing, StageVerifying:
			why = w.awaitAuthorization(ctx)
		case StageActive:
			why = w.keepActive(ctx)
		default:
			w.err = fmt.Errorf("unexpected stage %s", w.st.Stage)
			return endFailed
		}
		if why != endNone {
			return why
		}
	}
}

// onboard provisions or enrolls the add-on and configures its connection.
func (w *connection) onboard(ctx workflow.Context) end {
	hctx := w.herokuCtx(ctx, time.Hour)
	if why := w.step(ctx, workflow.ExecuteActivity(hctx, a.CheckIntegration, w.in.ISVSlug), nil); why != endNone {
		return why
	}
	var addon AddonRef
	if w.in.Mode == ModeProvision {
		w.setStage(ctx, StageProvisioning, "provisioning add-on "+AddonName(w.in.ISVSlug, w.in.CustomerID)+" on "+w.in.App)
		in := activities.ProvisionInput{ISVSlug: w.in.ISVSlug, App: w.in.App, Name: AddonName(w.in.ISVSlug, w.in.CustomerID)}
		if why := w.step(ctx, workflow.ExecuteActivity(hctx, a.ProvisionAddon, in), &addon); why != endNone {
			return why
		}
		w.comps = append(w.comps, Compensation{Kind: CompensationDestroyAddon, Addon: addon})
		w.setAddon(ctx, addon)
		if why := w.step(ctx, workflow.ExecuteActivity(w.pollCtx(ctx, 30*time.Minute), a.WaitAddonProvisioned, addon), nil); why != endNone {
			return why
		}
		w.record("add-on " + addon.Name + " provisioned")
	} else {
		w.setStage(ctx, StageEnrolling, "enrolling add-on "+w.in.Addon)
		in := activities.EnrollInput{ISVSlug: w.in.ISVSlug, Addon: w.in.Addon}
		if why := w.step(ctx, workflow.ExecuteActivity(hctx, a.EnrollAddon, in), &addon); why != endNone {
			return why
		}
		w.setAddon(ctx, addon)
	}
	w.setStage(ctx, StageConfiguring, fmt.Sprintf("setting schema %s on %s", w.in.Schema, w.in.DBKey))
	var conn ConnectionRef
	cin := activities.ConfigureInput{Addon: addon, DBKey: w.in.DBKey, Schema: w.in.Schema}
	if why := w.step(ctx, workflow.ExecuteActivity(w.pollCtx(ctx, 30*time.Minute), a.ConfigureConnection, cin), &conn); why != endNone {
		return why
	}
	w.st.Connection = &conn
	w.st.LastState = heroku.StateNeedAuthentication
	w.setStage(ctx, StageAwaitingAuthorization, "connection configured; waiting for the customer")
	return endNone
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
	if w.st.Addon == nil || workflow.GetVersion(ctx, changeDeactivationDuringStep, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return false
	}
	err := workflow.ExecuteActivity(w.herokuCtx(ctx, 10*time.Minute), a.CheckIntegration, w.in.ISVSlug).Get(ctx, nil)
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.Type() == activities.ErrIntegrationInactive {
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

// awaitAuthorization issues the URL and waits for the customer: a return signal or the
// watcher's report triggers one verification read; a new URL is issued before the old one
// expires, on request, and after a mismatch.
func (w *connection) awaitAuthorization(ctx workflow.Context) end {
	if w.st.Stage == StageVerifying {
		w.st.Stage = StageAwaitingAuthorization
	}
	deadline := workflow.Now(ctx).Add(w.in.Options.AuthorizationTimeout)
	if w.trusted {
		if w.st.AuthDeadline.IsZero() {
			w.st.AuthDeadline = deadline
		}
		deadline = w.st.AuthDeadline
	}
	needURL := w.st.AuthorizationURL == "" || !workflow.Now(ctx).Before(w.st.URLExpiresAt)
	if err := w.watch(ctx, true); err != nil {
		return w.failWith(err)
	}
	for {
		if why := w.interrupted(); why != endNone {
			return why
		}
		now := workflow.Now(ctx)
		if needURL || w.reissueWanted || !now.Before(w.st.URLRefreshAt) {
			w.reissueWanted, needURL = false, false
			if why := w.issueURL(ctx); why != endNone {
				return why
			}
			continue
		}
		if !now.Before(deadline) {
			w.err = temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("the customer did not authorize within %s", w.in.Options.AuthorizationTimeout), ErrAuthorizationTimeout, nil)
			return endFailed
		}
		if w.returned || w.stateReport != nil {
			if w.stateReport != nil {
				w.st.LastState = w.stateReport.State
			}
			w.returned, w.stateReport = false, nil
			done, why := w.verify(ctx)
			if why != endNone || done {
				return why
			}
			continue
		}
		if w.shouldContinueAsNew(ctx) {
			return endContinueAsNew
		}
		wake := deadline
		if w.st.URLRefreshAt.Before(wake) {
			wake = w.st.URLRefreshAt
		}
		if _, err := workflow.AwaitWithTimeout(ctx, wake.Sub(now), w.pending); err != nil {
			return endCancelled
		}
	}
}

// pending reports anything the main loop must look at.
func (w *connection) pending() bool {
	return w.returned || w.stateReport != nil || w.reissueWanted || w.reauthWanted || w.offboardWanted || w.deactivated
}

// refreshTime is when a URL issued at now and expiring at expires gets replaced: margin
// before it expires, or halfway through a lifetime shorter than the margin, and never
// sooner than a minute (a clock skewed against Heroku's must not make a hot loop).
func refreshTime(now, expires time.Time, margin time.Duration) time.Time {
	life := expires.Sub(now)
	wait := life - margin
	if wait < life/2 {
		wait = life / 2
	}
	if wait < time.Minute {
		wait = time.Minute
	}
	return now.Add(wait)
}

func (w *connection) issueURL(ctx workflow.Context) end {
	req := heroku.AuthorizeRequest{SFOrgID: w.in.Salesforce.OrgID, SFUsername: w.in.Salesforce.Username,
		Environment: w.in.Salesforce.Environment, Domain: w.in.Salesforce.Domain, APIVersion: w.in.Salesforce.APIVersion, Next: w.in.ReturnURL}
	var got activities.AuthorizationURL
	in := activities.AuthorizeInput{ISVSlug: w.in.ISVSlug, AddonID: w.st.Addon.ID, Request: req, WorkflowID: w.st.WorkflowID, Attempt: w.st.URLsIssued + 1}
	if why := w.step(ctx, workflow.ExecuteActivity(w.herokuCtx(ctx, time.Hour), a.RequestAuthorizationURL, in), &got); why != endNone {
		return why
	}
	now := workflow.Now(ctx)
	w.st.AuthorizationURL, w.st.URLExpiresAt = got.URL, got.ExpiresAt
	w.st.URLRefreshAt = refreshTime(now, got.ExpiresAt, w.in.Options.URLRefreshMargin)
	w.st.URLsIssued++
	w.record(fmt.Sprintf("authorization URL #%d issued, valid until %s", w.st.URLsIssued, got.ExpiresAt.UTC().Format(time.RFC3339)))
	w.details(ctx)
	return endNone
}

// verify reads the connection once and decides: active, a mismatch (reissue, or fail after
// too many), or not yet.
func (w *connection) verify(ctx workflow.Context) (bool, end) {
	waitingStage := w.st.Stage
	w.setStage(ctx, StageVerifying, "")
	var cs activities.ConnectionState
	if why := w.step(ctx, workflow.ExecuteActivity(w.herokuCtx(ctx, time.Hour), a.ReadConnection, *w.st.Connection), &cs); why != endNone {
		return false, why
	}
	w.st.Verifications++
	w.st.LastState = cs.State
	authorized := cs.OrgID != "" && cs.State != heroku.StateNew && cs.State != heroku.StateNeedAuthentication && cs.State != heroku.StateUnauthorized
	// A re-authorization round needs a new authorization: the one the connection was active
	// on still reads as healthy when the ISV asked for a new one.
	if workflow.GetVersion(ctx, changeFreshReauthorization, workflow.DefaultVersion, 1) >= 1 &&
		waitingStage == StageReauthorizing && !w.st.AuthorizedAt.IsZero() && !cs.AuthUpdated.After(w.st.AuthorizedAt) {
		authorized = false
	}
	if !authorized {
		w.setStage(ctx, waitingStage, "")
		return false, endNone
	}
	if problem := w.identityProblem(cs); problem != "" {
		w.st.Mismatches++
		w.st.LastProblem = problem
		w.record("SECURITY: " + problem)
		if w.st.Mismatches >= w.in.Options.MaxMismatches {
			w.err = temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("%d authorizations by the wrong Salesforce identity; last: %s", w.st.Mismatches, problem), ErrIdentityMismatch, nil)
			return false, endFailed
		}
		w.setStage(ctx, waitingStage, "")
		return false, w.issueURL(ctx) // the used URL is spent; the customer gets a new one
	}
	w.st.LastProblem = ""
	w.st.AuthorizedAt = cs.AuthUpdated
	if w.trusted {
		// The wait is over: the next wait (a re-authorization) gets its own deadline, and a
		// reissue asked for while this verification ran has nothing left to reissue.
		w.st.AuthDeadline = time.Time{}
		w.reissueWanted = false
	}
	w.setStage(ctx, StageActive, fmt.Sprintf("authorized by %s of org %s (%s)", w.in.Salesforce.Username, w.in.Salesforce.OrgID, cs.State))
	return true, endNone
}

func (w *connection) identityProblem(cs activities.ConnectionState) string {
	want := w.in.Salesforce
	switch {
	case !salesforce.SameOrg(cs.OrgID, want.OrgID):
		return fmt.Sprintf("authorized by org %s, expected %s", cs.OrgID, want.OrgID)
	case !salesforce.SameUser(cs.Username, want.Username):
		return fmt.Sprintf("authorized by user %q, expected %q", cs.Username, want.Username)
	}
	return ""
}

// keepActive waits while the connection is healthy, and starts re-authorization when the
// watcher reports UNAUTHORIZED or the ISV asks.
func (w *connection) keepActive(ctx workflow.Context) end {
	w.st.AuthorizationURL, w.st.URLExpiresAt = "", time.Time{}
	if err := w.watch(ctx, false); err != nil {
		return w.failWith(err)
	}
	w.returned = false
	if w.trusted {
		w.reissueWanted = false // nothing to reissue while active; pending() must not stay true
	}
	for {
		if why := w.interrupted(); why != endNone {
			return why
		}
		if r := w.stateReport; r != nil {
			w.stateReport = nil
			if r.State != w.st.LastState {
				w.record("connection state " + r.State)
			}
			w.st.LastState = r.State
			if r.State == heroku.StateUnauthorized {
				w.reauthWanted = true
			}
		}
		if w.reauthWanted {
			w.reauthWanted = false
			w.st.Reauthorizations++
			w.setStage(ctx, StageReauthorizing, "re-authorization needed (state "+w.st.LastState+")")
			return endNone
		}
		if w.shouldContinueAsNew(ctx) {
			return endContinueAsNew
		}
		if err := workflow.Await(ctx, w.pending); err != nil {
			return endCancelled
		}
		w.returned = false // a late return while active changes nothing
		if w.trusted {
			w.reissueWanted = false
		}
	}
}

// watch registers this connection with its app's watcher (waiting: poll fast).
func (w *connection) watch(ctx workflow.Context, waiting bool) error {
	o := w.in.Options
	known := w.st.LastState // the watcher reports changes from what this workflow last saw
	if known == "" {
		known = heroku.StateNeedAuthentication
	}
	if w.st.WatcherID == "" {
		w.st.WatcherID = WatcherWorkflowID(w.st.Addon.App)
		if workflow.GetVersion(ctx, changeWatchShards, workflow.DefaultVersion, 1) >= 1 {
			w.st.WatcherID = WatcherShardID(w.st.Addon.App, w.st.WorkflowID, o.WatchShards)
		}
	}
	in := activities.RegisterWatchInput{
		WatcherID: w.st.WatcherID, WatcherWorkflow: WatcherWorkflowName, TaskQueue: workflow.GetInfo(ctx).TaskQueueName,
		Signal: SignalWatchRegister,
		Member: activities.WatchMember{WorkflowID: w.st.WorkflowID, ConnectionID: w.st.Connection.ID, Waiting: waiting, KnownState: known,
			KnownAuth: w.st.AuthorizedAt},
		Start: activities.WatcherInput{App: w.st.Addon.App, RegionURL: w.st.Connection.RegionURL, HerokuTaskQueue: o.HerokuTaskQueue,
			WaitingInterval: o.WatchWaitingInterval, ActiveInterval: o.WatchActiveInterval, IdleTimeout: time.Hour},
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: time.Hour,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute}})
	if err := workflow.ExecuteActivity(actx, a.RegisterWithWatcher, in).Get(ctx, nil); err != nil {
		return err
	}
	w.watchRegistered = true
	return nil
}

func (w *connection) failWith(err error) end {
	if temporal.IsCanceledError(err) {
		return endCancelled
	}
	w.err = err
	return endFailed
}

// finish compensates (unless the integration's deactivation already removed everything),
// records the end and returns. It runs on a disconnected context so cancellation cannot
// stop the cleanup.
func (w *connection) finish(ctx workflow.Context, why end) (Status, error) {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	if w.watchRegistered {
		// Best effort: a watcher that is gone needs no goodbye.
		watcher := w.st.WatcherID
		if watcher == "" { // registered by a run that did not record it
			watcher = WatcherWorkflowID(w.st.Addon.App)
		}
		_ = workflow.SignalExternalWorkflow(dctx, watcher, "", SignalWatchUnregister, w.st.WorkflowID).Get(dctx, nil)
		w.watchRegistered = false
	}
	final := map[end]Stage{endOffboard: StageOffboarded, endDeactivated: StageDeactivated, endFailed: StageFailed, endCancelled: StageCancelled}[why]
	reason := map[end]string{endOffboard: "offboarding requested", endDeactivated: "partner integration deactivated",
		endCancelled: "workflow cancelled"}[why]
	if why == endFailed {
		reason = "failed: " + errorMessage(w.err)
		w.st.Error, w.st.ErrorType = errorMessage(w.err), failureType(w.err)
	}
	w.setStage(dctx, StageCompensating, reason)
	compErr := w.compensate(dctx, why == endDeactivated)
	if compErr != nil {
		final = StageFailed
		w.st.Error, w.st.ErrorType = joinMsg(w.st.Error, compErr.Error()), ErrCompensationFailed
	}
	w.setStage(dctx, final, "")
	w.drainSignals()
	_ = workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) })
	switch {
	case compErr != nil:
		return w.st, temporal.NewNonRetryableApplicationError(w.st.Error, ErrCompensationFailed, nil)
	case why == endFailed:
		return w.st, temporal.NewNonRetryableApplicationError(w.st.Error, failureType(w.err), nil)
	case why == endCancelled:
		return w.st, temporal.NewCanceledError(w.st.Stage)
	}
	return w.st, nil
}

// compensate undoes recorded steps in reverse. After a deactivation Heroku has destroyed the
// integration's add-ons already, so it only waits for them to be gone, destroying one only
// if it is still there (never twice).
func (w *connection) compensate(ctx workflow.Context, deactivated bool) error {
	var failed []string
	for i := len(w.comps) - 1; i >= 0; i-- {
		c := w.comps[i]
		if c.Kind != CompensationDestroyAddon || !c.Addon.Created {
			continue
		}
		if deactivated {
			wait := workflow.ExecuteActivity(w.pollCtx(ctx, 10*time.Minute), a.WaitAddonGone, c.Addon)
			if w.trusted {
				wait = workflow.ExecuteActivity(w.pollCtx(ctx, 10*time.Minute), a.WaitAddonGoneByKey, c.Addon)
			}
			err := wait.Get(ctx, nil)
			if err == nil {
				w.record("add-on " + c.Addon.Name + " removed by the deactivation")
				w.st.Compensated = append(w.st.Compensated, "add-on "+c.Addon.Name+" removed by Heroku")
				w.comps = w.comps[:i]
				continue
			}
		}
		if err := w.destroyAddon(ctx, c.Addon); err != nil {
			failed = append(failed, fmt.Sprintf("add-on %s (%s) on %s was not destroyed: %s", c.Addon.Name, c.Addon.ID, c.Addon.App, errorMessage(err)))
			w.record("SECURITY: " + failed[len(failed)-1])
			// Loud: this add-on is billed until someone destroys it by hand.
			workflow.GetLogger(ctx).Error("ORPHANED ADD-ON: cleanup gave up; destroy it by hand", "addon", c.Addon.Name,
				"addon_id", c.Addon.ID, "app", c.Addon.App, "error", errorMessage(err))
			continue
		}
		w.comps = w.comps[:i]
		w.st.Compensated = append(w.st.Compensated, "destroyed add-on "+c.Addon.Name)
		w.record("destroyed add-on " + c.Addon.Name)
	}
	if len(failed) > 0 {
		return errors.New("compensation incomplete: " + strings.Join(failed, "; "))
	}
	return nil
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

// shouldContinueAsNew is true when the history is long and nothing is pending; handlers
// finish first and unread signals are applied, so nothing is lost on the way.
func (w *connection) shouldContinueAsNew(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	limit := w.in.Options.ContinueAsNewAfter
	if !info.GetContinueAsNewSuggested() && (limit == 0 || info.GetCurrentHistoryLength() < limit) {
		return false
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return false
	}
	w.drainSignals()
	return !w.pending()
}

func (w *connection) carryInput() ConnectionInput {
	in := w.in
	st := w.st
	st.Events = append([]Event{}, st.Events...)
	st.Events = append(st.Events, Event{At: workflow.Now(w.root), Stage: st.Stage, What: "continued as new"})
	in.Carry = &Carry{Status: st, Compensations: w.comps}
	return in
}

// --- bookkeeping ---

func (w *connection) setStage(ctx workflow.Context, s Stage, what string) {
	changed := w.st.Stage != s
	w.st.Stage = s
	if what != "" {
		w.recordAt(workflow.Now(ctx), what)
	}
	if changed {
		_ = workflow.UpsertTypedSearchAttributes(ctx, SAOnboardingStage.ValueSet(string(s)))
	}
	w.details(ctx)
}

func (w *connection) setAddon(ctx workflow.Context, addon AddonRef) {
	w.st.Addon = &addon
	_ = workflow.UpsertTypedSearchAttributes(ctx, SAHerokuAddonID.ValueSet(addon.ID))
	w.record(fmt.Sprintf("add-on %s (%s) on app %s", addon.Name, addon.ID, addon.App))
}

// record appends to the status story at workflow time.
func (w *connection) record(what string) { w.recordAt(workflow.Now(w.root), what) }

func (w *connection) recordAt(at time.Time, what string) {
	w.st.Events = append(w.st.Events, Event{At: at, Stage: w.st.Stage, What: what})
	if len(w.st.Events) > maxEvents {
		w.st.Events = w.st.Events[len(w.st.Events)-maxEvents:]
	}
}

// details is what the Temporal UI shows as the workflow's current details.
func (w *connection) details(ctx workflow.Context) {
	d := fmt.Sprintf("**%s** · customer `%s` of `%s`", w.st.Stage, w.st.CustomerID, w.st.ISVSlug)
	if w.st.Addon != nil {
		d += fmt.Sprintf("\n\nAdd-on `%s` on app `%s`", w.st.Addon.Name, w.st.Addon.App)
	}
	if w.st.LastState != "" {
		d += "\n\nConnection state: " + w.st.LastState
	}
	if w.st.URLsIssued > 0 && !w.st.Stage.Terminal() && w.st.Stage != StageActive {
		d += fmt.Sprintf("\n\nAuthorization URL #%d valid until %s", w.st.URLsIssued, w.st.URLExpiresAt.UTC().Format(time.RFC3339))
	}
	if w.st.LastProblem != "" {
		d += "\n\nLast problem: " + w.st.LastProblem
	}
	if w.st.Error != "" {
		d += "\n\nError: " + w.st.Error
	}
	workflow.SetCurrentDetails(ctx, d)
}

// --- activity options ---

// herokuCtx runs an activity on the Heroku queue: 4xx final, 5xx and timeouts retried with
// backoff, 429 after the delay Heroku asks (the activity sets NextRetryDelay).
func (w *connection) herokuCtx(ctx workflow.Context, giveUpAfter time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, HerokuActivityOptions(w.in.Options.HerokuTaskQueue, giveUpAfter))
}

// pollCtx waits for a Heroku state by retrying a "not yet" activity: no history per poll.
func (w *connection) pollCtx(ctx workflow.Context, giveUpAfter time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, PollActivityOptions(w.in.Options.HerokuTaskQueue, w.in.Options.PollInterval, giveUpAfter))
}

// HerokuActivityOptions are the options of every Heroku call.
func HerokuActivityOptions(queue string, giveUpAfter time.Duration) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:              queue,
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: giveUpAfter,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: finalErrorTypes},
	}
}

// PollActivityOptions retry at a steady pace until the state comes or time runs out.
func PollActivityOptions(queue string, every, giveUpAfter time.Duration) workflow.ActivityOptions {
	o := HerokuActivityOptions(queue, giveUpAfter)
	o.RetryPolicy.InitialInterval = every
	o.RetryPolicy.BackoffCoefficient = 1.2
	o.RetryPolicy.MaximumInterval = 30 * every
	return o
}

var finalErrorTypes = []string{activities.ErrHerokuFinal, activities.ErrProvisioningFailed, activities.ErrIntegrationInactive, activities.ErrAddonConflict}

func errorMessage(err error) string {
	if err == nil {
		return ""
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Message()
	}
	return err.Error()
}

func failureType(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.Type() != "" {
		return ae.Type()
	}
	var te *temporal.TimeoutError
	if errors.As(err, &te) {
		return "HerokuTimeout"
	}
	return "StepFailed"
}

func joinMsg(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
