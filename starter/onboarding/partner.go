package onboarding

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/workflows"
)

// ErrDeactivationFailed: Heroku did not complete the deactivation; no customer was told and
// the integration is as it was. Deactivating again is safe.
var ErrDeactivationFailed = errors.New("deactivation failed; retry it")

// Partner integration types, re-exported.
type (
	// PartnerSpec creates an integration.
	PartnerSpec = workflows.PartnerSpec
	// PartnerChanges updates one.
	PartnerChanges = workflows.PartnerChanges
	// PartnerInfo is what is known of one.
	PartnerInfo = workflows.PartnerInfo
	// Logo is an image file.
	Logo = workflows.Logo
	// DeactivationReport is what a deactivation did.
	DeactivationReport = workflows.DeactivationReport
)

// CreatePartner validates spec and creates the ISV's partner integration through its
// workflow (Update-with-Start); creating again returns the existing one.
func (c *Client) CreatePartner(ctx context.Context, spec PartnerSpec) (PartnerInfo, error) {
	if err := spec.Validate(); err != nil {
		return PartnerInfo{}, invalid(err)
	}
	id := workflows.PartnerWorkflowID(spec.Slug)
	op := c.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: id, TaskQueue: c.taskQueue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.SAIsvSlug.ValueSet(spec.Slug)),
		StaticSummary:         "Heroku Connect partner integration " + spec.Slug,
	}, workflows.PartnerWorkflowName, workflows.PartnerInput{Slug: spec.Slug, DeactivateRetryInterval: c.DeactivateRetryInterval})
	h, err := c.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{UpdateName: workflows.UpdatePartnerCreate, Args: []any{spec}, WaitForStage: client.WorkflowUpdateStageCompleted}})
	if err != nil {
		return PartnerInfo{}, fmt.Errorf("create partner integration %s: %w", spec.Slug, err)
	}
	var info PartnerInfo
	return info, partnerError(h.Get(ctx, &info))
}

// AdoptPartner registers an integration that already exists on Heroku (created with the
// Heroku CLI, or before this tool): its workflow starts and reads it from Heroku. Onboarding
// needs a registered, active integration.
func (c *Client) AdoptPartner(ctx context.Context, slug string) (PartnerInfo, error) {
	if !workflows.ValidSlug(slug) {
		return PartnerInfo{}, &InvalidInputError{Fields: []FieldError{{Field: "slug", Rule: "must be 3-30 lower-case letters, digits and single dashes, starting with a letter"}}}
	}
	op := c.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: workflows.PartnerWorkflowID(slug), TaskQueue: c.taskQueue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.SAIsvSlug.ValueSet(slug)),
		StaticSummary:         "Heroku Connect partner integration " + slug + " (adopted)",
	}, workflows.PartnerWorkflowName, workflows.PartnerInput{Slug: slug, DeactivateRetryInterval: c.DeactivateRetryInterval})
	h, err := c.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{UpdateName: workflows.UpdatePartnerRefresh, WaitForStage: client.WorkflowUpdateStageCompleted}})
	if err != nil {
		return PartnerInfo{}, unavailable(fmt.Errorf("adopt partner integration %s: %w", slug, err))
	}
	var info PartnerInfo
	return info, partnerError(h.Get(ctx, &info))
}

// integrationOpen refuses, before anything is started or any Heroku call is made, an
// onboarding into an integration this worker does not know or that is not active.
func (c *Client) integrationOpen(ctx context.Context, slug string) error {
	v, err := c.temporal.QueryWorkflow(ctx, workflows.PartnerWorkflowID(slug), "", workflows.QueryPartnerInfo)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("%w: no partner integration %q is registered with this worker; create it (starter partner create) or adopt an existing one (starter partner adopt)",
			ErrIntegrationInactive, slug)
	}
	if err != nil {
		return unavailable(fmt.Errorf("read partner integration %s: %w", slug, err))
	}
	var info PartnerInfo
	if err := v.Get(&info); err != nil {
		return err
	}
	if info.Stage != workflows.PartnerActive {
		return fmt.Errorf("%w: partner integration %q is %s", ErrIntegrationInactive, slug, info.Stage)
	}
	return nil
}

// UpdatePartner changes the given fields of an integration.
func (c *Client) UpdatePartner(ctx context.Context, slug string, changes PartnerChanges) (PartnerInfo, error) {
	if err := changes.Validate(); err != nil {
		return PartnerInfo{}, invalid(err)
	}
	var info PartnerInfo
	return info, c.partnerUpdate(ctx, slug, workflows.UpdatePartnerUpdate, &info, changes)
}

// Partner reads an integration: the last known state, or Heroku's current one with refresh.
func (c *Client) Partner(ctx context.Context, slug string, refresh bool) (PartnerInfo, error) {
	var info PartnerInfo
	if refresh {
		return info, c.partnerUpdate(ctx, slug, workflows.UpdatePartnerRefresh, &info)
	}
	v, err := c.temporal.QueryWorkflow(ctx, workflows.PartnerWorkflowID(slug), "", workflows.QueryPartnerInfo)
	if err != nil {
		return info, partnerNotFound(err, slug)
	}
	return info, v.Get(&info)
}

// DeactivatePartner deactivates an integration: Heroku destroys every add-on and every
// customer onboarding of the ISV ends. confirm must equal slug. It returns once done, with
// the per-customer report.
func (c *Client) DeactivatePartner(ctx context.Context, slug, team, confirm string) (PartnerInfo, error) {
	if confirm != slug {
		return PartnerInfo{}, &InvalidInputError{Fields: []FieldError{{Field: "confirm", Rule: fmt.Sprintf("must equal the slug %q", slug)}}}
	}
	var info PartnerInfo
	return info, c.partnerUpdate(ctx, slug, workflows.UpdatePartnerDeactivate, &info, workflows.Deactivate{Confirm: confirm, Team: team})
}

func (c *Client) partnerUpdate(ctx context.Context, slug, name string, out any, args ...any) error {
	h, err := c.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.PartnerWorkflowID(slug),
		UpdateName: name, Args: args, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return partnerNotFound(err, slug)
	}
	return partnerError(h.Get(ctx, out))
}

func partnerError(err error) error {
	if err == nil {
		return nil
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		switch ae.Type() {
		case workflows.ErrIntegrationInactive:
			return fmt.Errorf("%w: %s", ErrIntegrationInactive, ae.Message())
		case activities.ErrHerokuFinal:
			return fmt.Errorf("heroku refused: %s", ae.Message())
		case workflows.ErrDeactivationFailed:
			return fmt.Errorf("%w: %s", ErrDeactivationFailed, ae.Message())
		}
		return fmt.Errorf("%w: %s", ErrRejected, ae.Message())
	}
	return err
}

func partnerNotFound(err error, slug string) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("%w: partner integration %s", ErrNotFound, slug)
	}
	return err
}

func invalid(err error) error {
	var ve *workflows.ValidationError
	if errors.As(err, &ve) {
		return &InvalidInputError{Fields: ve.Fields}
	}
	return err
}
