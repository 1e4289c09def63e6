package workflows

// Bookkeeping: the stage, the story of events, what the Temporal UI shows, and the
// lifecycle events pushed to the ISV's endpoints.

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/internal/salesforce"
	"github.com/connect-onboarding/worker/workflows/contract"
)

func (w *connection) setStage(ctx workflow.Context, s contract.Stage, what string) {
	changed := w.st.Stage != s
	w.st.Stage = s
	if what != "" {
		w.recordAt(workflow.Now(ctx), what)
	}
	if changed {
		_ = workflow.UpsertTypedSearchAttributes(ctx, contract.SAOnboardingStage.ValueSet(string(s)))
	}
	w.details(ctx)
}

func (w *connection) setAddon(ctx workflow.Context, addon contract.AddonRef) {
	w.st.Addon = &addon
	_ = workflow.UpsertTypedSearchAttributes(ctx, contract.SAHerokuAddonID.ValueSet(addon.ID))
	w.record(fmt.Sprintf("add-on %s (%s) on app %s", addon.Name, addon.ID, addon.App))
}

// record appends to the status story at workflow time.
func (w *connection) record(what string) { w.recordAt(workflow.Now(w.root), what) }

func (w *connection) recordAt(at time.Time, what string) {
	w.st.Events = append(w.st.Events, contract.Event{At: at, Stage: w.st.Stage, What: what})
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
	if w.st.URLsIssued > 0 && !w.st.Stage.Terminal() && w.st.Stage != contract.StageActive {
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

// emit sends a lifecycle event of this onboarding to its stream (connectionEmitsEvents):
// numbered in order, with the Salesforce identity for the endpoints that opted in.
func (w *connection) emit(ctx workflow.Context, t contract.EventType, fill func(*contract.EventData)) {
	if !w.emits {
		return
	}
	w.st.EventSeq++
	d := contract.EventData{ISVSlug: w.st.ISVSlug, CustomerID: w.st.CustomerID, OnboardingID: w.st.OnboardingID, Sequence: w.st.EventSeq,
		Stage: w.st.Stage, ConnectionState: w.st.LastState,
		Salesforce: &contract.EventIdentity{Username: w.in.Salesforce.Username, OrgID: w.in.Salesforce.OrgID}}
	if w.st.Addon != nil {
		d.AddonID, d.AddonName = w.st.Addon.ID, w.st.Addon.Name
	}
	if fill != nil {
		fill(&d)
	}
	ev := contract.LifecycleEvent{ID: eventID(w.st.OnboardingID, w.st.EventSeq), Type: t, Timestamp: workflow.Now(ctx), Data: d}
	emitEvent(ctx, w.settings, ev)
}

// endEvents are the events of each final stage.
var endEvents = map[contract.Stage]contract.EventType{contract.StageFailed: contract.EventFailed, contract.StageOffboarded: contract.EventOffboarded,
	contract.StageDeactivated: contract.EventDeactivated, contract.StageCancelled: contract.EventCancelled}

// emitEnd sends the event of the run's end: for a failure its type, its message without the
// Salesforce identities (an identity mismatch's message names both users: it goes only to
// the endpoints that opted in) and what was cleaned up.
func (w *connection) emitEnd(ctx workflow.Context) {
	w.emit(ctx, endEvents[w.st.Stage], func(d *contract.EventData) {
		d.CleanedUp = w.st.Compensated
		if w.st.Stage != contract.StageFailed {
			return
		}
		d.ErrorType = w.st.ErrorType
		d.Salesforce.Problem = w.st.Error
		sf := w.in.Salesforce
		org18, _ := salesforce.NormalizeOrgID(sf.OrgID)
		org15 := org18
		if len(org15) > 15 {
			org15 = org15[:15]
		}
		d.Error = contract.Redact(w.st.Error, sf.Username, sf.OrgID, org18, org15)
		if w.st.Mismatches > 0 {
			// A mismatch's message names the other user and org, which no redaction of the
			// expected identity catches; it may be joined to a later failure's.
			d.Error = "the onboarding failed (" + w.st.ErrorType + ") after an authorization by the wrong Salesforce identity; the message names identities, so it goes only to endpoints that opted in"
		}
	})
}
