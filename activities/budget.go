package activities

import (
	"context"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"

	"github.com/connect-onboarding/worker/internal/heroku"
)

// legacyCallBudget is what the activities kept for runs recorded before single-call-steps
// may spend in one dispatch; every other Heroku activity makes exactly one request.
var legacyCallBudget = map[string]int{"ProvisionAddon": 3, "EnrollAddon": 2, "ConfigureConnection": 4, "CreateIntegration": 2}

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
	if legacy, ok := legacyCallBudget[activity.GetInfo(ctx).ActivityType.Name]; ok {
		n = legacy
	}
	return c.Next.ExecuteActivity(heroku.WithCallBudget(ctx, n), in)
}
