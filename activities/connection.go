package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/returnstate"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// PartnerStage is the stage of the ISV's partner workflow, or "" when there is none to
// ask (the integration was registered without this worker, or its workflow is gone). It
// costs no Heroku call, and no query: the partner workflow's memo says it.
func (a *Activities) PartnerStage(ctx context.Context, slug string) (contract.PartnerStage, error) {
	if !contract.ValidSlug(slug) {
		return "", final(contract.ErrInvalidInput, "isv_slug %q is not a valid slug", slug)
	}
	if a.Temporal == nil {
		return "", nil // a worker without a Temporal client (tests) asks Heroku
	}
	m, found, published, err := a.partnerMemo(ctx, slug)
	if err != nil || !found {
		return "", err
	}
	stage, known := m.Stage, m.Known
	if !published { // a partner run of a release before 1.4.0: ask it
		info, err := contract.QueryPartnerInfo.Ask(ctx, a.Temporal, contract.PartnerWorkflowID(slug))
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("asking partner workflow %s: %w", contract.PartnerWorkflowID(slug), err)
		}
		stage, known = info.Stage, info.Integration != nil
	}
	if stage == contract.PartnerDeactivating || stage == contract.PartnerInactive {
		return stage, final(contract.ErrIntegrationInactive, "partner integration %q is %s", slug, stage)
	}
	if !known {
		return "", nil
	}
	return stage, nil
}

// partnerMemo reads the partner workflow's published memo (contract.ReadPartnerMemo).
func (a *Activities) partnerMemo(ctx context.Context, slug string) (m contract.PartnerMemo, found, published bool, err error) {
	return contract.ReadPartnerMemo(ctx, a.Temporal, a.payloads(), slug)
}

// AddonsGone reports whether the partner workflow of slug confirmed, after its deactivation,
// that none of the integration's add-ons is left (its memo: no workflow task, no Heroku
// call).
func (a *Activities) AddonsGone(ctx context.Context, slug string) (bool, error) {
	if !contract.ValidSlug(slug) {
		return false, final(contract.ErrInvalidInput, "isv_slug %q is not a valid slug", slug)
	}
	if a.Temporal == nil {
		return false, nil // a worker without a Temporal client (tests) reads the add-on
	}
	m, _, published, err := a.partnerMemo(ctx, slug)
	if err != nil || !published {
		return false, err
	}
	return !m.AddonsGoneAt.IsZero(), nil
}

// confirmation is what a customer's dispatch learned of its integration's deactivation.
type confirmation int

const (
	noConfirmation      confirmation = iota // none coming: read Heroku
	confirmedGone                           // the integration's add-ons are gone
	confirmationPending                     // the partner workflow is still listing
)

// confirmationPace is how often a waiting dispatch reads the partner workflow's memo (a
// describe on the Temporal server, no Heroku call).
const confirmationPace = 2 * time.Second

// awaitDeactivationConfirmed waits, within the dispatch, while the partner workflow of the
// calling customer's integration is deactivating and has not yet confirmed the
// integration's add-ons gone. The integration is the connection workflow's (its ID is the
// business key); any other caller, an unpublished memo or an error answers
// noConfirmation, so the caller reads Heroku as before.
func (a *Activities) awaitDeactivationConfirmed(ctx context.Context) confirmation {
	if a.Temporal == nil || !activity.IsActivity(ctx) {
		return noConfirmation
	}
	slug, _, err := contract.ParseConnectionWorkflowID(activity.GetInfo(ctx).WorkflowExecution.ID)
	if err != nil {
		return noConfirmation
	}
	// Leave the dispatch time to answer before its start-to-close timeout.
	until := time.Now().Add(time.Minute)
	if d, ok := ctx.Deadline(); ok {
		until = d.Add(-5 * time.Second)
	}
	for {
		m, _, published, err := a.partnerMemo(ctx, slug)
		switch {
		case err != nil || !published:
			return noConfirmation
		case !m.AddonsGoneAt.IsZero():
			return confirmedGone
		case m.Stage != contract.PartnerDeactivating:
			return noConfirmation
		case time.Now().Add(confirmationPace).After(until):
			return confirmationPending
		}
		select {
		case <-ctx.Done():
			return confirmationPending
		case <-time.After(confirmationPace):
		}
	}
}

// CheckIntegration fails with ErrIntegrationInactive unless the integration is active, both
// on Heroku and in its partner workflow (which refuses newcomers while deactivating, before
// Heroku flips the status).
func (a *Activities) CheckIntegration(ctx context.Context, slug string) error {
	if a.Temporal != nil {
		info, err := contract.QueryPartnerInfo.Ask(ctx, a.Temporal, contract.PartnerWorkflowID(slug))
		if err == nil && (info.Stage == contract.PartnerDeactivating || info.Stage == contract.PartnerInactive) {
			return final(contract.ErrIntegrationInactive, "partner integration %q is %s", slug, info.Stage)
		}
	}
	in, err := a.Heroku.IntegrationInfo(ctx, slug)
	if isKind(err, heroku.KindNotFound) {
		return final(contract.ErrIntegrationInactive, "partner integration %q does not exist", slug)
	}
	if err != nil {
		return fromHeroku(err)
	}
	if in.Status != heroku.IntegrationActive {
		return final(contract.ErrIntegrationInactive, "partner integration %q is %s", slug, in.Status)
	}
	return nil
}

// ProvisionInput says which add-on to make.
type ProvisionInput struct {
	ISVSlug string `json:"isv_slug"`
	App     string `json:"app"`
	Name    string `json:"name"` // deterministic per customer
}

// WaitAddonProvisioned returns once the add-on is provisioned. "Not yet" is an error retried
// by the workflow's policy, so a long wait writes no history per poll.
func (a *Activities) WaitAddonProvisioned(ctx context.Context, ref contract.AddonRef) error {
	got, err := a.Heroku.AddonInfo(ctx, ref.App, ref.ID)
	if err != nil {
		return fromHeroku(err)
	}
	switch got.State {
	case heroku.AddonProvisioned:
		return nil
	case heroku.AddonDeprovisioned, heroku.AddonDeprovisioning:
		return final(contract.ErrProvisioningFailed, "Heroku could not provision add-on %s (state %s)", ref.Name, got.State)
	}
	return notYet("add-on %s is %s", ref.Name, got.State)
}

// EnrollInput names the integration and the existing add-on.
type EnrollInput struct {
	ISVSlug string `json:"isv_slug"`
	Addon   string `json:"addon"`
}

// AuthorizeInput asks for an authorization URL.
type AuthorizeInput struct {
	ISVSlug string                  `json:"isv_slug"`
	AddonID string                  `json:"addon_id"`
	Request heroku.AuthorizeRequest `json:"request"`
	// WorkflowID and Attempt are bound into the signed return state added to Request.Next.
	WorkflowID string `json:"workflow_id,omitempty"`
	Attempt    int    `json:"attempt,omitempty"`
}

// ReturnStateLifetime outlives the authorization URL (24h) a little.
const ReturnStateLifetime = 25 * time.Hour

// AuthorizationURL is a URL and its expiry.
type AuthorizationURL struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// RequestAuthorizationURL asks Heroku for a URL bound to the customer's org and user.
// When a return URL is given and the worker has a state key, the customer comes back with a
// signed state naming this workflow and attempt, which starter serve checks before it
// signals the workflow.
func (a *Activities) RequestAuthorizationURL(ctx context.Context, in AuthorizeInput) (AuthorizationURL, error) {
	if in.Request.Next != "" && len(a.StateKey) > 0 && in.WorkflowID != "" {
		token := returnstate.Sign(a.StateKey, returnstate.State{WorkflowID: in.WorkflowID, Attempt: in.Attempt,
			Expires: time.Now().Add(ReturnStateLifetime).Unix()})
		next, err := returnstate.AddToURL(in.Request.Next, token)
		if err != nil {
			return AuthorizationURL{}, final(contract.ErrHerokuFinal, "return URL: %v", err)
		}
		in.Request.Next = next
	}
	got, err := a.Heroku.Authorize(ctx, in.ISVSlug, in.AddonID, in.Request)
	if err != nil {
		return AuthorizationURL{}, fromHeroku(err)
	}
	return AuthorizationURL{URL: got.Redirect, ExpiresAt: got.ExpiresAt}, nil
}

// ConnectionState is what verification needs of a connection.
type ConnectionState struct {
	State    string `json:"state"`
	OrgID    string `json:"org_id,omitempty"`
	Username string `json:"username,omitempty"`
	// AuthUpdated is when Salesforce last authorized the connection.
	AuthUpdated time.Time `json:"auth_updated,omitzero"`
	// DBKey and Schema are where the connection writes.
	DBKey  string `json:"db_key,omitempty"`
	Schema string `json:"schema,omitempty"`
}

// ReadConnection reads one connection's state and authorized identity.
func (a *Activities) ReadConnection(ctx context.Context, ref contract.ConnectionRef) (ConnectionState, error) {
	c, err := a.Heroku.Connection(ctx, ref.RegionURL, ref.ID)
	if err != nil {
		return ConnectionState{}, fromHeroku(err)
	}
	return stateOf(c), nil
}

func stateOf(c *heroku.Connection) ConnectionState {
	out := ConnectionState{State: c.State, DBKey: c.DBKey, Schema: c.SchemaName}
	if c.AuthUpdated != nil {
		out.AuthUpdated = *c.AuthUpdated
	}
	if c.OrganizationID != nil {
		out.OrgID = *c.OrganizationID
	}
	if c.SFInfo != nil {
		out.Username = c.SFInfo.Username
		if out.OrgID == "" {
			out.OrgID = c.SFInfo.OrganizationID
		}
	}
	return out
}
