// Package tracing is the product's OpenTelemetry tracing: configured by the standard OTEL_*
// variables (an OTLP/HTTP exporter), off when they name no endpoint. With it on, one trace
// follows a customer's onboarding from the starter's HTTP request or command through
// Update-with-Start, the workflow, its activities and every Heroku request (Temporal's
// tracing interceptor carries the context in each message's headers).
//
// Spans never carry a token, a Salesforce username or org ID: Temporal's spans name the
// workflow or activity type and the workflow ID (business keys, which hold nothing
// personal), and the Heroku spans name the operation, never its URL.
package tracing

import (
	"context"
	"net/http"
	"os"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"

	"github.com/connect-onboarding/worker/internal/heroku"
)

// instrumentation names this package's tracer.
const instrumentation = "github.com/connect-onboarding/worker"

// Enabled reports whether the environment asks for traces: an OTLP endpoint is set
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and OTEL_TRACES_EXPORTER
// is not "none" (OTEL_SDK_DISABLED=true turns everything off).
func Enabled() bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") || strings.EqualFold(os.Getenv("OTEL_TRACES_EXPORTER"), "none") {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup installs the OTLP exporter as the global tracer provider, with W3C trace context
// propagation, when Enabled; service is the default OTEL_SERVICE_NAME. It returns whether
// tracing is on and the provider's shutdown (which flushes), a no-op when off.
func Setup(ctx context.Context, service string) (bool, func(context.Context) error, error) {
	noop := func(context.Context) error { return nil }
	if !Enabled() {
		return false, noop, nil
	}
	exp, err := otlptracehttp.New(ctx) // endpoint, headers, TLS and timeout from OTEL_EXPORTER_OTLP_*
	if err != nil {
		return false, noop, err
	}
	res := resource.Default() // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set
	if os.Getenv("OTEL_SERVICE_NAME") == "" {
		if res, err = resource.Merge(res, resource.NewSchemaless(semconv.ServiceName(service))); err != nil {
			return false, noop, err
		}
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	Install(tp)
	return true, tp.Shutdown, nil
}

// Install makes tp the global tracer provider, with W3C trace context and baggage
// propagation (a test installs an in-memory one).
func Install(tp trace.TracerProvider) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
}

// Interceptor is Temporal's tracing interceptor on the global provider: clients (starts,
// Update-with-Start, updates, signals, queries) and workers (workflows, activities) add it
// when tracing is on.
func Interceptor() (interceptor.Interceptor, error) {
	return temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{TextMapPropagator: otel.GetTextMapPropagator()})
}

// Handler traces h's requests as server spans named by their route pattern ("POST
// /v1/onboardings"), the trace every Temporal call of the request continues.
func Handler(h http.Handler) http.Handler {
	return otelhttp.NewHandler(h, "starter serve", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		if r.Pattern != "" {
			return r.Pattern
		}
		return r.Method
	}))
}

// HerokuSpan records a Heroku request as a client span of the context's trace, named by its
// operation: method, operation (the route's template in words), status and the budget left.
func HerokuSpan(ctx context.Context, e heroku.Exchange) {
	if !trace.SpanFromContext(ctx).SpanContext().IsValid() {
		return // not inside a traced activity or request: nothing to attach to
	}
	_, span := otel.GetTracerProvider().Tracer(instrumentation).Start(ctx, "heroku "+e.Op,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(e.Start))
	span.SetAttributes(attribute.String("http.request.method", e.Method), attribute.String("heroku.operation", e.Op))
	if e.Status != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", e.Status))
		if e.Status >= 400 {
			span.SetStatus(codes.Error, http.StatusText(e.Status))
		}
	} else {
		span.SetStatus(codes.Error, "no answer")
	}
	if e.Remaining >= 0 {
		span.SetAttributes(attribute.Int("heroku.ratelimit.remaining", e.Remaining))
	}
	span.End(trace.WithTimestamp(e.Start.Add(e.Duration)))
}
