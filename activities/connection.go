package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/returnstate"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// PartnerStage is the stage of the ISV's partner workflow, or "" when there is none to
// ask (the integration was registered without this worker, or its workflow is gone). It
// costs no Heroku call.
func (a *Activities) PartnerStage(ctx context.Context, slug string) (contract.PartnerStage, error) {
	if !contract.ValidSlug(slug) {
		return "", final(contract.ErrInvalidInput, "isv_slug %q is not a valid slug", slug)
	}
	if a.Temporal == nil {
		return "", nil // a worker without a Temporal client (tests) asks Heroku
	}
	info, err := contract.QueryPartnerInfo.Ask(ctx, a.Temporal, contract.PartnerWorkflowID(slug))
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("asking partner workflow %s: %w", contract.PartnerWorkflowID(slug), err)
	}
	if info.Stage == contract.PartnerDeactivating || info.Stage == contract.PartnerInactive {
		return info.Stage, final(contract.ErrIntegrationInactive, "partner integration %q is %s", slug, info.Stage)
	}
	if info.Integration == nil {
		return "", nil
	}
	return info.Stage, nil
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

// ProvisionAddon creates the customer's herokuconnect:enterprise add-on, or adopts it when a
// previous attempt already did (a lost response, a crash after the call). Heroku has no
// idempotency key; the deterministic name is ours: look first, create, and on "name taken"
// look again.
func (a *Activities) ProvisionAddon(ctx context.Context, in ProvisionInput) (contract.AddonRef, error) {
	if ref, found, err := a.adopt(ctx, in); found || err != nil {
		return ref, err
	}
	created, err := a.Heroku.CreateAddon(ctx, in.App, heroku.AddonCreate{
		Plan: "herokuconnect:enterprise", Name: in.Name, Config: map[string]string{"isv": in.ISVSlug},
		Attachment: &heroku.Ref{Name: "HEROKUCONNECT"},
	})
	if isKind(err, heroku.KindInvalid) && strings.Contains(strings.ToLower(err.Error()), "taken") {
		ref, found, err := a.adopt(ctx, in)
		if found || err != nil {
			return ref, err
		}
		return contract.AddonRef{}, final(contract.ErrAddonConflict, "add-on name %s is taken by an add-on on another app", in.Name)
	}
	if err != nil {
		return contract.AddonRef{}, fromHeroku(err)
	}
	activity.GetLogger(ctx).Info("created add-on", "addon", created.Name, "app", in.App)
	return contract.AddonRef{ID: created.ID, Name: created.Name, App: in.App, Created: true}, nil
}

// adopt finds an add-on with our name on the app. It counts as created by us: only our
// onboarding makes that name.
func (a *Activities) adopt(ctx context.Context, in ProvisionInput) (contract.AddonRef, bool, error) {
	found, err := a.Heroku.AddonInfo(ctx, in.App, in.Name)
	if isKind(err, heroku.KindNotFound) {
		return contract.AddonRef{}, false, nil
	}
	if err != nil {
		return contract.AddonRef{}, false, fromHeroku(err)
	}
	if found.App.Name != "" && found.App.Name != in.App {
		return contract.AddonRef{}, false, final(contract.ErrAddonConflict, "add-on %s exists on app %s, not %s", in.Name, found.App.Name, in.App)
	}
	activity.GetLogger(ctx).Info("adopted add-on created by an earlier attempt", "addon", found.Name)
	return contract.AddonRef{ID: found.ID, Name: found.Name, App: in.App, Created: true}, true, nil
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

// EnrollAddon associates an existing Connect add-on with the integration. Enrolling twice
// (a retry) finds it already associated with us and succeeds.
func (a *Activities) EnrollAddon(ctx context.Context, in EnrollInput) (contract.AddonRef, error) {
	info, err := a.Heroku.AddonInfo(ctx, "", in.Addon)
	if err != nil {
		return contract.AddonRef{}, fromHeroku(err)
	}
	if info.AddonService.Name != "" && info.AddonService.Name != "herokuconnect" {
		return contract.AddonRef{}, final(contract.ErrHerokuFinal, "add-on %s is %s, not a Heroku Connect add-on", in.Addon, info.AddonService.Name)
	}
	_, err = a.Heroku.Enroll(ctx, in.ISVSlug, info.ID)
	if isKind(err, heroku.KindConflict) {
		// Already associated: with us (a retry) is fine, with someone else is final. The
		// authorize call below proves which; a conflict there surfaces as forbidden.
		activity.GetLogger(ctx).Info("add-on already enrolled", "addon", info.Name)
	} else if err != nil {
		return contract.AddonRef{}, fromHeroku(err)
	}
	return contract.AddonRef{ID: info.ID, Name: info.Name, App: info.App.Name, Created: false}, nil
}

// ConfigureInput says where the customer's data lands.
type ConfigureInput struct {
	Addon  contract.AddonRef `json:"addon"`
	DBKey  string            `json:"db_key"`
	Schema string            `json:"schema"`
}

// ConfigureConnection joins the Connect access list, discovers the add-on's connection and
// sets its database and schema. It is safe to repeat.
func (a *Activities) ConfigureConnection(ctx context.Context, in ConfigureInput) (contract.ConnectionRef, error) {
	if err := a.Heroku.ConnectAuth(ctx, in.Addon.App); err != nil {
		return contract.ConnectionRef{}, fromHeroku(err)
	}
	refs, err := a.Heroku.DiscoverConnections(ctx, in.Addon.App, in.Addon.Name)
	if err != nil {
		return contract.ConnectionRef{}, fromHeroku(err)
	}
	if len(refs) == 0 {
		return contract.ConnectionRef{}, notYet("no connection for add-on %s yet", in.Addon.Name)
	}
	ref := contract.ConnectionRef{ID: refs[0].ID, RegionURL: refs[0].RegionURL}
	conn, err := a.Heroku.Connection(ctx, ref.RegionURL, ref.ID)
	if err != nil {
		return contract.ConnectionRef{}, fromHeroku(err)
	}
	if conn.State != heroku.StateNew {
		if conn.SchemaName == in.Schema && conn.DBKey == in.DBKey {
			return ref, nil // set by an earlier attempt
		}
		return contract.ConnectionRef{}, final(contract.ErrHerokuFinal, "connection of %s already writes to %s in schema %s", in.Addon.Name, conn.DBKey, conn.SchemaName)
	}
	if _, err := a.Heroku.SetConnectionSchema(ctx, ref.RegionURL, ref.ID, in.DBKey, in.Schema); err != nil {
		return contract.ConnectionRef{}, fromHeroku(err)
	}
	return ref, nil
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

// DestroyAddon deletes an add-on onboarding created. A 404 means it is already gone.
func (a *Activities) DestroyAddon(ctx context.Context, ref contract.AddonRef) error {
	_, err := a.Heroku.DestroyAddon(ctx, ref.App, ref.ID)
	if err == nil || isKind(err, heroku.KindNotFound) {
		return nil
	}
	return fromHeroku(err)
}

// WaitAddonGone returns once the add-on no longer exists.
func (a *Activities) WaitAddonGone(ctx context.Context, ref contract.AddonRef) error {
	got, err := a.Heroku.AddonInfo(ctx, ref.App, ref.ID)
	if isKind(err, heroku.KindNotFound) {
		return nil
	}
	if err != nil {
		return fromHeroku(err)
	}
	return notYet("add-on %s is %s", ref.Name, got.State)
}

// AppConnectionsInput names the app a watcher reads.
type AppConnectionsInput struct {
	App       string `json:"app"`
	RegionURL string `json:"region_url"`
}

// ConnectionSnapshot is what a watcher compares between polls.
type ConnectionSnapshot struct {
	State       string    `json:"state"`
	AuthUpdated time.Time `json:"auth_updated,omitzero"`
}

// ListAppConnectionStates reads every connection of an app in one call, keyed by connection
// ID, with when each was last authorized (a re-authorization may not change the state).
func (a *Activities) ListAppConnectionStates(ctx context.Context, in AppConnectionsInput) (map[string]ConnectionSnapshot, error) {
	conns, err := a.Heroku.AppConnections(ctx, in.RegionURL, in.App)
	if err != nil {
		return nil, fromHeroku(err)
	}
	out := make(map[string]ConnectionSnapshot, len(conns))
	for _, c := range conns {
		snap := ConnectionSnapshot{State: c.State}
		if c.AuthUpdated != nil {
			snap.AuthUpdated = *c.AuthUpdated
		}
		out[c.ID] = snap
	}
	return out, nil
}

// ListAppConnectionsNotWaiting is ListAppConnectionStates without the connections that are
// still waiting for their first authorization (NEED_AUTHENTICATION, never authorized): the
// common case of thousands of waiting customers then costs nothing in the watcher's
// history, whose activity results would otherwise grow with every waiting customer.
func (a *Activities) ListAppConnectionsNotWaiting(ctx context.Context, in AppConnectionsInput) (map[string]ConnectionSnapshot, error) {
	all, err := a.ListAppConnectionStates(ctx, in)
	if err != nil {
		return nil, err
	}
	for id, s := range all {
		if s.State == heroku.StateNeedAuthentication && s.AuthUpdated.IsZero() {
			delete(all, id)
		}
	}
	return all, nil
}

// ListAppConnections reads every connection of an app in one call, keyed by connection ID.
// Kept for watcher runs recorded before ListAppConnectionStates existed.
func (a *Activities) ListAppConnections(ctx context.Context, in AppConnectionsInput) (map[string]string, error) {
	conns, err := a.Heroku.AppConnections(ctx, in.RegionURL, in.App)
	if err != nil {
		return nil, fromHeroku(err)
	}
	out := make(map[string]string, len(conns))
	for _, c := range conns {
		out[c.ID] = c.State
	}
	return out, nil
}
