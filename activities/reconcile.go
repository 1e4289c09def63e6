package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
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
