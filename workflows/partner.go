package workflows

import (
	"errors"
	"fmt"
	"time"

	"github.com/connect-onboarding/worker/internal/logo"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/workflows/contract"
)

type partner struct {
	trusted      bool // on the trust-guarantees version: see changeTrust
	in           contract.PartnerInput
	info         contract.PartnerInfo
	deactivateBy *contract.Deactivate
	stageBefore  contract.PartnerStage // restored when Heroku's deactivation fails
	busy         workflow.Mutex        // one Heroku change at a time
}

// PartnerWorkflow owns one ISV's partner integration: create, update, info and refresh,
// and the deactivation cascade that ends every customer workflow of the ISV.
func PartnerWorkflow(ctx workflow.Context, in contract.PartnerInput) (contract.PartnerInfo, error) {
	if in.HerokuTaskQueue == "" {
		in.HerokuTaskQueue = contract.HerokuTaskQueue
	}
	if in.MaxDeactivateAttempts <= 0 {
		in.MaxDeactivateAttempts = 10
	}
	if in.DeactivateRetryInterval <= 0 {
		in.DeactivateRetryInterval = 30 * time.Second
	}
	p := &partner{in: in, info: contract.PartnerInfo{Slug: in.Slug, Stage: contract.PartnerNew}, busy: workflow.NewMutex(ctx)}
	if in.Carry != nil {
		p.info = *in.Carry
		p.in.Carry = nil
	}
	p.trusted = workflow.GetVersion(ctx, changeTrust, workflow.DefaultVersion, 1) >= 1
	if err := p.registerHandlers(ctx); err != nil {
		return p.info, err
	}
	if p.trusted {
		var s activities.Settings
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
		if err := workflow.ExecuteLocalActivity(lctx, "WorkerSettings").Get(ctx, &s); err != nil {
			return p.info, err
		}
		p.in.HerokuTaskQueue = s.HerokuTaskQueue // the worker's, whatever the input said
	}
	for {
		err := workflow.Await(ctx, func() bool {
			return p.deactivateBy != nil || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
		})
		if err != nil {
			return p.info, err
		}
		if p.deactivateBy != nil {
			p.deactivate(ctx)
			if p.trusted && p.info.Stage != contract.PartnerInactive {
				// Heroku did not deactivate: nobody was told, the integration stays as it was,
				// and the ISV may ask again.
				_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
				p.deactivateBy = nil
				continue
			}
			p.scheduleReconciler(ctx, false) // Heroku destroys every add-on of an inactive integration
			_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
			if !p.info.Report.Completed {
				return p.info, temporal.NewNonRetryableApplicationError(p.info.Error, contract.ErrDeactivationIncomplete, nil, p.info.Report)
			}
			return p.info, nil
		}
		_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
		next := p.in
		next.Carry = &p.info
		return p.info, workflow.NewContinueAsNewError(ctx, PartnerWorkflow, next)
	}
}

// scheduleReconciler turns the integration's reconciler Schedule on (active) or off. A
// failure is logged, not fatal: the integration works without it, and the next create,
// refresh or deactivation sets it again.
func (p *partner) scheduleReconciler(ctx workflow.Context, active bool) {
	if workflow.GetVersion(ctx, changeReconcileSchedule, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: 5 * time.Minute})
	err := workflow.ExecuteActivity(actx, a.SetReconcileSchedule, activities.ScheduleInput{Slug: p.in.Slug, Active: active}).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Warn("the reconciler's schedule could not be set", "active", active, "error", err)
	}
}

func (p *partner) herokuCtx(ctx workflow.Context) workflow.Context {
	// The ISV's administrator waits on every partner change.
	return withPriority(workflow.WithActivityOptions(ctx, HerokuActivityOptions(p.in.HerokuTaskQueue, 10*time.Minute)), priorityPerson, p.in.Slug)
}

func (p *partner) registerHandlers(ctx workflow.Context) error {
	if err := contract.QueryPartnerInfo.Handle(ctx, func() (contract.PartnerInfo, error) { return p.info, nil }); err != nil {
		return err
	}
	open := func() error {
		if p.info.Stage == contract.PartnerDeactivating || p.info.Stage == contract.PartnerInactive || p.deactivateBy != nil {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("partner integration %s is %s", p.in.Slug, p.info.Stage), contract.ErrIntegrationInactive, nil)
		}
		return nil
	}
	err := contract.UpdatePartnerCreate.Handle(ctx, func(ctx workflow.Context, spec contract.PartnerSpec) (contract.PartnerInfo, error) {
		if err := p.busy.Lock(ctx); err != nil {
			return p.info, err
		}
		defer p.busy.Unlock()
		if p.info.Integration != nil {
			return p.info, nil // created already: creating again is a no-op
		}
		var got contract.Integration
		in := activities.CreateIntegrationInput{Slug: spec.Slug, Team: spec.Team, Name: spec.Name, Description: spec.Description,
			DocsURL: spec.DocsURL, ContactEmail: spec.ContactEmail, Logo: spec.Logo}
		if err := p.createIntegration(ctx, in, &got); err != nil {
			return p.info, err
		}
		p.setIntegration(ctx, got)
		p.scheduleReconciler(ctx, p.info.Stage == contract.PartnerActive)
		return p.info, nil
	}, func(ctx workflow.Context, spec contract.PartnerSpec) error {
		if err := open(); err != nil {
			return err
		}
		if spec.Slug != p.in.Slug {
			return fmt.Errorf("slug: %q does not match this workflow's integration %q", spec.Slug, p.in.Slug)
		}
		return spec.Validate(logo.Valid)
	})
	if err != nil {
		return err
	}
	err = contract.UpdatePartnerUpdate.Handle(ctx, func(ctx workflow.Context, c contract.PartnerChanges) (contract.PartnerInfo, error) {
		if err := p.busy.Lock(ctx); err != nil {
			return p.info, err
		}
		defer p.busy.Unlock()
		var got contract.Integration
		in := activities.UpdateIntegrationInput{Slug: p.in.Slug, Description: c.Description, DocsURL: c.DocsURL, ContactEmail: c.ContactEmail, Logo: c.Logo}
		if err := workflow.ExecuteActivity(p.herokuCtx(ctx), a.UpdateIntegration, in).Get(ctx, &got); err != nil {
			return p.info, err
		}
		p.setIntegration(ctx, got)
		return p.info, nil
	}, func(ctx workflow.Context, c contract.PartnerChanges) error {
		if err := open(); err != nil {
			return err
		}
		return c.Validate(logo.Valid)
	})
	if err != nil {
		return err
	}
	err = contract.UpdatePartnerRefresh.Handle(ctx, func(ctx workflow.Context, _ contract.None) (contract.PartnerInfo, error) {
		if err := p.busy.Lock(ctx); err != nil { // after any change in flight
			return p.info, err
		}
		defer p.busy.Unlock()
		var got contract.Integration
		if err := workflow.ExecuteActivity(p.herokuCtx(ctx), a.IntegrationInfo, p.in.Slug).Get(ctx, &got); err != nil {
			return p.info, err
		}
		p.setIntegration(ctx, got)
		p.scheduleReconciler(ctx, p.info.Stage == contract.PartnerActive)
		return p.info, nil
	}, nil)
	if err != nil {
		return err
	}
	return contract.UpdatePartnerDeactivate.Handle(ctx, func(ctx workflow.Context, d contract.Deactivate) (contract.PartnerInfo, error) {
		prev := p.info.Report
		p.deactivateBy = &d
		err := workflow.Await(ctx, func() bool {
			r := p.info.Report
			return r != nil && !r.At.IsZero() && (!p.trusted || r != prev)
		})
		if err == nil && p.trusted && p.info.Stage != contract.PartnerInactive {
			return p.info, temporal.NewApplicationError("deactivation failed; nothing was told to the customers, retry it: "+p.info.Error,
				contract.ErrDeactivationFailed, p.info)
		}
		return p.info, err
	}, func(ctx workflow.Context, d contract.Deactivate) error {
		if err := open(); err != nil {
			return err
		}
		if d.Confirm != p.in.Slug {
			return fmt.Errorf("confirm: must equal the slug %q; deactivation destroys every add-on of the integration and cannot be undone", p.in.Slug)
		}
		if d.Team != "" && p.info.Integration != nil && !p.info.Integration.OwnedBy(d.Team) {
			return fmt.Errorf("team: %q is not the integration's team %q", d.Team, p.info.Integration.TeamName)
		}
		return nil
	})
}

// createIntegration creates the integration on Heroku. From partner-create-one-request on,
// each activity makes one request: a taken slug is read back and adopted when its team is ours
// (an earlier attempt whose answer was lost made it).
func (p *partner) createIntegration(ctx workflow.Context, in activities.CreateIntegrationInput, got *contract.Integration) error {
	if workflow.GetVersion(ctx, changePartnerCreateOneRequest, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return workflow.ExecuteActivity(p.herokuCtx(ctx), a.CreateIntegration, in).Get(ctx, got)
	}
	err := workflow.ExecuteActivity(p.herokuCtx(ctx), a.CreateIntegrationOnce, in).Get(ctx, got)
	var ae *temporal.ApplicationError
	if err == nil || !errors.As(err, &ae) || ae.Type() != contract.ErrSlugTaken {
		return err
	}
	var existing contract.Integration
	if ierr := workflow.ExecuteActivity(p.herokuCtx(ctx), a.IntegrationInfo, in.Slug).Get(ctx, &existing); ierr != nil {
		return err
	}
	if !existing.OwnedBy(in.Team) {
		return err
	}
	*got = existing
	return nil
}

func (p *partner) setIntegration(ctx workflow.Context, got contract.Integration) {
	p.info.Integration = &got
	p.info.RefreshedAt = workflow.Now(ctx)
	if got.Status == contract.IntegrationInactive {
		p.info.Stage = contract.PartnerInactive
	} else if p.info.Stage == contract.PartnerNew {
		p.info.Stage = contract.PartnerActive
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** · integration `%s` (%s)", p.info.Stage, got.Slug, got.Name))
}

// deactivate runs the cascade: Heroku deactivate until every add-on is gone (or the attempt
// limit), then every running customer workflow of the ISV is told and awaited.
func (p *partner) deactivate(ctx workflow.Context) {
	p.stageBefore = p.info.Stage
	p.info.Error = ""
	p.info.Stage = contract.PartnerDeactivating
	workflow.SetCurrentDetails(ctx, "**deactivating** · integration `"+p.in.Slug+"`")
	r := &contract.DeactivationReport{Failed: []string{}, Customers: []contract.CustomerOutcome{}}
	p.info.Report = r
	hctx := p.herokuCtx(ctx)
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
	if p.trusted && !herokuDone {
		// Customers are told only once Heroku has deactivated: until then their add-ons may
		// live on, and a retry of the deactivation finishes the job.
		p.info.Stage = p.stageBefore
		r.At = workflow.Now(ctx)
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** · deactivation failed, retry it: %s", p.info.Stage, p.info.Error))
		return
	}

	if workflow.GetVersion(ctx, changeDeactivationBatch, workflow.DefaultVersion, 1) >= 1 {
		p.cascade(ctx, r, herokuDone)
		return
	}
	// Tell every running customer workflow, found through visibility. Even after a partial
	// failure they are told: the integration is going away either way.
	var customers []activities.CustomerWorkflow
	lctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, ScheduleToCloseTimeout: 10 * time.Minute})
	if err := workflow.ExecuteActivity(lctx, a.FindRunningCustomers, activities.FindCustomersInput{ISVSlug: p.in.Slug}).Get(ctx, &customers); err != nil {
		p.info.Error = joinMsg(p.info.Error, "listing customers failed: "+errorMessage(err))
	}
	var signals []workflow.Future
	for _, c := range customers {
		signals = append(signals, contract.SignalIntegrationDeactivated.SendExternal(ctx, c.WorkflowID,
			contract.IntegrationDeactivated{Reason: "partner integration " + p.in.Slug + " deactivated"}))
	}
	for i, f := range signals {
		if err := f.Get(ctx, nil); err != nil {
			r.Customers = append(r.Customers, contract.CustomerOutcome{WorkflowID: customers[i].WorkflowID, CustomerID: customers[i].CustomerID,
				AddonID: customers[i].AddonID, Outcome: "not_signalled", Error: errorMessage(err)})
		}
	}
	if len(customers) > 0 {
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, HeartbeatTimeout: 30 * time.Second,
			ScheduleToCloseTimeout: time.Hour,
			RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 1.5, MaximumInterval: 15 * time.Second}})
		var outcomes []contract.CustomerOutcome
		if err := workflow.ExecuteActivity(actx, a.AwaitCustomersClosed, activities.AwaitCustomersInput{Customers: customers}).Get(ctx, &outcomes); err != nil {
			p.info.Error = joinMsg(p.info.Error, "waiting for customers failed: "+errorMessage(err))
		}
		r.Customers = append(r.Customers, outcomes...)
	}
	allEnded := true
	for _, c := range r.Customers {
		if c.Outcome != string(contract.StageDeactivated) {
			allEnded = false
		}
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
}
