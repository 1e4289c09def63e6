package activities

import (
	"context"
	"fmt"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// integrationOf is Heroku's description of an integration in the contract's terms.
func integrationOf(h *heroku.Integration) contract.Integration {
	return contract.Integration{ID: h.ID, Slug: h.Slug, Name: h.Name, Status: h.Status,
		Team: contract.TeamRef{ID: h.Team.ID, Name: h.Team.Name}, TeamName: h.TeamName, Description: h.Description,
		DocsURL: h.DocsURL, ContactEmail: h.ContactEmail, LogoURL: h.LogoURL, CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt}
}

// CreateIntegrationInput creates a partner integration.
type CreateIntegrationInput struct {
	Slug, Team, Name, Description, DocsURL, ContactEmail string
	Logo                                                 contract.Logo
}

// CreateIntegration registers the integration in one Heroku request; a taken slug fails
// with ErrSlugTaken (the partner workflow then reads it with IntegrationInfo and adopts it
// when the team is ours).
func (a *Activities) CreateIntegration(ctx context.Context, in CreateIntegrationInput) (contract.Integration, error) {
	got, err := a.Heroku.CreateIntegration(ctx, heroku.IntegrationCreate{Slug: in.Slug, Name: in.Name, Team: in.Team,
		ContactEmail: in.ContactEmail, Description: in.Description, DocsURL: in.DocsURL, Logo: heroku.Logo(in.Logo)})
	if he, ok := heroku.AsError(err); ok && he.Kind == heroku.KindInvalid && len(he.Fields["slug"]) > 0 {
		return contract.Integration{}, final(contract.ErrSlugTaken, "partner integration slug %s is taken", in.Slug)
	}
	if err != nil {
		return contract.Integration{}, fromHeroku(err)
	}
	return integrationOf(got), nil
}

// UpdateIntegrationInput changes the given fields.
type UpdateIntegrationInput struct {
	Slug                               string
	Description, DocsURL, ContactEmail *string
	Logo                               *contract.Logo
}

// UpdateIntegration sends only the fields that change.
func (a *Activities) UpdateIntegration(ctx context.Context, in UpdateIntegrationInput) (contract.Integration, error) {
	up := heroku.IntegrationUpdate{Description: in.Description, DocsURL: in.DocsURL, ContactEmail: in.ContactEmail}
	if in.Logo != nil {
		l := heroku.Logo(*in.Logo)
		up.Logo = &l
	}
	got, err := a.Heroku.UpdateIntegration(ctx, in.Slug, up)
	if err != nil {
		return contract.Integration{}, fromHeroku(err)
	}
	return integrationOf(got), nil
}

// IntegrationInfo reads the integration.
func (a *Activities) IntegrationInfo(ctx context.Context, slug string) (contract.Integration, error) {
	got, err := a.Heroku.IntegrationInfo(ctx, slug)
	if err != nil {
		return contract.Integration{}, fromHeroku(err)
	}
	return integrationOf(got), nil
}

// DeactivateResult is one deactivate call's outcome.
type DeactivateResult struct {
	Total, Succeeded int
	Partial          bool
	FailedAddons     []string
}

// DeactivateIntegration calls Heroku's deactivate once. A 207 comes back as Partial: the
// workflow decides whether to call again.
func (a *Activities) DeactivateIntegration(ctx context.Context, slug string) (DeactivateResult, error) {
	d, err := a.Heroku.Deactivate(ctx, slug)
	if err != nil {
		return DeactivateResult{}, fromHeroku(err)
	}
	out := DeactivateResult{Total: d.Summary.Total, Succeeded: d.Summary.Succeeded, Partial: d.Partial}
	for _, r := range d.Responses {
		if r.Status != "succeeded" {
			out.FailedAddons = append(out.FailedAddons, fmt.Sprintf("%s: %s %s", r.AddonGUID, r.Error, r.Message))
		}
	}
	return out, nil
}
