package heroku_test

// The contract suite: the real client against herokusim over real HTTP, for every call of
// docs/heroku-api.md and each of its errors.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/logo/logotest"
)

const (
	token = "sim-token"
	team  = "acme-team"
	app   = "acme-isv-app"
	org   = "00D000000000062"
	user  = "integration@customer.example"
)

type fixture struct {
	sim    *herokusim.Sim
	srv    *httptest.Server
	client *heroku.Client
}

func newFixture(t *testing.T, mutate ...func(*herokusim.Config)) *fixture {
	t.Helper()
	cfg := herokusim.DefaultConfig()
	cfg.ProvisionDelay, cfg.DeprovisionDelay = 0, 0
	cfg.Apps = map[string]string{app: team, "other-app": "other-team"}
	for _, m := range mutate {
		m(&cfg)
	}
	sim, err := herokusim.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(sim)
	sim.SetPublicURL(srv.URL)
	t.Cleanup(func() { srv.Close(); _ = sim.Close() })
	c, err := heroku.New(heroku.Options{PlatformURL: srv.URL, ConnectURL: srv.URL, Token: token, Timeout: 5 * time.Second})
	require.NoError(t, err)
	return &fixture{sim: sim, srv: srv, client: c}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func (f *fixture) createIntegration(t *testing.T, slug string) *heroku.Integration {
	t.Helper()
	in, err := f.client.CreateIntegration(ctx(t), heroku.IntegrationCreate{
		Slug: slug, Name: "Acme Sync", Team: team, ContactEmail: "dev@acme.example", Description: "Syncs Acme with Salesforce",
		DocsURL: "https://acme.example/docs", Logo: heroku.Logo{Filename: "logo.png", Data: logotest.PNG(200, 200)},
	})
	require.NoError(t, err)
	return in
}

// onboard provisions an ISV add-on and configures its connection, returning the add-on and
// the connection's discovery record.
func (f *fixture) onboard(t *testing.T, slug, name string) (*heroku.Addon, heroku.ConnectionRef) {
	t.Helper()
	c := ctx(t)
	a, err := f.client.CreateAddon(c, app, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: name, Config: map[string]string{"isv": slug}})
	require.NoError(t, err)
	require.NoError(t, f.client.ConnectAuth(c, app))
	refs, err := f.client.DiscoverConnections(c, app, a.Name)
	require.NoError(t, err)
	require.Len(t, refs, 1)
	_, err = f.client.SetConnectionSchema(c, refs[0].RegionURL, refs[0].ID, "DATABASE_URL", "customer_"+strings.ReplaceAll(name, "-", "_"))
	require.NoError(t, err)
	return a, refs[0]
}

func TestPartnerIntegrationLifecycle(t *testing.T) {
	f := newFixture(t)
	c := ctx(t)
	in := f.createIntegration(t, "acme")
	assert.Equal(t, "acme", in.Slug)
	assert.Equal(t, heroku.IntegrationActive, in.Status)
	assert.Equal(t, team, in.TeamName)
	assert.NotEmpty(t, in.LogoURL)

	got, err := f.client.IntegrationInfo(c, "acme")
	require.NoError(t, err)
	assert.Equal(t, in.ID, got.ID)
	got, err = f.client.IntegrationInfo(c, in.ID)
	require.NoError(t, err)
	assert.Equal(t, "acme", got.Slug)

	desc := "New description"
	upd, err := f.client.UpdateIntegration(c, "acme", heroku.IntegrationUpdate{Description: &desc, Logo: &heroku.Logo{Filename: "l.svg", Data: logotest.SVG(`width="300" height="300"`)}})
	require.NoError(t, err)
	assert.Equal(t, desc, upd.Description)
	assert.Equal(t, "dev@acme.example", upd.ContactEmail, "fields not sent stay")

	// The logo URL serves the image.
	resp, err := http.Get(upd.LogoURL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "image/svg+xml", resp.Header.Get("Content-Type"))
	assert.Contains(t, string(body), "<svg")

	_, err = f.client.IntegrationInfo(c, "nope")
	assert.ErrorIs(t, err, heroku.ErrNotFound)
}

func TestPartnerValidationErrorsNameTheField(t *testing.T) {
	f := newFixture(t)
	f.createIntegration(t, "acme")
	cases := []struct {
		name  string
		in    heroku.IntegrationCreate
		field string
	}{
		{"slug taken", heroku.IntegrationCreate{Slug: "acme"}, "slug"},
		{"bad slug", heroku.IntegrationCreate{Slug: "Bad_Slug"}, "slug"},
		{"long description", heroku.IntegrationCreate{Description: strings.Repeat("x", 501)}, "description"},
		{"http docs", heroku.IntegrationCreate{DocsURL: "http://acme.example"}, "docs_url"},
		{"bad email", heroku.IntegrationCreate{ContactEmail: "nobody"}, "contact_email"},
		{"tiny logo", heroku.IntegrationCreate{Logo: heroku.Logo{Filename: "l.png", Data: logotest.PNG(20, 20)}}, "logo_image"},
		{"wrong type logo", heroku.IntegrationCreate{Logo: heroku.Logo{Filename: "l.png", Data: logotest.JPEG(200, 200)}}, "logo_image"},
		{"oversize logo", heroku.IntegrationCreate{Logo: heroku.Logo{Filename: "l.png", Data: bytes.Repeat([]byte{1}, 5<<20+10)}}, "logo_image"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := heroku.IntegrationCreate{Slug: "fresh", Name: "N", Team: team, ContactEmail: "a@b.example", Description: "d",
				DocsURL: "https://d.example", Logo: heroku.Logo{Filename: "l.png", Data: logotest.PNG(200, 200)}}
			if tc.in.Slug != "" {
				in.Slug = tc.in.Slug
			}
			if tc.in.Description != "" {
				in.Description = tc.in.Description
			}
			if tc.in.DocsURL != "" {
				in.DocsURL = tc.in.DocsURL
			}
			if tc.in.ContactEmail != "" {
				in.ContactEmail = tc.in.ContactEmail
			}
			if tc.in.Logo.Data != nil {
				in.Logo = tc.in.Logo
			}
			_, err := f.client.CreateIntegration(ctx(t), in)
			require.ErrorIs(t, err, heroku.ErrInvalid)
			he, _ := heroku.AsError(err)
			assert.Equal(t, http.StatusBadRequest, he.StatusCode)
			assert.Equal(t, "validation_error", he.ID)
			assert.NotEmpty(t, he.Fields[tc.field], "field errors: %v", he.Fields)
			assert.NotEmpty(t, he.RequestID)
		})
	}
}

func TestAddonsAndConnectionsFlow(t *testing.T) {
	f := newFixture(t)
	c := ctx(t)
	f.createIntegration(t, "acme")

	a, ref := f.onboard(t, "acme", "hc-acme-c1")
	assert.Equal(t, "herokuconnect:enterprise", a.Plan.Name)
	assert.Equal(t, "herokuconnect", a.AddonService.Name)
	assert.Equal(t, app, a.App.Name)
	assert.Equal(t, f.srv.URL, ref.RegionURL, "region URL comes from discovery")
	assert.Equal(t, f.srv.URL+"/api/v3/connections/"+ref.ID, ref.DetailURL)

	info, err := f.client.AddonInfo(c, app, a.Name)
	require.NoError(t, err)
	assert.Equal(t, heroku.AddonProvisioned, info.State)
	info, err = f.client.AddonInfo(c, "", a.ID)
	require.NoError(t, err)
	assert.Equal(t, a.Name, info.Name)

	conn, err := f.client.Connection(c, ref.RegionURL, ref.ID)
	require.NoError(t, err)
	assert.Equal(t, heroku.StateNeedAuthentication, conn.State)
	assert.Equal(t, "DATABASE_URL", conn.DBKey)
	assert.Equal(t, "customer_hc_acme_c1", conn.SchemaName)
	assert.Nil(t, conn.OrganizationID)

	// Setting the schema again the same way is harmless; another schema is refused.
	_, err = f.client.SetConnectionSchema(c, ref.RegionURL, ref.ID, "DATABASE_URL", "customer_hc_acme_c1")
	require.NoError(t, err)
	_, err = f.client.SetConnectionSchema(c, ref.RegionURL, ref.ID, "DATABASE_URL", "other")
	assert.ErrorIs(t, err, heroku.ErrConflict)

	// Authorization: the URL, the customer's page, the connection becomes IDLE.
	auth, err := f.client.Authorize(c, "acme", a.ID, heroku.AuthorizeRequest{SFOrgID: org, SFUsername: user, Environment: heroku.EnvProduction, APIVersion: "66.0", Next: "https://isv.example/return?state=abc"})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(auth.Redirect, f.srv.URL+"/authorize/"))
	assert.WithinDuration(t, time.Now().Add(24*time.Hour), auth.ExpiresAt, time.Minute)

	page := get(t, auth.Redirect)
	assert.Contains(t, page, "Acme Sync")
	assert.Contains(t, page, "Authorize")
	assert.Contains(t, page, user)

	next := signIn(t, auth.Redirect, org+"EAA", strings.ToUpper(user))
	assert.Equal(t, "https://isv.example/return?state=abc", next)

	conn, err = f.client.Connection(c, ref.RegionURL, ref.ID)
	require.NoError(t, err)
	assert.Equal(t, heroku.StateIdle, conn.State)
	require.NotNil(t, conn.OrganizationID)
	assert.Equal(t, org+"EAA", *conn.OrganizationID)
	require.NotNil(t, conn.SFInfo)
	assert.Equal(t, "66.0", conn.SFInfo.APIVersion)
	assert.NotNil(t, conn.AuthUpdated)

	// The used link cannot be used again.
	assert.Contains(t, get(t, auth.Redirect), "already used")

	// Many connections are read in one call.
	_, ref2 := f.onboard(t, "acme", "hc-acme-c2")
	all, err := f.client.AppConnections(c, ref2.RegionURL, app)
	require.NoError(t, err)
	assert.Len(t, all, 2)

	// Revocation shows as UNAUTHORIZED.
	post(t, f.srv.URL+"/_sim/revoke", map[string]string{"addon": a.Name})
	conn, err = f.client.Connection(c, ref.RegionURL, ref.ID)
	require.NoError(t, err)
	assert.Equal(t, heroku.StateUnauthorized, conn.State)

	// Destroy: deprovisioned, then gone.
	gone, err := f.client.DestroyAddon(c, app, a.ID)
	require.NoError(t, err)
	assert.Contains(t, []string{heroku.AddonDeprovisioning, heroku.AddonDeprovisioned}, gone.State)
	_, err = f.client.AddonInfo(c, app, a.ID)
	assert.ErrorIs(t, err, heroku.ErrNotFound)
	_, err = f.client.Connection(c, ref.RegionURL, ref.ID)
	assert.ErrorIs(t, err, heroku.ErrNotFound)
	_, err = f.client.DestroyAddon(c, app, a.ID)
	assert.ErrorIs(t, err, heroku.ErrNotFound, "destroying twice is a 404 the caller can treat as done")

	counters := f.sim.Snapshot()
	assert.Equal(t, 2, counters.AddonsCreated)
	assert.Equal(t, 1, counters.AddonsDestroyed)
	assert.Equal(t, 1, counters.Live)
	assert.Equal(t, 1, counters.Authorizations)
}

func TestAuthorizationLinks(t *testing.T) {
	f := newFixture(t)
	c := ctx(t)
	f.createIntegration(t, "acme")
	a, _ := f.onboard(t, "acme", "hc-acme-c1")

	first, err := f.client.Authorize(c, "acme", a.ID, heroku.AuthorizeRequest{SFOrgID: org, SFUsername: user})
	require.NoError(t, err)
	second, err := f.client.Authorize(c, "acme", a.ID, heroku.AuthorizeRequest{SFOrgID: org, SFUsername: user})
	require.NoError(t, err)
	assert.NotEqual(t, first.Redirect, second.Redirect)
	assert.Contains(t, get(t, first.Redirect), "replaced by a newer one")

	// A sign-in as another user is refused and recorded.
	status, body := signInRaw(t, second.Redirect, org, "someone.else@customer.example")
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "Sign in as that user")
	mism := getJSON[[]herokusim.AuthorizationMismatch](t, f.srv.URL+"/_sim/mismatches")
	require.Len(t, mism, 1)
	assert.False(t, mism[0].Accepted)

	// Lenient mode accepts and records it, so the worker's own check can be exercised.
	post(t, f.srv.URL+"/_sim/settings", map[string]any{"lenient": true})
	status, _ = signInRaw(t, second.Redirect, "00D000000000099", user)
	assert.Equal(t, http.StatusOK, status)
	mism = getJSON[[]herokusim.AuthorizationMismatch](t, f.srv.URL+"/_sim/mismatches")
	require.Len(t, mism, 2)
	assert.True(t, mism[1].Accepted)

	// Expired links are refused.
	post(t, f.srv.URL+"/_sim/settings", map[string]any{"auth_url_ttl": "1ms"})
	third, err := f.client.Authorize(c, "acme", a.ID, heroku.AuthorizeRequest{SFOrgID: org, SFUsername: user})
	require.NoError(t, err)
	time.Sleep(5 * time.Millisecond)
	assert.Contains(t, get(t, third.Redirect), "expired")
}

func TestAuthorizeValidation(t *testing.T) {
	f := newFixture(t)
	c := ctx(t)
	f.createIntegration(t, "acme")
	a, _ := f.onboard(t, "acme", "hc-acme-c1")
	cases := []struct {
		req   heroku.AuthorizeRequest
		field string
	}{
		{heroku.AuthorizeRequest{SFOrgID: "001000000000062", SFUsername: user}, "sf_org_id"},
		{heroku.AuthorizeRequest{SFOrgID: org, SFUsername: "nobody"}, "sf_username"},
		{heroku.AuthorizeRequest{SFOrgID: org, SFUsername: user, Environment: "custom"}, "domain"},
		{heroku.AuthorizeRequest{SFOrgID: org, SFUsername: user, Environment: "staging"}, "environment"},
		{heroku.AuthorizeRequest{SFOrgID: org, SFUsername: user, APIVersion: "12.0"}, "api_version"},
	}
	for _, tc := range cases {
		_, err := f.client.Authorize(c, "acme", a.ID, tc.req)
		require.ErrorIs(t, err, heroku.ErrInvalid, tc.field)
		he, _ := heroku.AsError(err)
		assert.NotEmpty(t, he.Fields[tc.field], "%v", he.Fields)
	}
	_, err := f.client.Authorize(c, "acme", "no-such-addon", heroku.AuthorizeRequest{SFOrgID: org, SFUsername: user})
	assert.ErrorIs(t, err, heroku.ErrNotFound)
}

func TestEnroll(t *testing.T) {
	f := newFixture(t)
	c := ctx(t)
	f.createIntegration(t, "acme")
	plain, err := f.client.CreateAddon(c, app, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: "existing-connect"})
	require.NoError(t, err)
	en, err := f.client.Enroll(c, "acme", plain.Name)
	require.NoError(t, err)
	assert.Equal(t, plain.ID, en.AddonUUID)
	assert.Equal(t, "acme", en.ISVSlug)
	// Enrolling again into the same integration (a retry after a lost answer) is not a
	// conflict: it answers the enrollment again. Only another integration's add-on is 409.
	again, err := f.client.Enroll(c, "acme", plain.ID)
	require.NoError(t, err, "already ours")
	assert.Equal(t, en.AddonUUID, again.AddonUUID)

	_, err = f.client.Enroll(c, "acme", "missing")
	assert.ErrorIs(t, err, heroku.ErrNotFound)

	// Already associated with another ISV: 409.
	other, err := f.client.CreateIntegration(c, heroku.IntegrationCreate{Slug: "other", Name: "O", Team: team, ContactEmail: "o@o.example",
		Description: "o", DocsURL: "https://o.example", Logo: heroku.Logo{Filename: "l.webp", Data: logotest.WebP(300, 300)}})
	require.NoError(t, err)
	_, err = f.client.Enroll(c, other.Slug, plain.Name)
	assert.ErrorIs(t, err, heroku.ErrConflict)

	// An app outside the ISV's team: 403.
	foreign, err := f.client.CreateAddon(c, "other-app", heroku.AddonCreate{Plan: "herokuconnect:demo"})
	require.NoError(t, err)
	_, err = f.client.Enroll(c, "acme", foreign.ID)
	assert.ErrorIs(t, err, heroku.ErrForbidden)
}

func TestAddonCreateErrors(t *testing.T) {
	f := newFixture(t)
	c := ctx(t)
	f.createIntegration(t, "acme")
	_, err := f.client.CreateAddon(c, app, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: "taken", Config: map[string]string{"isv": "acme"}})
	require.NoError(t, err)
	_, err = f.client.CreateAddon(c, app, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: "taken", Config: map[string]string{"isv": "acme"}})
	assert.ErrorIs(t, err, heroku.ErrInvalid, "a taken name is 422 invalid_params")
	he, _ := heroku.AsError(err)
	assert.Equal(t, 422, he.StatusCode)
	assert.Equal(t, "invalid_params", he.ID, "the error id is what tells a taken name (the worker never reads the message)")
	_, err = f.client.CreateAddon(c, app, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Config: map[string]string{"isv": "ghost"}})
	assert.ErrorIs(t, err, heroku.ErrInvalid, "an unknown integration is 422")
	_, err = f.client.CreateAddon(c, "no-such-app", heroku.AddonCreate{Plan: "herokuconnect:enterprise"})
	assert.ErrorIs(t, err, heroku.ErrNotFound)
	_, err = f.client.CreateAddon(c, app, heroku.AddonCreate{Plan: "heroku-postgresql:mini"})
	assert.ErrorIs(t, err, heroku.ErrInvalid)
}

func TestProvisioningStatesAndFailure(t *testing.T) {
	f := newFixture(t, func(c *herokusim.Config) { c.ProvisionDelay = 150 * time.Millisecond })
	c := ctx(t)
	a, err := f.client.CreateAddon(c, app, heroku.AddonCreate{Plan: "herokuconnect:enterprise"})
	require.NoError(t, err)
	assert.Equal(t, heroku.AddonProvisioning, a.State)
	time.Sleep(200 * time.Millisecond)
	a, err = f.client.AddonInfo(c, app, a.ID)
	require.NoError(t, err)
	assert.Equal(t, heroku.AddonProvisioned, a.State)

	post(t, f.srv.URL+"/_sim/settings", map[string]any{"fail_provisions": map[string]int{app: 1}})
	bad, err := f.client.CreateAddon(c, app, heroku.AddonCreate{Plan: "herokuconnect:enterprise"})
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond)
	bad, err = f.client.AddonInfo(c, app, bad.ID)
	require.NoError(t, err)
	assert.Equal(t, heroku.AddonDeprovisioned, bad.State, "a failed provisioning shows as deprovisioned")
}

func TestListAddonsFollowsPagination(t *testing.T) {
	f := newFixture(t)
	c := ctx(t)
	for i := 0; i < 5; i++ {
		_, err := f.client.CreateAddon(c, app, heroku.AddonCreate{Plan: "herokuconnect:enterprise"})
		require.NoError(t, err)
	}
	// Ask the simulator for pages of 2 directly to see the 206 and Next-Range.
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/apps/"+app+"/addons", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", heroku.AcceptPlatform)
	req.Header.Set("Range", "id ..; max=2")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.NotEmpty(t, resp.Header.Get("Next-Range"))

	all, err := f.client.ListAddons(c, app)
	require.NoError(t, err)
	assert.Len(t, all, 5)
}

func TestDeactivation(t *testing.T) {
	f := newFixture(t)
	c := ctx(t)
	f.createIntegration(t, "acme")
	f.onboard(t, "acme", "hc-acme-c1")
	f.onboard(t, "acme", "hc-acme-c2")
	post(t, f.srv.URL+"/_sim/settings", map[string]any{"fail_deactivation": 1})

	d, err := f.client.Deactivate(c, "acme")
	require.NoError(t, err)
	assert.True(t, d.Partial)
	assert.Equal(t, heroku.DeactivationSummary{Total: 2, Succeeded: 1, Failed: 1}, d.Summary)
	in, err := f.client.IntegrationInfo(c, "acme")
	require.NoError(t, err)
	assert.Equal(t, heroku.IntegrationActive, in.Status, "a partial failure leaves the integration active")

	d, err = f.client.Deactivate(c, "acme")
	require.NoError(t, err)
	assert.False(t, d.Partial)
	assert.Equal(t, heroku.IntegrationInactive, d.ISVStatus)
	assert.Equal(t, 1, d.Summary.Succeeded)

	d, err = f.client.Deactivate(c, "acme")
	require.NoError(t, err)
	assert.True(t, d.AlreadyInactive)

	assert.Equal(t, 0, f.sim.Snapshot().LivePerISV["acme"])
	_, err = f.client.CreateAddon(c, app, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Config: map[string]string{"isv": "acme"}})
	assert.ErrorIs(t, err, heroku.ErrInvalid, "no new add-on for an inactive integration")
	_, err = f.client.Deactivate(c, "ghost")
	assert.ErrorIs(t, err, heroku.ErrNotFound)
}

func TestWebhooks(t *testing.T) {
	f := newFixture(t)
	c := ctx(t)
	got := make(chan *http.Request, 4)
	bodies := make(chan []byte, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	defer recv.Close()
	hook, secret, err := f.client.CreateAppWebhook(c, app, heroku.WebhookCreate{Include: []string{"api:addon"}, Level: "notify", URL: recv.URL,
		Authorization: "Bearer receiver-token"})
	require.NoError(t, err)
	assert.NotEmpty(t, hook.ID)
	require.NotEmpty(t, secret, "a generated secret comes back once")

	_, err = f.client.CreateAddon(c, app, heroku.AddonCreate{Plan: "herokuconnect:enterprise"})
	require.NoError(t, err)
	select {
	case r := <-got:
		body := <-bodies
		assert.True(t, heroku.VerifyWebhook(secret, body, r.Header.Get("Heroku-Webhook-Hmac-SHA256")))
		assert.False(t, heroku.VerifyWebhook("wrong", body, r.Header.Get("Heroku-Webhook-Hmac-SHA256")))
		assert.Equal(t, "Bearer receiver-token", r.Header.Get("Authorization"), "the webhook's authorization is sent with each delivery")
		var ev map[string]any
		require.NoError(t, json.Unmarshal(body, &ev))
		assert.Equal(t, "addon", ev["resource"])
	case <-time.After(time.Minute):
		t.Fatal("no webhook delivery")
	}
	_, _, err = f.client.CreateAppWebhook(c, app, heroku.WebhookCreate{Level: "loud", URL: "ftp://x"})
	require.ErrorIs(t, err, heroku.ErrInvalid)
}

// The budget is the account's: two tokens of one account spend one bucket. Heroku sends no
// Retry-After, so the client paces from RateLimit-Remaining; where one comes, it is honoured.
func TestRateLimit(t *testing.T) {
	for _, retryAfter := range []bool{false, true} {
		t.Run(fmt.Sprintf("retry-after=%v", retryAfter), func(t *testing.T) {
			f := newFixture(t, func(c *herokusim.Config) {
				c.RateCapacity, c.RatePerMinute, c.RetryAfter = 3, 1, retryAfter
				c.Tokens = map[string]string{token: "isv@example.com", "second-token": "isv@example.com"}
			})
			second, err := heroku.New(heroku.Options{PlatformURL: f.srv.URL, ConnectURL: f.srv.URL, Token: "second-token"})
			require.NoError(t, err)
			c := ctx(t)
			rem, err := f.client.RateLimitRemaining(c)
			require.NoError(t, err)
			assert.Equal(t, 3, rem)
			for _, cl := range []*heroku.Client{f.client, second, f.client} {
				_, err := cl.ListAddons(c, app)
				require.NoError(t, err)
			}
			_, err = second.ListAddons(c, app)
			require.ErrorIs(t, err, heroku.ErrRateLimited, "the second token spent the same account's budget")
			he, _ := heroku.AsError(err)
			assert.Equal(t, 429, he.StatusCode)
			if retryAfter {
				assert.Greater(t, he.RetryAfter, 30*time.Second, "Retry-After from the simulator: a token every 60s")
			} else {
				assert.Equal(t, 4*time.Second, he.RetryAfter, "no Retry-After: paced from RateLimit-Remaining 0 (five tokens at 75 a minute)")
			}
			assert.True(t, he.Retryable())
			rem, err = f.client.RateLimitRemaining(c)
			require.NoError(t, err, "the rate-limit status costs nothing and works when empty")
			assert.Equal(t, 0, rem)
			assert.Equal(t, 1, f.sim.Snapshot().RateLimited)
		})
	}
}

// A token whose account is not in an app's team gets 403 for that app and its add-ons, a
// final error, and does not see them in its lists.
func TestForbiddenApp(t *testing.T) {
	f := newFixture(t, func(c *herokusim.Config) {
		c.Tokens = map[string]string{token: "isv@example.com", "outsider": "outsider@example.com"}
		c.Members = map[string][]string{"outsider@example.com": {"other-team"}}
	})
	c := ctx(t)
	mine, err := f.client.CreateAddon(c, app, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: "hc-mine"})
	require.NoError(t, err)
	outsider, err := heroku.New(heroku.Options{PlatformURL: f.srv.URL, ConnectURL: f.srv.URL, Token: "outsider"})
	require.NoError(t, err)
	_, err = outsider.CreateAddon(c, app, heroku.AddonCreate{Plan: "herokuconnect:enterprise"})
	require.ErrorIs(t, err, heroku.ErrForbidden)
	assert.False(t, err.(*heroku.Error).Retryable())
	assert.Contains(t, err.Error(), "do not have access")
	_, err = outsider.AddonInfo(c, "", mine.ID)
	require.ErrorIs(t, err, heroku.ErrForbidden)
	_, err = outsider.DestroyAddon(c, app, mine.ID)
	require.ErrorIs(t, err, heroku.ErrForbidden)
	_, err = outsider.ListAddons(c, "other-app")
	require.NoError(t, err, "its own team's apps stay open")
	_, err = f.client.AddonInfo(c, app, mine.ID)
	require.NoError(t, err, "the add-on is untouched")
}

func TestTransientFaults(t *testing.T) {
	f := newFixture(t)
	c := ctx(t)
	f.sim.AddFaults(herokusim.Fault{Route: "addons.list", Status: 503, Count: 1})
	_, err := f.client.ListAddons(c, app)
	require.ErrorIs(t, err, heroku.ErrTransient)
	he, _ := heroku.AsError(err)
	assert.Equal(t, "unavailable", he.ID)
	_, err = f.client.ListAddons(c, app)
	require.NoError(t, err, "a one-shot fault fires once")

	// Go's transport retries an idempotent request once when a reused connection drops, so
	// a reset that is to surface must happen twice.
	f.sim.AddFaults(herokusim.Fault{Route: "addons.list", Mode: "reset", Count: 2})
	_, err = f.client.ListAddons(c, app)
	require.ErrorIs(t, err, heroku.ErrTransient, "a reset connection is transient")

	f.sim.AddFaults(herokusim.Fault{Route: "addons.list", Mode: "timeout", Latency: herokusim.Duration(3 * time.Second), Count: 1})
	short, err := heroku.New(heroku.Options{PlatformURL: f.srv.URL, ConnectURL: f.srv.URL, Token: token, Timeout: 200 * time.Millisecond})
	require.NoError(t, err)
	_, err = short.ListAddons(c, app)
	require.ErrorIs(t, err, heroku.ErrTransient)
	assert.Contains(t, err.Error(), "timeout")

	// A lost response: the add-on exists although the call failed.
	f.sim.AddFaults(herokusim.Fault{Route: "addons.create", Status: 500, Count: 1, AfterEffect: true})
	_, err = f.client.CreateAddon(c, app, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: "lost-response"})
	require.ErrorIs(t, err, heroku.ErrTransient)
	a, err := f.client.AddonInfo(c, app, "lost-response")
	require.NoError(t, err, "the create happened")
	assert.Equal(t, "lost-response", a.Name)
}

func TestTokenNeverInErrors(t *testing.T) {
	f := newFixture(t)
	bad, err := heroku.New(heroku.Options{PlatformURL: f.srv.URL, ConnectURL: f.srv.URL, Token: "secret-wrong-token"})
	require.NoError(t, err)
	_, err = bad.ListAddons(ctx(t), app)
	require.ErrorIs(t, err, heroku.ErrUnauthorized)
	assert.NotContains(t, err.Error(), "secret-wrong-token")

	down, err := heroku.New(heroku.Options{PlatformURL: "http://127.0.0.1:1", ConnectURL: "http://127.0.0.1:1", Token: "secret-wrong-token"})
	require.NoError(t, err)
	_, err = down.ListAddons(ctx(t), app)
	require.ErrorIs(t, err, heroku.ErrTransient)
	assert.NotContains(t, err.Error(), "secret-wrong-token")
}

// --- helpers: a browser's and a test's view ---

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func signInRaw(t *testing.T, authURL, org, user string) (int, string) {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(authURL+"/login", url.Values{"org_id": {org}, "username": {user}})
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(b)
}

func signIn(t *testing.T, authURL, org, user string) string {
	t.Helper()
	status, loc := signInRaw(t, authURL, org, user)
	require.Equal(t, http.StatusSeeOther, status, loc)
	return loc
}

func post(t *testing.T, u string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(u, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Less(t, resp.StatusCode, 300, "POST %s", u)
}

func getJSON[T any](t *testing.T, u string) T {
	t.Helper()
	var out T
	require.NoError(t, json.Unmarshal([]byte(get(t, u)), &out))
	return out
}

// Connect lists page: discovery by its default page and the regional list by the largest,
// both followed through their next links, with every connection read once and within the
// call budget a watcher's read has.
func TestConnectListsArePaged(t *testing.T) {
	f := newFixture(t)
	c := ctx(t)
	const n = 1005 // discovery: 11 pages of 100; the regional list: 2 pages of 1000
	for i := range n {
		_, err := f.client.CreateAddon(c, app, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: fmt.Sprintf("hc-page-%04d", i)})
		require.NoError(t, err)
	}
	require.NoError(t, f.client.ConnectAuth(c, app))
	before := f.sim.Snapshot().Calls["connect.discover"]
	refs, err := f.client.DiscoverConnections(c, app, "")
	require.NoError(t, err)
	assert.Equal(t, 11, f.sim.Snapshot().Calls["connect.discover"]-before, "11 pages")
	ids := map[string]bool{}
	for _, r := range refs {
		ids[r.ID] = true
	}
	assert.Len(t, ids, n, "every connection once")

	before = f.sim.Snapshot().Calls["connect.list"]
	all, err := f.client.AppConnections(heroku.WithCallBudget(c, 2), refs[0].RegionURL, app)
	require.NoError(t, err)
	assert.Len(t, all, n)
	assert.Equal(t, 2, f.sim.Snapshot().Calls["connect.list"]-before, "pages of heroku.AppConnectionsPage")
	_, err = f.client.AppConnections(heroku.WithCallBudget(c, 1), refs[0].RegionURL, app)
	assert.ErrorContains(t, err, "budget", "a second page is a second request")
}
