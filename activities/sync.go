package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// The customer's data sync: its mapping template imported once, then its mappings read
// until every one has synced. Templates stay in the partner workflow (or the onboarding's
// input): histories hold their digests, not their bodies.

// TemplateRef names a template without its body.
type TemplateRef struct {
	Digest  string   `json:"digest,omitempty"` // empty: no template
	Objects []string `json:"objects,omitempty"`
}

func refOf(t *contract.MappingTemplate) TemplateRef {
	if t == nil {
		return TemplateRef{}
	}
	return TemplateRef{Digest: t.Digest(), Objects: t.Objects()}
}

// integrationTemplate is the integration's current template (nil when it has none or when
// there is no partner workflow to ask). The partner workflow's memo names it by digest (a
// describe: no workflow task); the body is asked of the partner workflow (a query) only
// when this worker has not seen that digest yet. A query per customer made the partner
// workflow the bottleneck of a thousand onboardings.
func (a *Activities) integrationTemplate(ctx context.Context, slug string) (*contract.MappingTemplate, error) {
	if !contract.ValidSlug(slug) {
		return nil, final(contract.ErrInvalidInput, "isv_slug %q is not a valid slug", slug)
	}
	if a.Temporal == nil {
		return nil, nil
	}
	id := contract.PartnerWorkflowID(slug)
	desc, err := a.Temporal.DescribeWorkflow(ctx, id, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describing partner workflow %s: %w", id, err)
	}
	var digest string
	if p := desc.RawResponse.GetWorkflowExecutionInfo().GetMemo().GetFields()[contract.MemoMappingsDigest]; p != nil {
		if err := a.payloads().FromPayload(p, &digest); err != nil {
			return nil, fmt.Errorf("partner workflow %s's memo: %w", id, err)
		}
	}
	if digest == "" {
		return nil, nil
	}
	if t := a.templates.get(digest); t != nil {
		return t, nil
	}
	t, err := contract.QueryPartnerMappings.Ask(ctx, a.Temporal, id)
	if err != nil {
		return nil, fmt.Errorf("asking partner workflow %s for its mapping template: %w", id, err)
	}
	if t == nil {
		return nil, nil
	}
	// The partner workflow validated it; a template that fails here was not sent by it.
	if err := t.Validate("mappings"); err != nil {
		return nil, final(contract.ErrInvalidInput, "the integration's mapping template: %v", err)
	}
	a.templates.put(t)
	return t, nil
}

// templateCache keeps the templates this worker has read, by digest (a digest names one
// content, so an entry never goes stale); at most maxCachedTemplates.
type templateCache struct {
	mu sync.Mutex
	m  map[string]*contract.MappingTemplate
}

const maxCachedTemplates = 64

func (c *templateCache) get(digest string) *contract.MappingTemplate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[digest]
}

func (c *templateCache) put(t *contract.MappingTemplate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedTemplates {
		c.m = map[string]*contract.MappingTemplate{}
	}
	c.m[t.Digest()] = t
}

// IntegrationTemplate names the integration's current template (no Heroku call).
func (a *Activities) IntegrationTemplate(ctx context.Context, slug string) (TemplateRef, error) {
	t, err := a.integrationTemplate(ctx, slug)
	return refOf(t), err
}

// ImportInput imports a customer's template: the onboarding's own, or the integration's
// current one.
type ImportInput struct {
	ISVSlug    string                    `json:"isv_slug"`
	Connection contract.ConnectionRef    `json:"connection"`
	Own        *contract.MappingTemplate `json:"own,omitempty"`
}

func (a *Activities) templateFor(ctx context.Context, in ImportInput) (*contract.MappingTemplate, error) {
	if in.Own != nil {
		if err := in.Own.Validate("mappings"); err != nil {
			return nil, final(contract.ErrInvalidInput, "%v", err)
		}
		return in.Own, nil
	}
	t, err := a.integrationTemplate(ctx, in.ISVSlug)
	if err == nil && t == nil {
		err = final(contract.ErrInvalidInput, "the integration %s has no mapping template", in.ISVSlug)
	}
	return t, err
}

// ImportMappings imports the template into the customer's connection: one request, sent
// once. A retry cannot know whether the first attempt's import reached Heroku, so it sends
// nothing and fails as ErrImportUncertain: the workflow then reads the connection
// (ImportedAlready) and imports again only if the template is not there. So a template is
// imported exactly once per customer, whatever crashes.
func (a *Activities) ImportMappings(ctx context.Context, in ImportInput) (TemplateRef, error) {
	if activity.GetInfo(ctx).Attempt > 1 {
		return TemplateRef{}, final(contract.ErrImportUncertain, "an earlier attempt may have imported the template")
	}
	t, err := a.templateFor(ctx, in)
	if err != nil {
		return TemplateRef{}, err
	}
	if err := a.Heroku.ImportMappings(ctx, in.Connection.RegionURL, in.Connection.ID, t.JSON()); err != nil {
		return TemplateRef{}, fromHeroku(err)
	}
	return refOf(t), nil
}

// ImportedAlready reads the connection and reports whether every mapping of the template is
// there as the template configures it (same access and fields): after an uncertain import,
// whether to import again.
func (a *Activities) ImportedAlready(ctx context.Context, in ImportInput) (TemplateRef, error) {
	t, err := a.templateFor(ctx, in)
	if err != nil {
		return TemplateRef{}, err
	}
	c, err := a.Heroku.Connection(ctx, in.Connection.RegionURL, in.Connection.ID)
	if err != nil {
		return TemplateRef{}, fromHeroku(err)
	}
	if !holds(c.Mappings, t) {
		return TemplateRef{}, nil
	}
	return refOf(t), nil
}

// holds reports whether mappings hold every object of t with t's access and fields.
func holds(mappings []heroku.Mapping, t *contract.MappingTemplate) bool {
	have := map[string]contract.MappingConfig{}
	for _, m := range mappings {
		var cfg contract.MappingConfig
		if json.Unmarshal(m.Config, &cfg) == nil {
			have[strings.ToLower(m.ObjectName)] = cfg
		}
	}
	for _, want := range t.Mappings {
		got, ok := have[strings.ToLower(want.ObjectName)]
		if !ok || got.Access != want.Config.Access || len(got.Fields) != len(want.Config.Fields) {
			return false
		}
		for f := range want.Config.Fields {
			if _, ok := got.Fields[f]; !ok {
				return false
			}
		}
	}
	return true
}

// ReadSync reads the connection's mappings (one request) and judges them: Problem says, in
// Heroku's words, what needs someone (a failed mapping, rows that could not be written).
// WriteErrors is the mappings' error counts; Notifications is -1 (not read here).
func (a *Activities) ReadSync(ctx context.Context, ref contract.ConnectionRef) (contract.Health, error) {
	c, err := a.Heroku.Connection(ctx, ref.RegionURL, ref.ID)
	if err != nil {
		return contract.Health{}, fromHeroku(err)
	}
	return judge(c), nil
}

// Synced reports whether every object of the template has synced in h.
func Synced(h contract.Health, objects []string) bool {
	state := map[string]string{}
	for _, m := range h.Mappings {
		state[strings.ToLower(m.Object)] = m.State
	}
	for _, o := range objects {
		if !heroku.MappingSynced(state[strings.ToLower(o)]) {
			return false
		}
	}
	return h.Problem == ""
}

// judge turns a connection's detail into its health.
func judge(c *heroku.Connection) contract.Health {
	h := contract.Health{ConnectionState: c.State, Mappings: []contract.MappingHealth{}, Notifications: -1}
	var problems []string
	for _, m := range c.Mappings {
		h.Mappings = append(h.Mappings, contract.MappingHealth{Object: m.ObjectName, State: m.State, Message: clip(m.StateDescription, 300),
			DB: m.Counts.DB, SF: m.Counts.SF, Pending: m.Counts.Pending, Errors: m.Counts.Errors})
		h.WriteErrors += m.Counts.Errors
		switch {
		case heroku.MappingFailed(m.State):
			problems = append(problems, fmt.Sprintf("mapping %s is %s: %s", m.ObjectName, m.State, clip(m.StateDescription, 300)))
		case m.Counts.Errors > 0:
			problems = append(problems, fmt.Sprintf("%d rows of %s could not be written to Salesforce", m.Counts.Errors, m.ObjectName))
		}
	}
	if !heroku.Healthy(c.State) && c.State != heroku.StateNeedAuthentication && c.State != heroku.StateUnauthorized {
		problems = append(problems, "the connection is "+c.State)
	}
	h.Problem = clip(strings.Join(problems, "; "), 1000)
	return h
}

// clip bounds text from Heroku that lands in a status.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// CountWriteErrors reads how many rows could not be written in the last 24 hours.
func (a *Activities) CountWriteErrors(ctx context.Context, ref contract.ConnectionRef) (int, error) {
	n, _, err := a.Heroku.WriteErrors(ctx, ref.RegionURL, ref.ID)
	if err != nil {
		return 0, fromHeroku(err)
	}
	return n, nil
}

// CountNotifications reads how many notifications wait to be acknowledged.
func (a *Activities) CountNotifications(ctx context.Context, ref contract.ConnectionRef) (int, error) {
	ns, err := a.Heroku.Notifications(ctx, ref.RegionURL, ref.ID)
	if err != nil {
		return 0, fromHeroku(err)
	}
	return len(ns), nil
}
