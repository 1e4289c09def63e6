package activities

import (
	"go.temporal.io/sdk/worker"
)

// Activities are registered by method value, so each is named after its method, the one
// name workflows call it by (a.Method) and histories record: never rename a method a
// released workflow version calls.

// herokuActivities are the activities that call Heroku, each with one request per dispatch.
func (a *Activities) herokuActivities() []any {
	return []any{
		a.CheckIntegration, a.CreateAddon, a.FindOwnAddon, a.WaitAddonProvisioned, a.LookupAddon, a.EnrollInIntegration,
		a.JoinConnectAccess, a.DiscoverConnection, a.SetConnectionSchema, a.RequestAuthorizationURL, a.ReadConnection,
		a.DestroyAddon, a.WaitAddonGone, a.CreateIntegration, a.UpdateIntegration, a.IntegrationInfo, a.DeactivateIntegration,
		a.ListAccountAddons, a.ReadConnectionsPage, a.DiscoverRegion, a.DestroyOrphan,
		a.ImportMappings, a.ImportedAlready, a.ReadSync, a.CountWriteErrors, a.CountNotifications, a.DiscoverConnectionsPage,
	}
}

// onboardingActivities are the rest: Temporal's client and the worker's settings.
func (a *Activities) onboardingActivities() []any {
	return []any{
		a.RegisterWithWatcher, a.FindRunningCustomers, a.RunningCustomersPage, a.CheckClaims, a.WorkerSettings, a.SetReconcileSchedule,
		a.PartnerStage, a.SignalRunningCustomers, a.CountCustomers, a.FindConnectionOwners, a.EmitEvent, a.IntegrationTemplate, a.RolloutMappings,
		a.AwaitConnection, a.AddonsGone,
	}
}

// eventsActivities deliver events to the ISV's endpoints and keep their logs.
func (a *Activities) eventsActivities() []any {
	return []any{a.EventTargets, a.DeliverEvent, a.MarkEndpoint}
}

// RegisterHeroku registers the activities that call Heroku; they belong on the heroku task
// queue, whose server-side rate limit keeps the account inside its budget.
func RegisterHeroku(r worker.ActivityRegistry, a *Activities) { register(r, a.herokuActivities()) }

// RegisterOnboarding registers the activities that do not call Heroku.
func RegisterOnboarding(r worker.ActivityRegistry, a *Activities) {
	register(r, a.onboardingActivities())
}

// RegisterEvents registers the activities of event delivery; they belong on the events task
// queue, so a slow receiver holds up nothing else.
func RegisterEvents(r worker.ActivityRegistry, a *Activities) { register(r, a.eventsActivities()) }

func register(r worker.ActivityRegistry, fns []any) {
	for _, fn := range fns {
		r.RegisterActivity(fn)
	}
}
