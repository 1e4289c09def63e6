package activities

import (
	"context"

	"go.temporal.io/sdk/interceptor"

	"github.com/connect-onboarding/worker/internal/heroku"
)

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
	return c.Next.ExecuteActivity(heroku.WithCallBudget(ctx, 1), in)
}
