package onboarding

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// ErrDeactivationFailed: Heroku did not complete the deactivation; no customer was told and
// the integration is as it was. Deactivating again is safe.
var ErrDeactivationFailed = errors.New("deactivation failed; retry it")

// CreatePartner validates spec and creates the ISV's partner integration through its
// workflow (Update-with-Start); creating again returns the existing one.
func (c *Client) CreatePartner(ctx context.Context, spec contract.PartnerSpec) (contract.PartnerInfo, error) {
	if err := spec.Validate(c.CheckLogo); err != nil {
		return contract.PartnerInfo{}, invalid(err)
	}
	id := contract.PartnerWorkflowID(spec.Slug)
	op := c.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: id, TaskQueue: c.taskQueue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(contract.SAIsvSlug.ValueSet(spec.Slug)),
		StaticSummary:         "Heroku Connect partner integration " + spec.Slug,
	}, contract.PartnerWorkflowName, contract.PartnerInput{Slug: spec.Slug, DeactivateRetryInterval: c.DeactivateRetryInterval})
	h, err := c.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: op,
		UpdateOptions: contract.UpdatePartnerCreate.Options("", spec)})
	if err != nil {
		return contract.PartnerInfo{}, fmt.Errorf("create partner integration %s: %w", spec.Slug, err)
	}
	var info contract.PartnerInfo
	return info, partnerError(h.Get(ctx, &info))
}

// AdoptPartner registers an integration that already exists on Heroku (created with the
// Heroku CLI, or before this tool): its workflow starts and reads it from Heroku. Onboarding
// needs a registered, active integration.
func (c *Client) AdoptPartner(ctx context.Context, slug string) (contract.PartnerInfo, error) {
	if !contract.ValidSlug(slug) {
		return contract.PartnerInfo{}, &InvalidInputError{Fields: []contract.FieldError{{Field: "slug", Rule: "must be 3-30 lower-case letters, digits and single dashes, starting with a letter"}}}
	}
	op := c.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: contract.PartnerWorkflowID(slug), TaskQueue: c.taskQueue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(contract.SAIsvSlug.ValueSet(slug)),
		StaticSummary:         "Heroku Connect partner integration " + slug + " (adopted)",
	}, contract.PartnerWorkflowName, contract.PartnerInput{Slug: slug, DeactivateRetryInterval: c.DeactivateRetryInterval})
	h, err := c.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: op,
		UpdateOptions: contract.UpdatePartnerRefresh.Options("", contract.None{})})
	if err != nil {
		return contract.PartnerInfo{}, unavailable(fmt.Errorf("adopt partner integration %s: %w", slug, err))
	}
	var info contract.PartnerInfo
	return info, partnerError(h.Get(ctx, &info))
}

// integrationOpen refuses, before anything is started or any Heroku call is made, an
// onboarding into an integration this worker does not know or that is not active.
func (c *Client) integrationOpen(ctx context.Context, slug string) error {
	m, found, published, err := contract.ReadPartnerMemo(ctx, c.temporal, c.Payloads, slug)
	if err != nil {
		return unavailable(fmt.Errorf("read partner integration %s: %w", slug, err))
	}
	if published {
		if m.Stage != contract.PartnerActive {
			return fmt.Errorf("%w: partner integration %q is %s", ErrIntegrationInactive, slug, m.Stage)
		}
		return nil
	}
	info, err := contract.QueryPartnerInfo.Ask(ctx, c.temporal, contract.PartnerWorkflowID(slug)) // a run before 1.4.0
	var nf *serviceerror.NotFound
	if !found || errors.As(err, &nf) {
		return fmt.Errorf("%w: no partner integration %q is registered with this worker; create it (starter partner create) or adopt an existing one (starter partner adopt)",
			ErrIntegrationInactive, slug)
	}
	if err != nil {
		return unavailable(fmt.Errorf("read partner integration %s: %w", slug, err))
	}
	if info.Stage != contract.PartnerActive {
		return fmt.Errorf("%w: partner integration %q is %s", ErrIntegrationInactive, slug, info.Stage)
	}
	return nil
}

// UpdatePartner changes the given fields of an integration.
func (c *Client) UpdatePartner(ctx context.Context, slug string, changes contract.PartnerChanges) (contract.PartnerInfo, error) {
	if err := changes.Validate(c.CheckLogo); err != nil {
		return contract.PartnerInfo{}, invalid(err)
	}
	info, err := contract.UpdatePartnerUpdate.Call(ctx, c.temporal, contract.PartnerWorkflowID(slug), changes)
	return info, partnerError(partnerNotFound(err, slug))
}

// Partner reads an integration: the last known state, or Heroku's current one with refresh.
func (c *Client) Partner(ctx context.Context, slug string, refresh bool) (contract.PartnerInfo, error) {
	if refresh {
		info, err := contract.UpdatePartnerRefresh.Call(ctx, c.temporal, contract.PartnerWorkflowID(slug), contract.None{})
		return info, partnerError(partnerNotFound(err, slug))
	}
	info, err := contract.QueryPartnerInfo.Ask(ctx, c.temporal, contract.PartnerWorkflowID(slug))
	return info, partnerNotFound(err, slug)
}

// DeactivatePartner deactivates an integration: Heroku destroys every add-on and every
// customer onboarding of the ISV ends. confirm must equal slug. It returns once done, with
// the per-customer report.
func (c *Client) DeactivatePartner(ctx context.Context, slug, team, confirm string) (contract.PartnerInfo, error) {
	bad := &contract.ValidationError{}
	if confirm != slug {
		bad.Add("confirm", fmt.Sprintf("must equal the slug %q", slug))
	}
	if strings.TrimSpace(team) == "" {
		bad.Add("team", "is required: the integration's Heroku team, to confirm a deactivation that cannot be undone")
	}
	if len(bad.Fields) > 0 {
		return contract.PartnerInfo{}, &InvalidInputError{Fields: bad.Fields}
	}
	info, err := contract.UpdatePartnerDeactivate.Call(ctx, c.temporal, contract.PartnerWorkflowID(slug), contract.Deactivate{Confirm: confirm, Team: team})
	return info, partnerError(partnerNotFound(err, slug))
}

func partnerError(err error) error {
	if err == nil {
		return nil
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		switch ae.Type() {
		case contract.ErrIntegrationInactive:
			return fmt.Errorf("%w: %s", ErrIntegrationInactive, ae.Message())
		case contract.ErrHerokuFinal:
			return fmt.Errorf("heroku refused: %s", ae.Message())
		case contract.ErrDeactivationFailed:
			return fmt.Errorf("%w: %s", ErrDeactivationFailed, ae.Message())
		}
		// A validator's refusal names its field ("team: …"): answer it as bad input.
		if f, rule, ok := strings.Cut(ae.Message(), ": "); ok && (f == "team" || f == "confirm" || f == "slug" || f == "id" || f == "endpoints") {
			return &InvalidInputError{Fields: []contract.FieldError{{Field: f, Rule: rule}}}
		}
		return fmt.Errorf("%w: %s", ErrRejected, ae.Message())
	}
	return err
}

func partnerNotFound(err error, slug string) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("partner integration %s: %w", slug, ErrNotFound)
	}
	return err
}

func invalid(err error) error {
	var ve *contract.ValidationError
	if errors.As(err, &ve) {
		return &InvalidInputError{Fields: ve.Fields}
	}
	return err
}

// Reconcile runs one sweep of the integration's reconciler now (its Schedule runs it every
// WORKER_RECONCILE_INTERVAL) and returns the report; dryRun lists what it would destroy
// without destroying anything.
func (c *Client) Reconcile(ctx context.Context, slug string, dryRun bool) (contract.ReconcileReport, error) {
	if !contract.ValidSlug(slug) {
		return contract.ReconcileReport{}, &InvalidInputError{Fields: []contract.FieldError{{Field: "slug", Rule: "must be 3-30 lower-case letters, digits and single dashes, starting with a letter"}}}
	}
	id := fmt.Sprintf("%s/manual-%d", contract.ReconcileScheduleID(slug), time.Now().UnixNano())
	run, err := c.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: c.taskQueue, WorkflowRunTimeout: time.Hour,
		StaticSummary: "Reconciles the Heroku Connect add-ons of integration " + slug + " (started by hand)"},
		contract.ReconcileWorkflowName, contract.ReconcileInput{Slug: slug, DryRun: dryRun})
	if err != nil {
		return contract.ReconcileReport{}, unavailable(fmt.Errorf("start reconciling %s: %w", slug, err))
	}
	var r contract.ReconcileReport
	if err := run.Get(ctx, &r); err != nil {
		return r, unavailable(fmt.Errorf("reconcile %s: %w", slug, err))
	}
	return r, nil
}
