package workflows

// Finishing the onboarding (connectionSyncsMappings): after the right identity authorized,
// the customer's mapping template is imported once and the workflow waits until every
// mapping has synced, so "active" means data is flowing. A mapping that fails, or rows that
// cannot be written, put the customer in needs_attention with Heroku's words, never through
// compensation: partial data is still the customer's data. A changed integration template
// reaches active customers as a rollout, reported to the partner workflow.

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// pastAuthorization is true in the stages after the right identity authorized.
func (w *connection) pastAuthorization() bool {
	switch w.st.Stage {
	case contract.StageConfiguringSync, contract.StageSyncing, contract.StageActive, contract.StageNeedsAttention:
		return true
	}
	return false
}

// templateNow decides, once the identity is verified, whether a template applies: the
// onboarding's own, else the integration's current one (a query, no Heroku call).
func (w *connection) templateNow(ctx workflow.Context) (*contract.SyncStatus, end) {
	if w.in.Mappings != nil {
		return &contract.SyncStatus{Source: contract.TemplateFromOnboarding, Template: w.in.Mappings.Digest(), Objects: w.in.Mappings.Objects()}, endNone
	}
	var ref activities.TemplateRef
	if why := w.step(ctx, workflow.ExecuteActivity(temporalCall(ctx, time.Hour, contract.ErrInvalidInput), a.IntegrationTemplate, w.in.ISVSlug), &ref); why != endNone {
		return nil, why
	}
	if ref.Digest == "" {
		return nil, endNone
	}
	return &contract.SyncStatus{Source: contract.TemplateFromIntegration, Template: ref.Digest, Objects: ref.Objects}, endNone
}

// afterVerified is the end of a verification that found the right identity: with a
// template still to import or sync, the customer goes on to configuring_sync (true);
// otherwise it is active as before.
func (w *connection) afterVerified(ctx workflow.Context) (bool, end) {
	if !w.syncs {
		return false, endNone
	}
	if w.st.Sync == nil {
		sync, why := w.templateNow(ctx)
		if why != endNone {
			return false, why
		}
		w.st.Sync = sync
	}
	if w.st.Sync == nil || (w.st.Sync.Imported == w.st.Sync.Template && !w.st.Sync.SyncedAt.IsZero()) {
		return false, endNone
	}
	w.setStage(ctx, contract.StageConfiguringSync, fmt.Sprintf("authorized by %s of org %s; configuring the sync", w.in.Salesforce.Username, w.in.Salesforce.OrgID))
	return true, endNone
}

// finishSync imports the template when it is not imported yet, then reads the mappings at
// background priority, at a pace that backs off while they load, until every one has
// synced (active) or one needs someone (needs_attention, read again at the attention pace
// until it recovers).
func (w *connection) finishSync(ctx workflow.Context) end {
	first, most, attention := w.settings.SyncPace()
	wait, next := first, workflow.Now(ctx)
	if w.st.Stage == contract.StageNeedsAttention {
		next = next.Add(attention)
	}
	for {
		// A late return or a reissue asked while syncing changes nothing (the customer has
		// authorized); left set, they kept the wait below from waiting at all.
		w.returned, w.reissueWanted = false, false
		if done, why := w.liveNews(ctx); done {
			return why
		}
		sync := w.st.Sync
		if sync.Imported != sync.Template {
			w.setStage(ctx, contract.StageConfiguringSync, "")
			problem, why := w.importTemplate(ctx)
			if why != endNone {
				return why
			}
			if problem != "" {
				w.needsAttention(ctx, problem)
				next = workflow.Now(ctx).Add(attention)
			} else {
				w.setStage(ctx, contract.StageSyncing, fmt.Sprintf("mapping template %s imported: %d objects", sync.Imported, len(sync.Objects)))
				w.emit(ctx, contract.EventSyncing, w.syncData)
				wait, next = first, workflow.Now(ctx).Add(first)
			}
		}
		if now := workflow.Now(ctx); !now.Before(next) && sync.Imported == sync.Template {
			var h contract.Health
			problem, why := w.syncStep(ctx, workflow.ExecuteActivity(w.heroku(ctx, time.Hour, priorityBackground), a.ReadSync, *w.st.Connection), &h)
			if why != endNone {
				return why
			}
			if problem != "" {
				h = contract.Health{Problem: problem, Notifications: -1, Mappings: []contract.MappingHealth{}}
			}
			h.CheckedAt = workflow.Now(ctx)
			w.st.Health = &h
			switch {
			case problem == "" && activities.Synced(h, sync.Objects):
				if sync.SyncedAt.IsZero() {
					sync.SyncedAt = h.CheckedAt
				}
				was := w.st.Stage
				w.setStage(ctx, contract.StageActive, fmt.Sprintf("every mapping synced (%d objects)", len(sync.Objects)))
				if was == contract.StageNeedsAttention {
					w.emit(ctx, contract.EventRecovered, w.syncData)
				} else {
					w.emit(ctx, contract.EventActive, w.syncData)
				}
				w.reportRollout(ctx, contract.RolloutUpdated, "")
				return endNone
			case h.Problem != "":
				w.needsAttention(ctx, h.Problem)
				next = h.CheckedAt.Add(attention)
			default:
				wait = min(2*wait, most)
				next = h.CheckedAt.Add(wait)
			}
		}
		if w.shouldContinueAsNew(ctx) {
			return endContinueAsNew
		}
		now := workflow.Now(ctx)
		if _, err := workflow.AwaitWithTimeout(ctx, next.Sub(now), func() bool { return w.pending() || w.templateWanted }); err != nil {
			return endCancelled
		}
	}
}

// syncData adds the sync's template and health to an event.
func (w *connection) syncData(d *contract.EventData) {
	if w.st.Sync != nil {
		d.Template = w.st.Sync.Template
	}
	if w.st.Health != nil {
		d.Problem = w.st.Health.Problem
		d.Mappings = w.st.Health.Mappings
	}
}

// needsAttention records a problem of the sync, once per stage change.
func (w *connection) needsAttention(ctx workflow.Context, problem string) {
	if w.st.Health == nil || w.st.Health.Problem != problem {
		if w.st.Health == nil {
			w.st.Health = &contract.Health{CheckedAt: workflow.Now(ctx), Notifications: -1, Mappings: []contract.MappingHealth{}}
		}
		w.st.Health.Problem = problem
	}
	if w.st.Stage == contract.StageNeedsAttention {
		return
	}
	w.setStage(ctx, contract.StageNeedsAttention, "needs attention: "+problem)
	w.emit(ctx, contract.EventNeedsAttention, w.syncData)
	w.reportRollout(ctx, contract.RolloutFailed, problem)
}

// syncStep runs a step of the sync: a failure becomes a problem to attend to, not the end
// of the onboarding (nothing is compensated), except a cancellation or a deactivation.
func (w *connection) syncStep(ctx workflow.Context, f workflow.Future, out any) (string, end) {
	if err := f.Get(ctx, out); err != nil {
		return w.syncFailure(ctx, err)
	}
	return "", w.interrupted()
}

func (w *connection) syncFailure(ctx workflow.Context, err error) (string, end) {
	switch {
	case temporal.IsCanceledError(err):
		return "", endCancelled
	case w.deactivatedUnderUs(ctx):
		return "", endDeactivated
	}
	return "Heroku: " + errorMessage(err), endNone
}

// importTemplate imports the template exactly once: a retried import that cannot know
// whether the first attempt's reached Heroku reads the connection instead, and imports
// again only when the template is not there.
func (w *connection) importTemplate(ctx workflow.Context) (string, end) {
	level := priorityConfigure
	if w.st.Sync.Imports > 0 {
		level = priorityBackground // a rollout: nobody waits
	}
	in := activities.ImportInput{ISVSlug: w.in.ISVSlug, Connection: *w.st.Connection, Own: w.in.Mappings}
	for {
		var got activities.TemplateRef
		err := workflow.ExecuteActivity(w.heroku(ctx, time.Hour, level), a.ImportMappings, in).Get(ctx, &got)
		var ae *temporal.ApplicationError
		if err != nil && errors.As(err, &ae) && ae.Type() == contract.ErrImportUncertain {
			problem, why := w.syncStep(ctx, workflow.ExecuteActivity(w.heroku(ctx, time.Hour, level), a.ImportedAlready, in), &got)
			if problem != "" || why != endNone {
				return problem, why
			}
			if got.Digest == "" {
				continue // not there: the import never reached Heroku
			}
		} else if err != nil {
			return w.syncFailure(ctx, err)
		}
		sync := w.st.Sync
		sync.Template, sync.Imported, sync.Objects = got.Digest, got.Digest, got.Objects
		sync.Imports++
		sync.ImportedAt = workflow.Now(ctx)
		w.record(fmt.Sprintf("mapping template %s imported (%s)", got.Digest, sync.Source))
		return "", endNone
	}
}

// takeTemplateChange answers a rollout: the integration's template changed. A customer on
// its onboarding's own template, or that already has the new one, reports so; the others
// take it (finishSync imports it).
func (w *connection) takeTemplateChange(ctx workflow.Context) end {
	if w.st.Sync != nil && w.st.Sync.Source == contract.TemplateFromOnboarding {
		w.reportRollout(ctx, contract.RolloutOwnTemplate, "")
		return endNone
	}
	var ref activities.TemplateRef
	if why := w.step(ctx, workflow.ExecuteActivity(temporalCall(ctx, time.Hour, contract.ErrInvalidInput), a.IntegrationTemplate, w.in.ISVSlug), &ref); why != endNone {
		return why
	}
	switch {
	case ref.Digest == "":
		return endNone // the integration has no template (any more): nothing to take
	case w.st.Sync == nil:
		w.st.Sync = &contract.SyncStatus{Source: contract.TemplateFromIntegration}
	case w.st.Sync.Imported == ref.Digest:
		w.reportRollout(ctx, contract.RolloutUnchanged, "")
		return endNone
	}
	w.st.Sync.Template, w.st.Sync.Objects = ref.Digest, ref.Objects
	w.st.Sync.RollingOut = true
	w.record("the integration's mapping template changed to " + ref.Digest)
	return endNone
}

// reportRollout tells the partner workflow how this customer took the integration's
// template, when a rollout asked.
func (w *connection) reportRollout(ctx workflow.Context, outcome, problem string) {
	rolling := w.st.Sync != nil && w.st.Sync.RollingOut
	if !rolling && outcome != contract.RolloutOwnTemplate && outcome != contract.RolloutUnchanged {
		return
	}
	if rolling {
		w.st.Sync.RollingOut = false
	}
	rep := contract.RolloutReport{WorkflowID: w.st.WorkflowID, CustomerID: w.st.CustomerID, Outcome: outcome, Error: problem}
	if w.st.Sync != nil {
		rep.Template = w.st.Sync.Template
	}
	// A partner workflow that is gone has nobody to report to: the signal's failure is
	// not the customer's.
	_ = contract.SignalRolloutReport.SendExternal(ctx, contract.PartnerWorkflowID(w.in.ISVSlug), rep).Get(ctx, nil)
}

// liveNews takes what arrived for an authorized customer: an end (offboard, deactivation),
// a re-authorization, a rollout's template change. done says the caller's loop returns why.
func (w *connection) liveNews(ctx workflow.Context) (bool, end) {
	if why := w.interrupted(); why != endNone {
		return true, why
	}
	if w.reauthorizationNeeded(ctx) {
		return true, endNone
	}
	if w.templateWanted {
		w.templateWanted = false
		if why := w.takeTemplateChange(ctx); why != endNone {
			return true, why
		}
	}
	return false, endNone
}

// reauthorizationNeeded starts a re-authorization when the watcher reported UNAUTHORIZED or
// the ISV asked; it is how keepActive and finishSync hand over to awaitAuthorization.
func (w *connection) reauthorizationNeeded(ctx workflow.Context) bool {
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
	if !w.reauthWanted {
		return false
	}
	w.reauthWanted = false
	w.st.Reauthorizations++
	w.setStage(ctx, contract.StageReauthorizing, "re-authorization needed (state "+w.st.LastState+")")
	w.emit(ctx, contract.EventNeedsReauthorization, nil)
	return true
}

// onRefreshHealth reads the connection's health now, for a person waiting on it: its
// mappings, write errors of the last 24 hours and unacknowledged notifications (three
// Heroku calls).
func (w *connection) onRefreshHealth(ctx workflow.Context, _ contract.None) (contract.Health, error) {
	ref := *w.st.Connection
	var h contract.Health
	hctx := w.heroku(ctx, 10*time.Minute, priorityPerson)
	if err := workflow.ExecuteActivity(hctx, a.ReadSync, ref).Get(ctx, &h); err != nil {
		return h, err
	}
	if err := workflow.ExecuteActivity(hctx, a.CountWriteErrors, ref).Get(ctx, &h.WriteErrors); err != nil {
		return h, err
	}
	if err := workflow.ExecuteActivity(hctx, a.CountNotifications, ref).Get(ctx, &h.Notifications); err != nil {
		return h, err
	}
	if h.WriteErrors > 0 && h.Problem == "" {
		h.Problem = fmt.Sprintf("%d rows could not be written to Salesforce in the last 24 hours", h.WriteErrors)
	}
	h.CheckedAt = workflow.Now(ctx)
	w.st.Health = &h
	return h, nil
}

func (w *connection) validateRefreshHealth(workflow.Context, contract.None) error {
	if w.st.Connection == nil || !w.pastAuthorization() {
		return fmt.Errorf("health is read once the customer has authorized; the stage is %s", w.st.Stage)
	}
	return nil
}
