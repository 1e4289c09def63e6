package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// AddonSummary is what the reconciler needs of a Connect add-on.
type AddonSummary struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	App       string    `json:"app"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
}

// AccountAddons is one page of the account's Heroku Connect add-ons.
type AccountAddons struct {
	Addons    []AddonSummary `json:"addons"`
	Seen      int            `json:"seen"`       // add-ons of any service on the page
	NextRange string         `json:"next_range"` // "" at the end
}

// ListAccountAddons reads one page of the account's add-ons (one Heroku request) and keeps
// the Heroku Connect ones. rng is "" for the first page.
func (a *Activities) ListAccountAddons(ctx context.Context, rng string) (AccountAddons, error) {
	page, err := a.Heroku.AccountAddonsPage(ctx, rng)
	if err != nil {
		return AccountAddons{}, fromHeroku(err)
	}
	out := AccountAddons{Seen: len(page.Addons), NextRange: page.NextRange, Addons: []AddonSummary{}}
	for _, ad := range page.Addons {
		if ad.AddonService.Name != "herokuconnect" {
			continue
		}
		out.Addons = append(out.Addons, AddonSummary{ID: ad.ID, Name: ad.Name, App: ad.App.Name, State: ad.State, CreatedAt: ad.CreatedAt})
	}
	return out, nil
}

// ScheduleInput turns an integration's reconciler on (Active) or off.
type ScheduleInput struct {
	Slug   string `json:"slug"`
	Active bool   `json:"active"`
}

// SetReconcileSchedule creates (or brings up to date) the Schedule that runs an
// integration's reconciler every ReconcileInterval, or deletes it. Runs never overlap: a
// sweep still going when the next is due makes the next skip.
func (a *Activities) SetReconcileSchedule(ctx context.Context, in ScheduleInput) error {
	sc := a.Temporal.ScheduleClient()
	id := contract.ReconcileScheduleID(in.Slug)
	if !in.Active {
		err := sc.GetHandle(ctx, id).Delete(ctx)
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil
		}
		return err
	}
	every := a.Settings.ReconcileInterval
	if every <= 0 {
		every = contract.DefaultSettings().ReconcileInterval
	}
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}
	action := &client.ScheduleWorkflowAction{
		ID: id, Workflow: contract.ReconcileWorkflowName, Args: []any{contract.ReconcileInput{Slug: in.Slug}},
		TaskQueue: activity.GetInfo(ctx).TaskQueue, WorkflowRunTimeout: time.Hour,
		StaticSummary: "Reconciles the Heroku Connect add-ons of integration " + in.Slug,
	}
	_, err := sc.Create(ctx, client.ScheduleOptions{ID: id, Spec: spec, Action: action,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, Note: "Created by partner integration " + in.Slug})
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		if err != nil {
			return fmt.Errorf("create schedule %s: %w", id, err)
		}
		return nil
	}
	// It exists: bring its interval and action up to this worker's settings.
	return sc.GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(u client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := u.Description.Schedule
		s.Spec, s.Action = &spec, action
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
}

// CustomerWorkflow is a running customer workflow found through visibility.
type CustomerWorkflow struct {
	WorkflowID string `json:"workflow_id"`
	CustomerID string `json:"customer_id"`
	AddonID    string `json:"addon_id,omitempty"`
	// AddonName is contract.AddonName of the customer, computed here so a sweep of many
	// customers spends no workflow time hashing (RunningCustomersPage fills it).
	AddonName string `json:"addon_name,omitempty"`
}

// CustomersPageInput asks for one page of an integration's running customer workflows.
type CustomersPageInput struct {
	ISVSlug   string `json:"isv_slug"`
	PageToken []byte `json:"page_token,omitempty"`
}

// CustomersPage is one page (at most 1,000) of running customer workflows: bounded, so the
// activity's result stays far below Temporal's 2 MB payload limit however many customers
// an integration has.
type CustomersPage struct {
	Customers     []CustomerWorkflow `json:"customers"`
	NextPageToken []byte             `json:"next_page_token,omitempty"`
}

// customersPageSize bounds a page: about 120 bytes a customer encoded, 1,000 of them stay
// near 150 KB encrypted.
const customersPageSize = 1000

// RunningCustomersPage reads one page of the integration's running customer workflows from
// visibility.
func (a *Activities) RunningCustomersPage(ctx context.Context, in CustomersPageInput) (CustomersPage, error) {
	q, err := contract.Customers().Running().Is(contract.SAIsvSlug, in.ISVSlug).Build()
	if err != nil {
		return CustomersPage{}, final(contract.ErrInvalidInput, "%v", err)
	}
	resp, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, NextPageToken: in.PageToken, PageSize: customersPageSize})
	if err != nil {
		return CustomersPage{}, fmt.Errorf("list customer workflows of %s: %w", in.ISVSlug, err)
	}
	out := CustomersPage{Customers: make([]CustomerWorkflow, 0, len(resp.Executions)), NextPageToken: resp.NextPageToken}
	if len(in.PageToken) == 0 {
		// A sweep's first page: the integration's census for the operator's metrics. A census
		// that fails is logged; the sweep does not depend on it.
		if _, err := a.takeCensus(ctx, in.ISVSlug); err != nil {
			activity.GetLogger(ctx).Warn("the census of an integration's onboardings failed", "isv", in.ISVSlug, "error", err)
		}
	}
	for _, e := range resp.Executions {
		cid := contract.Keyword(e.SearchAttributes, contract.SACustomerID)
		out.Customers = append(out.Customers, CustomerWorkflow{WorkflowID: e.Execution.WorkflowId, CustomerID: cid,
			AddonID: contract.Keyword(e.SearchAttributes, contract.SAHerokuAddonID), AddonName: contract.AddonName(in.ISVSlug, cid)})
	}
	return out, nil
}

// OrphanInput is an add-on a sweep found owned by no live customer.
type OrphanInput struct {
	ISVSlug string            `json:"isv_slug"`
	Addon   contract.AddonRef `json:"addon"`
}

// OrphanOutcome says what became of it: destroyed, owned by a live customer after all, or
// kept because no run of this namespace ever made it (Foreign).
type OrphanOutcome struct {
	OwnedBy string `json:"owned_by,omitempty"`
	// Foreign: no customer workflow of this namespace, running or closed, recorded the
	// add-on or has its name. Another deployment sharing the Heroku account and the slug
	// made it (or its maker is older than visibility's retention): not ours to destroy.
	Foreign bool `json:"foreign,omitempty"`
}

// DestroyOrphan destroys an add-on a sweep found unowned, deciding on what is true at the
// moment of the destroy, not at the sweep's listing minutes before: first Temporal is asked
// again (no Heroku call) whether a live customer owns it now, by its ID (every run that ever
// recorded it, each checked by its workflow ID, so a run continuing as new counts) or by its
// name (a running customer of the integration whose add-on is not known yet, about to adopt
// the one an earlier run made); only then the DELETE, repeated like the cleanup's until
// Heroku answers 404. Each retry asks again.
func (a *Activities) DestroyOrphan(ctx context.Context, in OrphanInput) (OrphanOutcome, error) {
	owner, err := a.liveOwner(ctx, in.ISVSlug, in.Addon)
	if err != nil {
		return OrphanOutcome{}, err
	}
	if owner != "" {
		activity.GetLogger(ctx).Info("reconciler kept an add-on a live customer owns now", "addon", in.Addon.Name, "workflow_id", owner)
		return OrphanOutcome{OwnedBy: owner}, nil
	}
	ours, err := a.madeHere(ctx, in.ISVSlug, in.Addon)
	if err != nil {
		return OrphanOutcome{}, err
	}
	if !ours {
		activity.GetLogger(ctx).Warn("reconciler kept an add-on no run of this namespace made (another deployment's?)", "addon", in.Addon.Name, "app", in.Addon.App)
		return OrphanOutcome{Foreign: true}, nil
	}
	return OrphanOutcome{}, a.DestroyAddon(ctx, in.Addon)
}

// madeHere reports whether a customer workflow of this namespace, running or closed, made
// or recorded the add-on: by its ID, or by its name among every customer of the integration
// visibility still holds. Two deployments (namespaces) may share one Heroku account and
// slug; each sees only its own customers, so an add-on neither recorded nor named by one of
// them is the other's, never an orphan to destroy.
func (a *Activities) madeHere(ctx context.Context, slug string, ref contract.AddonRef) (bool, error) {
	if ref.ID != "" {
		q, err := contract.Customers().Is(contract.SAHerokuAddonID, ref.ID).Build()
		if err != nil {
			return false, final(contract.ErrInvalidInput, "%v", err)
		}
		resp, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 1})
		if err != nil {
			return false, fmt.Errorf("look up the runs that recorded add-on %s: %w", ref.Name, err)
		}
		if len(resp.Executions) > 0 {
			return true, nil
		}
	}
	q, err := contract.Customers().Is(contract.SAIsvSlug, slug).Build()
	if err != nil {
		return false, final(contract.ErrInvalidInput, "%v", err)
	}
	var token []byte
	for {
		resp, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, NextPageToken: token, PageSize: 1000})
		if err != nil {
			return false, fmt.Errorf("look up the customers of %s that could have made %s: %w", slug, ref.Name, err)
		}
		for _, e := range resp.Executions {
			if contract.AddonName(slug, contract.Keyword(e.SearchAttributes, contract.SACustomerID)) == ref.Name {
				return true, nil
			}
		}
		if token = resp.NextPageToken; len(token) == 0 {
			return false, nil
		}
	}
}

// liveOwner finds the running customer workflow that owns an add-on, or "".
func (a *Activities) liveOwner(ctx context.Context, slug string, ref contract.AddonRef) (string, error) {
	if ref.ID != "" {
		q, err := contract.Customers().Is(contract.SAHerokuAddonID, ref.ID).Build()
		if err != nil {
			return "", final(contract.ErrInvalidInput, "%v", err)
		}
		resp, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 100})
		if err != nil {
			return "", fmt.Errorf("look up the owners of add-on %s: %w", ref.Name, err)
		}
		seen := map[string]bool{}
		for _, e := range resp.Executions {
			id := e.Execution.GetWorkflowId()
			if seen[id] {
				continue
			}
			seen[id] = true
			// Visibility may show the run that continued as new closed and its successor not
			// yet: the workflow's current run decides.
			d, err := a.Temporal.DescribeWorkflow(ctx, id, "")
			var nf *serviceerror.NotFound
			if errors.As(err, &nf) {
				continue
			}
			if err != nil {
				return "", fmt.Errorf("describe %s: %w", id, err)
			}
			if d.RawResponse.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				return id, nil
			}
		}
	}
	if !contract.IsProductAddonName(slug, ref.Name) {
		return "", nil
	}
	q, err := contract.Customers().Running().Is(contract.SAIsvSlug, slug).Unset(contract.SAHerokuAddonID).Build()
	if err != nil {
		return "", final(contract.ErrInvalidInput, "%v", err)
	}
	var token []byte
	for {
		resp, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, NextPageToken: token, PageSize: 1000})
		if err != nil {
			return "", fmt.Errorf("look up customers of %s about to adopt an add-on: %w", slug, err)
		}
		for _, e := range resp.Executions {
			if contract.AddonName(slug, contract.Keyword(e.SearchAttributes, contract.SACustomerID)) == ref.Name {
				return e.Execution.GetWorkflowId(), nil
			}
		}
		if token = resp.NextPageToken; len(token) == 0 {
			return "", nil
		}
	}
}
