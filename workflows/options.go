package workflows

// Every activity's options, in one place, named for what the activity is; the worker's
// settings, loaded once per run; and how failures read in a status.

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// a is the activities' receiver: only its method names are used here, as in Temporal's
// samples; the worker registers a populated one.
var a *activities.Activities

// loadSettings reads the worker's operational settings (a local activity, so the value is in
// history and replays) and checks them. Every workflow calls it once per run, before it
// starts any Heroku call: its queue and pace are the worker's, never its input's.
func loadSettings(ctx workflow.Context) (contract.Settings, error) {
	var s contract.Settings
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	if err := workflow.ExecuteLocalActivity(lctx, a.WorkerSettings).Get(ctx, &s); err != nil {
		return s, fmt.Errorf("reading the worker's settings: %w", err)
	}
	if err := s.Validate(); err != nil {
		return s, temporal.NewNonRetryableApplicationError("the worker's settings: "+err.Error(), contract.ErrInvalidInput, nil)
	}
	return s, nil
}

// finalErrorTypes are the failures of a Heroku call that no retry can mend.
var finalErrorTypes = []string{contract.ErrHerokuFinal, contract.ErrProvisioningFailed, contract.ErrIntegrationInactive, contract.ErrAddonConflict}

// herokuCall runs one Heroku request on the heroku queue: 4xx final, 5xx and timeouts
// retried with backoff, 429 after the delay Heroku asks (the activity sets NextRetryDelay).
func herokuCall(ctx workflow.Context, s contract.Settings, giveUpAfter time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, herokuOptions(s, giveUpAfter))
}

func herokuOptions(s contract.Settings, giveUpAfter time.Duration) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:              s.HerokuTaskQueue,
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: giveUpAfter,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: finalErrorTypes},
	}
}

// herokuPoll waits for a Heroku state by retrying a "not yet" activity at the poll pace: no
// history per poll.
func herokuPoll(ctx workflow.Context, s contract.Settings, giveUpAfter time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, pollOptions(s, giveUpAfter))
}

func pollOptions(s contract.Settings, giveUpAfter time.Duration) workflow.ActivityOptions {
	o := herokuOptions(s, giveUpAfter)
	o.RetryPolicy.InitialInterval = s.PollInterval
	o.RetryPolicy.BackoffCoefficient = 1.2
	o.RetryPolicy.MaximumInterval = 30 * s.PollInterval
	return o
}

// cleanupScheduleTime is how long a cleanup step keeps trying.
const cleanupScheduleTime = 24 * time.Hour

// herokuCleanup runs a cleanup step: every error is retried (a 401 from a rotated token
// included) until its 24 hours are spent.
func herokuCleanup(ctx workflow.Context, s contract.Settings) workflow.Context {
	o := pollOptions(s, cleanupScheduleTime)
	o.RetryPolicy.NonRetryableErrorTypes = nil
	o.RetryPolicy.MaximumInterval = 10 * time.Minute
	return workflow.WithActivityOptions(ctx, o)
}

// temporalCall runs an activity that asks Temporal (visibility, a query, a signal-with-start,
// a schedule) on the workflow's own queue; the given error types are final.
func temporalCall(ctx workflow.Context, giveUpAfter time.Duration, final ...string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, ScheduleToCloseTimeout: giveUpAfter,
		RetryPolicy: temporalRetry(final)})
}

// temporalRetry retries a question to Temporal from a second to 30 seconds apart.
func temporalRetry(final []string) *temporal.RetryPolicy {
	return &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, NonRetryableErrorTypes: final}
}

// accessCall runs AwaitConnection: a wait on the app's Connect access coordinator, which
// heartbeats; a busy coordinator is asked again at once, and the wait gives up when the
// coordinator would have (accessGiveUp) plus the time a saturated budget may take.
func accessCall(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: accessGiveUp + 5*time.Minute, HeartbeatTimeout: time.Minute,
		ScheduleToCloseTimeout: 2 * time.Hour, RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second, NonRetryableErrorTypes: append([]string{contract.ErrInvalidInput}, finalErrorTypes...)}})
}

// temporalLocal is temporalCall for a local activity.
func temporalLocal(ctx workflow.Context, giveUpAfter time.Duration, final ...string) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute, ScheduleToCloseTimeout: giveUpAfter,
		RetryPolicy: temporalRetry(final)})
}

// batchCall runs a long activity that drives or watches a server-side batch operation: it
// heartbeats, so a worker that dies mid-way is noticed within heartbeat.
func batchCall(ctx workflow.Context, startToClose, heartbeat, giveUpAfter time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: startToClose, HeartbeatTimeout: heartbeat,
		ScheduleToCloseTimeout: giveUpAfter, RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 1.5,
			MaximumInterval: time.Minute, NonRetryableErrorTypes: []string{contract.ErrInvalidInput}}})
}

// emitCall runs EmitEvent, a local activity: retried for a day while Temporal does not
// take the event.
func emitCall(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute}})
}

// eventsCall runs an activity of event delivery on the stream's own queue (the events
// queue): giveUpAfter 0 retries until it succeeds; a delivery's attempts back off from 5 s
// to an hour.
func eventsCall(ctx workflow.Context, giveUpAfter time.Duration) workflow.Context {
	if giveUpAfter != 0 && giveUpAfter < time.Minute {
		giveUpAfter = time.Minute
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: giveUpAfter,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Hour,
			MaximumAttempts: maxDeliveryAttempts, NonRetryableErrorTypes: []string{contract.ErrEventsNotConfigured}}})
}

// maxDeliveryAttempts is more than 72 hours of attempts at most an hour apart: the give-up
// time bounds a delivery, this only makes the bound explicit (Temporal's test environment
// would otherwise stop at 10).
const maxDeliveryAttempts = 500

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
