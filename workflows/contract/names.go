package contract

// Every signal, update and query, with its payload types and the description the Temporal
// UI and `temporal workflow metadata` show. Names are part of recorded histories and of
// every client: never rename one.

// The customer connection workflow (ConnectionWorkflowName).
var (
	// UpdateStart is sent with Update-with-Start; it returns the authorization URL.
	UpdateStart = Update[None, StartResult]{"onboarding.start",
		"Start (with Update-with-Start) or reach the customer's onboarding; returns the authorization URL once it exists, or how the run ended."}
	// UpdateReissueURL asks for a fresh authorization URL while waiting for the customer.
	UpdateReissueURL = Update[None, StartResult]{"onboarding.reissue_url",
		"Issue a fresh authorization URL while waiting for the customer (the previous one stops working)."}
	// UpdateCurrentURL answers the current URL, or a fresh one only when it expires before
	// ValidUntil (a customer's connect link: no Heroku call per visit).
	UpdateCurrentURL = Update[URLWanted, StartResult]{"onboarding.current_url",
		"The current authorization URL if it stays valid until valid_until, else a fresh one (a Heroku call only then); while waiting for the customer."}
	// UpdateReauthorize asks an active connection to be authorized again.
	UpdateReauthorize = Update[None, StartResult]{"onboarding.reauthorize",
		"Ask an active connection to be authorized again; returns the new URL."}
	// UpdateOffboard ends the connection and removes what onboarding created.
	UpdateOffboard = Update[None, Status]{"onboarding.offboard",
		"End the connection and destroy what onboarding created; returns the final status."}
	// UpdateStatus returns the status through history (read-your-writes).
	UpdateStatus = Update[None, Status]{"onboarding.status",
		"The connection's status, through history (read-your-writes)."}
	// UpdateCustomerReturned reports the customer's return with a signed state's attempt; the
	// workflow accepts each attempt once (single use, durable and shared by every replica of
	// the return endpoint) and only for the URL it issued last, then answers once the
	// verification it triggered has run.
	UpdateCustomerReturned = Update[CustomerReturned, ReturnResult]{"onboarding.customer_returned",
		"The customer came back with a signed state: accepted once, for the current URL only; answers what the verification found."}
	// QueryStatus returns the status without touching history.
	QueryStatus = Query[Status]{"status",
		"The status: stage, add-on, URL and expiry, last connection state, mismatches and the story so far."}

	// SignalCustomerReturned: the ISV backend saw the customer come back from the
	// authorization page.
	SignalCustomerReturned = Signal[CustomerReturned]{"customer.returned",
		"The ISV backend saw the customer return from the authorization page (payload: the URL attempt); triggers one verification."}
	// SignalConnectionState: the watcher saw the connection's state change.
	SignalConnectionState = Signal[ConnectionStateReport]{"connection.state",
		"The app's watcher saw this connection's state or authorization time change."}
	// SignalAddonState: Heroku's app webhook said the customer's add-on changed state. A
	// hint, since anyone can send it: only "provisioned" is taken, and only to stop waiting.
	SignalAddonState = Signal[AddonStateReport]{"addon.state",
		"Heroku's app webhook said the add-on changed state (a hint: the workflow goes on to configure it, which fails if it is not provisioned)."}
	// SignalIntegrationDeactivated: the ISV's partner integration was deactivated.
	SignalIntegrationDeactivated = Signal[IntegrationDeactivated]{"integration.deactivated",
		"The ISV's partner integration was deactivated: end as deactivated."}
	// SignalMappingsChanged: the integration's mapping template changed (a rollout).
	SignalMappingsChanged = Signal[MappingsChanged]{"mappings.changed",
		"The integration's mapping template changed: a customer syncing by it imports the new one and reports to the partner workflow."}
	// UpdateRefreshHealth reads the connection's health from Heroku now.
	UpdateRefreshHealth = Update[None, Health]{"onboarding.refresh_health",
		"Read the connection's health from Heroku now (state, each mapping, write errors of 24 h, unacknowledged notifications)."}
)

// The connection watcher (WatcherWorkflowName).
var (
	// SignalWatchRegister wakes the watcher (signal-with-start starts it).
	SignalWatchRegister = Signal[WatchMember]{"watch.register",
		"A customer workflow (or the reconciler) wakes this watcher: it reads the app at the waiting pace."}
	// SignalWatchUnregister: a customer workflow leaves; the watcher keeps no members, so it
	// only reads the signal.
	SignalWatchUnregister = Signal[string]{"watch.unregister",
		"A customer workflow leaves this watcher (nothing to undo: the watcher keeps no members)."}
	// QueryWatch answers the watcher's pass over its app.
	QueryWatch = Query[WatchStatus]{"watch.status",
		"The watcher's pass over its app: connections, how many wait for a customer, what it told, its reads."}
)

// The Connect access coordinator of an app (AccessWorkflowName).
var (
	// SignalConnectionWanted asks for an add-on's connection (with signal-with-start);
	// QueryConnectionAnswer tells the asker when the coordinator's shared reads found it.
	// A signal, not an update: the server holds at most 10 updates in flight per workflow,
	// and a burst of customers waits on one coordinator.
	SignalConnectionWanted = Signal[ConnectionWanted]{"access.want_connection",
		"A customer's add-on needs its connection: a later shared read of the app's connections looks for it (joining the access list first when the add-on is newer than the last join)."}
	// QueryConnectionAnswer answers, for an add-on name, whether its connection was found.
	QueryConnectionAnswer = QueryOf[string, AccessAnswer]{"access.answer",
		"What the coordinator knows of an add-on's request: waiting, found (with its connection) or given up, and for the request of which time."}
	// UpdateConnectionWanted asked for an add-on's connection before 1.4.1 (with
	// Update-with-Start); runs that took such requests still answer them.
	UpdateConnectionWanted = Update[ConnectionWanted, ConnectionRef]{"access.connection_wanted",
		"A customer's add-on needs its connection (workers before 1.4.1): answered once a shared read of the app's connections finds it."}
	// QueryAccess answers what the coordinator waits for and what it spent.
	QueryAccess = Query[AccessStatus]{"access.status",
		"The add-ons waiting for their connection, and the joins and reads this run made."}
)

// The partner integration workflow (PartnerWorkflowName).
var (
	// UpdatePartnerCreate is sent with Update-with-Start; it creates the integration.
	UpdatePartnerCreate = Update[PartnerSpec, PartnerInfo]{"partner.create",
		"Create the partner integration on Heroku (with Update-with-Start); creating again returns it."}
	// UpdatePartnerUpdate changes the given fields.
	UpdatePartnerUpdate = Update[PartnerChanges, PartnerInfo]{"partner.update",
		"Change the integration's description, docs URL, contact email or logo."}
	// UpdatePartnerRefresh re-reads the integration from Heroku.
	UpdatePartnerRefresh = Update[None, PartnerInfo]{"partner.refresh",
		"Read the integration from Heroku (also how an existing integration is adopted)."}
	// UpdatePartnerDeactivate deactivates: destructive, needs the slug as confirmation.
	UpdatePartnerDeactivate = Update[Deactivate, PartnerInfo]{"partner.deactivate",
		"Deactivate the integration (confirm with the slug): Heroku destroys its add-ons, then every customer ends."}
	// QueryPartnerMappings answers the integration's mapping template (nil when it has none).
	QueryPartnerMappings = Query[*MappingTemplate]{"partner.mappings",
		"The integration's mapping template in Heroku Connect's export format, or null."}
	// SignalRolloutReport: a customer took (or failed to take) a new template.
	SignalRolloutReport = Signal[RolloutReport]{"rollout.report",
		"A customer took the integration's new mapping template, or failed to: counted in the rollout report."}
	// QueryPartnerInfo always answers with the last known state, even after the end.
	QueryPartnerInfo = Query[PartnerInfo]{"partner.info",
		"The integration as last known, its stage and the deactivation report."}
)

// The partner integration's event endpoints (PartnerWorkflowName).
var (
	// UpdateEndpointAdd adds an endpoint; its secret is revealed apart (it is never stored).
	UpdateEndpointAdd = Update[EndpointSpec, Endpoint]{"partner.endpoint_add",
		"Add an endpoint that receives the integration's lifecycle events (Standard Webhooks)."}
	// UpdateEndpointChange changes an endpoint: URL, types, identity opt-in, enabled.
	UpdateEndpointChange = Update[EndpointChange, Endpoint]{"partner.endpoint_update",
		"Change an endpoint: its URL, event types, identity opt-in, or enable/disable it."}
	// UpdateEndpointRotate gives an endpoint a new secret, the previous one signing too for a while.
	UpdateEndpointRotate = Update[EndpointRotate, Endpoint]{"partner.endpoint_rotate_secret",
		"Give an endpoint a new secret; the previous one keeps signing for keep_previous (24 h by default)."}
	// QueryEndpoints lists the endpoints, even after the end.
	QueryEndpoints = Query[[]Endpoint]{"partner.endpoints",
		"The integration's event endpoints (no secrets: they are derived, never stored)."}
	// SignalEndpointHealth: delivery found an endpoint gone (410) or failing (retries spent).
	SignalEndpointHealth = Signal[EndpointHealth]{"endpoint.health",
		"Delivery found an endpoint gone (410: disabled) or failing (retries spent): later events are not sent to it."}
)

// A customer's (or an integration's) event stream (EventsWorkflowName).
var (
	// SignalEventEmit queues an event (signal-with-start starts the stream).
	SignalEventEmit = Signal[LifecycleEvent]{"event.emit",
		"A workflow emits a lifecycle event: delivered in order to every endpoint subscribed now (duplicates by ID are dropped)."}
	// SignalRedeliver sends a kept event to an endpoint again.
	SignalRedeliver = Signal[Redeliver]{"event.redeliver",
		"Deliver a kept event (by its ID) to an endpoint again."}
	// QueryEvents answers what is queued and what was sent.
	QueryEvents = Query[EventsStatus]{"events.status",
		"Events queued (with the endpoints still to reach) and the last events sent, kept for redelivery."}
)

// An endpoint's delivery log (DeliveryLogWorkflowName).
var (
	// SignalDeliveryAttempt records one attempt.
	SignalDeliveryAttempt = Signal[DeliveryAttempt]{"delivery.attempt",
		"One attempt (or skip) of an event to this endpoint: status, latency, error."}
	// QueryDeliveries answers the log, newest first.
	QueryDeliveries = Query[[]Delivery]{"deliveries.list",
		"The endpoint's last deliveries, newest first, each with its last attempts."}
)
