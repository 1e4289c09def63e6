package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// joinAndDiscover is how a customer on a connection version before connectionSharesAccess
// (1.4.0) finds its connection: its own join of the access list, then its own discovery.
// It goes when no run below connectionSharesAccess is open.
func (w *connection) joinAndDiscover(ctx workflow.Context, addon contract.AddonRef, conn *contract.ConnectionRef) end {
	if why := w.step(ctx, workflow.ExecuteActivity(w.heroku(ctx, time.Hour, priorityConfigure), a.JoinConnectAccess, addon.App), nil); why != endNone {
		return why
	}
	return w.step(ctx, workflow.ExecuteActivity(w.poll(ctx, 30*time.Minute, priorityConfigure), a.DiscoverConnection, addon), conn)
}
