// Command fidelity runs the real Heroku CLI (npm heroku, pinned by `make fidelity`) against a
// herokusim it starts, through the add-on and app commands an ISV's operator runs, then
// Heroku's own Connect CLI plugin (linked into it) on an onboarded customer's connection,
// and asserts what each prints and what it left on the simulator. It exits non-zero when any
// command disagrees: every such gap is a place where the product could be wrong on Heroku
// while every test passes.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/logo/logotest"
)

const (
	token     = "sim-token"
	isvApp    = "acme-isv-app"
	otherApp  = "acme-other-app"
	slug      = "acme"
	addonName = "hc-fidelity-1"
)

func main() {
	cli := flag.String("heroku", "", "the Heroku CLI's executable (make fidelity installs it under bin/npm)")
	sim := flag.String("herokusim", "bin/herokusim", "the simulator's executable")
	plugin := flag.String("connect-plugin", "", "Heroku's Connect CLI plugin, built (make fidelity builds it, or uses CONNECT_PLUGIN_DIR)")
	flag.StringVar(&only, "only", "", "run only the steps whose name contains this (while debugging one)")
	flag.Parse()
	if *cli == "" || *plugin == "" {
		fmt.Fprintln(os.Stderr, "fidelity: -heroku and -connect-plugin are required: run `make fidelity`, which installs the pinned Heroku CLI and builds the plugin")
		os.Exit(2)
	}
	failed, err := run(*cli, *sim, *plugin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fidelity:", err)
		os.Exit(1)
	}
	if failed > 0 {
		fmt.Printf("\n%d Heroku CLI checks FAILED\n", failed)
		os.Exit(1)
	}
	fmt.Println("\nevery Heroku CLI check passed")
}

// only, when set, runs only the steps whose name contains it.
var only string

// step is one CLI command and what it must do.
type step struct {
	name   string
	args   []string
	env    []string // overrides
	ok     bool     // exit status 0 wanted
	output []string // each must appear in stdout+stderr
	check  func() error
	dir    string                          // working directory (the CLI's when empty)
	before func() error                    // sets the scene, before the command
	run    func(*exec.Cmd) ([]byte, error) // runs a command that needs a person (CombinedOutput when nil)
}

func run(cli, simPath, plugin string) (int, error) {
	// Some commands run in a directory of their own (export, import): the paths must not
	// depend on the working directory.
	for _, p := range []*string{&cli, &simPath, &plugin} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return 0, err
		}
		*p = abs
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	base, stop, err := startSim(ctx, simPath)
	if err != nil {
		return 0, err
	}
	defer stop()
	out, _ := exec.CommandContext(ctx, cli, "--version").CombinedOutput()
	version := "(version unknown)"
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "heroku/") {
			version = line
		}
	}
	fmt.Printf("Heroku CLI %s against herokusim at %s\n\n", version, base)

	hc, err := heroku.New(heroku.Options{PlatformURL: base, ConnectURL: base, Token: token})
	if err != nil {
		return 0, err
	}
	if _, err := hc.CreateIntegration(ctx, heroku.IntegrationCreate{Slug: slug, Name: "Acme Sync", Team: "acme-team",
		ContactEmail: "dev@acme.example", Description: "Syncs Acme with Salesforce", DocsURL: "https://acme.example/docs",
		Logo: heroku.Logo{Filename: "logo.png", Data: logotest.PNG(256, 256)}}); err != nil {
		return 0, fmt.Errorf("create the partner integration the ISV add-on joins: %w", err)
	}

	home, err := os.MkdirTemp("", "fidelity-home-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(home)
	env := append(os.Environ(), "PATH="+filepath.Dir(cli)+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+home, "HEROKU_HOST="+base, "HEROKU_API_KEY="+token, "HEROKU_SKIP_ANALYTICS=1",
		"FORCE_COLOR=0", "NO_COLOR=1", "HEROKU_UPDATE_INSTRUCTIONS=", "HEROKU_SKIP_NEW_VERSION_CHECK=1",
		"CONNECT_DISCOVERY_SERVER="+base, "HEROKU_DISABLE_AUTOUPDATE=true", "HTTP_PROXY=", "HTTPS_PROXY=", "http_proxy=", "https_proxy=")

	addon := func(want func(a herokusim.AdminAddon) error) func() error {
		return func() error {
			addons, err := adminAddons(ctx, base)
			if err != nil {
				return err
			}
			live := 0
			var found *herokusim.AdminAddon
			for i, a := range addons {
				if a.Name == addonName && !a.Gone {
					live++
					found = &addons[i]
				}
			}
			if live > 1 {
				return fmt.Errorf("%d live add-ons named %s", live, addonName)
			}
			if found == nil {
				return want(herokusim.AdminAddon{Gone: true})
			}
			return want(*found)
		}
	}
	const hookURL = "https://worker.acme.example/webhooks/heroku"
	steps := []step{
		{name: "create an ISV add-on and wait", ok: true,
			args:   []string{"addons:create", "herokuconnect:enterprise", "-a", isvApp, "--name", addonName, "--wait", "--", "--isv", slug},
			output: []string{"Created " + addonName + " as HEROKUCONNECT_URL"},
			check: addon(func(a herokusim.AdminAddon) error {
				if a.Gone || a.State != heroku.AddonProvisioned || a.ISV != slug {
					return fmt.Errorf("want a provisioned add-on of integration %s, got gone=%v state=%q isv=%q", slug, a.Gone, a.State, a.ISV)
				}
				return nil
			})},
		{name: "refuse a taken add-on name", args: []string{"addons:create", "herokuconnect:enterprise", "-a", isvApp, "--name", addonName},
			output: []string{"already taken", "invalid_params"}, check: addon(func(herokusim.AdminAddon) error { return nil })},
		{name: "refuse an unknown app", args: []string{"addons:create", "herokuconnect:enterprise", "-a", "no-such-app"},
			output: []string{"Couldn't find that app"}},
		{name: "refuse a wrong token", args: []string{"addons", "-a", isvApp}, env: []string{"HEROKU_API_KEY=not-a-token"},
			output: []string{"invalid"}},
		{name: "list the app's add-ons", ok: true, args: []string{"addons", "-a", isvApp},
			output: []string{"herokuconnect (" + addonName + ")", "enterprise", "as HEROKUCONNECT"}},
		{name: "show the add-on", ok: true, args: []string{"addons:info", addonName},
			output: []string{"=== " + addonName, "herokuconnect:enterprise", isvApp + "::HEROKUCONNECT"}},
		{name: "list the service's plans", ok: true, args: []string{"addons:plans", "herokuconnect"},
			output: []string{"herokuconnect:demo", "herokuconnect:enterprise", "herokuconnect:shield"}},
		{name: "show the app", ok: true, args: []string{"apps:info", "-a", isvApp},
			output: []string{"=== " + isvApp, "herokuconnect:enterprise", "isv@example.com"}},
		{name: "list the account's apps", ok: true, args: []string{"apps"}, output: []string{isvApp, otherApp}},
		{name: "attach the add-on to another app", ok: true, args: []string{"addons:attach", addonName, "-a", otherApp, "--as", "SHARED"},
			output: []string{"Attaching " + addonName + " as SHARED to " + otherApp + "... done", "done, v2"}},
		{name: "list the other app's add-ons", ok: true, args: []string{"addons", "-a", otherApp},
			output: []string{addonName, "as SHARED", "as HEROKUCONNECT on " + isvApp}},
		{name: "detach it", ok: true, args: []string{"addons:detach", "SHARED", "-a", otherApp}, output: []string{"done, v3"}},
		{name: "destroy the add-on and wait", ok: true, args: []string{"addons:destroy", addonName, "--confirm", isvApp, "--wait"},
			output: []string{"Destroying " + addonName + "... done"},
			check: addon(func(a herokusim.AdminAddon) error {
				if !a.Gone {
					return fmt.Errorf("the add-on is still there (state %s)", a.State)
				}
				return nil
			})},
		{name: "list no add-ons", ok: true, args: []string{"addons", "-a", isvApp}, output: []string{"No add-ons for app " + isvApp}},
		{name: "subscribe the app's add-on webhooks", ok: true,
			args: []string{"webhooks:add", "-i", "api:addon", "-l", "notify", "-u", hookURL, "-s", "a-webhook-secret-of-the-isv", "-a", isvApp},
			check: func() error {
				hooks, err := hc.AppWebhooks(ctx, isvApp)
				if err != nil {
					return err
				}
				if len(hooks) != 1 || hooks[0].URL != hookURL || len(hooks[0].Include) != 1 || hooks[0].Include[0] != "api:addon" {
					return fmt.Errorf("want one api:addon webhook to %s, got %+v", hookURL, hooks)
				}
				return nil
			}},
		{name: "list the app's webhooks", ok: true, args: []string{"webhooks", "-a", isvApp}, output: []string{hookURL, "api:addon"}},
	}
	failed := runSteps(ctx, cli, env, steps)

	// Heroku's Connect CLI plugin, linked as a user links it, on an onboarded customer.
	link := exec.CommandContext(ctx, cli, "plugins:link", plugin, "--no-install")
	link.Env = env
	if out, err := link.CombinedOutput(); err != nil {
		return failed, fmt.Errorf("heroku plugins:link %s: %v\n%s", plugin, err, out)
	}
	f, err := onboardCustomer(ctx, base, hc)
	if err != nil {
		return failed, fmt.Errorf("onboard the customer the Connect plugin's commands run on: %w", err)
	}
	defer os.RemoveAll(f.dir)
	fmt.Printf("\nHeroku's Connect CLI plugin on connection %s (%s)\n\n", f.ref.ID, customerAddon)
	return failed + runSteps(ctx, cli, env, connectSteps(f)), nil
}

// runSteps runs each step's command and checks it; it returns how many failed.
func runSteps(ctx context.Context, cli string, env []string, steps []step) int {
	failed := 0
	for _, s := range steps {
		if only != "" && !strings.Contains(s.name, only) {
			continue
		}
		started := time.Now()
		var problems []string
		if s.before != nil {
			if err := s.before(); err != nil {
				problems = append(problems, "setting the scene: "+err.Error())
			}
		}
		cmd := exec.CommandContext(ctx, cli, s.args...)
		cmd.Env = append(append([]string{}, env...), s.env...)
		cmd.Dir = s.dir
		var out []byte
		var runErr error
		if s.run != nil {
			out, runErr = s.run(cmd)
		} else {
			out, runErr = cmd.CombinedOutput()
		}
		var exit *exec.ExitError
		switch {
		case runErr != nil && !errors.As(runErr, &exit):
			problems = append(problems, "did not run: "+runErr.Error())
		case s.ok && runErr != nil:
			problems = append(problems, "exited "+strconv.Itoa(exit.ExitCode())+", want 0")
		case !s.ok && runErr == nil:
			problems = append(problems, "exited 0, want a refusal")
		}
		for _, want := range s.output {
			if !strings.Contains(string(out), want) {
				problems = append(problems, fmt.Sprintf("output lacks %q", want))
			}
		}
		if s.check != nil {
			if err := s.check(); err != nil {
				problems = append(problems, "simulator: "+err.Error())
			}
		}
		verdict := "ok  "
		if len(problems) > 0 {
			verdict = "FAIL"
			failed++
		}
		fmt.Printf("%s %-34s %5.1fs  heroku %s\n", verdict, s.name, time.Since(started).Seconds(), strings.Join(s.args, " "))
		for _, p := range problems {
			fmt.Printf("       %s\n", p)
		}
		if len(problems) > 0 {
			fmt.Printf("       output:\n%s\n", indent(string(out)))
		}
	}
	return failed
}

func indent(s string) string {
	return "         " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n         ")
}

// startSim runs the simulator on a free port until stop.
func startSim(ctx context.Context, path string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.CommandContext(ctx, path)
	cmd.Env = append(os.Environ(), "SIM_ADDR="+addr, "SIM_TOKENS="+token+"=isv@example.com",
		"SIM_APPS="+isvApp+"=acme-team,"+otherApp+"=acme-team", "SIM_PROVISION_DELAY=3s", "SIM_DEPROVISION_DELAY=2s", "LOG_LEVEL=warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s (run `make build`): %w", path, err)
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	base := "http://" + addr
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(base + herokusim.AdminPrefix + "/healthz")
		if err == nil {
			resp.Body.Close()
			return base, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("herokusim did not start: %s", logs.String())
		}
	}
}

func adminAddons(ctx context.Context, base string) ([]herokusim.AdminAddon, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+herokusim.AdminPrefix+"/addons", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []herokusim.AdminAddon
	return out, json.NewDecoder(resp.Body).Decode(&out)
}
