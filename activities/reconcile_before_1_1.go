package activities

// What only reconciler runs of 1.0.0 call (reconcileVersions before
// reconcileDecidesAtDestroy): the whole list of running customers in one result. It goes
// when that version retires (workflows/versions.go).

import (
	"context"
	"fmt"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// FindCustomersInput says which workflows to look for.
type FindCustomersInput struct {
	ISVSlug string `json:"isv_slug"`
}

// FindRunningCustomers lists the running customer workflows of an ISV through the IsvSlug
// search attribute: the source of truth is Temporal's visibility, not a list kept by hand.
func (a *Activities) FindRunningCustomers(ctx context.Context, in FindCustomersInput) ([]CustomerWorkflow, error) {
	q, err := contract.Customers().Running().Is(contract.SAIsvSlug, in.ISVSlug).Build()
	if err != nil {
		return nil, final(contract.ErrInvalidInput, "%v", err)
	}
	var out []CustomerWorkflow
	var token []byte
	for {
		resp, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, NextPageToken: token, PageSize: 1000})
		if err != nil {
			return nil, fmt.Errorf("list customer workflows of %s: %w", in.ISVSlug, err)
		}
		for _, e := range resp.Executions {
			out = append(out, CustomerWorkflow{WorkflowID: e.Execution.WorkflowId,
				CustomerID: contract.Keyword(e.SearchAttributes, contract.SACustomerID), AddonID: contract.Keyword(e.SearchAttributes, contract.SAHerokuAddonID)})
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			return out, nil
		}
	}
}
