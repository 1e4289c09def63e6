package workflows

// What only reconciler runs of 1.0.0 do (reconcileVersions before reconcileDecidesAtDestroy):
// Heroku listed before the customers, the customers in one result, and an orphan destroyed
// on the listing's word. It goes when that version retires (versions.go).

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// runningCustomersAtOnce lists every running customer of the integration in one result.
func runningCustomersAtOnce(ctx, vctx workflow.Context, slug string) ([]activities.CustomerWorkflow, error) {
	var customers []activities.CustomerWorkflow
	if err := workflow.ExecuteActivity(vctx, a.FindRunningCustomers, activities.FindCustomersInput{ISVSlug: slug}).Get(ctx, &customers); err != nil {
		return nil, fmt.Errorf("list the integration's customers: %w", err)
	}
	return customers, nil
}

// destroyOrphanAtOnce destroys an add-on the listing found unowned.
func destroyOrphanAtOnce(ctx, hctx workflow.Context, ref contract.AddonRef) error {
	return workflow.ExecuteActivity(hctx, a.DestroyAddon, ref).Get(ctx, nil)
}
