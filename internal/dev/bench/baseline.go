package bench

import (
	"context"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/internal/heroku"
)

// BaselineQueue is the task queue of the baseline workflows, run by the bench process.
const BaselineQueue = "bench-baseline"

// Noop is the baseline's activity: it does nothing.
func Noop(ctx context.Context) error { return nil }

// BaselineWorkflow runs n activities that do nothing, one after another: what the engine
// costs for a workflow of that shape.
func BaselineWorkflow(ctx workflow.Context, n int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for i := 0; i < n; i++ {
		if err := workflow.ExecuteActivity(ctx, Noop).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// Poller is the naive design the watcher replaces: each waiting customer polls its own
// connection on a timer.
type Poller struct{ Heroku *heroku.Client }

// ReadConnection is one poll.
func (p *Poller) ReadConnection(ctx context.Context, regionURL, id string) (string, error) {
	c, err := p.Heroku.Connection(ctx, regionURL, id)
	if err != nil {
		return "", err
	}
	return c.State, nil
}

// PollerInput is one baseline poller.
type PollerInput struct {
	RegionURL, ConnectionID string
	Every                   time.Duration
	Until                   time.Time
}

// PollerWorkflow polls one connection every Every until Until or until it is authorized.
func PollerWorkflow(ctx workflow.Context, in PollerInput) error {
	var p *Poller
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for workflow.Now(ctx).Before(in.Until) {
		var state string
		if err := workflow.ExecuteActivity(ctx, p.ReadConnection, in.RegionURL, in.ConnectionID).Get(ctx, &state); err == nil && heroku.Healthy(state) {
			return nil
		}
		if err := workflow.Sleep(ctx, in.Every); err != nil {
			return err
		}
	}
	return nil
}
