package activities

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// ClaimInput names what a customer is about to take: a schema of the ISV's database on an
// app, and, when enrolling, an existing add-on. Each may belong to one live customer only.
type ClaimInput struct {
	WorkflowID string    `json:"workflow_id"`
	StartedAt  time.Time `json:"started_at"`
	// SchemaClaim is the ConnectSchema search attribute value (app/db_key/schema).
	SchemaClaim string `json:"schema_claim,omitempty"`
	// AddonID is the add-on to enroll; empty when provisioning.
	AddonID string `json:"addon_id,omitempty"`
	// EarlyStages are the stages of a workflow that has not yet made its claim real (no
	// connection configured): between two such, the earlier start wins.
	EarlyStages []string `json:"early_stages,omitempty"`
}

// CheckClaims refuses a claim another live customer holds, found through visibility (the
// ConnectSchema and HerokuAddonId search attributes). Two customers racing for one schema
// both see each other once both upserted their claim; the one that started earlier keeps it.
// Visibility is eventually consistent, so two starts within its lag (immediate on the dev
// server, about a second on a cluster) can both pass; a schema conflict left after that is
// visible in the UI as two running workflows with one ConnectSchema.
func (a *Activities) CheckClaims(ctx context.Context, in ClaimInput) error {
	early := map[string]bool{}
	for _, s := range in.EarlyStages {
		early[s] = true
	}
	var problems []string
	seen := map[string]bool{}
	// One lookup per claim, each by its key alone (see contract.RunningCustomer): a run
	// holding both is found twice and counted once.
	for _, claim := range []struct {
		key   temporal.SearchAttributeKeyKeyword
		value string
	}{{contract.SAConnectSchema, in.SchemaClaim}, {contract.SAHerokuAddonID, in.AddonID}} {
		if claim.value == "" {
			continue
		}
		q, err := contract.Customers().Is(claim.key, claim.value).Build()
		if err != nil {
			return final(contract.ErrInvalidInput, "%v", err)
		}
		var token []byte
		for {
			resp, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, NextPageToken: token, PageSize: 100})
			if err != nil {
				return fmt.Errorf("look up live customers: %w", err)
			}
			for _, e := range resp.Executions {
				id := e.Execution.GetWorkflowId()
				if id == in.WorkflowID || !contract.RunningCustomer(e) || seen[id] {
					continue
				}
				seen[id] = true
				schema := contract.Keyword(e.SearchAttributes, contract.SAConnectSchema)
				addon := contract.Keyword(e.SearchAttributes, contract.SAHerokuAddonID)
				stage := contract.Keyword(e.SearchAttributes, contract.SAOnboardingStage)
				started := e.GetStartTime().AsTime()
				if early[stage] && (started.After(in.StartedAt) || started.Equal(in.StartedAt) && id > in.WorkflowID) {
					continue // a later newcomer: it yields to us
				}
				if in.AddonID != "" && addon == in.AddonID {
					problems = append(problems, fmt.Sprintf("add-on %s belongs to the live customer workflow %s", in.AddonID, id))
				}
				if in.SchemaClaim != "" && schema == in.SchemaClaim {
					problems = append(problems, fmt.Sprintf("schema %s is used by the live customer workflow %s", in.SchemaClaim, id))
				}
			}
			if token = resp.NextPageToken; len(token) == 0 {
				break
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		typ := contract.ErrSchemaTaken
		if in.AddonID != "" && strings.HasPrefix(problems[0], "add-on") {
			typ = contract.ErrAddonConflict
		}
		return final(typ, "%s", strings.Join(problems, "; "))
	}
	return nil
}
