package activities

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// herokuActivities are the activities that call Heroku, by their contract names.
func (a *Activities) herokuActivities() map[string]any {
	return map[string]any{
		contract.ActivityCheckIntegration: a.CheckIntegration, contract.ActivityCreateAddon: a.CreateAddon,
		contract.ActivityFindOwnAddon: a.FindOwnAddon, contract.ActivityWaitAddonProvisioned: a.WaitAddonProvisioned,
		contract.ActivityLookupAddon: a.LookupAddon, contract.ActivityEnrollInIntegration: a.EnrollInIntegration,
		contract.ActivityJoinConnectAccess: a.JoinConnectAccess, contract.ActivityDiscoverConnection: a.DiscoverConnection,
		contract.ActivitySetConnectionSchema: a.SetConnectionSchema, contract.ActivityRequestAuthorization: a.RequestAuthorizationURL,
		contract.ActivityReadConnection: a.ReadConnection, contract.ActivityDestroyAddonByKey: a.DestroyAddonByKey,
		contract.ActivityWaitAddonGoneByKey: a.WaitAddonGoneByKey, contract.ActivityListAppConnections: a.ListAppConnections,
		contract.ActivityListAppConnStates: a.ListAppConnectionStates, contract.ActivityListAppConnNotWaiting: a.ListAppConnectionsNotWaiting,
		contract.ActivityCreateIntegration: a.CreateIntegration, contract.ActivityCreateIntegrationOnce: a.CreateIntegrationOnce,
		contract.ActivityUpdateIntegration: a.UpdateIntegration, contract.ActivityIntegrationInfo: a.IntegrationInfo,
		contract.ActivityDeactivateIntegration: a.DeactivateIntegration, contract.ActivityListAccountAddons: a.ListAccountAddons,
		contract.ActivityReadConnectionsPage: a.ReadConnectionsPage, contract.ActivityDiscoverRegion: a.DiscoverRegion,
		contract.ActivityProvisionAddon: a.ProvisionAddon, contract.ActivityEnrollAddon: a.EnrollAddon,
		contract.ActivityConfigureConnection: a.ConfigureConnection, contract.ActivityDestroyAddon: a.DestroyAddon,
		contract.ActivityWaitAddonGone: a.WaitAddonGone,
	}
}

// onboardingActivities are the rest: Temporal's client and the worker's settings.
func (a *Activities) onboardingActivities() map[string]any {
	return map[string]any{
		contract.ActivityRegisterWithWatcher: a.RegisterWithWatcher, contract.ActivityFindRunningCustomers: a.FindRunningCustomers,
		contract.ActivityAwaitCustomersClosed: a.AwaitCustomersClosed, contract.ActivityCheckClaims: a.CheckClaims,
		contract.ActivityWorkerSettings: a.WorkerSettings, contract.ActivitySetReconcileSchedule: a.SetReconcileSchedule,
		contract.ActivityPartnerStage: a.PartnerStage, contract.ActivitySignalRunningCustomers: a.SignalRunningCustomers,
		contract.ActivityCountCustomers: a.CountCustomers, contract.ActivityFindConnectionOwners: a.FindConnectionOwners,
	}
}

// RegisterHeroku registers the activities that call Heroku; they belong on the heroku task
// queue, whose server-side rate limit keeps the account inside its budget.
func RegisterHeroku(r worker.ActivityRegistry, a *Activities) { register(r, a.herokuActivities()) }

// RegisterOnboarding registers the activities that do not call Heroku.
func RegisterOnboarding(r worker.ActivityRegistry, a *Activities) {
	register(r, a.onboardingActivities())
}

func register(r worker.ActivityRegistry, byName map[string]any) {
	for name, fn := range byName {
		r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}
