package workflows

// The onboarding steps of runs recorded before trust-guarantees (several Heroku requests per
// activity); new runs take onboardOneCallSteps.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// onboard provisions or enrolls the add-on and configures its connection.
func (w *connection) onboard(ctx workflow.Context) end {
	hctx := w.herokuCtx(ctx, time.Hour)
	if why := w.step(ctx, workflow.ExecuteActivity(hctx, a.CheckIntegration, w.in.ISVSlug), nil); why != endNone {
		return why
	}
	var addon contract.AddonRef
	if w.in.Mode == contract.ModeProvision {
		w.setStage(ctx, contract.StageProvisioning, "provisioning add-on "+contract.AddonName(w.in.ISVSlug, w.in.CustomerID)+" on "+w.in.App)
		in := activities.ProvisionInput{ISVSlug: w.in.ISVSlug, App: w.in.App, Name: contract.AddonName(w.in.ISVSlug, w.in.CustomerID)}
		if why := w.step(ctx, workflow.ExecuteActivity(hctx, a.ProvisionAddon, in), &addon); why != endNone {
			return why
		}
		w.comps = append(w.comps, contract.Compensation{Kind: CompensationDestroyAddon, Addon: addon})
		w.setAddon(ctx, addon)
		if why := w.step(ctx, workflow.ExecuteActivity(w.pollCtx(ctx, 30*time.Minute), a.WaitAddonProvisioned, addon), nil); why != endNone {
			return why
		}
		w.record("add-on " + addon.Name + " provisioned")
	} else {
		w.setStage(ctx, contract.StageEnrolling, "enrolling add-on "+w.in.Addon)
		in := activities.EnrollInput{ISVSlug: w.in.ISVSlug, Addon: w.in.Addon}
		if why := w.step(ctx, workflow.ExecuteActivity(hctx, a.EnrollAddon, in), &addon); why != endNone {
			return why
		}
		w.setAddon(ctx, addon)
	}
	w.setStage(ctx, contract.StageConfiguring, fmt.Sprintf("setting schema %s on %s", w.in.Schema, w.in.DBKey))
	var conn contract.ConnectionRef
	cin := activities.ConfigureInput{Addon: addon, DBKey: w.in.DBKey, Schema: w.in.Schema}
	if why := w.step(ctx, workflow.ExecuteActivity(w.pollCtx(ctx, 30*time.Minute), a.ConfigureConnection, cin), &conn); why != endNone {
		return why
	}
	w.st.Connection = &conn
	w.st.LastState = heroku.StateNeedAuthentication
	w.setStage(ctx, contract.StageAwaitingAuthorization, "connection configured; waiting for the customer")
	return endNone
}

// legacyDefaultSchema is DefaultSchema before trust-guarantees: it dropped the hash when
// the ID was already lower-case, so IDs differing only in case shared a schema. Runs
// recorded before that change keep it.
func legacyDefaultSchema(customerID string) string {
	clean := contract.SchemaSafe(customerID)
	sum := sha256.Sum256([]byte(customerID))
	suffix := "_" + hex.EncodeToString(sum[:])[:6]
	if clean == strings.ToLower(customerID) {
		suffix = "" // nothing was lost: keep the name readable
	}
	name := "customer_" + clean
	if max := 63 - len(suffix); len(name) > max {
		name = name[:max]
		if suffix == "" {
			suffix = "_" + hex.EncodeToString(sum[:])[:6]
			name = name[:63-len(suffix)]
		}
	}
	return name + suffix
}
