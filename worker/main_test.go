package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"go.temporal.io/sdk/client"
)

// unreachable is a Temporal client whose health check fails with an error that names the
// server's host and namespace.
type unreachable struct{ client.Client }

func (unreachable) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return nil, errors.New(`dial tcp 10.20.30.40:7233: namespace "prod-secret-ns": connection refused`)
}

// /healthz answers on the port Heroku's webhooks reach: it says Temporal is unreachable,
// never what the error says.
func TestHealthzDoesNotEchoTemporalErrors(t *testing.T) {
	w := httptest.NewRecorder()
	handler(unreachable{}, http.NotFoundHandler(), "", zerolog.Nop()).ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.NotContains(t, w.Body.String(), "10.20.30.40")
	assert.NotContains(t, w.Body.String(), "prod-secret-ns")
	assert.Contains(t, w.Body.String(), "temporal unreachable")
}
