package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"

	"github.com/connect-onboarding/worker/starter/onboarding"
)

// An error the API does not know is logged with an ID and answered with the ID only:
// Temporal's error text (hosts, namespaces, internals) never reaches a caller.
func TestUnknownErrorsAreNotEchoed(t *testing.T) {
	raw := errors.New(`rpc error: code = Unavailable desc = dial tcp 10.20.30.40:7233: namespace "prod-secret-ns" unreachable`)
	for name, err := range map[string]error{
		"upstream":    raw,
		"unavailable": fmt.Errorf("%w: start onboarding connection/acme/c1: %w", onboarding.ErrUnavailable, raw),
	} {
		var log bytes.Buffer
		s := &API{log: zerolog.New(&log)}
		w := httptest.NewRecorder()
		s.writeFailure(w, err)
		body := w.Body.String()
		assert.NotContains(t, body, "10.20.30.40", name)
		assert.NotContains(t, body, "prod-secret-ns", name)
		assert.Contains(t, body, "error ", name)
		assert.Contains(t, log.String(), "prod-secret-ns", "%s: the detail is in the server's log", name)
		assert.Contains(t, log.String(), "error_id", name)
	}
}
