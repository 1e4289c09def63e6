package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// The Connect access coordinator's activities: the shared discovery read (on the heroku
// queue) and a customer's request to the coordinator (on the onboarding queue).

// DiscoveryInput reads one page of an app's connections for the add-ons Wanted (by name);
// with Addon set, only that add-on's connection.
type DiscoveryInput struct {
	App    string   `json:"app"`
	Addon  string   `json:"addon,omitempty"`
	Offset int      `json:"offset,omitempty"`
	Wanted []string `json:"wanted"`
}

// Discovered is what one discovery read found of the add-ons wanted: their connections by
// add-on name (the rest of the page is left out of history).
type Discovered struct {
	Count       int                               `json:"count"`
	Connections map[string]contract.ConnectionRef `json:"connections"`
	More        bool                              `json:"more"`
}

// DiscoverConnectionsPage makes one discovery read and keeps the connections of the add-ons
// wanted. A connection is taken only under its own add-on's name (a read of one add-on
// whose answer names none is that add-on's, as Heroku filtered it).
func (a *Activities) DiscoverConnectionsPage(ctx context.Context, in DiscoveryInput) (Discovered, error) {
	limit := heroku.AppConnectionsPage
	if in.Addon != "" {
		limit = 1
	}
	page, err := a.Heroku.DiscoverConnectionsAt(ctx, in.App, in.Addon, in.Offset, limit)
	if err != nil {
		return Discovered{}, fromHeroku(err)
	}
	wanted := make(map[string]bool, len(in.Wanted))
	for _, n := range in.Wanted {
		wanted[n] = true
	}
	out := Discovered{Count: page.Count, More: page.More, Connections: map[string]contract.ConnectionRef{}}
	for _, r := range page.Results {
		name := r.ResourceName
		if name == "" && in.Addon != "" {
			name = in.Addon
		}
		if wanted[name] && r.ID != "" {
			out.Connections[name] = contract.ConnectionRef{ID: r.ID, RegionURL: r.RegionURL}
		}
	}
	return out, nil
}

// AwaitConnectionInput is a customer's request to its app's coordinator. UpdateID is the
// customer run's own: a retry of the activity is the same request.
type AwaitConnectionInput struct {
	App       string                    `json:"app"`
	TaskQueue string                    `json:"task_queue"`
	UpdateID  string                    `json:"update_id"`
	Wanted    contract.ConnectionWanted `json:"wanted"`
}

// awaitHeartbeat is how often AwaitConnection tells Temporal it is alive while it waits.
const awaitHeartbeat = 10 * time.Second

// AwaitConnection asks the app's Connect access coordinator for the add-on's connection
// (starting the coordinator with Update-with-Start) and waits for the answer. It makes no
// Heroku call of its own: the coordinator's shared reads do.
func (a *Activities) AwaitConnection(ctx context.Context, in AwaitConnectionInput) (contract.ConnectionRef, error) {
	if !contract.ValidApp(in.App) {
		return contract.ConnectionRef{}, final(contract.ErrInvalidInput, "app %q is not a Heroku app name", in.App)
	}
	if err := in.Wanted.Validate(); err != nil {
		return contract.ConnectionRef{}, final(contract.ErrInvalidInput, "%v", err)
	}
	op := a.Temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: contract.AccessWorkflowID(in.App), TaskQueue: in.TaskQueue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary: "Joins the Connect access list and discovers new connections for every customer of app " + in.App,
	}, contract.AccessWorkflowName, contract.AccessInput{App: in.App})
	opts := contract.UpdateConnectionWanted.Options("", in.Wanted)
	opts.UpdateID = in.UpdateID
	// Accepted, not completed: the answer may take longer than the server holds a call, and
	// the handle's Get polls for it until the activity's own deadline.
	opts.WaitForStage = client.WorkflowUpdateStageAccepted
	hb, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		t := time.NewTicker(awaitHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-hb.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	h, err := a.Temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: op, UpdateOptions: opts})
	var ref contract.ConnectionRef
	if err == nil {
		err = h.Get(ctx, &ref)
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && !ae.NonRetryable() {
		return ref, fmt.Errorf("the Connect access coordinator of %s: %s", in.App, ae.Message()) // busy: ask again
	}
	if errors.As(err, &ae) {
		return ref, final(ae.Type(), "%s", ae.Message())
	}
	if err != nil {
		return ref, fmt.Errorf("ask the Connect access coordinator of %s: %w", in.App, err)
	}
	return ref, nil
}
