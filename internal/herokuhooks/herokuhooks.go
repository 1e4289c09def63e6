// Package herokuhooks receives Heroku's app webhooks (api:addon) and tells the customer
// workflow whose add-on a delivery is about, so provisioning costs no polling. A delivery
// counts only with a valid HMAC over its raw body; even then its content is a hint to the
// workflow, which takes "provisioned" only as a reason to stop waiting.
package herokuhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Path is where the worker serves deliveries.
const Path = "/webhooks/heroku"

// lookupPatience bounds how long a delivery waits for visibility to show the add-on's owner.
const lookupPatience = 2 * time.Second

// maxBody bounds a delivery: an add-on event is a few kilobytes.
const maxBody = 1 << 20

// Temporal is the part of the Temporal client the receiver uses.
type Temporal interface {
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

var _ Temporal = client.Client(nil)

// Handler verifies and routes deliveries. It answers 202 when the delivery was taken (told
// to its workflow, or about nothing of ours), 401 for a missing or wrong signature, 400 for
// a body that is not an add-on event, and 503 when Temporal could not be reached (Heroku
// delivers again).
func Handler(secret string, t Temporal) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		sig := r.Header.Get("Heroku-Webhook-Hmac-SHA256")
		if sig == "" || !heroku.VerifyWebhook(secret, body, sig) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		ev, err := parse(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		if err := route(ctx, t, ev); err != nil {
			http.Error(w, "temporal unavailable", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
}

// event is the part of a delivery that matters.
type event struct {
	Resource string `json:"resource"`
	Action   string `json:"action"`
	Data     struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		State string `json:"state"`
	} `json:"data"`
}

func parse(body []byte) (event, error) {
	var ev event
	if err := json.Unmarshal(body, &ev); err != nil {
		return ev, fmt.Errorf("not a webhook delivery: %v", err)
	}
	if ev.Resource != "addon" {
		return ev, nil // another resource: nothing to route
	}
	if contract.CheckQueryValue("data.id", ev.Data.ID) != nil {
		return ev, errors.New("data.id: must be an add-on ID")
	}
	return ev, nil
}

// route tells the workflow that owns the add-on, when it is running, that Heroku
// provisioned it.
func route(ctx context.Context, t Temporal, ev event) error {
	if ev.Resource != "addon" || ev.Data.State != heroku.AddonProvisioned {
		return nil
	}
	q, err := contract.Customers().Is(contract.SAHerokuAddonID, ev.Data.ID).Build() // running ones: below
	if err != nil {
		return nil // an ID no add-on of ours has: nobody here to tell
	}
	var owners []*workflowpb.WorkflowExecutionInfo
	// The workflow publishes its add-on ID as soon as the create answers; visibility may show
	// it a moment later than Heroku's webhook arrives, so look again briefly before deciding
	// the add-on is nobody's here.
	for wait := 100 * time.Millisecond; ; wait *= 2 {
		resp, err := t.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 100}) // ended runs of the add-on come after the running one
		if err != nil {
			return err
		}
		owners = slices.DeleteFunc(resp.Executions, func(e *workflowpb.WorkflowExecutionInfo) bool { return !contract.RunningCustomer(e) })
		if len(owners) > 0 || wait > lookupPatience {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
	for _, e := range owners {
		err := t.SignalWorkflow(ctx, e.Execution.WorkflowId, "", contract.SignalAddonState.Name,
			contract.AddonStateReport{AddonID: ev.Data.ID, State: ev.Data.State})
		if err != nil && !isNotFound(err) {
			return err
		}
	}
	return nil
}

// isNotFound: the workflow ended between the lookup and the signal; nothing to tell.
func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}
