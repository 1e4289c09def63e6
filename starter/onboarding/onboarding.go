// Package onboarding is what backend services import to drive Heroku Connect onboarding:
// start a customer's onboarding and get the authorization URL in the same call, read its
// status, report the customer's return, ask for re-authorization, offboard, and list an
// ISV's onboardings by stage. It speaks to Temporal; the worker does the rest.
package onboarding

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// Errors a caller can branch on with errors.Is / errors.As.
var (
	// ErrNotFound: no onboarding for that ISV and customer, or no partner integration of
	// that slug (the message says which).
	ErrNotFound = errors.New("not found")
	// ErrIntegrationInactive: the ISV's partner integration cannot take customers.
	ErrIntegrationInactive = errors.New("partner integration is not active")
	// ErrRejected: the onboarding refused the request in its current stage.
	ErrRejected = errors.New("request rejected in the current stage")
)

// InvalidInputError lists every bad field; nothing was created.
type InvalidInputError struct {
	Fields []contract.FieldError
}

func (e *InvalidInputError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Rule
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Client drives onboardings.
type Client struct {
	temporal        client.Client
	taskQueue       string
	herokuTaskQueue string
	// DeactivateRetryInterval paces repeated Heroku deactivate calls after a 207, for
	// integrations this client creates (30s when zero).
	DeactivateRetryInterval time.Duration
	// CheckLogo, when set, checks a logo's image before anything is sent (the starter sets
	// the worker's decoder). Without it the client runs contract.CheckLogoFormat (name, type
	// and size from the bytes); the worker decodes the image too before creating anything.
	CheckLogo contract.ImageCheck
	// Events reveals endpoint secrets and makes connect links (events.go).
	Events Events
	// Payloads decodes what workflows publish in their memos (the Temporal client's data
	// converter: with encrypted payloads, their ring). Without it the client asks the partner
	// workflow by query, which its worker answers one at a time.
	Payloads converter.DataConverter
}

// New wraps a Temporal client. taskQueue and herokuTaskQueue are the worker's queues
// (contract.OnboardingTaskQueue and contract.HerokuTaskQueue by default).
func New(c client.Client, taskQueue, herokuTaskQueue string) *Client {
	if taskQueue == "" {
		taskQueue = contract.OnboardingTaskQueue
	}
	if herokuTaskQueue == "" {
		herokuTaskQueue = contract.HerokuTaskQueue
	}
	return &Client{temporal: c, taskQueue: taskQueue, herokuTaskQueue: herokuTaskQueue}
}

// WorkflowID is the onboarding's workflow ID: its business key.
func WorkflowID(isvSlug, customerID string) string {
	return contract.ConnectionWorkflowID(isvSlug, customerID)
}

// Start validates in, starts the customer's onboarding (or reaches the one already running)
// and returns the authorization URL: Update-with-Start, one round trip. Calling it again for
// the same customer returns the same workflow and never makes a second add-on; calling it
// with a different org, user, app, add-on, mode or schema is refused with a *ConflictError
// naming the fields.
func (c *Client) Start(ctx context.Context, in contract.ConnectionInput) (contract.StartResult, error) {
	if err := in.ValidateRequest(); err != nil {
		var ve *contract.ValidationError
		errors.As(err, &ve)
		return contract.StartResult{}, &InvalidInputError{Fields: ve.Fields}
	}
	if err := c.integrationOpen(ctx, in.ISVSlug); err != nil {
		return contract.StartResult{}, err
	}
	id := WorkflowID(in.ISVSlug, in.CustomerID)
	op := c.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                c.taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(contract.SAIsvSlug.ValueSet(in.ISVSlug),
			contract.SACustomerID.ValueSet(in.CustomerID), contract.SAOnboardingStage.ValueSet(string(contract.StageValidating))),
		StaticSummary: fmt.Sprintf("Heroku Connect onboarding of customer %s for %s (%s)", in.CustomerID, in.ISVSlug, in.Mode),
	}, contract.ConnectionWorkflowName, in) // as given: the workflow applies the defaults
	h, err := c.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions:          contract.UpdateStart.Options("", contract.None{}),
	})
	if err != nil {
		return contract.StartResult{}, unavailable(fmt.Errorf("start onboarding %s: %w", id, err))
	}
	var res contract.StartResult
	if err := h.Get(ctx, &res); err != nil {
		return contract.StartResult{}, unavailable(fmt.Errorf("start onboarding %s: %w", id, err))
	}
	if err := identityConflict(in, res); err != nil {
		return res, err
	}
	res.ConnectLink = c.ConnectLink(in.ISVSlug, in.CustomerID, res.OnboardingID)
	return res, resultError(res)
}

// ConflictError says a start reached a running onboarding of the same customer that was
// started with different values; nothing was changed.
type ConflictError struct {
	WorkflowID string
	Fields     []string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("onboarding %s is already running with a different %s; offboard it first to change them", e.WorkflowID, strings.Join(e.Fields, ", "))
}

func identityConflict(in contract.ConnectionInput, res contract.StartResult) error {
	if len(res.Identity) == 0 {
		return nil // a run started before identities were recorded
	}
	want := in.WithDefaults().IdentityHashes()
	var diff []string
	for k, v := range want {
		if got, ok := res.Identity[k]; ok && got != v {
			diff = append(diff, k)
		}
	}
	if len(diff) == 0 {
		return nil
	}
	sort.Strings(diff)
	return &ConflictError{WorkflowID: res.WorkflowID, Fields: diff}
}

// ErrUnavailable: no worker answered in time. The onboarding may have been started and
// proceeds once a worker polls; calling Start again is safe (it reaches the same workflow).
var ErrUnavailable = errors.New("the onboarding worker did not answer in time; retry later")

func unavailable(err error) error {
	var dl *serviceerror.DeadlineExceeded
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &dl) {
		return fmt.Errorf("%w (%v)", ErrUnavailable, err)
	}
	return err
}

// EndedError says the onboarding is over (offboarded, deactivated, cancelled or failed): no
// URL will come from it.
type EndedError struct {
	Stage     contract.Stage
	ErrorType string
	Message   string
}

func (e *EndedError) Error() string {
	msg := fmt.Sprintf("the onboarding ended: %s", e.Stage)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// resultError maps a start that ended to the errors above.
func resultError(res contract.StartResult) error {
	if !res.Stage.Terminal() {
		return nil
	}
	if res.ErrorType == contract.ErrIntegrationInactive || res.Stage == contract.StageDeactivated {
		return fmt.Errorf("%w: %s", ErrIntegrationInactive, strings.TrimSpace(res.Error+" ("+string(res.Stage)+")"))
	}
	if res.ErrorType == contract.ErrInvalidInput {
		return &InvalidInputError{Fields: fieldsOf(res.Error)}
	}
	return &EndedError{Stage: res.Stage, ErrorType: res.ErrorType, Message: res.Error}
}

// fieldsOf recovers the fields of a validation message the workflow wrote
// ("invalid input: field: rule; field: rule").
func fieldsOf(msg string) []contract.FieldError {
	var out []contract.FieldError
	for _, part := range strings.Split(strings.TrimPrefix(msg, "invalid input: "), "; ") {
		if f, r, ok := strings.Cut(part, ": "); ok {
			out = append(out, contract.FieldError{Field: f, Rule: r})
		}
	}
	return out
}

// Status reads an onboarding's status (a query: no history is written).
func (c *Client) Status(ctx context.Context, isvSlug, customerID string) (contract.Status, error) {
	st, err := contract.QueryStatus.Ask(ctx, c.temporal, WorkflowID(isvSlug, customerID))
	st.ConnectLink = c.ConnectLink(isvSlug, customerID, st.OnboardingID)
	return st, notFound(err, isvSlug, customerID)
}

// CustomerReturned reports that the customer came back from the authorization page.
func (c *Client) CustomerReturned(ctx context.Context, isvSlug, customerID string, attempt int) error {
	err := contract.SignalCustomerReturned.Send(ctx, c.temporal, WorkflowID(isvSlug, customerID), contract.CustomerReturned{Attempt: attempt})
	return notFound(err, isvSlug, customerID)
}

// ConfirmReturn hands the attempt of a verified return state to the customer's workflow,
// which accepts it once, for its current URL only (ErrRejected otherwise), and answers once
// the verification it triggers has run. Bound ctx: under a saturated Heroku budget the
// verification can take a while.
func (c *Client) ConfirmReturn(ctx context.Context, isvSlug, customerID string, attempt int) (contract.ReturnResult, error) {
	return call(ctx, c, contract.UpdateCustomerReturned, isvSlug, customerID, contract.CustomerReturned{Attempt: attempt})
}

// Reauthorize asks an active connection to be authorized again and returns the new URL.
func (c *Client) Reauthorize(ctx context.Context, isvSlug, customerID string) (contract.StartResult, error) {
	return call(ctx, c, contract.UpdateReauthorize, isvSlug, customerID, contract.None{})
}

// ReissueURL asks for a fresh authorization URL while waiting for the customer.
func (c *Client) ReissueURL(ctx context.Context, isvSlug, customerID string) (contract.StartResult, error) {
	return call(ctx, c, contract.UpdateReissueURL, isvSlug, customerID, contract.None{})
}

// CurrentURL answers the current authorization URL when it stays valid until validUntil
// (no Heroku call), else a fresh one: what a customer's connect link redirects to.
func (c *Client) CurrentURL(ctx context.Context, isvSlug, customerID string, validUntil time.Time) (contract.StartResult, error) {
	return call(ctx, c, contract.UpdateCurrentURL, isvSlug, customerID, contract.URLWanted{ValidUntil: validUntil})
}

// Offboard ends the onboarding, removes what it created and returns the final status.
func (c *Client) Offboard(ctx context.Context, isvSlug, customerID string) (contract.Status, error) {
	return call(ctx, c, contract.UpdateOffboard, isvSlug, customerID, contract.None{})
}

// call sends an update to a customer's onboarding: a refusal by the workflow is ErrRejected;
// no answer in time is ErrUnavailable.
func call[In, Out any](ctx context.Context, c *Client, u contract.Update[In, Out], isvSlug, customerID string, in In) (Out, error) {
	out, err := u.Call(ctx, c.temporal, WorkflowID(isvSlug, customerID), in)
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return out, fmt.Errorf("%w: %s", ErrRejected, ae.Message())
	}
	return out, unavailable(notFound(err, isvSlug, customerID))
}

func notFound(err error, isvSlug, customerID string) error {
	if err == nil {
		return nil
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("onboarding %s/%s: %w", isvSlug, customerID, ErrNotFound)
	}
	return err
}

// Summary is one onboarding in a list.
type Summary struct {
	WorkflowID string    `json:"workflow_id"`
	CustomerID string    `json:"customer_id"`
	Stage      string    `json:"stage"`
	AddonID    string    `json:"addon_id,omitempty"`
	Status     string    `json:"status"` // Running, Completed, Failed, ...
	StartedAt  time.Time `json:"started_at"`
}

// List returns the onboardings of an ISV, optionally of one stage, newest first, from
// Temporal's visibility (the search attributes).
func (c *Client) List(ctx context.Context, isvSlug, stage string) ([]Summary, error) {
	bad := &contract.ValidationError{}
	if !contract.ValidSlug(isvSlug) {
		bad.Add("isv", "must be an integration slug (3-30 lower-case letters, digits and single dashes, starting with a letter)")
	}
	if stage != "" && !contract.Stage(stage).Known() {
		bad.Add("stage", "must be one of "+strings.Join(contract.StageNames(), ", "))
	}
	if len(bad.Fields) > 0 {
		return nil, &InvalidInputError{Fields: bad.Fields}
	}
	v := contract.Customers().Is(contract.SAIsvSlug, isvSlug)
	if stage != "" {
		v = v.Is(contract.SAOnboardingStage, stage)
	}
	q, err := v.Build()
	if err != nil {
		return nil, &InvalidInputError{Fields: []contract.FieldError{{Field: "isv", Rule: err.Error()}}}
	}
	var out []Summary
	var token []byte
	for {
		resp, err := c.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, NextPageToken: token, PageSize: 500})
		if err != nil {
			return nil, fmt.Errorf("list onboardings of %s: %w", isvSlug, err)
		}
		for _, e := range resp.Executions {
			s := Summary{WorkflowID: e.Execution.WorkflowId, Status: e.Status.String(), StartedAt: e.StartTime.AsTime()}
			s.CustomerID = contract.Keyword(e.SearchAttributes, contract.SACustomerID)
			s.Stage = contract.Keyword(e.SearchAttributes, contract.SAOnboardingStage)
			s.AddonID = contract.Keyword(e.SearchAttributes, contract.SAHerokuAddonID)
			out = append(out, s)
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			return out, nil
		}
	}
}
