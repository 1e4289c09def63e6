// Command fixturegen records the replay fixtures under workflows/testdata/replay: it runs each
// scenario of the customer connection and watcher workflows on a real dev server (bin/temporal)
// with an in-process worker and herokusim, exports each history, gzips it, and writes a
// manifest naming the release (CHANGELOG.md's newest), the commit the fixtures come from and
// the version of each workflow's version list they were recorded at. `make fixtures` runs it; replay_test.go replays every fixture on `make test`.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/dev/eventsink"
	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/dev/replay"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/logo/logotest"
	"github.com/connect-onboarding/worker/internal/payloadcrypt"
	"github.com/connect-onboarding/worker/internal/runworker"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows"
	"github.com/connect-onboarding/worker/workflows/contract"
)

const (
	org  = "00D000000000062"
	user = "integration@customer.example"
)

type gen struct {
	ctx context.Context
	c   client.Client
	on  *onboarding.Client
	sim *herokusim.Sim
	hc  *heroku.Client
	url string
	dir string
	m   replay.Manifest
	// sink receives acme's events at endpoint.
	sink     *eventsink.Sink
	endpoint string
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fixturegen:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := devstack.FindRoot()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	commit, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		return fmt.Errorf("git rev-parse: %w", err)
	}
	dirty, _ := exec.Command("git", "-C", root, "status", "--porcelain", "--", "workflows", "activities").Output()
	if len(bytes.TrimSpace(dirty)) > 0 {
		return errors.New("workflows/ or activities/ has uncommitted changes: fixtures must come from a committed version")
	}
	// Recorded encrypted, as production runs: the replay test decrypts with the same test key.
	ring, err := replay.Ring(root)
	if err != nil {
		return err
	}
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ClientOptions: &client.Options{DataConverter: payloadcrypt.DataConverter(ring), FailureConverter: payloadcrypt.FailureConverter(ring)},
		ExistingPath:  filepath.Join(root, "bin", "temporal"), LogLevel: "error", Stdout: io.Discard, Stderr: io.Discard,
		SearchAttributes: contract.SearchAttributeTypes(), ExtraArgs: devstack.MatchingArgs(),
	})
	if err != nil {
		return fmt.Errorf("start dev server (run make tools first): %w", err)
	}
	defer srv.Stop()

	cfg := herokusim.DefaultConfig()
	cfg.ProvisionDelay, cfg.DeprovisionDelay = 100*time.Millisecond, 100*time.Millisecond
	cfg.Apps = map[string]string{"acme-app": "acme-team"}
	cfg.Lenient = true
	sim, err := herokusim.New(cfg)
	if err != nil {
		return err
	}
	hs := httptest.NewServer(sim)
	defer hs.Close()
	sim.SetPublicURL(hs.URL)
	hc, err := heroku.New(heroku.Options{PlatformURL: hs.URL, ConnectURL: hs.URL, Token: "sim-token"})
	if err != nil {
		return err
	}
	for _, slug := range []string{"acme", "gone"} {
		if _, err := hc.CreateIntegration(ctx, heroku.IntegrationCreate{Slug: slug, Name: "Acme Sync", Team: "acme-team", ContactEmail: "dev@acme.example",
			Description: "Acme", DocsURL: "https://acme.example/docs", Logo: heroku.Logo{Filename: "l.png", Data: logotest.PNG(200, 200)}}); err != nil {
			return err
		}
	}
	c := srv.Client()
	settings = testenv.FastSettings()
	settings.PollInterval, settings.WatchWaitingInterval, settings.WatchActiveInterval = 100*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond
	acts = &activities.Activities{Heroku: hc, Temporal: c, Settings: settings, Payloads: payloadcrypt.DataConverter(ring), Events: testenv.Events()}
	workers, err := runworker.Start(c, acts, runworker.Options{})
	if err != nil {
		return err
	}
	defer workers.Stop()

	release, err := replay.Release(root)
	if err != nil {
		return err
	}
	versions := map[string]int{}
	for _, l := range workflows.Versions() {
		versions[l.ChangeID] = l.Latest()
	}
	head := strings.TrimSpace(string(commit))
	dir := filepath.Join(root, replay.Root, release)
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s exists: fixtures of a released shape are never recorded again; add the release to CHANGELOG.md first", dir)
	}
	g := &gen{ctx: ctx, c: c, on: onboarding.New(c, "", ""), sim: sim, hc: hc, url: hs.URL, dir: dir,
		m: replay.Manifest{Release: release, Commit: head, GeneratedAt: time.Now().UTC(), Versions: versions, PayloadKeyID: ring.ActiveID()}}
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		return err
	}
	for _, slug := range []string{"acme", "gone"} { // onboarding needs a registered integration
		if _, err := g.on.AdoptPartner(ctx, slug); err != nil {
			return err
		}
	}
	// acme's events go to a receiver of the recorder's own: every scenario's events are
	// delivered (and the events_* scenarios record the streams and the log).
	g.on.Events.Key = acts.Events.Key
	g.sink = eventsink.New("")
	rcv := httptest.NewServer(g.sink)
	defer rcv.Close()
	ep, secret, err := g.on.AddEndpoint(ctx, "acme", contract.EndpointSpec{URL: rcv.URL})
	if err != nil {
		return err
	}
	g.sink.SetSecrets(secret)
	g.endpoint = ep.ID
	for _, sc := range scenarios {
		fmt.Println("recording", sc.name)
		if err := sc.run(g, sc.name); err != nil {
			return fmt.Errorf("scenario %s: %w", sc.name, err)
		}
	}
	sort.Slice(g.m.Fixtures, func(i, j int) bool { return g.m.Fixtures[i].File < g.m.Fixtures[j].File })
	b, _ := json.MarshalIndent(g.m, "", "  ")
	return os.WriteFile(filepath.Join(g.dir, "manifest.json"), append(b, '\n'), 0o644)
}

type scenario struct {
	name string
	run  func(g *gen, name string) error
}

func input(customer string) contract.ConnectionInput {
	return contract.ConnectionInput{ISVSlug: "acme", CustomerID: customer, Mode: contract.ModeProvision, App: "acme-app",
		Salesforce: contract.Salesforce{OrgID: org, Username: user}}
}

// The recorder's worker: its settings are changed between scenarios (one scenario at a
// time), as an operator changes the worker's environment.
var (
	acts     *activities.Activities
	settings contract.Settings
)

var scenarios = []scenario{
	// Enroll an existing add-on; the customer's return goes through the return update (what
	// starter serve sends), which verifies at once.
	{"connection_enroll_confirmed_return", func(g *gen, name string) error {
		a, err := g.hc.CreateAddon(g.ctx, "acme-app", heroku.AddonCreate{Plan: "herokuconnect:enterprise"})
		if err != nil {
			return err
		}
		in := contract.ConnectionInput{ISVSlug: "acme", CustomerID: name, Mode: contract.ModeEnroll, Addon: a.ID,
			Salesforce: contract.Salesforce{OrgID: org, Username: user}}
		res, err := g.on.Start(g.ctx, in)
		if err != nil {
			return err
		}
		g.signIn(a.Name, org, user)
		r, err := g.on.ConfirmReturn(g.ctx, "acme", name, res.Attempt)
		if err != nil {
			return err
		}
		if !r.Verified {
			return fmt.Errorf("the confirmed return did not verify: %+v", r)
		}
		return g.activeThenOffboard(name)
	}},
	{"connection_signal_first", func(g *gen, name string) error {
		res, err := g.on.Start(g.ctx, input(name))
		if err != nil {
			return err
		}
		g.signIn(contract.AddonName("acme", name), org, user)
		if err := g.on.CustomerReturned(g.ctx, "acme", name, res.Attempt); err != nil {
			return err
		}
		return g.activeThenOffboard(name)
	}},
	{"connection_webhook_provisioned", func(g *gen, name string) error {
		// Webhooks configured: the add-on waits for Heroku's api:addon webhook (delivered here
		// as the receiver does, by signal), not for a poll.
		acts.Settings.WebhookWait = time.Minute
		defer func() { acts.Settings.WebhookWait = 0 }()
		started := make(chan error, 1)
		var res contract.StartResult
		go func() {
			var err error
			res, err = g.on.Start(g.ctx, input(name))
			started <- err
		}()
		if err := g.waitFor(name, func(st contract.Status) bool { return st.Addon != nil && st.Addon.ID != "" }); err != nil {
			return err
		}
		st, err := g.on.Status(g.ctx, "acme", name)
		if err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond) // Heroku provisions (100 ms here), then tells
		err = contract.SignalAddonState.Send(g.ctx, g.c, onboarding.WorkflowID("acme", name), contract.AddonStateReport{AddonID: st.Addon.ID, State: heroku.AddonProvisioned})
		if err != nil {
			return err
		}
		if err := <-started; err != nil {
			return err
		}
		g.signIn(contract.AddonName("acme", name), org, user)
		if err := g.on.CustomerReturned(g.ctx, "acme", name, res.Attempt); err != nil {
			return err
		}
		return g.activeThenOffboard(name)
	}},
	{"connection_poll_first", func(g *gen, name string) error {
		if _, err := g.on.Start(g.ctx, input(name)); err != nil {
			return err
		}
		g.signIn(contract.AddonName("acme", name), org, user) // only the watcher sees it
		return g.activeThenOffboard(name)
	}},
	{"connection_mismatch_then_ok", func(g *gen, name string) error {
		if _, err := g.on.Start(g.ctx, input(name)); err != nil {
			return err
		}
		g.signIn(contract.AddonName("acme", name), org, "wrong.user@customer.example")
		_ = g.on.CustomerReturned(g.ctx, "acme", name, 1)
		// The customer uses the second URL once it exists (a return for attempt 2 before it
		// is issued is refused as not the current URL's).
		if err := g.waitFor(name, func(st contract.Status) bool {
			return st.Mismatches == 1 && st.Stage == "awaiting_authorization" && st.URLsIssued == 2
		}); err != nil {
			return err
		}
		g.signIn(contract.AddonName("acme", name), org, user)
		_ = g.on.CustomerReturned(g.ctx, "acme", name, 2)
		return g.activeThenOffboard(name)
	}},
	{"connection_reauthorization", func(g *gen, name string) error {
		if _, err := g.on.Start(g.ctx, input(name)); err != nil {
			return err
		}
		addon := contract.AddonName("acme", name)
		g.signIn(addon, org, user)
		if err := g.waitFor(name, func(st contract.Status) bool { return st.Stage == "active" }); err != nil {
			return err
		}
		g.post("/_sim/revoke", map[string]string{"addon": addon})
		if err := g.waitFor(name, func(st contract.Status) bool { return st.Stage == "reauthorizing" && st.AuthorizationURL != "" }); err != nil {
			return err
		}
		g.signIn(addon, org, user)
		return g.activeThenOffboard(name)
	}},
	{"connection_reauthorization_requested", func(g *gen, name string) error {
		if _, err := g.on.Start(g.ctx, input(name)); err != nil {
			return err
		}
		addon := contract.AddonName("acme", name)
		g.signIn(addon, org, user)
		if err := g.waitFor(name, func(st contract.Status) bool { return st.Stage == "active" }); err != nil {
			return err
		}
		if _, err := g.on.Reauthorize(g.ctx, "acme", name); err != nil {
			return err
		}
		time.Sleep(time.Second) // the watcher sees the old, still healthy authorization
		g.signIn(addon, org, user)
		return g.activeThenOffboard(name)
	}},
	{"connection_cancelled", func(g *gen, name string) error {
		if _, err := g.on.Start(g.ctx, input(name)); err != nil {
			return err
		}
		if err := g.c.CancelWorkflow(g.ctx, onboarding.WorkflowID("acme", name), ""); err != nil {
			return err
		}
		return g.record(name, contract.ConnectionWorkflowName)
	}},
	{"connection_provisioning_failed", func(g *gen, name string) error {
		g.post("/_sim/settings", map[string]any{"fail_provisions": map[string]int{"acme-app": 1}})
		_, _ = g.on.Start(g.ctx, input(name))
		return g.record(name, contract.ConnectionWorkflowName)
	}},
	{"connection_timeout", func(g *gen, name string) error {
		in := input(name)
		in.Options.AuthorizationTimeout = time.Minute
		if _, err := g.on.Start(g.ctx, in); err != nil {
			return err
		}
		return g.record(name, contract.ConnectionWorkflowName)
	}},
	{"connection_continue_as_new", func(g *gen, name string) error {
		in := input(name)
		acts.Settings.ContinueAsNewAfter = 50
		defer func() { acts.Settings.ContinueAsNewAfter = 0 }()
		if _, err := g.on.Start(g.ctx, in); err != nil {
			return err
		}
		addon := contract.AddonName("acme", name)
		g.signIn(addon, org, user)
		if err := g.waitFor(name, func(st contract.Status) bool { return st.Stage == "active" }); err != nil {
			return err
		}
		id := onboarding.WorkflowID("acme", name)
		desc, err := g.c.DescribeWorkflow(g.ctx, id, "")
		if err != nil {
			return err
		}
		first := desc.RawResponse.WorkflowExecutionInfo.Execution.RunId
		for i := 0; i < 60; i++ {
			// A fault and its recovery: the watcher tells both (healthy flickers it does not).
			state := []string{heroku.StateSystemError, heroku.StateIdle}[i%2]
			g.post("/_sim/connection-state", map[string]string{"addon": addon, "state": state})
			if err := g.waitFor(name, func(st contract.Status) bool { return st.LastState == state }); err != nil {
				return err
			}
			if desc, err = g.c.DescribeWorkflow(g.ctx, id, ""); err != nil {
				return err
			}
			if desc.RawResponse.WorkflowExecutionInfo.Execution.RunId != first {
				return g.recordRun(name, contract.ConnectionWorkflowName, id, first)
			}
		}
		return errors.New("never continued as new")
	}},
	{"connection_deactivated", func(g *gen, name string) error {
		in := input(name)
		in.ISVSlug = "gone"
		if _, err := g.on.Start(g.ctx, in); err != nil {
			return err
		}
		hc, _ := heroku.New(heroku.Options{PlatformURL: g.url, ConnectURL: g.url, Token: "sim-token"})
		if _, err := hc.Deactivate(g.ctx, "gone"); err != nil {
			return err
		}
		id := onboarding.WorkflowID("gone", name)
		if err := g.c.SignalWorkflow(g.ctx, id, "", contract.SignalIntegrationDeactivated.Name, contract.IntegrationDeactivated{Reason: "fixture"}); err != nil {
			return err
		}
		return g.recordID(name, contract.ConnectionWorkflowName, id)
	}},
	{"connection_invalid_input", func(g *gen, name string) error {
		// Bypass the client-side check to record the workflow's own refusal.
		in := input(name).WithDefaults()
		in.Salesforce.OrgID = "not-an-org"
		run, err := g.c.ExecuteWorkflow(g.ctx, client.StartWorkflowOptions{ID: onboarding.WorkflowID("acme", name), TaskQueue: contract.OnboardingTaskQueue},
			contract.ConnectionWorkflowName, in)
		if err != nil {
			return err
		}
		_ = run.Get(g.ctx, nil)
		return g.record(name, contract.ConnectionWorkflowName)
	}},
	{"partner_lifecycle", func(g *gen, name string) error {
		g.on.DeactivateRetryInterval = 500 * time.Millisecond
		spec := contract.PartnerSpec{Slug: "delta", Team: "acme-team", Name: "Delta Sync", Description: "Delta", DocsURL: "https://delta.example",
			ContactEmail: "dev@delta.example", Logo: contract.Logo{Filename: "l.png", Data: logotest.PNG(200, 200)}}
		if _, err := g.on.CreatePartner(g.ctx, spec); err != nil {
			return err
		}
		desc := "Delta, updated"
		if _, err := g.on.UpdatePartner(g.ctx, "delta", contract.PartnerChanges{Description: &desc}); err != nil {
			return err
		}
		if _, err := g.on.Partner(g.ctx, "delta", true); err != nil {
			return err
		}
		in := input("delta-customer")
		in.ISVSlug = "delta"
		if _, err := g.on.Start(g.ctx, in); err != nil {
			return err
		}
		g.post("/_sim/settings", map[string]any{"fail_deactivation": 1})
		if _, err := g.on.DeactivatePartner(g.ctx, "delta", "acme-team", "delta"); err != nil {
			return err
		}
		if err := g.recordID("partner_deactivated_customer", contract.ConnectionWorkflowName, onboarding.WorkflowID("delta", "delta-customer")); err != nil {
			return err
		}
		return g.recordID(name, contract.PartnerWorkflowName, contract.PartnerWorkflowID("delta"))
	}},
	{"reconcile_sweep", func(g *gen, name string) error {
		// An add-on of a customer an operator terminated (an orphan this namespace made; no
		// grace period in the settings), a live customer's, one another deployment made
		// (foreign), and a sweep that destroys the first only.
		if _, err := g.on.Start(g.ctx, input("reconcile-orphan")); err != nil {
			return err
		}
		if err := g.waitFor("reconcile-orphan", func(st contract.Status) bool { return st.Addon != nil }); err != nil {
			return err
		}
		if err := g.c.TerminateWorkflow(g.ctx, onboarding.WorkflowID("acme", "reconcile-orphan"), "", "an operator's mistake"); err != nil {
			return err
		}
		if _, err := g.hc.CreateAddon(g.ctx, "acme-app", heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: contract.AddonName("acme", "elsewhere")}); err != nil {
			return err
		}
		if _, err := g.on.Start(g.ctx, input("reconcile-live")); err != nil {
			return err
		}
		id := contract.ReconcileScheduleID("acme") + "/fixture"
		run, err := g.c.ExecuteWorkflow(g.ctx, client.StartWorkflowOptions{ID: id, TaskQueue: contract.OnboardingTaskQueue},
			contract.ReconcileWorkflowName, contract.ReconcileInput{Slug: "acme"})
		if err != nil {
			return err
		}
		var r contract.ReconcileReport
		if err := run.Get(g.ctx, &r); err != nil {
			return err
		}
		if len(r.Destroyed) != 1 || len(r.Foreign) != 1 {
			return fmt.Errorf("the sweep destroyed %d add-ons and kept %d foreign, want the one orphan and the one foreign: %+v", len(r.Destroyed), len(r.Foreign), r)
		}
		if _, err := g.on.Offboard(g.ctx, "acme", "reconcile-live"); err != nil {
			return err
		}
		return g.recordID(name, contract.ReconcileWorkflowName, id)
	}},
	{"events_customer", func(g *gen, name string) error {
		// The event stream of the customer with a mismatch (every kind of its events), with a
		// redelivery, and the endpoint's delivery log; both stay open.
		customer := "connection_mismatch_then_ok"
		if err := g.waitEvents(customer, 7); err != nil {
			return err
		}
		first := g.sink.Customer(customer)[0]
		before := len(g.sink.Received())
		if err := g.on.Redeliver(g.ctx, "acme", g.endpoint, first.ID); err != nil {
			return err
		}
		for deadline := time.Now().Add(30 * time.Second); len(g.sink.Received()) == before; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				return errors.New("the redelivery did not arrive")
			}
		}
		if err := g.recordID(name, contract.EventsWorkflowName, contract.EventsWorkflowID("acme", customer)); err != nil {
			return err
		}
		return g.recordID("events_delivery_log", contract.DeliveryLogWorkflowName, contract.DeliveryLogWorkflowID("acme", g.endpoint))
	}},
	// A customer with its own mapping template: imported once, active when every mapping
	// synced (connectionSyncsMappings).
	{"connection_synced_own_template", func(g *gen, name string) error {
		in := input(name)
		in.Mappings = devstack.MappingTemplate("")
		if _, err := g.on.Start(g.ctx, in); err != nil {
			return err
		}
		g.signIn(contract.AddonName("acme", name), org, user)
		return g.activeThenOffboard(name)
	}},
	// A mapping fails: needs_attention, then the operator restarts the connection and the
	// customer recovers.
	{"connection_needs_attention", func(g *gen, name string) error {
		acts.Settings.AttentionRecheck = time.Second
		defer func() { acts.Settings.AttentionRecheck = 0 }()
		in := input(name)
		in.Mappings = devstack.MappingTemplate("")
		if _, err := g.on.Start(g.ctx, in); err != nil {
			return err
		}
		addon := contract.AddonName("acme", name)
		g.post("/_sim/mapping-faults", map[string]string{"addon": addon, "object": "Contact", "kind": "fail"})
		g.signIn(addon, org, user)
		if err := g.waitFor(name, func(st contract.Status) bool { return st.Stage == contract.StageNeedsAttention }); err != nil {
			return err
		}
		st, err := g.on.Status(g.ctx, "acme", name)
		if err != nil {
			return err
		}
		req, _ := http.NewRequest(http.MethodPost, st.Connection.RegionURL+"/api/v3/connections/"+st.Connection.ID+"/actions/restart", nil)
		req.Header.Set("Authorization", "Bearer sim-token")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		return g.activeThenOffboard(name)
	}},
	// An integration with a template: its customer syncs by it, then the template changes
	// and the rollout reaches the customer, which reports to the partner workflow.
	{"partner_rollout", func(g *gen, name string) error {
		spec := contract.PartnerSpec{Slug: "echo", Team: "acme-team", Name: "Echo Sync", Description: "Echo", DocsURL: "https://echo.example",
			ContactEmail: "dev@echo.example", Logo: contract.Logo{Filename: "l.png", Data: logotest.PNG(200, 200)}, Mappings: devstack.MappingTemplate("")}
		if _, err := g.on.CreatePartner(g.ctx, spec); err != nil {
			return err
		}
		in := input("echo-customer")
		in.ISVSlug = "echo"
		if _, err := g.on.Start(g.ctx, in); err != nil {
			return err
		}
		g.signIn(contract.AddonName("echo", "echo-customer"), org, user)
		waitEcho := func(cond func(contract.Status) bool) error {
			for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if st, err := g.on.Status(g.ctx, "echo", "echo-customer"); err == nil && cond(st) {
					return nil
				}
			}
			return errors.New("echo-customer: condition not reached")
		}
		if err := waitEcho(func(st contract.Status) bool { return st.Stage == contract.StageActive }); err != nil {
			return err
		}
		next := devstack.MappingTemplate("Industry")
		if _, err := g.on.UpdatePartner(g.ctx, "echo", contract.PartnerChanges{Mappings: next}); err != nil {
			return err
		}
		if err := waitEcho(func(st contract.Status) bool {
			return st.Stage == contract.StageActive && st.Sync != nil && st.Sync.Imported == next.Digest()
		}); err != nil {
			return err
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			info, err := g.on.Partner(g.ctx, "echo", false)
			if err == nil && info.Rollout != nil && info.Rollout.Updated == 1 {
				break
			}
			if time.Now().After(deadline) {
				return errors.New("the rollout's report never counted the customer")
			}
		}
		if _, err := g.on.Offboard(g.ctx, "echo", "echo-customer"); err != nil {
			return err
		}
		if err := g.recordID("connection_rollout", contract.ConnectionWorkflowName, onboarding.WorkflowID("echo", "echo-customer")); err != nil {
			return err
		}
		if _, err := g.on.DeactivatePartner(g.ctx, "echo", "acme-team", "echo"); err != nil {
			return err
		}
		return g.recordID(name, contract.PartnerWorkflowName, contract.PartnerWorkflowID("echo"))
	}},
	{"watcher_app", func(g *gen, name string) error {
		// The app's one watcher. Every customer above has left; the watcher ends after its
		// idle timeout (1h), so record what it did until now.
		return g.recordID(name, contract.WatcherWorkflowName, contract.WatcherWorkflowID("acme-app"))
	}},
	{"access_app", func(g *gen, name string) error {
		// The app's Connect access coordinator: every customer above asked it for its
		// connection. It ends after 10 idle minutes, so record what it did until now.
		return g.recordID(name, contract.AccessWorkflowName, contract.AccessWorkflowID("acme-app"))
	}},
}

func (g *gen) post(path string, body any) {
	b, _ := json.Marshal(body)
	resp, err := http.Post(g.url+path, "application/json", bytes.NewReader(b))
	if err == nil {
		resp.Body.Close()
	}
}

func (g *gen) signIn(addon, org, user string) {
	g.post("/_sim/authorize", map[string]string{"addon": addon, "org_id": org, "username": user})
}

func (g *gen) waitFor(customer string, cond func(contract.Status) bool) error {
	deadline := time.Now().Add(60 * time.Second)
	var st contract.Status
	var err error
	for time.Now().Before(deadline) {
		st, err = g.on.Status(g.ctx, "acme", customer)
		if err == nil && cond(st) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s: condition not reached (stage %s, %d mismatches, %d URLs, error %v; story %+v)", customer, st.Stage, st.Mismatches, st.URLsIssued, err, st.Events)
}

func (g *gen) activeThenOffboard(customer string) error {
	if err := g.waitFor(customer, func(st contract.Status) bool { return st.Stage == "active" }); err != nil {
		return err
	}
	if _, err := g.on.Offboard(g.ctx, "acme", customer); err != nil {
		return err
	}
	return g.record(customer, contract.ConnectionWorkflowName)
}

func (g *gen) record(customer, wf string) error {
	return g.recordID(customer, wf, onboarding.WorkflowID("acme", customer))
}

// waitEvents waits until the receiver has n events of the customer.
func (g *gen) waitEvents(customer string, n int) error {
	for deadline := time.Now().Add(60 * time.Second); len(g.sink.Customer(customer)) < n; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %d events at the receiver, want %d", customer, len(g.sink.Customer(customer)), n)
		}
	}
	return nil
}

// openWorkflows wait for work and do not close by themselves: recorded as they are.
var openWorkflows = map[string]bool{contract.WatcherWorkflowName: true, contract.EventsWorkflowName: true, contract.DeliveryLogWorkflowName: true,
	contract.AccessWorkflowName: true}

// recordID waits for the workflow to close (watchers, event streams and delivery logs stay
// open) and writes its history.
func (g *gen) recordID(name, wf, id string) error {
	if !openWorkflows[wf] {
		run := g.c.GetWorkflow(g.ctx, id, "")
		_ = run.Get(g.ctx, nil)
	}
	return g.recordRun(name, wf, id, "")
}

func (g *gen) recordRun(name, wf, id, runID string) error {
	it := g.c.GetWorkflowHistory(g.ctx, id, runID, false, 0)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return err
		}
		h.Events = append(h.Events, ev)
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		return err
	}
	file := name + ".json.gz"
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(g.dir, file), buf.Bytes(), 0o644); err != nil {
		return err
	}
	g.m.Fixtures = append(g.m.Fixtures, replay.Fixture{File: file, Workflow: wf, Scenario: name, WorkflowID: id})
	return nil
}
