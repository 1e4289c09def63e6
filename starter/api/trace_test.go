package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"

	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/tracing"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// One trace follows an onboarding from `POST /v1/onboardings` to active: the HTTP server
// span, Update-with-Start, the workflow's activities and the Heroku requests inside them,
// the verification read after the customer authorized included. No span carries the
// Salesforce identity or the Heroku token.
func TestOneTraceFromRequestToActive(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	tracing.Install(tp)
	t.Cleanup(func() { tracing.Install(noop.NewTracerProvider()) })

	dev := testenv.StartDevServer(t)
	sim := testenv.StartSim(t)
	sim.CreateIntegration(t, testenv.ISV)
	ic, err := tracing.Interceptor()
	require.NoError(t, err)
	opts := testenv.ClientOptions(dev.Address)
	opts.Interceptors = []interceptor.ClientInterceptor{ic}
	tc, err := client.Dial(opts)
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	hc, err := heroku.New(heroku.Options{PlatformURL: sim.URL, ConnectURL: sim.URL, Token: testenv.Token, Observe: tracing.HerokuSpan})
	require.NoError(t, err)
	testenv.StartWorker(t, tc, hc) // its workers take the client's tracing interceptor

	c := onboarding.New(tc, "", "")
	_, err = c.AdoptPartner(t.Context(), testenv.ISV)
	require.NoError(t, err)
	keys := &Keys{}
	keys.FullAccess("test", apiToken)
	srv := httptest.NewServer(tracing.Handler(New(c, keys, []byte(stateKey), "", zerolog.Nop())))
	defer srv.Close()

	body, _ := json.Marshal(map[string]any{"isv_slug": testenv.ISV, "customer_id": "traced", "mode": "provision", "app": testenv.ISVApp,
		"salesforce": map[string]string{"sf_org_id": org, "sf_username": user}})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/onboardings", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var started contract.StartResult
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&started))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, started.AuthorizationURL)

	testenv.SignIn(t, started.AuthorizationURL, org, user)
	testenv.Eventually(t, 60*time.Second, "the customer active", func() bool {
		st, err := c.Status(t.Context(), testenv.ISV, "traced")
		return err == nil && st.Stage == contract.StageActive
	})
	require.NoError(t, tp.ForceFlush(t.Context()))

	spans := exp.GetSpans()
	var root *tracetest.SpanStub
	for i := range spans {
		if spans[i].Name == "POST /v1/onboardings" && spans[i].SpanKind == trace.SpanKindServer {
			root = &spans[i]
		}
	}
	require.NotNil(t, root, "the HTTP request is a server span")
	inTrace := map[string]int{}
	for _, s := range spans {
		if s.SpanContext.TraceID() == root.SpanContext.TraceID() {
			inTrace[s.Name]++
		}
		for _, a := range s.Attributes {
			v := a.Value.String()
			for _, secret := range []string{org, user, testenv.Token} {
				assert.NotContains(t, v, secret, "span %s attribute %s", s.Name, a.Key)
			}
		}
	}
	names := make([]string, 0, len(inTrace))
	for n := range inTrace {
		names = append(names, n)
	}
	t.Logf("the onboarding's trace: %s", strings.Join(names, ", "))
	hasPrefix := func(prefix string) bool {
		for n := range inTrace {
			if strings.HasPrefix(n, prefix) {
				return true
			}
		}
		return false
	}
	assert.True(t, hasPrefix("UpdateWithStartWorkflow:") || hasPrefix("StartWorkflow:"), "Update-with-Start carries the request's trace: %v", names)
	assert.True(t, hasPrefix("RunActivity:CreateAddon"), "the workflow's activities: %v", names)
	assert.Positive(t, inTrace["heroku create add-on"], "the Heroku requests inside them: %v", names)
	assert.Positive(t, inTrace["heroku read connection"], "the verification after the customer authorized: %v", names)
}
