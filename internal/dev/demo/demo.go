// Package demo walks a partner integration and one customer through the whole life of an
// onboarding against a running stack (`make run`), printing each step: the `make demo`
// target, and a test of the stack end to end.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/dev/eventsink"
	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/eventsign"
	"github.com/connect-onboarding/worker/internal/logo/logotest"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Config says where the stack is.
type Config struct {
	Temporal client.Client
	SimURL   string // herokusim's base URL
	App      string // the ISV app the simulator knows (acme-isv-app)
	Team     string // its team (acme-team)
	UIURL    string // the Temporal UI, to point the reader at
	Out      io.Writer
	// Slug names the partner integration (a fresh demo-… when empty).
	Slug string
	// WrongUser, when set, signs in first as this Salesforce user of the right org: the
	// workflow refuses the authorization and issues a fresh URL.
	WrongUser string
	// EventsKey is the stack's EVENTS_SECRET_KEY (the development one when nil): the demo
	// adds an endpoint at a receiver of its own and shows the customer's events arrive.
	EventsKey eventsign.Key
	// Patience bounds each wait for the stack to do something (a minute when zero): tests
	// on a busy machine give it more.
	Patience time.Duration
}

// The demo customer's Salesforce identity and the demo ISV's contact, exported for the test
// that looks for them where they must not be.
const (
	Org          = "00D5g000004ABcD"
	User         = "integration@globex.example"
	ContactEmail = "dev@demo.example"
	org, user    = Org, User
)

// Run performs every step and fails at the first one that does not happen.
func Run(ctx context.Context, cfg Config) error {
	c := onboarding.New(cfg.Temporal, "", "")
	patience := cfg.Patience
	if patience <= 0 {
		patience = time.Minute
	}
	c.DeactivateRetryInterval = 2 * time.Second
	if c.Events.Key = cfg.EventsKey; c.Events.Key == nil {
		k, err := devstack.EventsKey()
		if err != nil {
			return err
		}
		c.Events.Key = k
	}
	slug := cfg.Slug
	if slug == "" {
		slug = "demo-" + strconv.FormatInt(time.Now().UnixNano()/1e6%1e11, 36)
	}
	customer := "globex"
	step := 0
	say := func(format string, args ...any) {
		step++
		fmt.Fprintf(cfg.Out, "\n%d. %s\n", step, fmt.Sprintf(format, args...))
	}
	ok := func(format string, args ...any) { fmt.Fprintf(cfg.Out, "   ✓ %s\n", fmt.Sprintf(format, args...)) }

	say("Create the partner integration %s", slug)
	info, err := c.CreatePartner(ctx, contract.PartnerSpec{Slug: slug, Team: cfg.Team, Name: "Demo Sync", Description: "A demo ISV",
		DocsURL: "https://demo.example/docs", ContactEmail: ContactEmail, Logo: contract.Logo{Filename: "logo.png", Data: logotest.PNG(256, 256)},
		Mappings: demoTemplate()})
	if err != nil {
		return fmt.Errorf("create partner integration: %w", err)
	}
	ok("integration %s is %s", info.Integration.ID, info.Stage)
	ok("mapping template %s: %s, synced into every customer's schema", info.MappingsDigest, strings.Join(info.MappingObjects, ", "))

	say("Add an endpoint for the integration's lifecycle events: the ISV backend's receiver")
	sink := eventsink.New("")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	rcv := &http.Server{Handler: sink, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = rcv.Serve(ln) }()
	defer rcv.Close()
	ep, secret, err := c.AddEndpoint(ctx, slug, contract.EndpointSpec{URL: "http://" + ln.Addr().String() + "/events", Description: "the demo's receiver"})
	if err != nil {
		return fmt.Errorf("add an endpoint: %w", err)
	}
	sink.SetSecrets(secret)
	ok("endpoint %s at %s; it verifies every delivery with the Standard Webhooks library and secret %s…", ep.ID, ep.URL, secret[:10])

	say("Onboard customer %s: provision a Heroku Connect add-on on %s and get the authorization URL", customer, cfg.App)
	res, err := c.Start(ctx, contract.ConnectionInput{ISVSlug: slug, CustomerID: customer, Mode: contract.ModeProvision, App: cfg.App,
		Salesforce: contract.Salesforce{OrgID: org, Username: user, Environment: "production", APIVersion: "66.0"}})
	if err != nil {
		return fmt.Errorf("start onboarding: %w", err)
	}
	ok("workflow %s is %s", res.WorkflowID, res.Stage)
	ok("authorization URL %s", res.AuthorizationURL)

	if cfg.WrongUser != "" {
		// Heroku's page binds the user; a simulator started with SIM_LENIENT=true records and
		// accepts a sign-in as someone else, as an OAuth flow that ends with another user would.
		say("Someone else of the org signs in first, as %s", cfg.WrongUser)
		if err := signIn(ctx, res.AuthorizationURL, org, cfg.WrongUser); err != nil {
			return fmt.Errorf("%w (the simulator needs SIM_LENIENT=true for this step)", err)
		}
		if err := c.CustomerReturned(ctx, slug, customer, res.Attempt); err != nil {
			return fmt.Errorf("report the customer's return: %w", err)
		}
		st, err := waitFor(ctx, c, slug, customer, patience, func(st contract.Status) bool { return st.Mismatches > 0 && st.URLsIssued > res.Attempt })
		if err != nil {
			return fmt.Errorf("the wrong user's authorization was not refused: %w", err)
		}
		ok("refused (%s); a fresh authorization URL #%d was issued", st.LastProblem, st.URLsIssued)
		res.AuthorizationURL, res.Attempt = st.AuthorizationURL, st.URLsIssued
	}

	say("The customer opens the URL and signs in to Salesforce as %s", user)
	if err := signIn(ctx, res.AuthorizationURL, org, user); err != nil {
		return err
	}
	ok("the simulator's page accepted the sign-in")
	if err := c.CustomerReturned(ctx, slug, customer, res.Attempt); err != nil {
		return fmt.Errorf("report the customer's return: %w", err)
	}
	ok("the ISV backend reported the customer's return")

	say("Wait for the workflow to verify the org and user, import the mapping template, and become active once every mapping synced")
	st, err := waitStage(ctx, c, slug, customer, "active", patience)
	if err != nil {
		return err
	}
	ok("active: add-on %s, connection %s", st.Addon.Name, st.LastState)
	if st.Sync == nil || st.Sync.SyncedAt.IsZero() || st.Health == nil {
		return fmt.Errorf("active without its mappings synced: %+v", st.Sync)
	}
	for _, m := range st.Health.Mappings {
		ok("mapping %-8s %s, %d rows", m.Object, m.State, m.DB)
	}
	if cfg.UIURL != "" {
		ok("see it in the Temporal UI: %s/namespaces/default/workflows/%s", cfg.UIURL, url.PathEscape(res.WorkflowID))
	}

	say("Offboard the customer")
	st, err = c.Offboard(ctx, slug, customer)
	if err != nil {
		return fmt.Errorf("offboard: %w", err)
	}
	if st.Stage != "offboarded" {
		return fmt.Errorf("offboard ended %s: %s", st.Stage, st.Error)
	}
	ok("%s", strings.Join(st.Compensated, "; "))

	say("The events the ISV backend received for %s", customer)
	want := 6
	if cfg.WrongUser != "" {
		want = 8 // and the mismatch, with its second URL
	}
	var got []eventsink.Received
	for deadline := time.Now().Add(patience); ; time.Sleep(200 * time.Millisecond) {
		if got = sink.Customer(customer); len(got) >= want {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the receiver got %d of the customer's %d events: %v", len(got), want, eventsink.Types(got))
		}
	}
	for _, r := range got {
		if !r.Verified {
			return fmt.Errorf("event %s did not verify: %s", r.ID, r.Error)
		}
		ok("#%d %-34s signature verified  (%s)", r.Data.Sequence, r.Type, r.ID)
	}

	say("Check the simulator: nothing of %s is left", slug)
	counters, err := simCounters(ctx, cfg.SimURL)
	if err != nil {
		return err
	}
	if counters.CreatedPerISV[slug] != 1 || counters.LivePerISV[slug] != 0 {
		return fmt.Errorf("the simulator shows %d add-ons created and %d live for %s; want 1 and 0", counters.CreatedPerISV[slug], counters.LivePerISV[slug], slug)
	}
	ok("1 add-on created, 0 left")

	say("Deactivate the partner integration %s", slug)
	info, err = c.DeactivatePartner(ctx, slug, cfg.Team, slug)
	if err != nil {
		return fmt.Errorf("deactivate: %w", err)
	}
	if info.Stage != "inactive" || !info.Report.Completed {
		return fmt.Errorf("deactivation ended %s (complete %v): %s", info.Stage, info.Report.Completed, info.Error)
	}
	ok("inactive; %d Heroku calls", info.Report.Attempts)
	for deadline := time.Now().Add(patience); !received(sink, contract.EventPartnerDeactivated); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			return errors.New("the receiver did not get partner.deactivated")
		}
	}
	ok("the receiver got partner.deactivated with the cascade's report")
	fmt.Fprintln(cfg.Out, "\nThe demo completed every step.")
	return nil
}

// received reports whether the sink verified an event of type t.
func received(s *eventsink.Sink, t contract.EventType) bool {
	for _, r := range s.Received() {
		if r.Verified && r.Type == t {
			return true
		}
	}
	return false
}

// signIn does what the customer's browser does on the simulator's pages.
func signIn(ctx context.Context, authURL, org, user string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("open the authorization page: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the authorization page answered %d", resp.StatusCode)
	}
	form := url.Values{"org_id": {org}, "username": {user}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, authURL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Authorized") {
		return fmt.Errorf("sign-in refused (%d)", resp.StatusCode)
	}
	return nil
}

func waitStage(ctx context.Context, c *onboarding.Client, isv, customer, stage string, timeout time.Duration) (contract.Status, error) {
	st, err := waitFor(ctx, c, isv, customer, timeout, func(st contract.Status) bool { return string(st.Stage) == stage })
	if err != nil {
		return st, fmt.Errorf("%w (waiting for %s)", err, stage)
	}
	return st, nil
}

func waitFor(ctx context.Context, c *onboarding.Client, isv, customer string, timeout time.Duration, done func(contract.Status) bool) (contract.Status, error) {
	deadline := time.Now().Add(timeout)
	var last contract.Status // the last status read; a failed read does not erase it
	var lastErr error
	for {
		st, err := c.Status(ctx, isv, customer)
		if err == nil {
			last, lastErr = st, nil
			if done(st) {
				return st, nil
			}
			if st.Stage.Terminal() {
				return st, fmt.Errorf("the onboarding ended %s: %s", st.Stage, st.Error)
			}
		} else {
			lastErr = err
		}
		if time.Now().After(deadline) {
			if lastErr != nil {
				return last, fmt.Errorf("not there after %s (stage %s: %s; the last status query failed: %w)", timeout, last.Stage, lastWhat(last), lastErr)
			}
			return last, fmt.Errorf("not there after %s (stage %s: %s)", timeout, last.Stage, lastWhat(last))
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// lastWhat is what the workflow last recorded, to say where a wait stopped.
func lastWhat(st contract.Status) string {
	if len(st.Events) == 0 {
		return "nothing recorded"
	}
	return st.Events[len(st.Events)-1].What
}

func simCounters(ctx context.Context, simURL string) (herokusim.Counters, error) {
	var out herokusim.Counters
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, simURL+herokusim.AdminPrefix+"/counters", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return out, fmt.Errorf("read the simulator's counters: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return out, errors.New("the simulator's counters answered " + resp.Status)
	}
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// demoTemplate is the demo integration's mapping template, in Heroku Connect's export
// format.
func demoTemplate() *contract.MappingTemplate {
	return &contract.MappingTemplate{Version: 1, Mappings: []contract.Mapping{
		{ObjectName: "Account", Config: contract.MappingConfig{Access: contract.MappingReadOnly, SFPollingSeconds: 600, SFMaxDailyAPICalls: 30000,
			Fields: map[string]struct{}{"Id": {}, "Name": {}, "Industry": {}, "SystemModstamp": {}}, Indexes: map[string]contract.MappingIndex{"Id": {Unique: true}}}},
		{ObjectName: "Contact", Config: contract.MappingConfig{Access: contract.MappingReadWrite, SFPollingSeconds: 600, SFMaxDailyAPICalls: 30000,
			Fields: map[string]struct{}{"Id": {}, "Email": {}, "AccountId": {}, "SystemModstamp": {}}}},
	}}
}
