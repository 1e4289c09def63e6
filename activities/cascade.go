package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	batchpb "go.temporal.io/api/batch/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// The deactivation cascade at any size: the server's batch operations signal every running
// customer of an integration (paced, server-side, whatever their number), and counts over
// visibility say when they have all ended. Nothing here holds one entry per customer.

// runningCustomersQuery selects the running customer workflows of an integration.
func runningCustomersQuery(slug string) (string, error) {
	return contract.Customers().Is(contract.SAIsvSlug, slug).Running().Build()
}

// BatchSignalInput is one round of the cascade's signal.
type BatchSignalInput struct {
	ISVSlug string                          `json:"isv_slug"`
	JobID   string                          `json:"job_id"` // deterministic: a retry finds its own job
	Signal  contract.IntegrationDeactivated `json:"signal"`
}

// BatchResult is how a batch operation ended.
type BatchResult struct {
	JobID    string `json:"job_id"`
	Total    int64  `json:"total"`
	Signaled int64  `json:"signaled"`
	Failed   int64  `json:"failed"`
}

// SignalRunningCustomers signals every running customer workflow of the integration with one
// batch operation and waits for it to finish (retried as "not yet", heartbeating). A
// customer that continued as new between the listing and the signal counts as failed: the
// workflow runs another round.
func (a *Activities) SignalRunningCustomers(ctx context.Context, in BatchSignalInput) (BatchResult, error) {
	if !contract.ValidSlug(in.ISVSlug) {
		return BatchResult{}, final(contract.ErrInvalidInput, "isv_slug %q is not a valid slug", in.ISVSlug)
	}
	running, err := runningCustomersQuery(in.ISVSlug)
	if err != nil {
		return BatchResult{}, final(contract.ErrInvalidInput, "%v", err)
	}
	return a.batchSignal(ctx, in.JobID, running, "partner integration "+in.ISVSlug+" deactivated", contract.SignalIntegrationDeactivated.Name, in.Signal)
}

// batchSignal signals every workflow query selects with one batch operation (job ID
// deterministic: a retry finds its own job) and waits for it to finish, heartbeating.
func (a *Activities) batchSignal(ctx context.Context, jobID, query, reason, signal string, payload any) (BatchResult, error) {
	ns := activity.GetInfo(ctx).Namespace
	svc := a.Temporal.WorkflowService()
	input, err := a.payloads().ToPayloads(payload)
	if err != nil {
		return BatchResult{}, err
	}
	_, err = svc.StartBatchOperation(ctx, &workflowservice.StartBatchOperationRequest{
		Namespace: ns, JobId: jobID, VisibilityQuery: query, Reason: reason,
		Operation: &workflowservice.StartBatchOperationRequest_SignalOperation{SignalOperation: &batchpb.BatchOperationSignal{
			Signal: signal, Input: input, Identity: "connect-onboarding partner workflow"}},
	})
	var exists *serviceerror.WorkflowExecutionAlreadyStarted
	var already *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) && !errors.As(err, &already) {
		return BatchResult{}, fmt.Errorf("start batch signal %s: %w", jobID, err)
	}
	for {
		d, err := svc.DescribeBatchOperation(ctx, &workflowservice.DescribeBatchOperationRequest{Namespace: ns, JobId: jobID})
		if err != nil {
			return BatchResult{}, fmt.Errorf("describe batch %s: %w", jobID, err)
		}
		res := BatchResult{JobID: jobID, Total: d.TotalOperationCount, Signaled: d.CompleteOperationCount, Failed: d.FailureOperationCount}
		activity.RecordHeartbeat(ctx, res)
		switch d.State {
		case enumspb.BATCH_OPERATION_STATE_COMPLETED:
			return res, nil
		case enumspb.BATCH_OPERATION_STATE_FAILED:
			return res, fmt.Errorf("batch %s failed after %d of %d signals", jobID, res.Signaled, res.Total)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// CustomerCounts are counts over visibility, never lists.
type CustomerCounts struct {
	Running int64 `json:"running"`
	// Of the customers that ended since the cascade began:
	Ended       int64                      `json:"ended"`
	Deactivated int64                      `json:"deactivated"`
	Others      []contract.CustomerOutcome `json:"others,omitempty"` // a sample of those that ended otherwise
}

// CountCustomersInput says whose customers and since when.
type CountCustomersInput struct {
	ISVSlug string    `json:"isv_slug"`
	Since   time.Time `json:"since"`
	// UntilNoneRunning makes the activity fail as "not yet" while any customer still runs,
	// so the retry policy polls without a history event per round.
	UntilNoneRunning bool `json:"until_none_running"`
}

// maxOthers bounds the sample of customers that ended otherwise than deactivated.
const maxOthers = 20

// CountCustomers counts an integration's running customers and those that ended since the
// cascade began, by outcome.
func (a *Activities) CountCustomers(ctx context.Context, in CountCustomersInput) (CustomerCounts, error) {
	if !contract.ValidSlug(in.ISVSlug) {
		return CustomerCounts{}, final(contract.ErrInvalidInput, "isv_slug %q is not a valid slug", in.ISVSlug)
	}
	var out CustomerCounts
	count := func(q string, err error) (int64, error) {
		if err != nil {
			return 0, final(contract.ErrInvalidInput, "%v", err)
		}
		r, err := a.Temporal.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: q})
		if err != nil {
			return 0, fmt.Errorf("count customers of %s: %w", in.ISVSlug, err)
		}
		return r.Count, nil
	}
	var err error
	if out.Running, err = count(runningCustomersQuery(in.ISVSlug)); err != nil {
		return out, err
	}
	if in.UntilNoneRunning && out.Running > 0 {
		activity.RecordHeartbeat(ctx, out.Running)
		return out, notYet("%d customer workflows of %s still running", out.Running, in.ISVSlug)
	}
	ended := func() *contract.Visibility {
		return contract.Customers().Is(contract.SAIsvSlug, in.ISVSlug).Closed().ClosedSince(in.Since)
	}
	if out.Ended, err = count(ended().Build()); err != nil {
		return out, err
	}
	if out.Deactivated, err = count(ended().Is(contract.SAOnboardingStage, string(contract.StageDeactivated)).Build()); err != nil {
		return out, err
	}
	if out.Ended > out.Deactivated {
		others, err := ended().IsNot(contract.SAOnboardingStage, string(contract.StageDeactivated)).Build()
		if err != nil {
			return out, final(contract.ErrInvalidInput, "%v", err)
		}
		resp, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: others, PageSize: maxOthers})
		if err != nil {
			return out, fmt.Errorf("list customers of %s: %w", in.ISVSlug, err)
		}
		for _, e := range resp.Executions {
			out.Others = append(out.Others, contract.CustomerOutcome{WorkflowID: e.Execution.WorkflowId,
				CustomerID: contract.Keyword(e.SearchAttributes, contract.SACustomerID), AddonID: contract.Keyword(e.SearchAttributes, contract.SAHerokuAddonID),
				Outcome: contract.Keyword(e.SearchAttributes, contract.SAOnboardingStage)})
		}
	}
	return out, nil
}

// RolloutInput rolls a changed template out to an integration's customers.
type RolloutInput struct {
	ISVSlug  string `json:"isv_slug"`
	JobID    string `json:"job_id"`
	Template string `json:"template"`
}

// RolloutResult counts the customers told.
type RolloutResult struct {
	Targets int64       `json:"targets"`
	Batch   BatchResult `json:"batch"`
}

// syncingCustomersQuery selects the running customers of an integration past their
// authorization: those a changed template reaches now (the others import the template
// current when they get there).
func syncingCustomersQuery(slug string) (string, error) {
	return contract.Customers().Is(contract.SAIsvSlug, slug).Running().In(contract.SAOnboardingStage,
		string(contract.StageConfiguringSync), string(contract.StageSyncing), string(contract.StageActive), string(contract.StageNeedsAttention)).Build()
}

// RolloutMappings tells every customer of the integration past its authorization that the
// template changed (one batch operation, paced by the server), after counting them: each
// reports back to the partner workflow how it took the template.
func (a *Activities) RolloutMappings(ctx context.Context, in RolloutInput) (RolloutResult, error) {
	if !contract.ValidSlug(in.ISVSlug) {
		return RolloutResult{}, final(contract.ErrInvalidInput, "isv_slug %q is not a valid slug", in.ISVSlug)
	}
	q, err := syncingCustomersQuery(in.ISVSlug)
	if err != nil {
		return RolloutResult{}, final(contract.ErrInvalidInput, "%v", err)
	}
	n, err := a.Temporal.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: q})
	if err != nil {
		return RolloutResult{}, fmt.Errorf("count customers of %s: %w", in.ISVSlug, err)
	}
	out := RolloutResult{Targets: n.Count}
	if n.Count == 0 {
		return out, nil
	}
	out.Batch, err = a.batchSignal(ctx, in.JobID, q, "mapping template of "+in.ISVSlug+" changed to "+in.Template,
		contract.SignalMappingsChanged.Name, contract.MappingsChanged{Template: in.Template})
	return out, err
}
