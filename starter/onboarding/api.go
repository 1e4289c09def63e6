package onboarding

import "github.com/connect-onboarding/worker/workflows/contract"

// The payload types and constants a backend needs, under this package's name. They are the
// workflows' own (package contract): aliases, so there is one definition of each.
type (
	// Input starts a customer's onboarding.
	Input = contract.ConnectionInput
	// Options are the per-customer options of an Input.
	Options = contract.ConnectionOptions
	// Salesforce binds the authorization to the customer's org and integration user.
	Salesforce = contract.Salesforce
	// Result answers Start, ReissueURL and Reauthorize.
	Result = contract.StartResult
	// Status is an onboarding's status.
	Status = contract.Status
	// Stage is where an onboarding is.
	Stage = contract.Stage
	// FieldError names a field and the rule it broke.
	FieldError = contract.FieldError
	// MappingTemplate is a Heroku Connect mapping configuration (connect:export's format), an
	// integration's (PartnerSpec.Mappings, PartnerChanges.Mappings) or an onboarding's own
	// (Input.Mappings); ParseMappingTemplate reads one from a file's bytes.
	MappingTemplate = contract.MappingTemplate
	// Health is a customer's connection as Heroku showed it (Status.Health, RefreshHealth).
	Health = contract.Health
)

// ParseMappingTemplate reads a mapping configuration file (connect:export's format) and
// checks it, every problem named by its path in the file.
func ParseMappingTemplate(data []byte) (*MappingTemplate, error) {
	return contract.ParseMappingTemplate(data, "")
}

// Modes of onboarding.
const (
	// ModeProvision creates a new herokuconnect:enterprise add-on on the ISV's app.
	ModeProvision = contract.ModeProvision
	// ModeEnroll associates an existing Connect add-on with the integration.
	ModeEnroll = contract.ModeEnroll
)
