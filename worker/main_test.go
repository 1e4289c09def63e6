package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
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
	var ready atomic.Bool
	ready.Store(true)
	handler(unreachable{}, &ready, http.NotFoundHandler(), "", zerolog.Nop()).ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.NotContains(t, w.Body.String(), "10.20.30.40")
	assert.NotContains(t, w.Body.String(), "prod-secret-ns")
	assert.Contains(t, w.Body.String(), "temporal unreachable")
}

// Until its routing is settled (a first deploy made current), a worker is not ready: a
// readiness check that sends work on at 200 waits.
func TestHealthzWaitsForTheRouting(t *testing.T) {
	var ready atomic.Bool
	h := handler(reachable{}, &ready, http.NotFoundHandler(), "", zerolog.Nop())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Contains(t, w.Body.String(), "starting")
	ready.Store(true)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	assert.Equal(t, http.StatusOK, w.Code)
}

type reachable struct{ client.Client }

func (reachable) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, nil
}
