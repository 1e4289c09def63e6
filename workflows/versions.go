package workflows

// The versioned changes of the workflows (workflow.GetVersion change IDs); each has replay
// fixtures recorded at its newest version under testdata/replay.

// Versioned changes (workflow.GetVersion change IDs); each has replay fixtures recorded at
// its newest version.
const (
	// changeFreshReauthorization: a re-authorization round accepts only an authorization
	// newer than the one the connection was active on.
	changeFreshReauthorization = "fresh-reauthorization"
	// changeWatchAuthUpdated: the watcher reads auth_updated too and reports a newer
	// authorization even when the state did not change.
	changeWatchAuthUpdated = "watch-auth-updated"
	// changeWatchOmitWaiting: the watcher's read leaves out connections still waiting for
	// their first authorization, so its history does not grow with the waiting customers.
	changeWatchOmitWaiting = "watch-omit-waiting"
	// changeDeactivationDuringStep: a step that fails after the add-on exists checks whether
	// the integration was deactivated, and ends as deactivated if so.
	changeDeactivationDuringStep = "deactivation-during-step"
	// changeWatchNoMidRoundJoin: a member registering while the watcher's read is in flight
	// is compared from the next round on (it was taken for gone and dropped).
	changeWatchNoMidRoundJoin = "watch-no-midround-join"
	// changeWatchShards: customers of an app are spread over WatchShards watchers, so no
	// watcher's carried member list nears Temporal's 2 MB payload limit (it did at ~10,000
	// members, and the watcher stalled).
	changeWatchShards = "watch-shards"
	// changeTrust: the guarantees of issue 10, together. Operational settings come from the
	// worker (WorkerSettings), not the start input; every Heroku activity makes one request;
	// the add-on's compensation is recorded before its create; cleanup retries every error
	// within its 24 hours; the authorization deadline is carried; enroll and schema claims
	// are checked; a return honours its attempt once; a reissue settles when the customer
	// authorizes first.
	changeTrust = "trust-guarantees"
	// changePartnerCreateOneRequest: the partner workflow creates its integration with one
	// request per activity (CreateIntegrationOnce, then IntegrationInfo when the slug is
	// taken) instead of an activity that made both.
	changePartnerCreateOneRequest = "partner-create-one-request"
	// changeReconcileSchedule: the partner workflow keeps its integration's reconciler
	// Schedule (on once the integration is known and active, off once it is deactivated).
	changeReconcileSchedule = "reconcile-schedule"
	// changeBudgetAware: fewer Heroku calls per onboarding. The integration's status comes from
	// the ISV's partner workflow when it knows it (a Heroku read only when it does not), and
	// the add-on is not polled when its create answered "provisioned", nor before one poll
	// interval has passed after the create.
	changeBudgetAware = "budget-aware"
	// changeDeactivationBatch: the deactivation cascade signals customers with the server's
	// batch operations, in rounds until one reaches every running customer, and waits on
	// counts over visibility; the report holds counts and a bounded sample, not one entry
	// per customer (one signal per customer from one workflow task failed above 2,000).
	changeDeactivationBatch = "deactivation-batch"
	// changeWatchFromTruth: one watcher per app that carries no members. It reads the app a
	// page per activity (at most watchMaxPages a round), tells the customer that owns a
	// connection (found in visibility by its add-on) of a new authorization or a state that
	// needs someone, and paces itself by what Heroku shows waiting. Nobody can be lost: a
	// new or restarted watcher reports every authorization once. Customers register with
	// watch/<app>; a shard watcher hands over to it.
	changeWatchFromTruth = "watch-from-truth"
	// changeProvisionedWebhook: with webhooks configured (the worker's WebhookWait), a new
	// add-on waits for Heroku's api:addon webhook instead of polling, and polls only if it does
	// not come in time.
	changeProvisionedWebhook = "provisioned-webhook"
	// changeReconcileWakesWatchers: a sweep wakes (or starts again) the watcher of every app
	// a live customer's add-on is on.
	changeReconcileWakesWatchers = "reconcile-wakes-watchers"
	// changeDeactivatingPartnerEndsDeactivated: a customer turned away by its partner
	// workflow's deactivation ends as deactivated, not failed.
	changeDeactivatingPartnerEndsDeactivated = "deactivating-partner-ends-deactivated"
	// changeTurnedAwayMidStart: a step that fails before the add-on exists asks the partner
	// workflow whether the integration is being deactivated, and ends as deactivated if so.
	changeTurnedAwayMidStart = "turned-away-mid-start"
	// changeOpaqueCustomerIDs: a new onboarding refuses a customer ID that is an email address
	// or the customer's Salesforce org ID (workflow IDs and search attributes are never
	// encrypted).
	changeOpaqueCustomerIDs = "opaque-customer-ids"
)
