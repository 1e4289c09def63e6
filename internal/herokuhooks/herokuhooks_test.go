package herokuhooks_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/herokuhooks"
	"github.com/connect-onboarding/worker/workflows/contract"
)

const secret = "webhook-secret-of-the-isv"

// fakeTemporal owns add-on "addon-1" by workflow "connection/acme/c1"; an ended customer
// of the add-on is listed first and must not be told.
type fakeTemporal struct {
	queries []string
	signals []string
	down    bool
}

func (f *fakeTemporal) ListWorkflow(_ context.Context, r *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	if f.down {
		return nil, errors.New("unavailable")
	}
	f.queries = append(f.queries, r.Query)
	out := &workflowservice.ListWorkflowExecutionsResponse{}
	if strings.Contains(r.Query, "'addon-1'") {
		typ := &commonpb.WorkflowType{Name: contract.ConnectionWorkflowName}
		out.Executions = []*workflowpb.WorkflowExecutionInfo{
			{Execution: &commonpb.WorkflowExecution{WorkflowId: "connection/acme/c0"}, Type: typ, Status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED},
			{Execution: &commonpb.WorkflowExecution{WorkflowId: "connection/acme/c1"}, Type: typ, Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING},
		}
	}
	return out, nil
}

func (f *fakeTemporal) SignalWorkflow(_ context.Context, id, _, name string, arg any) error {
	r := arg.(contract.AddonStateReport)
	f.signals = append(f.signals, id+" "+name+" "+r.AddonID+" "+r.State)
	return nil
}

func deliver(t *testing.T, h http.Handler, body, sig string) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, herokuhooks.Path, strings.NewReader(body))
	if sig != "" {
		req.Header.Set("Heroku-Webhook-Hmac-SHA256", sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestDeliveries(t *testing.T) {
	provisioned := `{"id":"e1","action":"update","resource":"addon","data":{"id":"addon-1","name":"hc-acme-1","state":"provisioned"}}`
	cases := []struct {
		name, body, sig string
		want            int
		signals         []string
	}{
		{"provisioned, signed", provisioned, heroku.SignWebhook(secret, []byte(provisioned)), http.StatusAccepted,
			[]string{"connection/acme/c1 addon.state addon-1 provisioned"}},
		{"no signature", provisioned, "", http.StatusUnauthorized, nil},
		{"signed with another secret", provisioned, heroku.SignWebhook("another-secret-entirely", []byte(provisioned)), http.StatusUnauthorized, nil},
		{"signature of another body", provisioned, heroku.SignWebhook(secret, []byte(provisioned+" ")), http.StatusUnauthorized, nil},
		{"still provisioning", strings.Replace(provisioned, `"provisioned"`, `"provisioning"`, 1), "", http.StatusAccepted, nil},
		{"an add-on nobody here owns", strings.Replace(provisioned, "addon-1", "addon-9", 1), "", http.StatusAccepted, nil},
		{"another resource", `{"resource":"dyno","action":"update","data":{"id":"d1"}}`, "", http.StatusAccepted, nil},
		{"not JSON", `{"resource":`, "", http.StatusBadRequest, nil},
		{"an ID that would break out of the query", strings.Replace(provisioned, "addon-1", "x' OR 'a'='a", 1), "", http.StatusBadRequest, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeTemporal{}
			sig := tc.sig
			if sig == "" && tc.want != http.StatusUnauthorized {
				sig = heroku.SignWebhook(secret, []byte(tc.body))
			}
			assert.Equal(t, tc.want, deliver(t, herokuhooks.Handler(secret, f), tc.body, sig))
			assert.Equal(t, tc.signals, f.signals)
			for _, q := range f.queries {
				assert.NotContains(t, q, " OR ", "nothing from the body reaches a query unchecked")
			}
		})
	}
}

// Temporal unreachable: 503, so Heroku delivers again.
func TestDeliveryWhileTemporalIsDown(t *testing.T) {
	body := `{"resource":"addon","action":"update","data":{"id":"addon-1","state":"provisioned"}}`
	code := deliver(t, herokuhooks.Handler(secret, &fakeTemporal{down: true}), body, heroku.SignWebhook(secret, []byte(body)))
	require.Equal(t, http.StatusServiceUnavailable, code)
}

// Only POST; a body over 1 MB is refused.
func TestDeliveryLimits(t *testing.T) {
	h := herokuhooks.Handler(secret, &fakeTemporal{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, herokuhooks.Path, nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	big := strings.Repeat("x", 2<<20)
	assert.Equal(t, http.StatusRequestEntityTooLarge, deliver(t, h, big, "x"))
}
