package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// maxCascadeRounds bounds the batch signal rounds: a round misses only customers that
// continued as new (or ended) between the server's listing and its signal.
const maxCascadeRounds = 10

// cascade tells every running customer of the integration that it was deactivated and waits
// until all have ended, at any number of customers: a server-side batch operation signals
// them (in rounds, until one round reaches every customer still running), and counts over
// visibility, polled by an activity's retries, say when none is left. No step holds one
// entry per customer.
func (p *partner) cascade(ctx workflow.Context, r *contract.DeactivationReport, herokuDone bool) {
	since := workflow.Now(ctx)
	runID := workflow.GetInfo(ctx).WorkflowExecution.RunID
	sctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Minute, HeartbeatTimeout: time.Minute,
		ScheduleToCloseTimeout: 2 * time.Hour, RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{contract.ErrInvalidInput}}})
	signal := contract.IntegrationDeactivated{Reason: "partner integration " + p.in.Slug + " deactivated"}
	told := false
	for round := 1; round <= maxCascadeRounds && !told; round++ {
		if round > 1 {
			_ = workflow.Sleep(ctx, time.Duration(round)*5*time.Second) // visibility catches up with runs that continued as new
		}
		in := activities.BatchSignalInput{ISVSlug: p.in.Slug, JobID: fmt.Sprintf("deactivate-%s-%s-%d", p.in.Slug, runID, round), Signal: signal}
		var res activities.BatchResult
		if err := workflow.ExecuteActivity(sctx, a.SignalRunningCustomers, in).Get(ctx, &res); err != nil {
			p.info.Error = joinMsg(p.info.Error, "signalling customers failed: "+errorMessage(err))
			break
		}
		r.BatchJobs = append(r.BatchJobs, res.JobID)
		if round == 1 {
			r.CustomersAtStart = int(res.Total)
		}
		told = res.Failed == 0
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**deactivating** · round %d told %d of %d running customers", round, res.Signaled, res.Total))
	}
	if !told && p.info.Error == "" {
		p.info.Error = fmt.Sprintf("some customers could not be told after %d rounds", maxCascadeRounds)
	}
	wctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 5 * time.Minute, HeartbeatTimeout: 2 * time.Minute,
		ScheduleToCloseTimeout: 24 * time.Hour, RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 1.5,
			MaximumInterval: time.Minute, NonRetryableErrorTypes: []string{contract.ErrInvalidInput}}})
	var counts activities.CustomerCounts
	err := workflow.ExecuteActivity(wctx, a.CountCustomers, activities.CountCustomersInput{ISVSlug: p.in.Slug, Since: since, UntilNoneRunning: true}).Get(ctx, &counts)
	if err != nil {
		p.info.Error = joinMsg(p.info.Error, "waiting for customers failed: "+errorMessage(err))
	}
	r.CustomersEnded, r.CustomersDeactivated = int(counts.Ended), int(counts.Deactivated)
	r.Customers = append([]contract.CustomerOutcome{}, counts.Others...)
	allEnded := err == nil && counts.Running == 0 && counts.Ended == counts.Deactivated
	p.finishDeactivation(ctx, r, herokuDone, allEnded)
}
