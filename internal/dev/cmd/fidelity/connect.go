package main

// Heroku's own Connect CLI plugin (heroku-connect-plugin 0.13.3, built from its source and
// linked into the pinned Heroku CLI) against herokusim: an ISV's operator's commands on an
// onboarded customer's connection, each asserted on its output and on what it left on the
// simulator.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/heroku"
)

const (
	customerAddon = "hc-fidelity-customer"
	customerOrg   = "00D000000000062"
	customerUser  = "integration@customer.example"
	schema        = "customer_fidelity"
)

// template is what the customer's onboarding imported: Heroku Connect's export format.
const template = `{"version": 1, "mappings": [
 {"object_name": "Account", "config": {"access": "read_only", "sf_notify_enabled": false, "sf_polling_seconds": 600,
  "sf_max_daily_api_calls": 30000, "fields": {"Id": {}, "Name": {}, "SystemModstamp": {}}, "indexes": {"Id": {"unique": true}}}},
 {"object_name": "Contact", "config": {"access": "read_write", "sf_notify_enabled": false, "sf_polling_seconds": 600,
  "sf_max_daily_api_calls": 30000, "fields": {"Id": {}, "Email": {}, "SystemModstamp": {}}}}]}`

// connectFixture is the onboarded customer the plugin's commands run on.
type connectFixture struct {
	ctx  context.Context
	base string
	hc   *heroku.Client
	ref  heroku.ConnectionRef
	dir  string // the working directory of export and import
}

// onboardCustomer makes, through the same client calls the worker makes, the connection an
// onboarding leaves behind: an ISV add-on, its schema set, authorized by the customer's
// integration user, the template imported and synced.
func onboardCustomer(ctx context.Context, base string, hc *heroku.Client) (*connectFixture, error) {
	a, err := hc.CreateAddon(ctx, isvApp, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: customerAddon, Config: map[string]string{"isv": slug}})
	if err != nil {
		return nil, fmt.Errorf("create the customer's add-on: %w", err)
	}
	for deadline := time.Now().Add(30 * time.Second); a.State != heroku.AddonProvisioned; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the customer's add-on never provisioned (%s)", a.State)
		}
		if a, err = hc.AddonInfo(ctx, isvApp, customerAddon); err != nil {
			return nil, err
		}
	}
	if err := hc.ConnectAuth(ctx, isvApp); err != nil {
		return nil, err
	}
	refs, err := hc.DiscoverConnections(ctx, isvApp, customerAddon)
	if err != nil || len(refs) != 1 {
		return nil, fmt.Errorf("discover the customer's connection: %d found, %v", len(refs), err)
	}
	f := &connectFixture{ctx: ctx, base: base, hc: hc, ref: refs[0]}
	if _, err := hc.SetConnectionSchema(ctx, f.ref.RegionURL, f.ref.ID, "DATABASE_URL", schema); err != nil {
		return nil, err
	}
	auth, err := hc.Authorize(ctx, slug, a.ID, heroku.AuthorizeRequest{SFOrgID: customerOrg, SFUsername: customerUser, Next: "https://isv.example/return"})
	if err != nil {
		return nil, err
	}
	if err := f.signIn(auth.Redirect, customerOrg, customerUser); err != nil {
		return nil, err
	}
	if err := hc.ImportMappings(ctx, f.ref.RegionURL, f.ref.ID, json.RawMessage(template)); err != nil {
		return nil, err
	}
	if err := f.waitMappings(map[string]string{"Account": heroku.MappingDataSynced, "Contact": heroku.MappingDataSynced}); err != nil {
		return nil, err
	}
	if f.dir, err = os.MkdirTemp("", "fidelity-connect-"); err != nil {
		return nil, err
	}
	return f, nil
}

// signIn is the customer on the simulator's authorization page (the form's POST).
func (f *connectFixture) signIn(authURL, org, user string) error {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(authURL+"/login", url.Values{"org_id": {org}, "username": {user}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("sign-in answered %d: %s", resp.StatusCode, body)
	}
	return nil
}

func (f *connectFixture) connection() (*heroku.Connection, error) {
	return f.hc.Connection(f.ctx, f.ref.RegionURL, f.ref.ID)
}

// waitMappings waits (on the simulator's clock, 2 s a sync) until each named mapping is in
// its state.
func (f *connectFixture) waitMappings(want map[string]string) error {
	var got map[string]string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		c, err := f.connection()
		if err != nil {
			return err
		}
		got = map[string]string{}
		for _, m := range c.Mappings {
			got[m.ObjectName] = m.State
		}
		done := true
		for obj, state := range want {
			done = done && got[obj] == state
		}
		if done {
			return nil
		}
	}
	return fmt.Errorf("mappings %v, want %v", got, want)
}

func (f *connectFixture) state(want string) func() error {
	return func() error {
		c, err := f.connection()
		if err != nil {
			return err
		}
		if c.State != want {
			return fmt.Errorf("the connection is %s, want %s", c.State, want)
		}
		return nil
	}
}

func (f *connectFixture) post(path string, body any) error {
	b, _ := json.Marshal(body)
	resp, err := http.Post(f.base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		out, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s answered %d: %s", path, resp.StatusCode, out)
	}
	return nil
}

// connectSteps are the plugin's commands, in an operator's order.
func connectSteps(f *connectFixture) []step {
	app := []string{"-a", isvApp}
	with := func(args ...string) []string { return append(args, app...) }
	exported := filepath.Join(f.dir, isvApp+"-"+customerAddon+".json")
	var authBefore time.Time
	return []step{
		{name: "connect:state (the seed's verification)", ok: true, args: with("connect:state"),
			output: []string{"DATABASE_URL", schema, heroku.StateIdle}},
		{name: "connect:state --json", ok: true, args: with("connect:state", "--json"),
			output: []string{`"schema_name": "` + schema + `"`, `"state": "IDLE"`, `"object_name": "Account"`}},
		{name: "connect:info", ok: true, args: with("connect:info"),
			output: []string{"=== Connection [" + f.ref.ID + "] / " + customerAddon + " (IDLE)", "Account", "Contact", heroku.MappingDataSynced}},
		{name: "connect:mapping:state", ok: true, args: with("connect:mapping:state", "Account"), output: []string{heroku.MappingDataSynced}},
		{name: "connect:export", ok: true, dir: f.dir, args: with("connect:export"), check: func() error {
			data, err := os.ReadFile(exported)
			if err != nil {
				return fmt.Errorf("no exported file: %w", err)
			}
			var got struct {
				Version  int `json:"version"`
				Mappings []struct {
					ObjectName string `json:"object_name"`
				} `json:"mappings"`
			}
			if err := json.Unmarshal(data, &got); err != nil || got.Version != 1 || len(got.Mappings) != 2 {
				return fmt.Errorf("the export is not the customer's two mappings: %s", data)
			}
			// The operator adds an object to the exported file for the next step.
			return os.WriteFile(exported, bytes.Replace(data, []byte(`"mappings": [`),
				[]byte(`"mappings": [{"object_name": "Lead", "config": {"access": "read_only", "sf_notify_enabled": false, "sf_polling_seconds": 600, "sf_max_daily_api_calls": 30000, "fields": {"Id": {}, "SystemModstamp": {}}}},`), 1), 0o644)
		}},
		{name: "connect:import", ok: true, dir: f.dir, args: with("connect:import", exported), check: func() error {
			return f.waitMappings(map[string]string{"Lead": heroku.MappingDataSynced, "Account": heroku.MappingDataSynced, "Contact": heroku.MappingDataSynced})
		}},
		{name: "connect:mapping:reload", ok: true, args: with("connect:mapping:reload", "Account"), check: func() error {
			c, err := f.connection()
			if err != nil {
				return err
			}
			for _, m := range c.Mappings {
				if m.ObjectName == "Account" && m.State != heroku.MappingReloadTable && m.State != heroku.MappingDataSynced {
					return fmt.Errorf("the Account mapping is %s after a reload", m.State)
				}
			}
			return f.waitMappings(map[string]string{"Account": heroku.MappingDataSynced})
		}},
		{name: "connect:pause", ok: true, args: with("connect:pause"), check: f.state(heroku.StatePaused)},
		{name: "connect:resume", ok: true, args: with("connect:resume"), check: f.state(heroku.StateIdle)},
		{name: "connect:diagnose (a mapping failed)", ok: true, args: with("connect:diagnose"),
			before: func() error {
				if err := f.post(herokusim.AdminPrefix+"/mapping-faults", herokusim.MappingFault{Addon: customerAddon, Object: "Contact", Kind: "fail",
					Message: "INVALID_FIELD: No such column 'Email'"}); err != nil {
					return err
				}
				return f.post(herokusim.AdminPrefix+"/mapping-faults", herokusim.MappingFault{Addon: customerAddon, Object: "Contact", Kind: "write_errors", Count: 2})
			},
			output: []string{"=== Connection: " + customerAddon, "=== Contact", "RED: Mapping state", "SYSTEM_ERROR"}},
		{name: "connect:write-errors", ok: true, args: with("connect:write-errors"),
			output: []string{"FIELD_CUSTOM_VALIDATION_EXCEPTION", schema + ".contact"}},
		{name: "connect:notifications", ok: true, args: with("connect:notifications"), env: []string{"TZ=UTC"},
			output: []string{"mapping-error", "Mapping Contact failed"}},
		{name: "connect:notifications:acknowledge", ok: true, args: with("connect:notifications:acknowledge"), check: func() error {
			ns, err := f.hc.Notifications(f.ctx, f.ref.RegionURL, f.ref.ID)
			if err != nil {
				return err
			}
			if len(ns) != 0 {
				return fmt.Errorf("%d notifications still unacknowledged", len(ns))
			}
			return nil
		}},
		{name: "connect:recover", ok: true, args: with("connect:recover"), check: func() error {
			return f.waitMappings(map[string]string{"Contact": heroku.MappingDataSynced})
		}},
		{name: "connect:db:set (the same settings)", ok: true, args: with("connect:db:set", "--db", "DATABASE_URL", "--schema", schema),
			output: []string{"db_key", "DATABASE_URL", "schema_name", schema}},
		{name: "connect:sf:auth (re-authorize)", ok: true, args: with("connect:sf:auth"), run: f.sfAuth,
			before: func() error {
				c, err := f.connection()
				if err == nil && c.AuthUpdated != nil {
					authBefore = *c.AuthUpdated
				}
				return err
			},
			output: []string{"If your browser doesn't open, please copy the following URL to proceed:", f.base + "/authorize/"},
			check: func() error {
				c, err := f.connection()
				if err != nil {
					return err
				}
				if c.State != heroku.StateIdle || c.SFInfo == nil || c.SFInfo.Username != customerUser || c.AuthUpdated == nil || !c.AuthUpdated.After(authBefore) {
					return fmt.Errorf("not authorized again: state %s, authorized %v (before %v)", c.State, c.AuthUpdated, authBefore)
				}
				return nil
			}},
	}
}

// sfAuth runs connect:sf:auth as a person would: it prints the authorization URL and waits
// for a key to open a browser (none here: BROWSER is true), then listens on
// localhost:18000 for the redirect back. The person signs in on the page; the redirect
// lands on the plugin's listener, and the command ends.
func (f *connectFixture) sfAuth(cmd *exec.Cmd) ([]byte, error) {
	cmd.Env = append(cmd.Env, "BROWSER=true", "DISPLAY=")
	// The browser opener may outlive the command holding its output: Wait stops reading
	// after a while, and the whole process group is killed on a timeout.
	cmd.WaitDelay = 5 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	kill := func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	out := &lockedBuffer{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// The key that opens the browser; then stdin closes, as a terminal's would stop feeding
	// a finished command (an open pipe keeps node from exiting).
	_, _ = io.WriteString(stdin, "\n")
	_ = stdin.Close()
	found := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			_, _ = out.Write([]byte(line + "\n"))
			if strings.HasPrefix(line, f.base+"/authorize/") {
				select {
				case found <- line:
				default:
				}
			}
		}
	}()
	select {
	case authURL := <-found:
		if err := f.signIn(authURL, customerOrg, customerUser); err != nil {
			kill()
			return out.Bytes(), err
		}
		// The browser follows the redirect to the plugin's listener.
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			resp, err := http.Get("http://127.0.0.1:18000/")
			if err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				kill()
				return out.Bytes(), fmt.Errorf("the plugin never listened on 18000: %v", err)
			}
		}
	case <-time.After(60 * time.Second):
		kill()
		err = cmd.Wait()
		return out.Bytes(), fmt.Errorf("no authorization URL within 60 s (%v)", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second):
		kill()
		err = fmt.Errorf("still running 30 s after the authorization: %v", <-exited)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	return out.Bytes(), err
}

// lockedBuffer collects a command's output from two goroutines (its stdout scanner and
// exec's stderr copier).
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf.Bytes()...)
}
