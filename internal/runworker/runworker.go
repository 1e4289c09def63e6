// Package runworker is the one wiring of the three task queues, shared by the worker binary,
// the tests' in-process worker and the fixture recorder, so tests run what production runs:
// workflows and non-Heroku activities on the onboarding queue; every Heroku activity on the
// heroku queue, rate limited by the server to the account's budget with one Heroku request
// per dispatch; event streams and their deliveries on the events queue.
package runworker

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/workflows"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Options name the queues and the budget.
type Options struct {
	OnboardingQueue string // contract.OnboardingTaskQueue when empty
	// CallsPerHour is the account's Heroku budget; 0 leaves the heroku queue unlimited (tests
	// that do not measure the budget).
	CallsPerHour int
	StopTimeout  time.Duration
	// Deployment makes the three workers one Worker Deployment Version; zero leaves them
	// unversioned (make run, the tests).
	Deployment Deployment
}

// Workers are the three running workers.
type Workers struct {
	onboarding, heroku, events worker.Worker
	deployment                 Deployment
	// polls are the task queues' names and kinds the workers poll (what a versioned
	// deployment's server must know before the version can take work).
	polls map[string][]client.TaskQueueType
}

// Start registers everything on both queues and starts polling. The heroku queue is the one
// in acts.Settings.
func Start(c client.Client, acts *activities.Activities, o Options) (*Workers, error) {
	if o.OnboardingQueue == "" {
		o.OnboardingQueue = contract.OnboardingTaskQueue
	}
	if acts.Settings.HerokuTaskQueue == "" {
		return nil, fmt.Errorf("runworker: the activities' settings name no heroku task queue")
	}
	onboarding := worker.New(c, o.OnboardingQueue, worker.Options{WorkerStopTimeout: o.StopTimeout, DeploymentOptions: o.Deployment.options()})
	workflows.Register(onboarding)
	activities.RegisterOnboarding(onboarding, acts)
	hopts := worker.Options{
		WorkerStopTimeout: o.StopTimeout,
		DeploymentOptions: o.Deployment.options(),
		// One Heroku request per dispatch: the rate limit below then counts requests.
		Interceptors: []interceptor.WorkerInterceptor{activities.CallBudget()},
	}
	if o.CallsPerHour > 0 {
		// The server enforces this across every worker on the queue: the account's budget
		// holds however many worker processes run.
		hopts.TaskQueueActivitiesPerSecond = float64(o.CallsPerHour) / 3600
	}
	herokuWorker := worker.New(c, acts.Settings.HerokuTaskQueue, hopts)
	activities.RegisterHeroku(herokuWorker, acts)
	// Event streams, their logs and deliveries: a queue of their own, so a slow receiver
	// takes no slot of onboarding's.
	eventsWorker := worker.New(c, acts.Settings.Events(), worker.Options{WorkerStopTimeout: o.StopTimeout, DeploymentOptions: o.Deployment.options()})
	workflows.Register(eventsWorker)
	activities.RegisterEvents(eventsWorker, acts)
	var wf, act client.TaskQueueType = client.TaskQueueTypeWorkflow, client.TaskQueueTypeActivity
	w := &Workers{onboarding: onboarding, heroku: herokuWorker, events: eventsWorker, deployment: o.Deployment, polls: map[string][]client.TaskQueueType{
		o.OnboardingQueue: {wf, act}, acts.Settings.HerokuTaskQueue: {act}, acts.Settings.Events(): {wf, act}}}
	for i, one := range []worker.Worker{onboarding, herokuWorker, eventsWorker} {
		if err := one.Start(); err != nil {
			for _, started := range []worker.Worker{onboarding, herokuWorker, eventsWorker}[:i] {
				started.Stop()
			}
			return nil, fmt.Errorf("start the worker of queue %d of 3: %w", i+1, err)
		}
	}
	return w, nil
}

// Stop drains them, the Heroku one first.
func (w *Workers) Stop() {
	w.heroku.Stop()
	w.events.Stop()
	w.onboarding.Stop()
}
