package onboarding

import (
	"context"
	"fmt"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// RefreshHealth reads a customer's connection health from Heroku now (three Heroku calls,
// at the priority of a waiting person): the connection state, each mapping's state and
// counts, the write errors of the last 24 hours and the unacknowledged notifications. It
// is kept in the status (Status.Health) too.
func (c *Client) RefreshHealth(ctx context.Context, isvSlug, customerID string) (contract.Health, error) {
	return call(ctx, c, contract.UpdateRefreshHealth, isvSlug, customerID, contract.None{})
}

// maxAttention bounds the customers IntegrationHealth names.
const maxAttention = 50

// IntegrationHealth summarizes an integration's customers: how many running onboardings are
// in each stage, and who needs attention.
type IntegrationHealth struct {
	ISVSlug string           `json:"isv_slug"`
	Running int64            `json:"running"`
	Stages  map[string]int64 `json:"stages"` // running onboardings by stage (only stages with any)
	// NeedsAttention names (up to 50 of) the customers in needs_attention.
	NeedsAttention []Summary `json:"needs_attention"`
}

// IntegrationHealth counts an integration's running onboardings by stage from Temporal's
// visibility (counts, never a list of every customer) and lists those that need attention.
func (c *Client) IntegrationHealth(ctx context.Context, isvSlug string) (IntegrationHealth, error) {
	if !contract.ValidSlug(isvSlug) {
		return IntegrationHealth{}, &InvalidInputError{Fields: []contract.FieldError{{Field: "isv",
			Rule: "must be an integration slug (3-30 lower-case letters, digits and single dashes, starting with a letter)"}}}
	}
	out := IntegrationHealth{ISVSlug: isvSlug, Stages: map[string]int64{}, NeedsAttention: []Summary{}}
	count := func(v *contract.Visibility) (int64, error) {
		n, err := v.Count(ctx, c.temporal)
		if err != nil {
			return 0, fmt.Errorf("onboardings of %s: %w", isvSlug, err)
		}
		return n, nil
	}
	running := func() *contract.Visibility { return contract.Customers().Is(contract.SAIsvSlug, isvSlug).Running() }
	var err error
	if out.Running, err = count(running()); err != nil {
		return out, err
	}
	for _, s := range contract.StageNames() {
		if contract.Stage(s).Terminal() || out.Running == 0 {
			continue
		}
		n, err := count(running().Is(contract.SAOnboardingStage, s))
		if err != nil {
			return out, err
		}
		if n > 0 {
			out.Stages[s] = n
		}
	}
	if out.Stages[string(contract.StageNeedsAttention)] > 0 {
		q, err := running().Is(contract.SAOnboardingStage, string(contract.StageNeedsAttention)).Build()
		if err != nil {
			return out, err
		}
		resp, err := c.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: maxAttention})
		if err != nil {
			return out, fmt.Errorf("list onboardings of %s: %w", isvSlug, err)
		}
		for _, e := range resp.Executions {
			out.NeedsAttention = append(out.NeedsAttention, Summary{WorkflowID: e.Execution.WorkflowId, Status: e.Status.String(), StartedAt: e.StartTime.AsTime(),
				CustomerID: contract.Keyword(e.SearchAttributes, contract.SACustomerID), Stage: string(contract.StageNeedsAttention),
				AddonID: contract.Keyword(e.SearchAttributes, contract.SAHerokuAddonID)})
		}
	}
	return out, nil
}
