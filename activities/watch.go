package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// RegisterWatchInput names the watcher to join, the queue it runs on and how to start it.
type RegisterWatchInput struct {
	WatcherID string                `json:"watcher_id"`
	TaskQueue string                `json:"task_queue"`
	Member    contract.WatchMember  `json:"member"`
	Start     contract.WatcherInput `json:"start"`
}

// RegisterWithWatcher signals the app's watcher, starting it when it is not running. This
// is an activity because only a client can signal-with-start.
func (a *Activities) RegisterWithWatcher(ctx context.Context, in RegisterWatchInput) error {
	_, err := contract.SignalWatchRegister.SignalWithStart(ctx, a.Temporal, in.Member, client.StartWorkflowOptions{
		ID:            in.WatcherID,
		TaskQueue:     in.TaskQueue,
		StaticSummary: fmt.Sprintf("Watches the Heroku Connect connections of app %s", in.Start.App),
	}, contract.WatcherWorkflowName, in.Start)
	if err != nil {
		return fmt.Errorf("signal-with-start watcher %s: %w", in.WatcherID, err)
	}
	return nil
}
