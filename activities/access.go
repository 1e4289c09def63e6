package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

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

// AwaitConnectionInput is a customer's request to its app's coordinator. UpdateID was the
// request's ID when requests were updates (before 1.4.1); the workflow still sets it.
type AwaitConnectionInput struct {
	App       string                    `json:"app"`
	TaskQueue string                    `json:"task_queue"`
	UpdateID  string                    `json:"update_id"`
	Wanted    contract.ConnectionWanted `json:"wanted"`
}

const (
	// awaitFirst is the wait before AwaitConnection first asks for its answer: about a
	// round's gather and reads. Later asks wait a quarter of the time waited so far (an
	// answer is read at most 25 % late), at least awaitFirst/2 and at most awaitMost, so a
	// crowd waiting on a saturated budget asks rarely.
	awaitFirst = time.Second
	awaitMost  = 10 * time.Second
	// awaitAskAgain is how long a request may stay waiting before it is signalled again: a
	// coordinator run that was terminated still answers "waiting" from its last state, and
	// signal-with-start then starts the next run (to a running one, a repeat is harmless).
	awaitAskAgain = 30 * time.Second
)

// AwaitConnection asks the app's Connect access coordinator for the add-on's connection
// (signal-with-start) and polls its answer with a query, heartbeating, until a round found
// the connection or gave up. A request the coordinator does not know (dropped, or not
// carried over its continue-as-new) is signalled again. It makes no Heroku call of its own:
// the coordinator's shared reads do. Only an answer for this request counts: one for an
// earlier request of the same add-on name (another add-on, since offboarded) does not.
func (a *Activities) AwaitConnection(ctx context.Context, in AwaitConnectionInput) (contract.ConnectionRef, error) {
	if !contract.ValidApp(in.App) {
		return contract.ConnectionRef{}, final(contract.ErrInvalidInput, "app %q is not a Heroku app name", in.App)
	}
	if err := in.Wanted.Validate(); err != nil {
		return contract.ConnectionRef{}, final(contract.ErrInvalidInput, "%v", err)
	}
	id := contract.AccessWorkflowID(in.App)
	opts := client.StartWorkflowOptions{ID: id, TaskQueue: in.TaskQueue,
		StaticSummary: "Joins the Connect access list and discovers new connections for every customer of app " + in.App}
	ask := func() error {
		_, err := contract.SignalConnectionWanted.SignalWithStart(ctx, a.Temporal, in.Wanted, opts, contract.AccessWorkflowName, contract.AccessInput{App: in.App})
		if err != nil {
			return fmt.Errorf("ask the Connect access coordinator of %s: %w", in.App, err)
		}
		return nil
	}
	if err := ask(); err != nil {
		return contract.ConnectionRef{}, err
	}
	began, asked := time.Now(), time.Now()
	for wait := awaitFirst; ; wait = min(max(time.Since(began)/4, awaitFirst/2), awaitMost) {
		activity.RecordHeartbeat(ctx)
		select {
		case <-ctx.Done():
			return contract.ConnectionRef{}, ctx.Err()
		case <-time.After(wait):
		}
		ans, err := contract.QueryConnectionAnswer.Ask(ctx, a.Temporal, id, in.Wanted.Addon)
		ours := err == nil && !ans.Since.Before(in.Wanted.Since)
		switch {
		case ours && ans.State == contract.AccessFound:
			return ans.Connection, nil
		case ours && ans.State == contract.AccessFailed:
			return contract.ConnectionRef{}, final(contract.ErrHerokuFinal, "%s", ans.Error)
		case err == nil && ans.State == contract.AccessWaiting && time.Since(asked) < awaitAskAgain:
			continue
		}
		// Unknown to the coordinator, answered only for an earlier request, not answering,
		// or waiting long: ask again.
		if err := ask(); err != nil {
			return contract.ConnectionRef{}, err
		}
		asked = time.Now()
	}
}
