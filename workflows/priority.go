package workflows

// Budget-aware ordering. The heroku task queue's rate limit is the account's budget; when
// more work waits than the budget allows, the server's matcher dispatches by priority key
// (1 first) and, within a key, by arrival, sharing between integrations by fairness key (the
// ISV's slug). The levels make an onboarding that is further along go first, so customers
// advance in the order they arrived, and put the calls a waiting person needs before all
// of it. Priority is not part of a command's identity: replay does not compare it.

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Priority levels of Heroku calls (temporal.Priority.PriorityKey: 1 runs first).
const (
	// priorityPerson: someone waits on this call: a verification after the customer's
	// return, an authorization URL (the last onboarding step, a reissue, re-authorization),
	// the watcher's read while customers wait, the ISV's own partner changes.
	priorityPerson = 1
	// priorityConfigure: the configuration steps after the add-on exists.
	priorityConfigure = 2
	// priorityProvision: waiting for the add-on, enrolling an existing one.
	priorityProvision = 3
	// priorityStart: the first step of an onboarding: it yields to everyone further along.
	priorityStart = 4
	// priorityBackground: cleanup, reconciliation, health reads when nobody waits.
	priorityBackground = 5
)

// withPriority sets the priority and fairness key of the activities started with ctx; set
// it after the activity options, which would reset it.
func withPriority(ctx workflow.Context, level int, fairnessKey string) workflow.Context {
	return workflow.WithPriority(ctx, temporal.Priority{PriorityKey: level, FairnessKey: fairnessKey})
}

// at is withPriority for this customer's integration.
func (w *connection) at(ctx workflow.Context, level int) workflow.Context {
	return withPriority(ctx, level, w.in.ISVSlug)
}
