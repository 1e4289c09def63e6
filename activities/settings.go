package activities

import (
	"context"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// WorkerSettings returns this worker's operational settings. Workflows call it as a local
// activity, once per run, so the value is recorded in history and replays.
func (a *Activities) WorkerSettings(ctx context.Context) (contract.Settings, error) {
	return a.Settings, nil
}
