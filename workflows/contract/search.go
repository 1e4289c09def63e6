package contract

import (
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// Search attributes, all Keyword. They are not encrypted: no secret or personal data goes
// into one.
var (
	// SAIsvSlug is the ISV's integration slug, on customer workflows.
	SAIsvSlug = temporal.NewSearchAttributeKeyKeyword("IsvSlug")
	// SACustomerID is the ISV's customer ID, on customer workflows.
	SACustomerID = temporal.NewSearchAttributeKeyKeyword("CustomerId")
	// SAOnboardingStage is the customer's current Stage.
	SAOnboardingStage = temporal.NewSearchAttributeKeyKeyword("OnboardingStage")
	// SAHerokuAddonID is the ID of the customer's add-on once it is known.
	SAHerokuAddonID = temporal.NewSearchAttributeKeyKeyword("HerokuAddonId")
	// SAConnectSchema is app/db_key/schema: where a customer's data lands, so a second live
	// customer claiming the same schema is refused.
	SAConnectSchema = temporal.NewSearchAttributeKeyKeyword("ConnectSchema")
)

// searchAttributeKeys is every custom search attribute, in registration order.
var searchAttributeKeys = []temporal.SearchAttributeKeyKeyword{SAIsvSlug, SACustomerID, SAOnboardingStage, SAHerokuAddonID, SAConnectSchema}

// SearchAttributes lists the custom search attributes' names, all Keyword, for registration
// on a namespace (make run, the tests' dev server, a cluster's operator).
func SearchAttributes() []string {
	out := make([]string, len(searchAttributeKeys))
	for i, k := range searchAttributeKeys {
		out[i] = k.GetName()
	}
	return out
}

// SearchAttributeTypes is the same set as typed keys, the form testsuite.StartDevServer
// registers.
func SearchAttributeTypes() temporal.SearchAttributes {
	updates := make([]temporal.SearchAttributeUpdate, len(searchAttributeKeys))
	for i, k := range searchAttributeKeys {
		updates[i] = k.ValueSet("")
	}
	return temporal.NewSearchAttributes(updates...)
}

// Keyword reads a Keyword search attribute from a visibility record ("" when it is unset or
// not a string).
func Keyword(sa *commonpb.SearchAttributes, key temporal.SearchAttributeKeyKeyword) string {
	p := sa.GetIndexedFields()[key.GetName()]
	if p == nil {
		return ""
	}
	var s string
	if converter.GetDefaultDataConverter().FromPayload(p, &s) != nil {
		return ""
	}
	return s
}

// RunningCustomer says whether a listed run is a running customer workflow. A lookup by one
// key (Customers().Is) filters with it instead of asking for ExecutionStatus = 'Running': on
// SQLite visibility (the dev server's) that condition has the lookup read every running run
// rather than the key's index, a cost that grows with the customers (among 5,000: 16 ms
// against 1.7 ms; docs/benchmarks.md).
func RunningCustomer(e *workflowpb.WorkflowExecutionInfo) bool {
	return e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && e.GetType().GetName() == ConnectionWorkflowName
}
