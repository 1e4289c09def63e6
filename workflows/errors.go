package workflows

import "github.com/connect-onboarding/worker/activities"

// Error types the workflows fail or answer with, in one place. A caller branches on these
// (temporal.ApplicationError.Type(), StartResult.ErrorType, Status.ErrorType); the ones the
// activities raise are in the activities package and repeated here where workflows use them.
const (
	// ErrInvalidInput: a start input broke a rule; nothing was created.
	ErrInvalidInput = "InvalidInput"
	// ErrAuthorizationTimeout: the customer did not authorize in time.
	ErrAuthorizationTimeout = "AuthorizationTimeout"
	// ErrIdentityMismatch: too many authorizations by the wrong Salesforce org or user.
	ErrIdentityMismatch = "IdentityMismatch"
	// ErrCompensationFailed: the cleanup could not finish; the error names what is left.
	ErrCompensationFailed = "CompensationFailed"
	// ErrHerokuTimeout: a Heroku step ran out of time.
	ErrHerokuTimeout = "HerokuTimeout"
	// ErrStepFailed: a step failed for a reason with no type of its own.
	ErrStepFailed = "StepFailed"
	// ErrIntegrationInactive: the partner integration cannot take the request (it is
	// deactivating, inactive or unknown); one name for the customer and partner workflows.
	ErrIntegrationInactive = activities.ErrIntegrationInactive
	// ErrDeactivationFailed: Heroku did not complete a deactivation; nobody was told, and the
	// request may be repeated.
	ErrDeactivationFailed = "DeactivationFailed"
	// ErrDeactivationIncomplete: the deactivation cascade ended with customers not ended.
	ErrDeactivationIncomplete = "DeactivationIncomplete"
)
