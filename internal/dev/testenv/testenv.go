// Package testenv starts what integration tests stand on: the real Temporal dev server
// (from bin/temporal, never downloaded), an in-process herokusim over real HTTP, and
// workers, in process or as the real bin/worker binary.
package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/eventsign"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/logo/logotest"
	"github.com/connect-onboarding/worker/internal/payloadcrypt"
	"github.com/connect-onboarding/worker/internal/runworker"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Root is the repository root.
func Root(t testing.TB) string {
	t.Helper()
	root, err := devstack.FindRoot()
	require.NoError(t, err)
	return root
}

// TemporalCLI is the pinned CLI; a test that needs it fails (never skips) without it.
func TemporalCLI(t testing.TB) string {
	t.Helper()
	path := filepath.Join(Root(t), "bin", "temporal")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the Temporal CLI is missing at %s: run `make tools` (or `make test`, which builds it) first", path)
	}
	return path
}

// PayloadKeys is the payload key ring of every test of this process (a fresh key, so no test
// depends on one): the dev server's client, the in-process workers and every worker process
// encrypt with it, as production does.
var PayloadKeys = func() string {
	k, err := payloadcrypt.NewKey("test-" + strconv.Itoa(os.Getpid()))
	if err != nil {
		panic(err)
	}
	return k
}()

// PayloadRing is PayloadKeys parsed.
func PayloadRing() *payloadcrypt.Ring {
	r, err := payloadcrypt.Parse(PayloadKeys)
	if err != nil {
		panic(err)
	}
	return r
}

// ClientOptions dial addr with the tests' payload encryption.
func ClientOptions(addr string) client.Options {
	r := PayloadRing()
	return client.Options{HostPort: addr, Logger: quiet{}, DataConverter: payloadcrypt.DataConverter(r), FailureConverter: payloadcrypt.FailureConverter(r)}
}

// DevServer is a running dev server and a client of it.
type DevServer struct {
	Client  client.Client
	Address string
}

// StartDevServer starts the real dev server with the project's search attributes.
func StartDevServer(t testing.TB) *DevServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	port := FreePort(t)
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:     TemporalCLI(t),
		ClientOptions:    ptr(ClientOptions("127.0.0.1:" + strconv.Itoa(port))),
		LogLevel:         "error",
		SearchAttributes: contract.SearchAttributeTypes(),
		ExtraArgs:        devstack.MatchingArgs(),
		Stdout:           io.Discard, Stderr: io.Discard,
	})
	require.NoError(t, err, "start the Temporal dev server from bin/temporal")
	t.Cleanup(func() { _ = srv.Stop() })
	return &DevServer{Client: srv.Client(), Address: srv.FrontendHostPort()}
}

func ptr[T any](v T) *T { return &v }

// FreePort asks the kernel for a free TCP port.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Constants of the simulated ISV.
const (
	ISV     = "acme"
	ISVApp  = "acme-app"
	ISVTeam = "acme-team"
	Token   = "sim-token"
	// EventsKey is the tests' EVENTS_SECRET_KEY (32 bytes; a test key, committed).
	EventsKey = "Y29ubmVjdC1vbmJvYXJkaW5nLXRlc3QtZXZlbnRzISE="
	// StateKey is the RETURN_STATE_KEY of the workers StartStack runs.
	StateKey = "test-state-key-of-at-least-32-bytes!!"
)

// Stack is a dev server, an in-process simulator and the worker binary signing customer
// returns with StateKey: what the starter's and the HTTP API's tests run against.
type Stack struct {
	Dev *DevServer
	Sim *Sim
}

// StartStack starts a Stack; workerEnv adds WORKER_* settings.
func StartStack(t testing.TB, workerEnv ...string) *Stack {
	t.Helper()
	dev := StartDevServer(t)
	sim := StartSim(t)
	StartWorkerProcess(t, dev.Address, sim.URL, append([]string{"RETURN_STATE_KEY=" + StateKey}, workerEnv...)...)
	return &Stack{Dev: dev, Sim: sim}
}

// Sim is an in-process herokusim with a client of it.
type Sim struct {
	*herokusim.Sim
	URL    string
	Heroku *heroku.Client
}

// StartSim serves herokusim on a real port, with the ISV's app created.
func StartSim(t testing.TB, mutate ...func(*herokusim.Config)) *Sim {
	t.Helper()
	cfg := herokusim.DefaultConfig()
	cfg.ProvisionDelay, cfg.DeprovisionDelay = 200*time.Millisecond, 100*time.Millisecond
	cfg.Apps = map[string]string{ISVApp: ISVTeam}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := herokusim.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	s.SetPublicURL(srv.URL)
	t.Cleanup(func() { srv.Close(); _ = s.Close() })
	hc, err := heroku.New(heroku.Options{PlatformURL: srv.URL, ConnectURL: srv.URL, Token: Token, Timeout: 10 * time.Second})
	require.NoError(t, err)
	return &Sim{Sim: s, URL: srv.URL, Heroku: hc}
}

// CreateIntegration registers the ISV's partner integration on the simulator.
func (s *Sim) CreateIntegration(t testing.TB, slug string) {
	t.Helper()
	_, err := s.Heroku.CreateIntegration(context.Background(), heroku.IntegrationCreate{Slug: slug, Name: "Acme Sync", Team: ISVTeam,
		ContactEmail: "dev@acme.example", Description: "Acme", DocsURL: "https://acme.example/docs",
		Logo: heroku.Logo{Filename: "logo.png", Data: logotest.PNG(200, 200)}})
	require.NoError(t, err)
}

// Post sends a control-API request to the simulator and requires success.
func (s *Sim) Post(t testing.TB, path string, body any) []byte {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(s.URL+path, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	require.Less(t, resp.StatusCode, 300, "POST %s: %s", path, out)
	return out
}

// FastSettings are the worker settings of integration tests: the production wiring at a
// pace that fits a test (polls every 200 ms, watchers every 500 ms / 1 s).
func FastSettings() contract.Settings {
	return contract.Settings{HerokuTaskQueue: contract.HerokuTaskQueue, PollInterval: 200 * time.Millisecond,
		WatchWaitingInterval: 500 * time.Millisecond, WatchActiveInterval: time.Second,
		ReturnHosts: []string{"isv.example", "localhost", "127.0.0.1"}}
}

// FastWorkerEnv is FastSettings for a worker process.
var FastWorkerEnv = []string{"WORKER_POLL_INTERVAL=200ms", "WORKER_WATCH_WAITING_INTERVAL=500ms", "WORKER_WATCH_ACTIVE_INTERVAL=1s",
	"WORKER_RETURN_HOSTS=isv.example,localhost,127.0.0.1", "EVENTS_SECRET_KEY=" + EventsKey, "EVENTS_ALLOW_LOOPBACK=true"}

// Events are the event settings of the tests' workers (FastWorkerEnv's).
func Events() activities.Events {
	k, err := eventsign.ParseKey(EventsKey)
	if err != nil {
		panic(err)
	}
	return activities.Events{Key: k, AllowLoopback: true}
}

// StartWorker runs the workflows and activities in this process against c and the sim,
// wired as the worker binary wires them; edit adjusts the settings.
func StartWorker(t testing.TB, c client.Client, hc *heroku.Client, edit ...func(*contract.Settings)) {
	t.Helper()
	acts := &activities.Activities{Heroku: hc, Temporal: c, Settings: FastSettings(), Payloads: payloadcrypt.DataConverter(PayloadRing()), Events: Events()}
	for _, e := range edit {
		e(&acts.Settings)
	}
	w, err := runworker.Start(c, acts, runworker.Options{})
	require.NoError(t, err)
	t.Cleanup(w.Stop)
}

// WorkerProcess is the real bin/worker binary, which a test may kill and restart.
type WorkerProcess struct {
	t    testing.TB
	env  []string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	out  *Buffer
}

// StartWorkerProcess runs bin/worker against the dev server and the sim.
func StartWorkerProcess(t testing.TB, temporalAddr, simURL string, extraEnv ...string) *WorkerProcess {
	t.Helper()
	bin := filepath.Join(Root(t), "bin", "worker")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("bin/worker is missing: run `make build` (make test does)")
	}
	p := &WorkerProcess{t: t, env: []string{
		"TEMPORAL_ADDRESS=" + temporalAddr, "HEROKU_API_URL=" + simURL, "HEROKU_CONNECT_URL=" + simURL, "HEROKU_API_TOKEN=" + Token,
		"WORKER_HTTP_ADDR=127.0.0.1:" + strconv.Itoa(FreePort(t)), "LOG_LEVEL=warn", "WORKER_STOP_TIMEOUT=2s",
		"PAYLOAD_KEYS=" + PayloadKeys,
	}}
	p.env = append(p.env, FastWorkerEnv...)
	p.env = append(p.env, extraEnv...)
	p.start()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("worker output:\n%s", p.out.Bytes())
		}
	})
	return p
}

func (p *WorkerProcess) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(filepath.Join(Root(p.t), "bin", "worker"))
	cmd.Env = append(os.Environ(), p.env...)
	if p.out == nil {
		p.out = &Buffer{}
	}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	require.NoError(p.t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
}

// Kill ends the worker with SIGKILL: no drain, as in a crash.
func (p *WorkerProcess) Kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// Restart starts the worker again after a Kill.
func (p *WorkerProcess) Restart() { p.start() }

// Buffer collects the output of processes that write concurrently.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Bytes is a copy of what was written so far.
func (l *Buffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b.Bytes()...)
}

// Eventually polls cond every 100ms until it holds or the timeout passes.
//
// A deadline here detects a hang; it is not a speed assertion (speed is measured by `make
// bench`). The suite's packages run in parallel on 2 cores, each with its own dev server, so
// every wait gets at least MinWait however short the caller's estimate.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	timeout = max(timeout, MinWait)
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// SignIn submits the simulator's authorization page as a browser would and returns the
// answer without following its redirect (the Location is the ISV's return URL).
func SignIn(t testing.TB, authURL, org, user string) *http.Response {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(authURL+"/login", url.Values{"org_id": {org}, "username": {user}})
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

// MinWait is the shortest deadline of any wait in the integration tests.
const MinWait = 2 * time.Minute

type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}

// Addons lists the simulator's add-ons as its control API shows them, destroyed ones
// included.
func (s *Sim) Addons(t testing.TB) []herokusim.AdminAddon {
	t.Helper()
	resp, err := http.Get(s.URL + herokusim.AdminPrefix + "/addons")
	require.NoError(t, err)
	defer resp.Body.Close()
	var out []herokusim.AdminAddon
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// PostSigned delivers body to url as Heroku delivers a webhook, signed with secret, and
// returns the status code.
func PostSigned(url, body, secret string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Heroku-Webhook-Hmac-SHA256", heroku.SignWebhook(secret, []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Metrics reads the worker's Prometheus endpoint (WORKER_HTTP_ADDR's /metrics): each sample
// by its metric name, with its labels.
func (p *WorkerProcess) Metrics(t testing.TB) []Sample {
	t.Helper()
	addr := ""
	for _, kv := range p.env {
		if v, ok := strings.CutPrefix(kv, "WORKER_HTTP_ADDR="); ok {
			addr = v
		}
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("read the worker's metrics: %v", err)
	}
	defer resp.Body.Close()
	var parser expfmt.TextParser
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the worker's metrics do not parse: %v", err)
	}
	var out []Sample
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			s := Sample{Name: name, Labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.Labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				s.Value = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				s.Value = m.GetGauge().GetValue()
			}
			out = append(out, s)
		}
	}
	return out
}

// Sample is one series of a metric and its value.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Sum adds the samples of name whose labels include the given name, value pairs.
func Sum(samples []Sample, name string, labels ...string) (total float64, found bool) {
	for _, s := range samples {
		if s.Name != name {
			continue
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			ok = ok && s.Labels[labels[i]] == labels[i+1]
		}
		if ok {
			total, found = total+s.Value, true
		}
	}
	return total, found
}
