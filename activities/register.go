package activities

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
)

// RegisterHeroku registers the activities that call Heroku; they belong on the heroku task
// queue, whose server-side rate limit keeps the account inside its budget.
func RegisterHeroku(r worker.ActivityRegistry, a *Activities) {
	for name, fn := range map[string]any{
		"CheckIntegration": a.CheckIntegration, "ProvisionAddon": a.ProvisionAddon, "WaitAddonProvisioned": a.WaitAddonProvisioned,
		"EnrollAddon": a.EnrollAddon, "ConfigureConnection": a.ConfigureConnection, "RequestAuthorizationURL": a.RequestAuthorizationURL,
		"ReadConnection": a.ReadConnection, "DestroyAddon": a.DestroyAddon, "WaitAddonGone": a.WaitAddonGone,
		"ListAppConnections": a.ListAppConnections, "ListAppConnectionStates": a.ListAppConnectionStates,
		"ListAppConnectionsNotWaiting": a.ListAppConnectionsNotWaiting, "CreateIntegration": a.CreateIntegration, "UpdateIntegration": a.UpdateIntegration,
		"IntegrationInfo": a.IntegrationInfo, "DeactivateIntegration": a.DeactivateIntegration,
		"CreateAddon": a.CreateAddon, "FindOwnAddon": a.FindOwnAddon, "LookupAddon": a.LookupAddon,
		"EnrollInIntegration": a.EnrollInIntegration, "JoinConnectAccess": a.JoinConnectAccess,
		"DiscoverConnection": a.DiscoverConnection, "SetConnectionSchema": a.SetConnectionSchema,
		"DestroyAddonByKey": a.DestroyAddonByKey, "CreateIntegrationOnce": a.CreateIntegrationOnce, "WaitAddonGoneByKey": a.WaitAddonGoneByKey,
	} {
		r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}

// RegisterOnboarding registers the activities that do not call Heroku.
func RegisterOnboarding(r worker.ActivityRegistry, a *Activities) {
	r.RegisterActivityWithOptions(a.RegisterWithWatcher, activity.RegisterOptions{Name: "RegisterWithWatcher"})
	r.RegisterActivityWithOptions(a.FindRunningCustomers, activity.RegisterOptions{Name: "FindRunningCustomers"})
	r.RegisterActivityWithOptions(a.AwaitCustomersClosed, activity.RegisterOptions{Name: "AwaitCustomersClosed"})
	r.RegisterActivityWithOptions(a.WorkerSettings, activity.RegisterOptions{Name: "WorkerSettings"})
	r.RegisterActivityWithOptions(a.CheckClaims, activity.RegisterOptions{Name: "CheckClaims"})
}
