package workflows

// Waiting for the customer: authorization URLs, verification of the right org and user,
// the active life, and registration with the app's watcher.

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/salesforce"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// awaitAuthorization issues the URL and waits for the customer: a return signal or the
// watcher's report triggers one verification read; a new URL is issued before the old one
// expires, on request, and after a mismatch.
func (w *connection) awaitAuthorization(ctx workflow.Context) end {
	if w.st.Stage == contract.StageVerifying {
		w.st.Stage = contract.StageAwaitingAuthorization
	}
	// The deadline is carried through continue-as-new: a customer who never authorizes does
	// not keep an add-on forever.
	if w.st.AuthDeadline.IsZero() {
		w.st.AuthDeadline = workflow.Now(ctx).Add(w.in.Options.AuthorizationTimeout)
	}
	deadline := w.st.AuthDeadline
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
				fmt.Sprintf("the customer did not authorize within %s", w.in.Options.AuthorizationTimeout), contract.ErrAuthorizationTimeout, nil)
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
	if why := w.step(ctx, workflow.ExecuteActivity(w.heroku(ctx, time.Hour, priorityPerson), a.RequestAuthorizationURL, in), &got); why != endNone {
		return why
	}
	now := workflow.Now(ctx)
	w.st.AuthorizationURL, w.st.URLExpiresAt = got.URL, got.ExpiresAt
	w.st.URLRefreshAt = refreshTime(now, got.ExpiresAt, w.in.Options.URLRefreshMargin)
	w.st.URLsIssued++
	w.record(fmt.Sprintf("authorization URL #%d issued, valid until %s", w.st.URLsIssued, got.ExpiresAt.UTC().Format(time.RFC3339)))
	w.details(ctx)
	w.emit(ctx, contract.EventURLIssued, func(d *contract.EventData) {
		d.AuthorizationURL, d.ExpiresAt, d.Attempt = got.URL, got.ExpiresAt, w.st.URLsIssued
	})
	return endNone
}

// verify reads the connection once and decides: active, a mismatch (reissue, or fail after
// too many), or not yet.
func (w *connection) verify(ctx workflow.Context) (bool, end) {
	waitingStage := w.st.Stage
	w.setStage(ctx, contract.StageVerifying, "")
	var cs activities.ConnectionState
	if why := w.step(ctx, workflow.ExecuteActivity(w.heroku(ctx, time.Hour, priorityPerson), a.ReadConnection, *w.st.Connection), &cs); why != endNone {
		return false, why
	}
	w.st.Verifications++
	w.st.LastState = cs.State
	authorized := cs.OrgID != "" && cs.State != heroku.StateNew && cs.State != heroku.StateNeedAuthentication && cs.State != heroku.StateUnauthorized
	// A re-authorization round needs a new authorization: the one the connection was active
	// on still reads as healthy when the ISV asked for a new one.
	if waitingStage == contract.StageReauthorizing && !w.st.AuthorizedAt.IsZero() && !cs.AuthUpdated.After(w.st.AuthorizedAt) {
		authorized = false
	}
	if !authorized {
		w.setStage(ctx, waitingStage, "")
		return false, endNone
	}
	if problem := w.identityProblem(cs); problem != "" {
		if w.mismatchOnce && !cs.AuthUpdated.IsZero() && cs.AuthUpdated.Equal(w.st.MismatchedAuth) {
			// A late report (the watcher's, after the return's) of the wrong authorization
			// already counted and answered with a new URL: nothing new happened.
			w.setStage(ctx, waitingStage, "")
			return false, endNone
		}
		w.st.MismatchedAuth = cs.AuthUpdated
		w.st.Mismatches++
		w.st.LastProblem = problem
		w.record("SECURITY: " + problem)
		w.emit(ctx, contract.EventIdentityMismatch, func(d *contract.EventData) {
			d.Mismatches, d.MaxMismatches, d.Salesforce.Problem = w.st.Mismatches, w.in.Options.MaxMismatches, problem
		})
		if w.st.Mismatches >= w.in.Options.MaxMismatches {
			w.err = temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("%d authorizations by the wrong Salesforce identity; last: %s", w.st.Mismatches, problem), contract.ErrIdentityMismatch, nil)
			return false, endFailed
		}
		w.setStage(ctx, waitingStage, "")
		return false, w.issueURL(ctx) // the used URL is spent; the customer gets a new one
	}
	w.st.LastProblem = ""
	w.st.AuthorizedAt = cs.AuthUpdated
	// The wait is over: the next wait (a re-authorization) gets its own deadline, and a
	// reissue asked for while this verification ran has nothing left to reissue.
	w.st.AuthDeadline = time.Time{}
	w.reissueWanted = false
	w.emit(ctx, contract.EventAuthorized, nil)
	if syncing, why := w.afterVerified(ctx); syncing || why != endNone {
		return why == endNone, why
	}
	w.setStage(ctx, contract.StageActive, fmt.Sprintf("authorized by %s of org %s (%s)", w.in.Salesforce.Username, w.in.Salesforce.OrgID, cs.State))
	if waitingStage == contract.StageReauthorizing {
		w.emit(ctx, contract.EventRecovered, nil)
	} else {
		w.emit(ctx, contract.EventActive, nil)
	}
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
	w.reissueWanted = false // nothing to reissue while active; pending() must not stay true
	for {
		if done, why := w.liveNews(ctx); done {
			return why
		}
		if s := w.st.Sync; s != nil && s.Imported != s.Template {
			w.setStage(ctx, contract.StageConfiguringSync, "") // a rollout's new template
			return endNone
		}
		if w.shouldContinueAsNew(ctx) {
			return endContinueAsNew
		}
		if err := workflow.Await(ctx, func() bool { return w.pending() || w.templateWanted }); err != nil {
			return endCancelled
		}
		w.returned = false // a late return while active changes nothing
		w.reissueWanted = false
	}
}

// watch wakes this connection's app watcher (starting it when it is not running), which
// finds the connection's owner through visibility and reports what changes.
func (w *connection) watch(ctx workflow.Context, waiting bool) error {
	if w.st.WatcherID == "" {
		w.st.WatcherID = contract.WatcherWorkflowID(w.st.Addon.App)
	}
	in := activities.RegisterWatchInput{
		WatcherID: w.st.WatcherID, TaskQueue: workflow.GetInfo(ctx).TaskQueueName,
		Member: contract.WatchMember{WorkflowID: w.st.WorkflowID, ConnectionID: w.st.Connection.ID, Waiting: waiting},
		Start:  contract.WatcherInput{App: w.st.Addon.App, RegionURL: w.st.Connection.RegionURL},
	}
	if err := w.askTemporal(ctx, time.Hour, nil, a.RegisterWithWatcher, in).Get(ctx, nil); err != nil {
		return err
	}
	w.watchRegistered = true
	return nil
}
