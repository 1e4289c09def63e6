package contract

import (
	"context"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// Typed messages: a signal's, update's or query's name travels with its payload types and
// its description, so a sender and a handler cannot disagree on either, and the Temporal UI
// and `temporal workflow metadata` explain every handler.

// Signal is a signal carrying a T.
type Signal[T any] struct {
	Name        string
	Description string
}

// Send signals a running workflow (client side).
func (s Signal[T]) Send(ctx context.Context, c client.Client, workflowID string, v T) error {
	return c.SignalWorkflow(ctx, workflowID, "", s.Name, v)
}

// SignalWithStart signals a workflow, starting it with the given workflow and arguments
// when it is not running.
func (s Signal[T]) SignalWithStart(ctx context.Context, c client.Client, v T, opts client.StartWorkflowOptions, workflowName string, args ...any) (client.WorkflowRun, error) {
	return c.SignalWithStartWorkflow(ctx, opts.ID, s.Name, v, opts, workflowName, args...)
}

// SendExternal signals another workflow from workflow code.
func (s Signal[T]) SendExternal(ctx workflow.Context, workflowID string, v T) workflow.Future {
	return workflow.SignalExternalWorkflow(ctx, workflowID, "", s.Name, v)
}

// Channel is the workflow side: the signal's channel, described for the UI.
func (s Signal[T]) Channel(ctx workflow.Context) workflow.ReceiveChannel {
	return workflow.GetSignalChannelWithOptions(ctx, s.Name, workflow.SignalChannelOptions{Description: s.Description})
}

// Receive blocks until the next payload on ch, a channel from Channel.
func (s Signal[T]) Receive(ctx workflow.Context, ch workflow.ReceiveChannel) T {
	var v T
	ch.Receive(ctx, &v)
	return v
}

// None is the input of an update that takes no argument: nothing is sent for it.
type None struct{}

// Update is an update taking an In (None for no argument) and answering an Out.
type Update[In, Out any] struct {
	Name        string
	Description string
}

func noInput[In any]() bool {
	_, none := any(*new(In)).(None)
	return none
}

// Handle registers the workflow's handler and, when validate is not nil, its validator
// (which rejects a request before it enters history).
func (u Update[In, Out]) Handle(ctx workflow.Context, handler func(workflow.Context, In) (Out, error), validate func(workflow.Context, In) error) error {
	opts := workflow.UpdateHandlerOptions{Description: u.Description}
	if noInput[In]() {
		if validate != nil {
			opts.Validator = func(ctx workflow.Context) error { return validate(ctx, *new(In)) }
		}
		return workflow.SetUpdateHandlerWithOptions(ctx, u.Name, func(ctx workflow.Context) (Out, error) {
			return handler(ctx, *new(In))
		}, opts)
	}
	if validate != nil {
		opts.Validator = validate
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, u.Name, handler, opts)
}

// Options are the client's options for this update with in, waiting until it completes;
// also the update half of Update-with-Start.
func (u Update[In, Out]) Options(workflowID string, in In) client.UpdateWorkflowOptions {
	opts := client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateName: u.Name, WaitForStage: client.WorkflowUpdateStageCompleted}
	if !noInput[In]() {
		opts.Args = []any{in}
	}
	return opts
}

// Call sends the update to a running workflow and waits for its answer. A handler or
// validator that refuses comes back as a *temporal.ApplicationError.
func (u Update[In, Out]) Call(ctx context.Context, c client.Client, workflowID string, in In) (Out, error) {
	var out Out
	h, err := c.UpdateWorkflow(ctx, u.Options(workflowID, in))
	if err != nil {
		return out, err
	}
	return out, h.Get(ctx, &out)
}

// Query is a query answering a T.
type Query[T any] struct {
	Name        string
	Description string
}

// Handle registers the workflow's handler.
func (q Query[T]) Handle(ctx workflow.Context, handler func() (T, error)) error {
	return workflow.SetQueryHandlerWithOptions(ctx, q.Name, handler, workflow.QueryHandlerOptions{Description: q.Description})
}

// Ask queries the latest run of a workflow.
func (q Query[T]) Ask(ctx context.Context, c client.Client, workflowID string) (T, error) {
	var out T
	v, err := c.QueryWorkflow(ctx, workflowID, "", q.Name)
	if err != nil {
		return out, err
	}
	return out, v.Get(&out)
}

// QueryOf is a query taking an In and answering an Out.
type QueryOf[In, Out any] struct {
	Name        string
	Description string
}

// Handle registers the workflow's handler.
func (q QueryOf[In, Out]) Handle(ctx workflow.Context, handler func(In) (Out, error)) error {
	return workflow.SetQueryHandlerWithOptions(ctx, q.Name, handler, workflow.QueryHandlerOptions{Description: q.Description})
}

// Ask queries the latest run of a workflow.
func (q QueryOf[In, Out]) Ask(ctx context.Context, c client.Client, workflowID string, in In) (Out, error) {
	var out Out
	v, err := c.QueryWorkflow(ctx, workflowID, "", q.Name, in)
	if err != nil {
		return out, err
	}
	return out, v.Get(&out)
}
