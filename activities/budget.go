package activities

import (
	"context"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// legacyCallBudget is what the activities kept for runs recorded before single-call-steps
// may spend in one dispatch; every other Heroku activity makes exactly one request.
var legacyCallBudget = map[string]int{"ProvisionAddon": 3, "EnrollAddon": 2, "ConfigureConnection": 4, "CreateIntegration": 2}

// pagedCallBudget is what a watcher's read of an app's connections may spend: one request per
// page of heroku.AppConnectionsPage connections, so an app with up to 10,000 connections is read
// in one dispatch. Pages past the first are requests the queue's rate limit does not count; a
// watcher whose reads stay bounded per round would remove that gap.
var pagedCallBudget = map[string]int{
	contract.ActivityListAppConnections: 10, contract.ActivityListAppConnStates: 10, contract.ActivityListAppConnNotWaiting: 10,
}

// CallBudget is the worker interceptor of the heroku task queue: it gives every activity
// dispatch a budget of one Heroku request (see heroku.WithCallBudget), so the queue's
// server-side rate limit, which counts dispatches, is the account's budget in requests.
func CallBudget() interceptor.WorkerInterceptor { return &callBudget{} }

type callBudget struct {
	interceptor.WorkerInterceptorBase
}

func (*callBudget) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &callBudgetActivity{}
	i.Next = next
	return i
}

type callBudgetActivity struct {
	interceptor.ActivityInboundInterceptorBase
}

func (c *callBudgetActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	n := 1
	name := activity.GetInfo(ctx).ActivityType.Name
	if legacy, ok := legacyCallBudget[name]; ok {
		n = legacy
	}
	if paged, ok := pagedCallBudget[name]; ok {
		n = paged
	}
	return c.Next.ExecuteActivity(heroku.WithCallBudget(ctx, n), in)
}
