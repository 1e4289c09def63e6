package workflows

// The onboarding steps of runs recorded before trust-guarantees (several Heroku requests per
// activity); new runs take onboardOneCallSteps.

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/heroku"
)

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
