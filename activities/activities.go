// Package activities holds the onboarding worker's activities: methods on Activities, which
// holds the Heroku client and the Temporal client. They translate Heroku's answers into
// retryable or final Temporal errors and do nothing more; every decision is the workflow's.
package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Heroku is the part of the Heroku client the activities use.
type Heroku interface {
	IntegrationInfo(ctx context.Context, slugOrID string) (*heroku.Integration, error)
	CreateIntegration(ctx context.Context, in heroku.IntegrationCreate) (*heroku.Integration, error)
	UpdateIntegration(ctx context.Context, slugOrID string, in heroku.IntegrationUpdate) (*heroku.Integration, error)
	Deactivate(ctx context.Context, slugOrID string) (*heroku.Deactivation, error)
	Enroll(ctx context.Context, slugOrID, addonIDOrName string) (*heroku.Enrollment, error)
	Authorize(ctx context.Context, slugOrID, addonID string, in heroku.AuthorizeRequest) (*heroku.Authorization, error)
	CreateAddon(ctx context.Context, app string, in heroku.AddonCreate) (*heroku.Addon, error)
	AddonInfo(ctx context.Context, app, idOrName string) (*heroku.Addon, error)
	DestroyAddon(ctx context.Context, app, idOrName string) (*heroku.Addon, error)
	ConnectAuth(ctx context.Context, app string) error
	DiscoverConnections(ctx context.Context, app, resourceName string) ([]heroku.ConnectionRef, error)
	DiscoverConnectionsAt(ctx context.Context, app, resourceName string, offset, limit int) (*heroku.DiscoveryPage, error)
	Connection(ctx context.Context, regionURL, id string) (*heroku.Connection, error)
	AppConnections(ctx context.Context, regionURL, app string) ([]heroku.Connection, error)
	AppConnectionsAt(ctx context.Context, regionURL, app string, offset, limit int) (*heroku.ConnectionsPage, error)
	SetConnectionSchema(ctx context.Context, regionURL, id, dbKey, schema string) (*heroku.Connection, error)
	AccountAddonsPage(ctx context.Context, rng string) (*heroku.AddonsPage, error)
	ImportMappings(ctx context.Context, regionURL, id string, config json.RawMessage) error
	WriteErrors(ctx context.Context, regionURL, id string) (int, []heroku.WriteError, error)
	Notifications(ctx context.Context, regionURL, id string) ([]heroku.Notification, error)
}

var _ Heroku = (*heroku.Client)(nil)

// Activities are registered on two task queues: the Heroku ones on the heroku queue (rate
// limited server-side), the rest on the onboarding queue.
type Activities struct {
	Heroku   Heroku
	Temporal client.Client
	// StateKey signs the customer return state (RETURN_STATE_KEY); none when empty.
	StateKey []byte
	// Settings are the worker's operational settings, handed to workflows by WorkerSettings.
	Settings contract.Settings
	// Events are the settings of event delivery (events.go).
	Events Events
	// Payloads encodes what the activities hand to Temporal outside the SDK's own calls (a
	// batch operation's signal input): the client's converter, so it is encrypted like the
	// rest. Temporal's default converter when nil.
	Payloads converter.DataConverter
	// templates are the integrations' mapping templates this worker has read (sync.go).
	templates templateCache
}

func (a *Activities) payloads() converter.DataConverter {
	if a.Payloads == nil {
		return converter.GetDefaultDataConverter()
	}
	return a.Payloads
}

// fromHeroku turns a client error into a Temporal error: 4xx final (with Heroku's kind as
// the type's detail), 429 retried after the delay Heroku asks, everything else transient.
func fromHeroku(err error) error {
	if err == nil {
		return nil
	}
	he, ok := heroku.AsError(err)
	if !ok {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return temporal.NewApplicationErrorWithCause(err.Error(), contract.ErrHerokuTransient, err)
	}
	msg := he.Error()
	switch he.Kind {
	case heroku.KindRateLimited:
		return temporal.NewApplicationErrorWithOptions(msg, contract.ErrHerokuRateLimited, temporal.ApplicationErrorOptions{NextRetryDelay: he.RetryAfter})
	case heroku.KindTransient, heroku.KindOther:
		return temporal.NewApplicationError(msg, contract.ErrHerokuTransient)
	default:
		return temporal.NewNonRetryableApplicationError(msg, contract.ErrHerokuFinal, nil, he.Kind.String(), he.Fields)
	}
}

// retryableFromHeroku is fromHeroku for cleanup: nothing is final, the caller's retry policy
// and schedule-to-close budget decide. A 401 or 403 during a cleanup is most often a rotated
// token, which an operator fixes within the cleanup's 24 hours.
func retryableFromHeroku(err error) error {
	if err == nil {
		return nil
	}
	he, ok := heroku.AsError(err)
	if !ok || he.Kind == heroku.KindRateLimited || he.Kind == heroku.KindTransient || he.Kind == heroku.KindOther {
		return fromHeroku(err)
	}
	return temporal.NewApplicationError(he.Error(), contract.ErrHerokuFinal, he.Kind.String())
}

func notYet(format string, args ...any) error {
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf(format, args...), contract.ErrNotYet,
		temporal.ApplicationErrorOptions{Category: temporal.ApplicationErrorCategoryBenign})
}

func final(errType, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), errType, nil)
}

func isKind(err error, k heroku.Kind) bool {
	he, ok := heroku.AsError(err)
	return ok && he.Kind == k
}
