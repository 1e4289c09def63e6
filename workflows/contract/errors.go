package contract

// Error types: the Type of a temporal.ApplicationError an activity raises or a workflow ends
// with, and the ErrorType of StartResult and Status. Callers branch on these; each concept has
// one name.
const (
	// ErrInvalidInput: a start input broke a rule; nothing was created.
	ErrInvalidInput = "InvalidInput"
	// ErrIntegrationInactive: the partner integration cannot take the request (it is
	// deactivating, inactive or unknown), for customers and for the partner workflow alike.
	ErrIntegrationInactive = "IntegrationInactive"
	// ErrAuthorizationTimeout: the customer did not authorize in time.
	ErrAuthorizationTimeout = "AuthorizationTimeout"
	// ErrIdentityMismatch: too many authorizations by the wrong Salesforce org or user.
	ErrIdentityMismatch = "IdentityMismatch"
	// ErrCompensationFailed: the cleanup could not finish; the error names what is left.
	ErrCompensationFailed = "CompensationFailed"
	// ErrStepFailed: a step failed for a reason with no type of its own.
	ErrStepFailed = "StepFailed"
	// ErrDeactivationFailed: Heroku did not complete a deactivation; nobody was told, and the
	// request may be repeated.
	ErrDeactivationFailed = "DeactivationFailed"
	// ErrDeactivationIncomplete: the deactivation cascade ended with customers not ended.
	ErrDeactivationIncomplete = "DeactivationIncomplete"

	// ErrHerokuFinal: Heroku answered 4xx; the same call cannot succeed (Heroku's kind is the
	// error's detail).
	ErrHerokuFinal = "HerokuFinal"
	// ErrHerokuTransient: a 5xx, a lost connection or an unexpected answer; retried.
	ErrHerokuTransient = "HerokuTransient"
	// ErrDeliveryFailed: an attempt to deliver an event to an ISV endpoint failed (no
	// answer, or not 2xx); retried with backoff for up to 3 days.
	ErrDeliveryFailed = "DeliveryFailed"
	// ErrEventsNotConfigured: the worker has no EVENTS_SECRET_KEY to sign a delivery with;
	// the delivery waits for it.
	ErrEventsNotConfigured = "EventsNotConfigured"
	// ErrHerokuRateLimited: a 429; retried after the delay Heroku asks.
	ErrHerokuRateLimited = "HerokuRateLimited"
	// ErrHerokuTimeout: a Heroku step ran out of time.
	ErrHerokuTimeout = "HerokuTimeout"
	// ErrNotYet: the state a step waits for has not come yet; retried by policy, benign.
	ErrNotYet = "NotYet"
	// ErrProvisioningFailed: Heroku gave up on the add-on.
	ErrProvisioningFailed = "ProvisioningFailed"
	// ErrAddonConflict: an add-on with our name exists but is not ours to adopt, or an add-on
	// to enroll belongs to another ISV or another live customer.
	ErrAddonConflict = "AddonConflict"
	// ErrAddonNameTaken: the create found the name taken; the workflow then looks for the
	// add-on an earlier attempt made (a lost response, a crash after the call).
	ErrAddonNameTaken = "AddonNameTaken"
	// ErrConnectionNotNew: the connection's database and schema can no longer be set; the
	// workflow reads it to learn whether an earlier attempt set them.
	ErrConnectionNotNew = "ConnectionNotNew"
	// ErrSchemaTaken: another live customer already syncs into that schema.
	ErrSchemaTaken = "SchemaTaken"
	// ErrImportUncertain: a retried mapping import cannot know whether the first attempt's
	// reached Heroku; the workflow reads the connection to decide.
	ErrImportUncertain = "ImportUncertain"
	// ErrSlugTaken: the create found the slug taken; the partner workflow then reads the
	// integration to learn whether an earlier attempt of its own made it.
	ErrSlugTaken = "SlugTaken"
)
