package workflows

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

// CompensationDestroyAddon is the one kind of undo step: destroy an add-on onboarding made.
const CompensationDestroyAddon = "destroy_addon"

// loadSettings reads the worker's operational settings once per run (a local activity, so
// the value is in history) and puts them where the rest of the workflow reads them.
func (w *connection) loadSettings(ctx workflow.Context) error {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	if err := workflow.ExecuteLocalActivity(lctx, "WorkerSettings").Get(ctx, &w.settings); err != nil {
		return fmt.Errorf("reading the worker's settings: %w", err)
	}
	if err := w.settings.Validate(); err != nil {
		return fmt.Errorf("the worker's settings: %w", err)
	}
	o := &w.in.Options
	o.HerokuTaskQueue, o.PollInterval = w.settings.HerokuTaskQueue, w.settings.PollInterval
	o.WatchWaitingInterval, o.WatchActiveInterval = w.settings.WatchWaitingInterval, w.settings.WatchActiveInterval
	o.WatchShards, o.ContinueAsNewAfter = w.settings.WatchShards, w.settings.ContinueAsNewAfter
	return nil
}

// earlyStages are the stages before a customer's claims (schema, enrolled add-on) are real.
var earlyStages = []string{string(contract.StageValidating), string(contract.StageProvisioning), string(contract.StageEnrolling)}

// claim publishes this customer's schema (and add-on, when enrolling) and refuses them when
// another live customer holds either.
func (w *connection) claim(ctx workflow.Context, app, addonID string) end {
	schemaClaim := app + "/" + w.in.DBKey + "/" + w.in.Schema
	claims := []temporal.SearchAttributeUpdate{contract.SAConnectSchema.ValueSet(schemaClaim)}
	if addonID != "" {
		// Published before the check, so two customers enrolling one add-on at once see
		// each other and the earlier start keeps it.
		claims = append(claims, contract.SAHerokuAddonID.ValueSet(addonID))
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, claims...)
	in := activities.ClaimInput{WorkflowID: w.st.WorkflowID, StartedAt: workflow.GetInfo(ctx).WorkflowStartTime, SchemaClaim: schemaClaim, AddonID: addonID, EarlyStages: earlyStages}
	lctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second,
			NonRetryableErrorTypes: []string{contract.ErrSchemaTaken, contract.ErrAddonConflict}}})
	return w.step(ctx, workflow.ExecuteActivity(lctx, a.CheckClaims, in), nil)
}

// onboardOneCallSteps is onboard with one Heroku request per activity, so the heroku queue's
// rate limit is the account's budget in requests and a fault retries one request, not four.
// The add-on's compensation is recorded before the create: its name is deterministic, so a
// create whose answer was lost, or that completes after a cancellation, is still undone.
func (w *connection) onboardOneCallSteps(ctx workflow.Context) end {
	hctx := w.herokuCtx(ctx, time.Hour)
	if why := w.checkIntegration(ctx); why != endNone {
		return why
	}
	var addon contract.AddonRef
	if w.in.Mode == contract.ModeProvision {
		if why := w.claim(ctx, w.in.App, ""); why != endNone {
			return why
		}
		name := contract.AddonName(w.in.ISVSlug, w.in.CustomerID)
		w.comps = append(w.comps, contract.Compensation{Kind: CompensationDestroyAddon, Addon: contract.AddonRef{Name: name, App: w.in.App, Created: true}})
		w.setStage(ctx, contract.StageProvisioning, "provisioning add-on "+name+" on "+w.in.App)
		in := activities.ProvisionInput{ISVSlug: w.in.ISVSlug, App: w.in.App, Name: name}
		// A cancellation waits for the create to finish, so the compensation that follows
		// sees the add-on if it was made.
		cctx := workflow.WithWaitForCancellation(w.at(hctx, priorityStart), true)
		why, err := w.stepOr(ctx, workflow.ExecuteActivity(cctx, a.CreateAddon, in), &addon, contract.ErrAddonNameTaken)
		if why != endNone {
			return why
		}
		if err != nil { // an earlier attempt made it: adopt ours
			if why := w.step(ctx, workflow.ExecuteActivity(w.at(cctx, priorityProvision), a.FindOwnAddon, in), &addon); why != endNone {
				return why
			}
		}
		w.comps[len(w.comps)-1].Addon = addon
		w.setAddon(ctx, addon)
		if why := w.awaitProvisioned(ctx, addon); why != endNone {
			return why
		}
		w.record("add-on " + addon.Name + " provisioned")
	} else {
		w.setStage(ctx, contract.StageEnrolling, "enrolling add-on "+w.in.Addon)
		if why := w.step(ctx, workflow.ExecuteActivity(w.at(hctx, priorityStart), a.LookupAddon, activities.EnrollInput{ISVSlug: w.in.ISVSlug, Addon: w.in.Addon}), &addon); why != endNone {
			return why
		}
		if why := w.claim(ctx, addon.App, addon.ID); why != endNone {
			return why
		}
		if why := w.step(ctx, workflow.ExecuteActivity(w.at(hctx, priorityProvision), a.EnrollInIntegration, activities.EnrollInput{ISVSlug: w.in.ISVSlug, Addon: addon.ID}), nil); why != endNone {
			return why
		}
		w.setAddon(ctx, addon)
	}

	w.setStage(ctx, contract.StageConfiguring, fmt.Sprintf("setting schema %s on %s", w.in.Schema, w.in.DBKey))
	hctx = w.at(hctx, priorityConfigure)
	if why := w.step(ctx, workflow.ExecuteActivity(hctx, a.JoinConnectAccess, addon.App), nil); why != endNone {
		return why
	}
	var conn contract.ConnectionRef
	if why := w.step(ctx, workflow.ExecuteActivity(w.at(w.pollCtx(ctx, 30*time.Minute), priorityConfigure), a.DiscoverConnection, addon), &conn); why != endNone {
		return why
	}
	set := activities.SetSchemaInput{Connection: conn, DBKey: w.in.DBKey, Schema: w.in.Schema}
	why, err := w.stepOr(ctx, workflow.ExecuteActivity(hctx, a.SetConnectionSchema, set), nil, contract.ErrConnectionNotNew)
	if why != endNone {
		return why
	}
	if err != nil { // set already: by an earlier attempt of ours, or by someone else
		var cs activities.ConnectionState
		if why := w.step(ctx, workflow.ExecuteActivity(hctx, a.ReadConnection, conn), &cs); why != endNone {
			return why
		}
		if cs.Schema != w.in.Schema || cs.DBKey != w.in.DBKey {
			w.err = temporal.NewNonRetryableApplicationError(fmt.Sprintf("the connection of %s already writes to %s in schema %s", addon.Name, cs.DBKey, cs.Schema),
				contract.ErrHerokuFinal, nil)
			return endFailed
		}
	}
	w.st.Connection = &conn
	w.st.LastState = heroku.StateNeedAuthentication
	w.setStage(ctx, contract.StageAwaitingAuthorization, "connection configured; waiting for the customer")
	return endNone
}

// stepOr is step for an activity whose failure of one of the given types the caller handles:
// that error comes back with endNone.
func (w *connection) stepOr(ctx workflow.Context, f workflow.Future, out any, handled ...string) (end, error) {
	err := f.Get(ctx, out)
	var ae *temporal.ApplicationError
	if err != nil && errors.As(err, &ae) {
		for _, t := range handled {
			if ae.Type() == t {
				if why := w.interrupted(); why != endNone {
					return why, nil
				}
				return endNone, err
			}
		}
	}
	return w.step(ctx, readyFuture{err}, nil), nil
}

// readyFuture hands an already-read outcome back to step.
type readyFuture struct{ err error }

func (f readyFuture) Get(workflow.Context, any) error { return f.err }
func (f readyFuture) IsReady() bool                   { return true }

// compensationCtx runs a cleanup step: every error is retried (a 401 from a rotated token
// included) until its 24 hours are spent.
func (w *connection) compensationCtx(ctx workflow.Context) workflow.Context {
	o := PollActivityOptions(w.in.Options.HerokuTaskQueue, w.in.Options.PollInterval, compensationScheduleTime)
	o.RetryPolicy.NonRetryableErrorTypes = nil
	o.RetryPolicy.MaximumInterval = 10 * time.Minute
	return workflow.WithActivityOptions(ctx, o)
}

// destroyAddon undoes one add-on: destroy it (by ID, or by name when the create's answer
// never came) until Heroku no longer has it.
func (w *connection) destroyAddon(ctx workflow.Context, ref contract.AddonRef) error {
	if !w.trusted {
		err := workflow.ExecuteActivity(w.herokuCtx(ctx, compensationScheduleTime), a.DestroyAddon, ref).Get(ctx, nil)
		if err == nil {
			err = workflow.ExecuteActivity(w.pollCtx(ctx, compensationScheduleTime), a.WaitAddonGone, ref).Get(ctx, nil)
		}
		return err
	}
	return workflow.ExecuteActivity(w.at(w.compensationCtx(ctx), priorityBackground), a.DestroyAddonByKey, ref).Get(ctx, nil)
}

// checkIntegration refuses to onboard onto an inactive integration. From budget-aware on,
// the partner workflow's stage answers without spending the Heroku budget; Heroku is asked
// only when the partner workflow does not know (the integration was made elsewhere). The
// stage only spares a call: Heroku itself refuses an add-on of an inactive integration.
func (w *connection) checkIntegration(ctx workflow.Context) end {
	hctx := w.at(w.herokuCtx(ctx, time.Hour), priorityStart)
	if workflow.GetVersion(ctx, changeBudgetAware, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return w.step(ctx, workflow.ExecuteActivity(hctx, a.CheckIntegration, w.in.ISVSlug), nil)
	}
	actx := partnerStageCtx(ctx)
	// From deactivating-partner-ends-deactivated on, a customer turned away because its
	// integration is being deactivated ends as deactivated (nothing was created): the
	// cascade counts it among the integration's customers it ended.
	endsDeactivated := workflow.GetVersion(ctx, changeDeactivatingPartnerEndsDeactivated, workflow.DefaultVersion, 1) >= 1
	var stage contract.PartnerStage
	err := workflow.ExecuteActivity(actx, a.PartnerStage, w.in.ISVSlug).Get(ctx, &stage)
	var ae *temporal.ApplicationError
	if endsDeactivated && errors.As(err, &ae) && ae.Type() == contract.ErrIntegrationInactive {
		w.deactivated = true
		w.record("turned away: " + ae.Message())
		return endDeactivated
	}
	if why := w.step(ctx, readyFuture{err}, nil); why != endNone {
		return why
	}
	if stage == contract.PartnerActive {
		return endNone
	}
	return w.step(ctx, workflow.ExecuteActivity(hctx, a.CheckIntegration, w.in.ISVSlug), nil)
}

// partnerStageCtx runs PartnerStage: a question to Temporal, on the workflow's own queue.
func partnerStageCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: 5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, NonRetryableErrorTypes: []string{contract.ErrIntegrationInactive}}})
}

// awaitProvisioned waits until Heroku has provisioned the add-on. From budget-aware on, a
// create that answered "provisioned" needs no poll, and the first poll waits one poll
// interval: a poll right after the create finds it provisioning and spends a call for
// nothing.
func (w *connection) awaitProvisioned(ctx workflow.Context, addon contract.AddonRef) end {
	pctx := w.at(w.pollCtx(ctx, 30*time.Minute), priorityProvision)
	if workflow.GetVersion(ctx, changeBudgetAware, workflow.DefaultVersion, 1) >= 1 {
		if addon.State == heroku.AddonProvisioned {
			return endNone
		}
		if w.settings.WebhookWait > 0 && workflow.GetVersion(ctx, changeProvisionedWebhook, workflow.DefaultVersion, 1) >= 1 {
			// Heroku's webhook says when provisioning ends; the poll is only the fallback.
			w.hearAddonState(ctx)
			if _, err := workflow.AwaitWithTimeout(ctx, w.settings.WebhookWait, func() bool { return w.addonProvisioned || w.deactivated || w.offboardWanted }); err != nil {
				return w.failWith(err)
			}
		} else if err := workflow.Sleep(ctx, w.in.Options.PollInterval); err != nil {
			return w.failWith(err)
		}
		if why := w.interrupted(); why != endNone {
			return why
		}
		if w.addonProvisioned {
			w.record("Heroku's webhook: add-on " + addon.Name + " provisioned")
			return endNone
		}
	}
	return w.step(ctx, workflow.ExecuteActivity(pctx, a.WaitAddonProvisioned, addon), nil)
}

// hearAddonState takes Heroku's webhook reports of this customer's add-on. Anyone may send
// one, so it is a hint: "provisioned" for our add-on ends the wait, and the next step, which
// needs a provisioned add-on, fails (and compensates) if it was not.
func (w *connection) hearAddonState(ctx workflow.Context) {
	ch := contract.SignalAddonState.Channel(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			r := contract.SignalAddonState.Receive(ctx, ch)
			if w.st.Addon != nil && r.AddonID == w.st.Addon.ID && r.State == heroku.AddonProvisioned {
				w.addonProvisioned = true
			}
		}
	})
}
