package contract

// Registered activity names, each the name of the activities.Activities method that
// implements it (a test holds the two together). Histories record them: never rename one;
// an activity a released workflow version calls stays registered for as long as that version
// can replay.

// Activities on the heroku task queue: each makes Heroku requests within its call budget.
const (
	ActivityCheckIntegration      = "CheckIntegration"
	ActivityCreateAddon           = "CreateAddon"
	ActivityFindOwnAddon          = "FindOwnAddon"
	ActivityWaitAddonProvisioned  = "WaitAddonProvisioned"
	ActivityLookupAddon           = "LookupAddon"
	ActivityEnrollInIntegration   = "EnrollInIntegration"
	ActivityJoinConnectAccess     = "JoinConnectAccess"
	ActivityDiscoverConnection    = "DiscoverConnection"
	ActivitySetConnectionSchema   = "SetConnectionSchema"
	ActivityRequestAuthorization  = "RequestAuthorizationURL"
	ActivityReadConnection        = "ReadConnection"
	ActivityDestroyAddonByKey     = "DestroyAddonByKey"
	ActivityWaitAddonGoneByKey    = "WaitAddonGoneByKey"
	ActivityListAppConnections    = "ListAppConnections"
	ActivityListAppConnStates     = "ListAppConnectionStates"
	ActivityListAppConnNotWaiting = "ListAppConnectionsNotWaiting"
	ActivityCreateIntegration     = "CreateIntegration"
	ActivityCreateIntegrationOnce = "CreateIntegrationOnce"
	ActivityUpdateIntegration     = "UpdateIntegration"
	ActivityIntegrationInfo       = "IntegrationInfo"
	ActivityDeactivateIntegration = "DeactivateIntegration"
	ActivityListAccountAddons     = "ListAccountAddons"
	ActivityReadConnectionsPage   = "ReadConnectionsPage"
	ActivityDiscoverRegion        = "DiscoverRegion"

	// Called only by workflow versions before one-request steps (trust-guarantees); kept so
	// their runs finish and replay.
	ActivityProvisionAddon      = "ProvisionAddon"
	ActivityEnrollAddon         = "EnrollAddon"
	ActivityConfigureConnection = "ConfigureConnection"
	ActivityDestroyAddon        = "DestroyAddon"
	ActivityWaitAddonGone       = "WaitAddonGone"
)

// Activities on the onboarding task queue: Temporal's client and the worker's own settings.
const (
	ActivityRegisterWithWatcher    = "RegisterWithWatcher"
	ActivityFindRunningCustomers   = "FindRunningCustomers"
	ActivityAwaitCustomersClosed   = "AwaitCustomersClosed"
	ActivityCheckClaims            = "CheckClaims"
	ActivitySetReconcileSchedule   = "SetReconcileSchedule"
	ActivityPartnerStage           = "PartnerStage"
	ActivitySignalRunningCustomers = "SignalRunningCustomers"
	ActivityCountCustomers         = "CountCustomers"
	ActivityFindConnectionOwners   = "FindConnectionOwners"
	// ActivityWorkerSettings is a local activity: the worker's operational settings.
	ActivityWorkerSettings = "WorkerSettings"
)

// HerokuActivities and OnboardingActivities list the names per task queue, for registration
// and for the test that every one is registered.
var (
	HerokuActivities = []string{
		ActivityCheckIntegration, ActivityCreateAddon, ActivityFindOwnAddon, ActivityWaitAddonProvisioned,
		ActivityLookupAddon, ActivityEnrollInIntegration, ActivityJoinConnectAccess, ActivityDiscoverConnection,
		ActivitySetConnectionSchema, ActivityRequestAuthorization, ActivityReadConnection, ActivityDestroyAddonByKey,
		ActivityWaitAddonGoneByKey, ActivityListAppConnections, ActivityListAppConnStates, ActivityListAppConnNotWaiting,
		ActivityCreateIntegration, ActivityCreateIntegrationOnce, ActivityUpdateIntegration, ActivityIntegrationInfo,
		ActivityDeactivateIntegration, ActivityListAccountAddons, ActivityReadConnectionsPage, ActivityDiscoverRegion, ActivityProvisionAddon, ActivityEnrollAddon, ActivityConfigureConnection,
		ActivityDestroyAddon, ActivityWaitAddonGone,
	}
	OnboardingActivities = []string{
		ActivityRegisterWithWatcher, ActivityFindRunningCustomers, ActivityAwaitCustomersClosed,
		ActivityCheckClaims, ActivitySetReconcileSchedule, ActivityWorkerSettings, ActivityPartnerStage,
		ActivitySignalRunningCustomers, ActivityCountCustomers, ActivityFindConnectionOwners,
	}
)
