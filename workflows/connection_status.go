package workflows

// Bookkeeping: the stage, the story of events and what the Temporal UI shows.

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

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
