package workflows

// Compensation, all of it: what onboarding records it must undo (before the step that makes
// it), and the end of a connection, which undoes it on a disconnected context, in reverse.

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/internal/metrics"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// finish compensates (unless the integration's deactivation already removed everything),
// records the end and returns. It runs on a disconnected context so cancellation cannot
// stop the cleanup.
func (w *connection) finish(ctx workflow.Context, why end) (contract.Status, error) {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	if w.watchRegistered {
		// Best effort: a watcher that is gone needs no goodbye.
		_ = contract.SignalWatchUnregister.SendExternal(dctx, w.st.WatcherID, w.st.WorkflowID).Get(dctx, nil)
		w.watchRegistered = false
	}
	final := map[end]contract.Stage{endOffboard: contract.StageOffboarded, endDeactivated: contract.StageDeactivated, endFailed: contract.StageFailed, endCancelled: contract.StageCancelled}[why]
	reason := map[end]string{endOffboard: "offboarding requested", endDeactivated: "partner integration deactivated",
		endCancelled: "workflow cancelled"}[why]
	if why == endFailed {
		reason = "failed: " + errorMessage(w.err)
		w.st.Error, w.st.ErrorType = errorMessage(w.err), failureType(w.err)
	}
	w.setStage(dctx, contract.StageCompensating, reason)
	compErr := w.compensate(dctx, why == endDeactivated)
	if compErr != nil {
		final = contract.StageFailed
		w.st.Error, w.st.ErrorType = joinMsg(w.st.Error, compErr.Error()), contract.ErrCompensationFailed
	}
	w.setStage(dctx, final, "")
	w.emitEnd(dctx)
	w.drainSignals()
	_ = workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) })
	switch {
	case compErr != nil:
		return w.st, temporal.NewNonRetryableApplicationError(w.st.Error, contract.ErrCompensationFailed, nil)
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
		if c.Kind != contract.CompensationDestroyAddon || !c.Addon.Created {
			continue
		}
		if deactivated && w.addonsGoneConfirmed(ctx) {
			w.record("add-on " + c.Addon.Name + " removed by the deactivation (confirmed by the integration's add-on list)")
			w.st.Compensated = append(w.st.Compensated, "add-on "+c.Addon.Name+" removed by Heroku")
			w.comps = w.comps[:i]
			continue
		}
		if deactivated {
			err := workflow.ExecuteActivity(w.poll(ctx, 10*time.Minute, priorityBackground), a.WaitAddonGone, c.Addon).Get(ctx, nil)
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
			metrics.OrphanedAddons.Add(workflow.GetMetricsHandler(ctx), 1, "isv", w.in.ISVSlug)
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

// addonsGoneConfirmed reports whether the partner workflow confirmed that the integration's
// add-ons are gone (connectionSharesAccess): then the customer spends no Heroku read on its
// own. Asked once per run; an error counts as not confirmed.
func (w *connection) addonsGoneConfirmed(ctx workflow.Context) bool {
	if w.goneAsked || !w.shares {
		return w.goneConfirmed
	}
	w.goneAsked = true
	err := w.askTemporal(ctx, 5*time.Minute, []string{contract.ErrInvalidInput}, a.AddonsGone, w.in.ISVSlug).Get(ctx, &w.goneConfirmed)
	if err != nil {
		w.goneConfirmed = false
	}
	return w.goneConfirmed
}

// willDestroy records, before the create, that the add-on must be destroyed if onboarding
// does not finish: its name is deterministic, so a create whose answer was lost, or that
// completes after a cancellation, is still undone.
func (w *connection) willDestroy(ref contract.AddonRef) {
	w.comps = append(w.comps, contract.Compensation{Kind: contract.CompensationDestroyAddon, Addon: ref})
}

// destroyKnown fills in the add-on of the last willDestroy once its create answered.
func (w *connection) destroyKnown(ref contract.AddonRef) {
	w.comps[len(w.comps)-1].Addon = ref
}

// destroyAddon undoes one add-on: destroy it (by ID, or by name when the create's answer
// never came) until Heroku no longer has it.
func (w *connection) destroyAddon(ctx workflow.Context, ref contract.AddonRef) error {
	return workflow.ExecuteActivity(w.at(herokuCleanup(ctx, w.settings), priorityBackground), a.DestroyAddon, ref).Get(ctx, nil)
}
