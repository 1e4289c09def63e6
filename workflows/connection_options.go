package workflows

// Activity options of the Heroku steps, and how failures read in the status.

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// herokuCtx runs an activity on the Heroku queue: 4xx final, 5xx and timeouts retried with
// backoff, 429 after the delay Heroku asks (the activity sets NextRetryDelay).
func (w *connection) herokuCtx(ctx workflow.Context, giveUpAfter time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, HerokuActivityOptions(w.in.Options.HerokuTaskQueue, giveUpAfter))
}

// pollCtx waits for a Heroku state by retrying a "not yet" activity: no history per poll.
func (w *connection) pollCtx(ctx workflow.Context, giveUpAfter time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, PollActivityOptions(w.in.Options.HerokuTaskQueue, w.in.Options.PollInterval, giveUpAfter))
}

// HerokuActivityOptions are the options of every Heroku call.
func HerokuActivityOptions(queue string, giveUpAfter time.Duration) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:              queue,
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: giveUpAfter,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: finalErrorTypes},
	}
}

// PollActivityOptions retry at a steady pace until the state comes or time runs out.
func PollActivityOptions(queue string, every, giveUpAfter time.Duration) workflow.ActivityOptions {
	o := HerokuActivityOptions(queue, giveUpAfter)
	o.RetryPolicy.InitialInterval = every
	o.RetryPolicy.BackoffCoefficient = 1.2
	o.RetryPolicy.MaximumInterval = 30 * every
	return o
}

var finalErrorTypes = []string{contract.ErrHerokuFinal, contract.ErrProvisioningFailed, contract.ErrIntegrationInactive, contract.ErrAddonConflict}

func errorMessage(err error) string {
	if err == nil {
		return ""
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Message()
	}
	return err.Error()
}

func failureType(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.Type() != "" {
		return ae.Type()
	}
	var te *temporal.TimeoutError
	if errors.As(err, &te) {
		return contract.ErrHerokuTimeout
	}
	return contract.ErrStepFailed
}

func joinMsg(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
