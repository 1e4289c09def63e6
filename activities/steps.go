package activities

import (
	"context"
	"net/http"

	"go.temporal.io/sdk/activity"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// The activities below make exactly one Heroku request per dispatch. The heroku task
// queue's server-side rate limit counts dispatches, so one request per dispatch is what
// makes that limit the account's budget in Heroku's own unit (requests), across every worker
// process. The heroku worker enforces it: a second request in one dispatch fails (see
// heroku.WithCallBudget).

// CreateAddon creates the customer's herokuconnect:enterprise add-on. A taken name fails
// with ErrAddonNameTaken: the workflow then looks for the add-on an earlier attempt made.
func (a *Activities) CreateAddon(ctx context.Context, in ProvisionInput) (contract.AddonRef, error) {
	created, err := a.Heroku.CreateAddon(ctx, in.App, heroku.AddonCreate{
		Plan: "herokuconnect:enterprise", Name: in.Name, Config: map[string]string{"isv": in.ISVSlug},
		Attachment: &heroku.Ref{Name: "HEROKUCONNECT"},
	})
	if nameTaken(err) {
		return contract.AddonRef{}, final(contract.ErrAddonNameTaken, "add-on name %s is taken", in.Name)
	}
	if err != nil {
		return contract.AddonRef{}, fromHeroku(err)
	}
	activity.GetLogger(ctx).Info("created add-on", "addon", created.Name, "app", in.App)
	return contract.AddonRef{ID: created.ID, Name: created.Name, App: in.App, Created: true, State: created.State}, nil
}

// nameTaken tells, by Heroku's error id and never by the words of its message, a create
// refused as a taken name: 422 invalid_params is how Heroku refuses a name in use, and the
// rest of what it could refuse the same way (the plan, the name's form, the integration) the
// workflow has checked before. FindOwnAddon then tells the cases apart by looking.
func nameTaken(err error) bool {
	he, ok := heroku.AsError(err)
	return ok && he.StatusCode == http.StatusUnprocessableEntity && he.ID == "invalid_params"
}

// FindOwnAddon finds the add-on with our deterministic name after a create was refused as a
// taken name. On the app, it counts as created by us: only our onboarding makes that name,
// and only ISV add-ons of our integration are adopted. Add-on names are global: elsewhere it
// is another's; nowhere, the refusal was for another reason.
func (a *Activities) FindOwnAddon(ctx context.Context, in ProvisionInput) (contract.AddonRef, error) {
	found, err := a.Heroku.AddonInfo(ctx, "", in.Name)
	if isKind(err, heroku.KindNotFound) {
		return contract.AddonRef{}, final(contract.ErrHerokuFinal, "Heroku refused to create add-on %s (invalid_params), and no add-on has that name: the refusal was not a taken name", in.Name)
	}
	if err != nil {
		return contract.AddonRef{}, fromHeroku(err)
	}
	if found.App.Name != "" && found.App.Name != in.App {
		return contract.AddonRef{}, final(contract.ErrAddonConflict, "add-on %s exists on app %s, not %s", in.Name, found.App.Name, in.App)
	}
	activity.GetLogger(ctx).Info("adopted add-on created by an earlier attempt", "addon", found.Name)
	return contract.AddonRef{ID: found.ID, Name: found.Name, App: in.App, Created: true}, nil
}

// LookupAddon reads the add-on to enroll; nothing is changed. It must be a Heroku Connect
// add-on.
func (a *Activities) LookupAddon(ctx context.Context, in EnrollInput) (contract.AddonRef, error) {
	info, err := a.Heroku.AddonInfo(ctx, "", in.Addon)
	if err != nil {
		return contract.AddonRef{}, fromHeroku(err)
	}
	if info.AddonService.Name != "herokuconnect" {
		return contract.AddonRef{}, final(contract.ErrHerokuFinal, "add-on %s is %q, not a Heroku Connect add-on", in.Addon, info.AddonService.Name)
	}
	return contract.AddonRef{ID: info.ID, Name: info.Name, App: info.App.Name, Created: false}, nil
}

// EnrollInIntegration associates the looked-up add-on with the integration. Heroku answers
// 200 when it is already ours (a retry); 409 means another ISV's: final, nothing changed.
func (a *Activities) EnrollInIntegration(ctx context.Context, in EnrollInput) error {
	_, err := a.Heroku.Enroll(ctx, in.ISVSlug, in.Addon)
	if isKind(err, heroku.KindConflict) {
		return final(contract.ErrAddonConflict, "add-on %s is associated with another ISV's integration", in.Addon)
	}
	return fromHeroku(err)
}

// JoinConnectAccess puts the token's user on the Connect access list of the app's add-ons.
func (a *Activities) JoinConnectAccess(ctx context.Context, app string) error {
	return fromHeroku(a.Heroku.ConnectAuth(ctx, app))
}

// DiscoverConnection finds the add-on's connection and its region; "not yet" until Connect
// lists it.
func (a *Activities) DiscoverConnection(ctx context.Context, addon contract.AddonRef) (contract.ConnectionRef, error) {
	refs, err := a.Heroku.DiscoverConnections(ctx, addon.App, addon.Name)
	if err != nil {
		return contract.ConnectionRef{}, fromHeroku(err)
	}
	for _, r := range refs {
		if r.ResourceName == "" || r.ResourceName == addon.Name {
			return contract.ConnectionRef{ID: r.ID, RegionURL: r.RegionURL}, nil
		}
	}
	return contract.ConnectionRef{}, notYet("no connection for add-on %s yet", addon.Name)
}

// SetSchemaInput sets where one connection writes.
type SetSchemaInput struct {
	Connection contract.ConnectionRef `json:"connection"`
	DBKey      string                 `json:"db_key"`
	Schema     string                 `json:"schema"`
}

// SetConnectionSchema sets the connection's database and schema. Heroku allows it only while
// the connection is NEW: a 409 fails with ErrConnectionNotNew, and the workflow reads the
// connection to learn whether an earlier attempt set exactly this.
func (a *Activities) SetConnectionSchema(ctx context.Context, in SetSchemaInput) error {
	_, err := a.Heroku.SetConnectionSchema(ctx, in.Connection.RegionURL, in.Connection.ID, in.DBKey, in.Schema)
	if isKind(err, heroku.KindConflict) {
		return final(contract.ErrConnectionNotNew, "the connection's database and schema are already set")
	}
	return fromHeroku(err)
}

// DestroyAddon deletes an add-on onboarding created, by ID or, when the create's answer
// never came, by its deterministic name, and answers "not yet" until Heroku no longer has it:
// the workflow's retry policy repeats the (idempotent) DELETE until a 404. Repeating the
// DELETE, rather than polling info, also removes an add-on whose create landed after an
// earlier DELETE found nothing. Nothing is final here: the compensation's own retry budget
// decides when to give up.
func (a *Activities) DestroyAddon(ctx context.Context, ref contract.AddonRef) error {
	got, err := a.Heroku.DestroyAddon(ctx, ref.App, ref.Key())
	if isKind(err, heroku.KindNotFound) {
		return nil
	}
	if err != nil {
		return retryableFromHeroku(err)
	}
	return notYet("add-on %s is %s", ref.Name, got.State)
}

// WaitAddonGone returns once the add-on no longer exists; like DestroyAddon it
// treats no answer as final. A customer's add-on removed by its integration's deactivation
// is not read while the partner workflow is confirming the deactivation (one listing of the
// account's add-ons for every customer): the dispatch waits for that confirmation instead.
// Heroku is read only when none is coming (no deactivation under way, or its listing gave up).
func (a *Activities) WaitAddonGone(ctx context.Context, ref contract.AddonRef) error {
	switch a.awaitDeactivationConfirmed(ctx) {
	case confirmedGone:
		return nil
	case confirmationPending:
		return notYet("add-on %s: the integration's deactivation is not confirmed yet", ref.Name)
	}
	got, err := a.Heroku.AddonInfo(ctx, ref.App, ref.Key())
	if isKind(err, heroku.KindNotFound) {
		return nil
	}
	if err != nil {
		return retryableFromHeroku(err)
	}
	return notYet("add-on %s is %s", ref.Name, got.State)
}
