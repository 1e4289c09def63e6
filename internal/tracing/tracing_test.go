package tracing_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/tracing"
)

// Tracing is on only when the standard variables name an OTLP endpoint.
func TestEnabled(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing set", nil, false},
		{"an endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{"a traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{"exporter none", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, false},
		{"SDK disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, false},
		{"only a service name", map[string]string{"OTEL_SERVICE_NAME": "x"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME"} {
				t.Setenv(k, c.env[k])
			}
			assert.Equal(t, c.want, tracing.Enabled())
			on, shutdown, err := tracing.Setup(context.Background(), "test")
			require.NoError(t, err)
			assert.Equal(t, c.want, on)
			require.NoError(t, shutdown(context.Background()))
			tracing.Install(noop.NewTracerProvider())
		})
	}
}

// A Heroku request becomes a client span of the activity's trace, with its operation,
// method, status and the budget left, timed as it happened; outside a trace, nothing.
func TestHerokuSpan(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	tracing.Install(tp)
	t.Cleanup(func() { tracing.Install(noop.NewTracerProvider()) })

	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	e := heroku.Exchange{Op: "create add-on", Method: "POST", Status: 429, Remaining: 0, Start: start, Duration: 250 * time.Millisecond}
	tracing.HerokuSpan(context.Background(), e)
	assert.Empty(t, exp.GetSpans(), "no trace to attach to")

	ctx, parent := tp.Tracer("test").Start(context.Background(), "RunActivity:CreateAddon")
	tracing.HerokuSpan(ctx, e)
	parent.End()
	spans := exp.GetSpans()
	require.Len(t, spans, 2)
	s := spans[0]
	assert.Equal(t, "heroku create add-on", s.Name)
	assert.Equal(t, trace.SpanKindClient, s.SpanKind)
	assert.Equal(t, parent.SpanContext().SpanID(), s.Parent.SpanID())
	assert.Equal(t, start, s.StartTime)
	assert.Equal(t, start.Add(250*time.Millisecond), s.EndTime)
	assert.Equal(t, codes.Error, s.Status.Code)
	assert.Contains(t, s.Attributes, attribute.Int("http.response.status_code", 429))
	assert.Contains(t, s.Attributes, attribute.Int("heroku.ratelimit.remaining", 0))
	assert.Contains(t, s.Attributes, attribute.String("http.request.method", "POST"))
}
