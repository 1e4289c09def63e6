// Package contract is the onboarding worker's protocol with everyone outside a workflow:
// the workflow, activity, signal, update and query names, the workflow IDs and their
// parsers, the search attribute keys, the error types, and the payload types that cross
// those boundaries.
//
// It sits below both the workflows and the activities, so each fact is defined once and
// neither copies the other; a backend service that imports the starter/onboarding client
// gets this package and the Temporal client, nothing of the worker. It does no I/O of its
// own: the typed messages only wrap the SDK's calls.
package contract

// Default task queue names. A deployment may rename them (TEMPORAL_TASK_QUEUE,
// TEMPORAL_HEROKU_TASK_QUEUE, TEMPORAL_EVENTS_TASK_QUEUE); the worker's settings say which it polls.
const (
	// OnboardingTaskQueue runs the workflows and the activities that do not call Heroku.
	OnboardingTaskQueue = "onboarding"
	// HerokuTaskQueue runs the activities that call Heroku; its server-side rate limit is the
	// account's request budget.
	HerokuTaskQueue = "heroku"
	// EventsTaskQueue runs the event streams, the delivery logs and the deliveries to the
	// ISV's endpoints, so a slow or dead receiver never holds up onboarding.
	EventsTaskQueue = "events"
)

// Registered workflow names. They are part of every recorded history: never rename one.
const (
	ConnectionWorkflowName = "ConnectionWorkflow"
	WatcherWorkflowName    = "WatcherWorkflow"
	PartnerWorkflowName    = "PartnerWorkflow"
	// EventsWorkflowName delivers one customer's (or one integration's) events in order.
	EventsWorkflowName = "EventsWorkflow"
	// DeliveryLogWorkflowName keeps one endpoint's bounded delivery log.
	DeliveryLogWorkflowName = "DeliveryLogWorkflow"
	// AccessWorkflowName joins the access list and discovers new connections for every
	// customer of one app at once.
	AccessWorkflowName = "ConnectAccessWorkflow"
)
