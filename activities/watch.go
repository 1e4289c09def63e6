package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
)

// WatchMember is one customer workflow a watcher reports to.
type WatchMember struct {
	WorkflowID   string `json:"workflow_id"`
	ConnectionID string `json:"connection_id"`
	// Waiting marks a customer who has not authorized yet: the watcher polls faster.
	Waiting bool `json:"waiting"`
	// KnownState is the state the member last saw; the watcher reports changes from it.
	KnownState string `json:"known_state"`
	// KnownAuth is the auth_updated the member last saw; a newer one is reported too.
	KnownAuth time.Time `json:"known_auth,omitzero"`
}

// WatcherInput starts (or continues) the watcher of one app.
type WatcherInput struct {
	App             string                 `json:"app"`
	RegionURL       string                 `json:"region_url"`
	HerokuTaskQueue string                 `json:"heroku_task_queue"`
	WaitingInterval time.Duration          `json:"waiting_interval"`
	ActiveInterval  time.Duration          `json:"active_interval"`
	Members         map[string]WatchMember `json:"members,omitempty"`
	// IdleTimeout ends the watcher when nobody has been registered this long.
	IdleTimeout time.Duration `json:"idle_timeout"`
	// ContinueAsNewAfter continues as new after this many polls (default 500).
	ContinueAsNewAfter int `json:"continue_as_new_after,omitempty"`
}

// RegisterWatchInput is everything needed to signal-with-start a watcher; the names come
// from the workflow package, which this package cannot import.
type RegisterWatchInput struct {
	WatcherID       string       `json:"watcher_id"`
	WatcherWorkflow string       `json:"watcher_workflow"`
	TaskQueue       string       `json:"task_queue"`
	Signal          string       `json:"signal"`
	Member          WatchMember  `json:"member"`
	Start           WatcherInput `json:"start"`
}

// RegisterWithWatcher signals the app's watcher, starting it when it is not running. This
// is an activity because only a client can signal-with-start.
func (a *Activities) RegisterWithWatcher(ctx context.Context, in RegisterWatchInput) error {
	if s := a.Settings; s.HerokuTaskQueue != "" {
		// The worker's settings, not the first customer's, pace a watcher it starts.
		in.Start.HerokuTaskQueue, in.Start.WaitingInterval, in.Start.ActiveInterval = s.HerokuTaskQueue, s.WatchWaitingInterval, s.WatchActiveInterval
	}
	_, err := a.Temporal.SignalWithStartWorkflow(ctx, in.WatcherID, in.Signal, in.Member, client.StartWorkflowOptions{
		ID:            in.WatcherID,
		TaskQueue:     in.TaskQueue,
		StaticSummary: fmt.Sprintf("Watches the Heroku Connect connections of app %s", in.Start.App),
	}, in.WatcherWorkflow, in.Start)
	if err != nil {
		return fmt.Errorf("signal-with-start watcher %s: %w", in.WatcherID, err)
	}
	return nil
}
