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

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/workflows"
)

// Re-exported so callers need only this package.
type (
	// Input starts an onboarding; see workflows.ConnectionInput.
	Input = workflows.ConnectionInput
	// Salesforce binds the authorization to an org and integration user.
	Salesforce = workflows.Salesforce
	// Options tune timing.
	Options = workflows.ConnectionOptions
	// StartResult carries the authorization URL.
	StartResult = workflows.StartResult
	// Status is an onboarding's status.
	Status = workflows.Status
	// Stage is where an onboarding is.
	Stage = workflows.Stage
	// FieldError names a bad field and its rule.
	FieldError = workflows.FieldError
)

// Modes.
const (
	ModeProvision = workflows.ModeProvision
	ModeEnroll    = workflows.ModeEnroll
)

// Errors a caller can branch on with errors.Is / errors.As.
var (
	// ErrNotFound: no onboarding for that ISV and customer.
	ErrNotFound = errors.New("onboarding not found")
	// ErrIntegrationInactive: the ISV's partner integration cannot take customers.
	ErrIntegrationInactive = errors.New("partner integration is not active")
	// ErrRejected: the onboarding refused the request in its current stage.
	ErrRejected = errors.New("request rejected in the current stage")
)

// InvalidInputError lists every bad field; nothing was created.
type InvalidInputError struct {
	Fields []FieldError
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
}

// New wraps a Temporal client. taskQueue and herokuTaskQueue are the worker's queues
// (workflows.OnboardingTaskQueue and workflows.HerokuTaskQueue by default).
func New(c client.Client, taskQueue, herokuTaskQueue string) *Client {
	if taskQueue == "" {
		taskQueue = workflows.OnboardingTaskQueue
	}
	if herokuTaskQueue == "" {
		herokuTaskQueue = workflows.HerokuTaskQueue
	}
	return &Client{temporal: c, taskQueue: taskQueue, herokuTaskQueue: herokuTaskQueue}
}

// WorkflowID is the onboarding's workflow ID: its business key.
func WorkflowID(isvSlug, customerID string) string {
	return workflows.ConnectionWorkflowID(isvSlug, customerID)
}

// Start validates in, starts the customer's onboarding (or reaches the one already running)
// and returns the authorization URL: Update-with-Start, one round trip. Calling it again for
// the same customer returns the same workflow and never makes a second add-on; calling it
// with a different org, user, app, add-on, mode or schema is refused with a *ConflictError
// naming the fields.
func (c *Client) Start(ctx context.Context, in Input) (StartResult, error) {
	if err := in.ValidateRequest(); err != nil {
		var ve *workflows.ValidationError
		errors.As(err, &ve)
		return StartResult{}, &InvalidInputError{Fields: ve.Fields}
	}
	if err := c.integrationOpen(ctx, in.ISVSlug); err != nil {
		return StartResult{}, err
	}
	id := WorkflowID(in.ISVSlug, in.CustomerID)
	op := c.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                c.taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.SAIsvSlug.ValueSet(in.ISVSlug),
			workflows.SACustomerID.ValueSet(in.CustomerID), workflows.SAOnboardingStage.ValueSet(string(workflows.StageValidating))),
		StaticSummary: fmt.Sprintf("Heroku Connect onboarding of customer %s for %s (%s)", in.CustomerID, in.ISVSlug, in.Mode),
	}, workflows.ConnectionWorkflowName, in) // as given: the workflow applies the defaults
	h, err := c.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions:          client.UpdateWorkflowOptions{UpdateName: workflows.UpdateStart, WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	if err != nil {
		return StartResult{}, unavailable(fmt.Errorf("start onboarding %s: %w", id, err))
	}
	var res StartResult
	if err := h.Get(ctx, &res); err != nil {
		return StartResult{}, unavailable(fmt.Errorf("start onboarding %s: %w", id, err))
	}
	if err := identityConflict(in, res); err != nil {
		return res, err
	}
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

func identityConflict(in Input, res StartResult) error {
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
	Stage     Stage
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
func resultError(res StartResult) error {
	if !res.Stage.Terminal() {
		return nil
	}
	if res.ErrorType == activities.ErrIntegrationInactive || res.Stage == workflows.StageDeactivated {
		return fmt.Errorf("%w: %s", ErrIntegrationInactive, strings.TrimSpace(res.Error+" ("+string(res.Stage)+")"))
	}
	if res.ErrorType == workflows.ErrInvalidInput {
		return &InvalidInputError{Fields: fieldsOf(res.Error)}
	}
	return &EndedError{Stage: res.Stage, ErrorType: res.ErrorType, Message: res.Error}
}

// fieldsOf recovers the fields of a validation message the workflow wrote
// ("invalid input: field: rule; field: rule").
func fieldsOf(msg string) []FieldError {
	var out []FieldError
	for _, part := range strings.Split(strings.TrimPrefix(msg, "invalid input: "), "; ") {
		if f, r, ok := strings.Cut(part, ": "); ok {
			out = append(out, FieldError{Field: f, Rule: r})
		}
	}
	return out
}

// Status reads an onboarding's status (a query: no history is written).
func (c *Client) Status(ctx context.Context, isvSlug, customerID string) (Status, error) {
	v, err := c.temporal.QueryWorkflow(ctx, WorkflowID(isvSlug, customerID), "", workflows.QueryStatus)
	if err != nil {
		return Status{}, notFound(err, isvSlug, customerID)
	}
	var st Status
	return st, v.Get(&st)
}

// CustomerReturned reports that the customer came back from the authorization page.
func (c *Client) CustomerReturned(ctx context.Context, isvSlug, customerID string, attempt int) error {
	err := c.temporal.SignalWorkflow(ctx, WorkflowID(isvSlug, customerID), "", workflows.SignalCustomerReturned, workflows.CustomerReturned{Attempt: attempt})
	return notFound(err, isvSlug, customerID)
}

// ConfirmReturn hands the attempt of a verified return state to the customer's workflow,
// which accepts it once, for its current URL only (ErrRejected otherwise), and answers once
// the verification it triggers has run. Bound ctx: under a saturated Heroku budget the
// verification can take a while.
func (c *Client) ConfirmReturn(ctx context.Context, isvSlug, customerID string, attempt int) (workflows.ReturnResult, error) {
	var res workflows.ReturnResult
	return res, c.update(ctx, isvSlug, customerID, workflows.UpdateCustomerReturned, &res, workflows.CustomerReturned{Attempt: attempt})
}

// Reauthorize asks an active connection to be authorized again and returns the new URL.
func (c *Client) Reauthorize(ctx context.Context, isvSlug, customerID string) (StartResult, error) {
	var res StartResult
	return res, c.update(ctx, isvSlug, customerID, workflows.UpdateReauthorize, &res)
}

// ReissueURL asks for a fresh authorization URL while waiting for the customer.
func (c *Client) ReissueURL(ctx context.Context, isvSlug, customerID string) (StartResult, error) {
	var res StartResult
	return res, c.update(ctx, isvSlug, customerID, workflows.UpdateReissueURL, &res)
}

// Offboard ends the onboarding, removes what it created and returns the final status.
func (c *Client) Offboard(ctx context.Context, isvSlug, customerID string) (Status, error) {
	var st Status
	return st, c.update(ctx, isvSlug, customerID, workflows.UpdateOffboard, &st)
}

func (c *Client) update(ctx context.Context, isvSlug, customerID, name string, out any, args ...any) error {
	h, err := c.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: WorkflowID(isvSlug, customerID),
		UpdateName: name, Args: args, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return unavailable(notFound(err, isvSlug, customerID))
	}
	if err := h.Get(ctx, out); err != nil {
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) {
			return fmt.Errorf("%w: %s", ErrRejected, ae.Message())
		}
		return unavailable(err)
	}
	return nil
}

func notFound(err error, isvSlug, customerID string) error {
	if err == nil {
		return nil
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("%w: %s/%s", ErrNotFound, isvSlug, customerID)
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
	q := fmt.Sprintf("WorkflowType = '%s' AND IsvSlug = '%s'", workflows.ConnectionWorkflowName, escape(isvSlug))
	if stage != "" {
		q += fmt.Sprintf(" AND OnboardingStage = '%s'", escape(stage))
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
			fields := e.SearchAttributes.GetIndexedFields()
			s.CustomerID = keyword(fields["CustomerId"])
			s.Stage = keyword(fields["OnboardingStage"])
			s.AddonID = keyword(fields["HerokuAddonId"])
			out = append(out, s)
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			return out, nil
		}
	}
}

func escape(s string) string { return strings.ReplaceAll(s, "'", "") }

// keyword decodes a Keyword search attribute payload (a JSON string).
func keyword(p *commonpb.Payload) string {
	if p == nil {
		return ""
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		return ""
	}
	return s
}
