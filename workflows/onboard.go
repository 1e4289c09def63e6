package workflows

// Onboarding: the integration check, the add-on (provisioned or enrolled), the claims on
// schema and add-on, and the connection's database and schema. Every Heroku activity makes
// one request, so the heroku queue's rate limit is the account's budget in requests and a
// fault retries one request.

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

// heroku is a Heroku call of this customer at the given priority.
func (w *connection) heroku(ctx workflow.Context, giveUpAfter time.Duration, level int) workflow.Context {
	return w.at(herokuCall(ctx, w.settings, giveUpAfter), level)
}

// poll is a Heroku state wait of this customer at the given priority.
func (w *connection) poll(ctx workflow.Context, giveUpAfter time.Duration, level int) workflow.Context {
	return w.at(herokuPoll(ctx, w.settings, giveUpAfter), level)
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
	return w.step(ctx, w.askTemporal(ctx, 10*time.Minute, []string{contract.ErrSchemaTaken, contract.ErrAddonConflict}, a.CheckClaims, in), nil)
}

// onboard provisions or enrolls the add-on and configures its connection.
func (w *connection) onboard(ctx workflow.Context) end {
	if why := w.checkIntegration(ctx); why != endNone {
		return why
	}
	var addon contract.AddonRef
	if w.in.Mode == contract.ModeProvision {
		if why := w.claim(ctx, w.in.App, ""); why != endNone {
			return why
		}
		name := contract.AddonName(w.in.ISVSlug, w.in.CustomerID)
		w.willDestroy(contract.AddonRef{Name: name, App: w.in.App, Created: true})
		w.setStage(ctx, contract.StageProvisioning, "provisioning add-on "+name+" on "+w.in.App)
		in := activities.ProvisionInput{ISVSlug: w.in.ISVSlug, App: w.in.App, Name: name}
		// A cancellation waits for the create to finish, so the compensation that follows
		// sees the add-on if it was made.
		cctx := workflow.WithWaitForCancellation(w.heroku(ctx, time.Hour, priorityStart), true)
		why, err := w.stepOr(ctx, workflow.ExecuteActivity(cctx, a.CreateAddon, in), &addon, contract.ErrAddonNameTaken)
		if why != endNone {
			return why
		}
		if err != nil { // an earlier attempt made it: adopt ours
			if why := w.step(ctx, workflow.ExecuteActivity(w.at(cctx, priorityProvision), a.FindOwnAddon, in), &addon); why != endNone {
				return why
			}
		}
		w.destroyKnown(addon)
		w.setAddon(ctx, addon)
		if why := w.awaitProvisioned(ctx, addon); why != endNone {
			return why
		}
		w.record("add-on " + addon.Name + " provisioned")
	} else {
		w.setStage(ctx, contract.StageEnrolling, "enrolling add-on "+w.in.Addon)
		if why := w.step(ctx, workflow.ExecuteActivity(w.heroku(ctx, time.Hour, priorityStart), a.LookupAddon, activities.EnrollInput{ISVSlug: w.in.ISVSlug, Addon: w.in.Addon}), &addon); why != endNone {
			return why
		}
		if why := w.claim(ctx, addon.App, addon.ID); why != endNone {
			return why
		}
		if why := w.step(ctx, workflow.ExecuteActivity(w.heroku(ctx, time.Hour, priorityProvision), a.EnrollInIntegration, activities.EnrollInput{ISVSlug: w.in.ISVSlug, Addon: addon.ID}), nil); why != endNone {
			return why
		}
		w.setAddon(ctx, addon)
	}

	w.setStage(ctx, contract.StageConfiguring, fmt.Sprintf("setting schema %s on %s", w.in.Schema, w.in.DBKey))
	hctx := w.heroku(ctx, time.Hour, priorityConfigure)
	var conn contract.ConnectionRef
	if w.shares {
		if why := w.awaitConnection(ctx, addon, &conn); why != endNone {
			return why
		}
	} else if why := w.joinAndDiscover(ctx, addon, &conn); why != endNone {
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

// awaitConnection asks the app's Connect access coordinator for the add-on's connection.
// The wait can be long (Connect may take minutes to list a new connection, and never lists
// one whose add-on a deactivation destroyed), so a deactivation, an offboarding or a
// cancellation ends it at once rather than when the coordinator gives up.
func (w *connection) awaitConnection(ctx workflow.Context, addon contract.AddonRef, conn *contract.ConnectionRef) end {
	in := activities.AwaitConnectionInput{App: addon.App, TaskQueue: workflow.GetInfo(ctx).TaskQueueName,
		UpdateID: w.st.WorkflowID + "/" + workflow.GetInfo(ctx).WorkflowExecution.RunID,
		Wanted:   contract.ConnectionWanted{Addon: addon.Name, ISVSlug: w.in.ISVSlug, Since: workflow.Now(ctx)}}
	actx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	f := workflow.ExecuteActivity(accessCall(actx), a.AwaitConnection, in)
	if err := workflow.Await(ctx, func() bool { return f.IsReady() || w.interrupted() != endNone }); err != nil {
		return w.failWith(err)
	}
	if !f.IsReady() {
		cancel()
		return w.interrupted()
	}
	return w.step(ctx, f, conn)
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

// checkIntegration refuses to onboard onto an inactive integration. The partner workflow's
// stage answers without spending the Heroku budget; Heroku is asked only when the partner
// workflow does not know (the integration was made elsewhere). The stage only spares a
// call: Heroku itself refuses an add-on of an inactive integration. A customer turned away
// because its integration is being deactivated ends as deactivated (nothing was created):
// the cascade counts it among the integration's customers it ended.
func (w *connection) checkIntegration(ctx workflow.Context) end {
	var stage contract.PartnerStage
	err := w.askTemporal(ctx, 5*time.Minute, []string{contract.ErrIntegrationInactive}, a.PartnerStage, w.in.ISVSlug).Get(ctx, &stage)
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.Type() == contract.ErrIntegrationInactive {
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
	return w.step(ctx, workflow.ExecuteActivity(w.heroku(ctx, time.Hour, priorityStart), a.CheckIntegration, w.in.ISVSlug), nil)
}

// askTemporal runs an activity that asks Temporal (a describe, a visibility list, a
// signal-with-start): from connectionSharesAccess as a local activity, which needs no
// activity task and no workflow task of its own (three per start were a third of the
// server's work of a start), before it as an activity on the workflow's own queue. The given
// error types are final.
func (w *connection) askTemporal(ctx workflow.Context, giveUpAfter time.Duration, final []string, fn, arg any) workflow.Future {
	if w.shares {
		return workflow.ExecuteLocalActivity(temporalLocal(ctx, giveUpAfter, final...), fn, arg)
	}
	return workflow.ExecuteActivity(temporalCall(ctx, giveUpAfter, final...), fn, arg)
}

// awaitProvisioned waits until Heroku has provisioned the add-on. A create that answered
// "provisioned" needs no poll, and the first poll waits one poll interval (a poll right
// after the create finds it provisioning and spends a call for nothing); with webhooks
// configured, Heroku's webhook says when provisioning ends and the poll is the fallback.
func (w *connection) awaitProvisioned(ctx workflow.Context, addon contract.AddonRef) end {
	if addon.State == heroku.AddonProvisioned {
		return endNone
	}
	if w.settings.WebhookWait > 0 {
		w.hearAddonState(ctx)
		if _, err := workflow.AwaitWithTimeout(ctx, w.settings.WebhookWait, func() bool { return w.addonProvisioned || w.deactivated || w.offboardWanted }); err != nil {
			return w.failWith(err)
		}
	} else if err := workflow.Sleep(ctx, w.settings.PollInterval); err != nil {
		return w.failWith(err)
	}
	if why := w.interrupted(); why != endNone {
		return why
	}
	if w.addonProvisioned {
		w.record("Heroku's webhook: add-on " + addon.Name + " provisioned")
		return endNone
	}
	return w.step(ctx, workflow.ExecuteActivity(w.poll(ctx, 30*time.Minute, priorityProvision), a.WaitAddonProvisioned, addon), nil)
}

// hearAddonState takes Heroku's webhook reports of this customer's add-on. Anyone may send
// one, so it is a hint: "provisioned" for our add-on ends the wait, and the next step, which
// needs a provisioned add-on, fails (and compensates) if it was not.
func (w *connection) hearAddonState(ctx workflow.Context) {
	ch := contract.SignalAddonState.Channel(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			w.onAddonState(contract.SignalAddonState.Receive(ctx, ch))
		}
	})
}

func (w *connection) onAddonState(r contract.AddonStateReport) {
	if w.st.Addon != nil && r.AddonID == w.st.Addon.ID && r.State == heroku.AddonProvisioned {
		w.addonProvisioned = true
	}
}
