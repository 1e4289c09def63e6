package workflows

// The deactivation: Heroku's deactivate, then the cascade to every customer.

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// deactivate calls Heroku's deactivate until every add-on is gone (or the attempt limit);
// only then is every running customer workflow of the ISV told, and awaited.
func (p *partner) deactivate(ctx workflow.Context) {
	p.stageBefore = p.info.Stage
	p.info.Error = ""
	p.info.Stage = contract.PartnerDeactivating
	workflow.SetCurrentDetails(ctx, "**deactivating** · integration `"+p.in.Slug+"`")
	r := &contract.DeactivationReport{Failed: []string{}, Customers: []contract.CustomerOutcome{}}
	p.info.Report = r
	hctx := p.heroku(ctx)
	herokuDone := false
	for r.Attempts < p.in.MaxDeactivateAttempts {
		r.Attempts++
		var res activities.DeactivateResult
		if err := workflow.ExecuteActivity(hctx, a.DeactivateIntegration, p.in.Slug).Get(ctx, &res); err != nil {
			p.info.Error = "Heroku deactivate failed: " + errorMessage(err)
			break
		}
		if r.Attempts == 1 || res.Total > r.Total {
			r.Total = res.Total
		}
		r.Destroyed += res.Succeeded
		r.Failed = res.FailedAddons
		if !res.Partial {
			herokuDone = true
			break
		}
		_ = workflow.Sleep(ctx, p.in.DeactivateRetryInterval)
	}
	if !herokuDone && p.info.Error == "" {
		p.info.Error = fmt.Sprintf("Heroku still failed to destroy %d add-ons after %d attempts", len(r.Failed), r.Attempts)
	}
	if !herokuDone {
		// Customers are told only once Heroku has deactivated: until then their add-ons may
		// live on, and a retry of the deactivation finishes the job.
		p.info.Stage = p.stageBefore
		r.At = workflow.Now(ctx)
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** · deactivation failed, retry it: %s", p.info.Stage, p.info.Error))
		return
	}

	if p.publishes {
		p.confirmGone(ctx, r)
	}
	p.cascade(ctx, r, herokuDone)
}

const (
	// confirmGoneFirst is the wait before the first listing: Heroku destroys the add-ons
	// after it accepts the deactivate. Each listing that still finds some doubles it, up to
	// confirmGoneMost, for confirmGoneFor in all.
	confirmGoneFirst = 5 * time.Second
	confirmGoneMost  = 5 * time.Minute
	confirmGoneFor   = 30 * time.Minute
)

// confirmGone pages the account's add-on list until none of the integration's add-ons is
// left, and says so in the memo: every customer the cascade ends takes that instead of
// reading its own add-on (a page of 1,000 add-ons a call, against a call per customer). Not
// confirmed in time, customers read their own, as before 1.4.0.
func (p *partner) confirmGone(ctx workflow.Context, r *contract.DeactivationReport) {
	hctx := withPriority(herokuCall(ctx, p.settings, 10*time.Minute), priorityBackground, p.in.Slug)
	wait, deadline := confirmGoneFirst, workflow.Now(ctx).Add(confirmGoneFor)
	for {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**deactivating** · waiting for Heroku to remove the integration's add-ons (%d left at the last listing)", r.AddonsLeft))
		if err := workflow.Sleep(ctx, wait); err != nil {
			return
		}
		left, err := p.addonsLeft(ctx, hctx, r)
		if err != nil {
			p.info.Error = joinMsg(p.info.Error, "listing the account's add-ons failed: "+errorMessage(err))
			return
		}
		r.AddonsLeft = left
		if left == 0 {
			r.AddonsGoneAt = workflow.Now(ctx) // published in the memo (partner_memo.go)
			return
		}
		if !workflow.Now(ctx).Add(wait).Before(deadline) {
			return
		}
		wait = min(2*wait, confirmGoneMost)
	}
}

// addonsLeft pages the account's add-on list (a call per 1,000) and counts the add-ons this
// integration's onboardings made.
func (p *partner) addonsLeft(ctx, hctx workflow.Context, r *contract.DeactivationReport) (int, error) {
	left, rng := 0, ""
	for {
		var page activities.AccountAddons
		if err := workflow.ExecuteActivity(hctx, a.ListAccountAddons, rng).Get(ctx, &page); err != nil {
			return 0, err
		}
		r.ListReads++
		for _, ad := range page.Addons {
			if contract.IsProductAddonName(p.in.Slug, ad.Name) {
				left++
			}
		}
		if rng = page.NextRange; rng == "" {
			return left, nil
		}
	}
}

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
	sctx := batchCall(ctx, 30*time.Minute, time.Minute, 2*time.Hour)
	signal := contract.IntegrationDeactivated{Reason: "partner integration " + p.in.Slug + " deactivated"}
	told := false
	for round := 1; round <= maxCascadeRounds && !told; round++ {
		if round > 1 {
			_ = workflow.Sleep(ctx, time.Duration(round)*5*time.Second) // visibility catches up with runs that continued as new
		}
		job := fmt.Sprintf("deactivate-%s-%s-%d", p.in.Slug, runID, round)
		if r.Resumes > 0 {
			job = fmt.Sprintf("deactivate-%s-%s-r%d-%d", p.in.Slug, runID, r.Resumes, round) // a job of its own per run
		}
		in := activities.BatchSignalInput{ISVSlug: p.in.Slug, JobID: job, Signal: signal}
		var res activities.BatchResult
		if err := workflow.ExecuteActivity(sctx, a.SignalRunningCustomers, in).Get(ctx, &res); err != nil {
			p.info.Error = joinMsg(p.info.Error, "signalling customers failed: "+errorMessage(err))
			break
		}
		r.BatchJobs = append(r.BatchJobs, res.JobID)
		if round == 1 && r.Resumes == 0 {
			r.CustomersAtStart = int(res.Total)
		}
		told = res.Failed == 0
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**deactivating** · round %d told %d of %d running customers", round, res.Signaled, res.Total))
	}
	if !told && p.info.Error == "" {
		p.info.Error = fmt.Sprintf("some customers could not be told after %d rounds", maxCascadeRounds)
	}
	wctx := batchCall(ctx, 5*time.Minute, 2*time.Minute, 24*time.Hour)
	var counts activities.CustomerCounts
	err := workflow.ExecuteActivity(wctx, a.CountCustomers, activities.CountCustomersInput{ISVSlug: p.in.Slug, Since: since, UntilNoneRunning: true}).Get(ctx, &counts)
	if err != nil {
		p.info.Error = joinMsg(p.info.Error, "waiting for customers failed: "+errorMessage(err))
	}
	r.CustomersEnded, r.CustomersDeactivated = int(counts.Ended), int(counts.Deactivated)
	r.Customers = append([]contract.CustomerOutcome{}, counts.Others...)
	allEnded := err == nil && counts.Running == 0 && counts.Ended == counts.Deactivated
	if p.finishes {
		r.Unfinished = !told || err != nil || counts.Running > 0
		r.StillRunning = int(counts.Running)
	}
	p.finishDeactivation(ctx, r, herokuDone, allEnded)
}

// finishDeactivation records how the deactivation ended.
func (p *partner) finishDeactivation(ctx workflow.Context, r *contract.DeactivationReport, herokuDone, allEnded bool) {
	r.Completed = herokuDone && allEnded && p.info.Error == ""
	r.At = workflow.Now(ctx)
	if herokuDone {
		p.info.Stage = contract.PartnerInactive
		if p.info.Integration != nil {
			p.info.Integration.Status = contract.IntegrationInactive
		}
	}
	ended := len(r.Customers)
	if r.CustomersEnded > 0 {
		ended = r.CustomersEnded
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** · %d add-ons destroyed, %d customers ended", p.info.Stage, r.Destroyed, ended))
	if herokuDone {
		p.emit(ctx, contract.EventPartnerDeactivated)
	}
}

// cascadeRetryInterval paces the runs of a cascade that stopped with customers running.
const cascadeRetryInterval = 10 * time.Minute

// unfinished reports a deactivation Heroku did whose cascade stopped with customers still
// running (partnerCascadeFinishes).
func (p *partner) unfinished() bool {
	r := p.info.Report
	return p.info.Stage == contract.PartnerInactive && r != nil && !r.At.IsZero() && r.Unfinished
}

// waitToResume waits for the next run of an unfinished cascade: the retry interval, or a
// partner.deactivate. It reports false when the run should continue as new or was cancelled.
func (p *partner) waitToResume(ctx workflow.Context) bool {
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**inactive** · deactivation cascade unfinished (%d customers still running); it runs again within %s, or at partner.deactivate",
		p.info.Report.StillRunning, cascadeRetryInterval))
	ok, err := workflow.AwaitWithTimeout(ctx, cascadeRetryInterval, func() bool {
		return p.deactivateBy != nil || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
	})
	if err != nil {
		return false
	}
	return !ok || p.deactivateBy != nil
}

// resumeCascade runs the cascade of an unfinished deactivation again, in a new report that
// keeps what Heroku did.
func (p *partner) resumeCascade(ctx workflow.Context) {
	old := p.info.Report
	r := &contract.DeactivationReport{Attempts: old.Attempts, Total: old.Total, Destroyed: old.Destroyed, Failed: old.Failed,
		Customers: []contract.CustomerOutcome{}, Resumes: old.Resumes + 1, CustomersAtStart: old.CustomersAtStart,
		AddonsGoneAt: old.AddonsGoneAt, AddonsLeft: old.AddonsLeft, ListReads: old.ListReads}
	p.info.Error = ""
	p.info.Report = r
	p.resuming = true
	defer func() { p.resuming = false }()
	p.cascade(ctx, r, true)
}
