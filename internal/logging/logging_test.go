package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"

	"github.com/connect-onboarding/worker/internal/config"
)

func TestTemporalAdapterWritesStructuredJSON(t *testing.T) {
	var buf bytes.Buffer
	zl := New(&buf, "debug", "json")
	var l log.Logger = NewTemporal(zl)
	l = log.With(l, "WorkflowID", "connection/acme/c1")
	l.Warn("activity failed", "Attempt", 3, "Error", errors.New("boom"), "odd")

	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	assert.Equal(t, "warn", line["level"])
	assert.Equal(t, "activity failed", line["message"])
	assert.Equal(t, "connection/acme/c1", line["WorkflowID"])
	assert.EqualValues(t, 3, line["Attempt"])
	assert.Equal(t, "boom", line["Error"])
	assert.Equal(t, "odd", line["EXTRA_VALUE"])
	assert.Equal(t, "temporal-sdk", line["source"])
}

func TestLevelFilters(t *testing.T) {
	var buf bytes.Buffer
	l := NewTemporal(New(&buf, "warn", "json"))
	l.Debug("hidden")
	l.Info("hidden")
	assert.Empty(t, buf.String())
	l.Error("shown")
	assert.Contains(t, buf.String(), "shown")
}

func TestConsoleFormatIsNotJSON(t *testing.T) {
	var buf bytes.Buffer
	zl := New(&buf, "info", "console")
	zl.Info().Str("k", "v").Msg("hello")
	assert.Contains(t, buf.String(), "hello")
	assert.False(t, json.Valid(buf.Bytes()), "console output must be human-readable text: %s", buf.String())
}

func TestSecretsNeverLogged(t *testing.T) {
	var buf bytes.Buffer
	zl := New(&buf, "info", "json")
	tok := config.Secret("HRKU-super-secret-token")
	zl.Info().Interface("token", tok).Str("str", tok.String()).Msgf("token %v %s", tok, tok)
	NewTemporal(zl).Info("sdk", "token", tok)
	assert.NotContains(t, buf.String(), "super-secret")
	assert.Contains(t, buf.String(), "[redacted]")
}
