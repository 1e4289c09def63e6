package workflows

// The partner integration workflow: one per ISV, owning its integration on Heroku (create,
// update, refresh), its reconciler's Schedule, and the deactivation cascade that ends every
// customer workflow of the ISV (partner_cascade.go).

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/logo"
	"github.com/connect-onboarding/worker/internal/metrics"
	"github.com/connect-onboarding/worker/workflows/contract"
)

type partner struct {
	// finishes is partnerCascadeFinishes, emits partnerEmitsEvents and publishes
	// partnerPublishes, decided once per run; resuming is true while an unfinished cascade
	// runs again.
	finishes, emits, publishes, resuming bool
	in                                   contract.PartnerInput
	settings                             contract.Settings
	info                                 contract.PartnerInfo
	deactivateBy                         *contract.Deactivate
	stageBefore                          contract.PartnerStage // restored when Heroku's deactivation fails
	busy                                 workflow.Mutex        // one Heroku change at a time
}

// PartnerWorkflow owns one ISV's partner integration: create, update, info and refresh,
// and the deactivation cascade that ends every customer workflow of the ISV.
func PartnerWorkflow(ctx workflow.Context, in contract.PartnerInput) (contract.PartnerInfo, error) {
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
	// Decided before the handlers exist, so every handler sees the same version.
	p.finishes = partnerVersions.hasMinVersion(ctx, partnerCascadeFinishes)
	p.emits = partnerVersions.hasMinVersion(ctx, partnerEmitsEvents)
	p.publishes = partnerVersions.hasMinVersion(ctx, partnerPublishes)
	if err := p.registerHandlers(ctx); err != nil {
		return p.info, err
	}
	s, err := loadSettings(ctx)
	if err != nil {
		return p.info, err
	}
	p.settings = s
	if p.info.MappingsDigest != "" {
		p.memoMappings(ctx) // a continued run: the memo starts empty
	}
	if p.publishes {
		p.publish(ctx)
	}
	return p.run(ctx)
}

// run waits for a deactivation or for Temporal to suggest continue-as-new.
func (p *partner) run(ctx workflow.Context) (contract.PartnerInfo, error) {
	for {
		if p.finishes && p.unfinished() {
			// A cascade stopped with customers still running: run it again after a while,
			// at once when the ISV asks (partner.deactivate), and continue as new meanwhile.
			if p.deactivateBy != nil || p.waitToResume(ctx) {
				p.resumeCascade(ctx)
				_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
				p.deactivateBy = nil
				if !p.unfinished() {
					return p.ended()
				}
				continue
			}
			if err := ctx.Err(); err != nil {
				return p.info, err
			}
		} else {
			err := workflow.Await(ctx, func() bool {
				return p.deactivateBy != nil || p.rolloutPending() || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
			})
			if err != nil {
				return p.info, err
			}
			if p.deactivateBy == nil && p.rolloutPending() {
				p.sendRollout(ctx)
				continue
			}
			if p.deactivateBy != nil {
				p.deactivate(ctx)
				if p.info.Stage != contract.PartnerInactive {
					// Heroku did not deactivate: nobody was told, the integration stays as it
					// was, and the ISV may ask again.
					_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
					p.deactivateBy = nil
					continue
				}
				p.scheduleReconciler(ctx, false) // Heroku destroys every add-on of an inactive integration
				_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
				if p.finishes && p.unfinished() {
					p.deactivateBy = nil
					continue
				}
				return p.ended()
			}
		}
		if p.finishes {
			// A deactivation accepted now waits for a report only this loop writes.
			_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) || p.deactivateBy != nil })
			if p.deactivateBy != nil {
				continue
			}
		} else {
			_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
		}
		next := p.in
		next.Carry = &p.info
		return p.info, workflow.NewContinueAsNewError(ctx, PartnerWorkflow, next)
	}
}

// ended returns the run's end after its deactivation.
func (p *partner) ended() (contract.PartnerInfo, error) {
	if !p.info.Report.Completed {
		return p.info, temporal.NewNonRetryableApplicationError(p.info.Error, contract.ErrDeactivationIncomplete, nil, p.info.Report)
	}
	return p.info, nil
}

// scheduleReconciler turns the integration's reconciler Schedule on (active) or off. A
// failure is logged, not fatal: the integration works without it, and the next create,
// refresh or deactivation sets it again.
func (p *partner) scheduleReconciler(ctx workflow.Context, active bool) {
	err := workflow.ExecuteActivity(temporalCall(ctx, 5*time.Minute), a.SetReconcileSchedule, activities.ScheduleInput{Slug: p.in.Slug, Active: active}).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Warn("the reconciler's schedule could not be set", "active", active, "error", err)
	}
}

// heroku is a partner change's Heroku call: the ISV's administrator waits on every one.
func (p *partner) heroku(ctx workflow.Context) workflow.Context {
	return withPriority(herokuCall(ctx, p.settings, 10*time.Minute), priorityPerson, p.in.Slug)
}

func (p *partner) registerHandlers(ctx workflow.Context) error {
	return errors.Join(
		contract.QueryPartnerInfo.Handle(ctx, p.infoNow),
		contract.QueryPartnerMappings.Handle(ctx, p.mappingsNow),
		contract.UpdatePartnerCreate.Handle(ctx, p.onCreate, p.validateCreate),
		contract.UpdatePartnerUpdate.Handle(ctx, p.onUpdate, p.validateUpdate),
		contract.UpdatePartnerRefresh.Handle(ctx, p.onRefresh, nil),
		contract.UpdatePartnerDeactivate.Handle(ctx, p.onDeactivate, p.validateDeactivate),
		contract.QueryEndpoints.Handle(ctx, p.endpointsNow),
		contract.UpdateEndpointAdd.Handle(ctx, p.onEndpointAdd, p.validateEndpointAdd),
		contract.UpdateEndpointChange.Handle(ctx, p.onEndpointChange, p.validateEndpointChange),
		contract.UpdateEndpointRotate.Handle(ctx, p.onEndpointRotate, p.validateEndpointRotate),
		p.receiveSignals(ctx),
	)
}

// receiveSignals starts the signal receivers (partner_endpoints.go).
func (p *partner) receiveSignals(ctx workflow.Context) error {
	workflow.Go(ctx, p.receiveEndpointHealth)
	workflow.Go(ctx, p.receiveRolloutReports)
	return nil
}

// lock takes the one-change-at-a-time lock, once the worker's settings are loaded (a
// handler may run before the main loop has read them).
func (p *partner) lock(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return p.settings.HerokuTaskQueue != "" }); err != nil {
		return err
	}
	return p.busy.Lock(ctx)
}

// infoNow answers QueryPartnerInfo, even after the end: the template itself is left out
// (QueryPartnerMappings answers it), so the info stays small for every start's check.
func (p *partner) infoNow() (contract.PartnerInfo, error) { return p.public(), nil }

// public is the info as handlers answer it: without the template's body.
func (p *partner) public() contract.PartnerInfo {
	info := p.info
	info.Mappings = nil
	return info
}

// open refuses a change once the integration is going away.
func (p *partner) open() error {
	if p.info.Stage == contract.PartnerDeactivating || p.info.Stage == contract.PartnerInactive || p.deactivateBy != nil {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("partner integration %s is %s", p.in.Slug, p.info.Stage), contract.ErrIntegrationInactive, nil)
	}
	return nil
}

// onCreate creates the integration on Heroku; creating again is a no-op.
func (p *partner) onCreate(ctx workflow.Context, spec contract.PartnerSpec) (contract.PartnerInfo, error) {
	if err := p.lock(ctx); err != nil {
		return p.public(), err
	}
	defer p.busy.Unlock()
	if p.info.Integration != nil {
		return p.public(), nil
	}
	var got contract.Integration
	in := activities.CreateIntegrationInput{Slug: spec.Slug, Team: spec.Team, Name: spec.Name, Description: spec.Description,
		DocsURL: spec.DocsURL, ContactEmail: spec.ContactEmail, Logo: spec.Logo}
	if err := p.createIntegration(ctx, in, &got); err != nil {
		return p.public(), err
	}
	p.setIntegration(ctx, got)
	if spec.Mappings != nil {
		p.setMappings(ctx, spec.Mappings)
	}
	p.scheduleReconciler(ctx, p.info.Stage == contract.PartnerActive)
	return p.public(), nil
}

func (p *partner) validateCreate(_ workflow.Context, spec contract.PartnerSpec) error {
	if err := p.open(); err != nil {
		return err
	}
	if spec.Slug != p.in.Slug {
		return fmt.Errorf("slug: %q does not match this workflow's integration %q", spec.Slug, p.in.Slug)
	}
	return spec.Validate(logo.Valid)
}

// onUpdate changes the given fields on Heroku.
func (p *partner) onUpdate(ctx workflow.Context, c contract.PartnerChanges) (contract.PartnerInfo, error) {
	if err := p.lock(ctx); err != nil {
		return p.public(), err
	}
	defer p.busy.Unlock()
	if c.Description != nil || c.DocsURL != nil || c.ContactEmail != nil || c.Logo != nil {
		var got contract.Integration
		in := activities.UpdateIntegrationInput{Slug: p.in.Slug, Description: c.Description, DocsURL: c.DocsURL, ContactEmail: c.ContactEmail, Logo: c.Logo}
		if err := workflow.ExecuteActivity(p.heroku(ctx), a.UpdateIntegration, in).Get(ctx, &got); err != nil {
			return p.public(), err
		}
		p.setIntegration(ctx, got)
	}
	if c.Mappings != nil && c.Mappings.Digest() != p.info.MappingsDigest {
		p.setMappings(ctx, c.Mappings)
		p.startRollout(ctx)
	}
	p.emit(ctx, contract.EventPartnerUpdated)
	return p.public(), nil
}

func (p *partner) validateUpdate(_ workflow.Context, c contract.PartnerChanges) error {
	if err := p.open(); err != nil {
		return err
	}
	return c.Validate(logo.Valid)
}

// onRefresh reads the integration from Heroku, after any change in flight (also how an
// integration made elsewhere is adopted).
func (p *partner) onRefresh(ctx workflow.Context, _ contract.None) (contract.PartnerInfo, error) {
	if err := p.lock(ctx); err != nil {
		return p.public(), err
	}
	defer p.busy.Unlock()
	var got contract.Integration
	if err := workflow.ExecuteActivity(p.heroku(ctx), a.IntegrationInfo, p.in.Slug).Get(ctx, &got); err != nil {
		return p.public(), err
	}
	before := p.info.Integration
	p.setIntegration(ctx, got)
	p.scheduleReconciler(ctx, p.info.Stage == contract.PartnerActive)
	if before != nil && *before != got {
		p.emit(ctx, contract.EventPartnerUpdated)
	}
	return p.public(), nil
}

// onDeactivate hands the deactivation to the main loop and answers with its report. A
// deactivation Heroku refused told nobody: the ISV may retry it.
func (p *partner) onDeactivate(ctx workflow.Context, d contract.Deactivate) (contract.PartnerInfo, error) {
	prev := p.info.Report
	// A resume that arrives while the cascade runs again is answered by that run's report.
	prevRunning := p.finishes && prev != nil && prev.At.IsZero()
	p.deactivateBy = &d
	err := workflow.Await(ctx, func() bool {
		r := p.info.Report
		return r != nil && !r.At.IsZero() && (r != prev || prevRunning)
	})
	if err == nil && p.info.Stage != contract.PartnerInactive {
		metrics.CascadeFailures.Add(workflow.GetMetricsHandler(ctx), 1, "isv", p.in.Slug, "reason", "deactivation_failed")
		return p.public(), temporal.NewApplicationError("deactivation failed; nothing was told to the customers, retry it: "+p.info.Error,
			contract.ErrDeactivationFailed, p.public())
	}
	if err == nil && p.finishes && p.unfinished() {
		metrics.CascadeFailures.Add(workflow.GetMetricsHandler(ctx), 1, "isv", p.in.Slug, "reason", "customers_left")
		return p.public(), temporal.NewApplicationError(fmt.Sprintf("Heroku deactivated the integration, but customers were still running when the cascade stopped (%s); it runs again every %s, and partner.deactivate resumes it now",
			p.info.Error, cascadeRetryInterval), contract.ErrDeactivationIncomplete, p.public())
	}
	return p.public(), err
}

func (p *partner) validateDeactivate(_ workflow.Context, d contract.Deactivate) error {
	resume := p.finishes && (p.unfinished() || p.resuming) && p.deactivateBy == nil // an unfinished cascade may be resumed
	if err := p.open(); err != nil && !resume {
		return err
	}
	if d.Confirm != p.in.Slug {
		return fmt.Errorf("confirm: must equal the slug %q; deactivation destroys every add-on of the integration and cannot be undone", p.in.Slug)
	}
	if d.Team == "" {
		// The slug is public (it is in every add-on's name): the team is what a caller must
		// know to end a live integration.
		return fmt.Errorf("team: is required: the integration's Heroku team, to confirm a deactivation that cannot be undone")
	}
	if p.info.Integration != nil && !p.info.Integration.OwnedBy(d.Team) {
		return fmt.Errorf("team: %q is not the integration's team %q", d.Team, p.info.Integration.TeamName)
	}
	return nil
}

// createIntegration creates the integration on Heroku, one request per activity: a taken
// slug is read back and adopted when its team is ours (an earlier attempt whose answer was
// lost made it).
func (p *partner) createIntegration(ctx workflow.Context, in activities.CreateIntegrationInput, got *contract.Integration) error {
	err := workflow.ExecuteActivity(p.heroku(ctx), a.CreateIntegration, in).Get(ctx, got)
	var ae *temporal.ApplicationError
	if err == nil || !errors.As(err, &ae) || ae.Type() != contract.ErrSlugTaken {
		return err
	}
	var existing contract.Integration
	if ierr := workflow.ExecuteActivity(p.heroku(ctx), a.IntegrationInfo, in.Slug).Get(ctx, &existing); ierr != nil {
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
