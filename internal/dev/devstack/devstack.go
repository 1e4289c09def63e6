// Package devstack starts the local stack of `make run`, `make demo` and the end-to-end
// tests: the Temporal dev server (from bin/temporal), herokusim when no real Heroku is
// configured, and the worker, as child processes that stop together.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/internal/payloadcrypt"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Options shape the stack. Zero values give `make run`'s defaults.
type Options struct {
	Root         string // repository root (bin/ and data/ are under it)
	DataDir      string // where the dev server's SQLite file and the simulator's state live; empty: in memory
	TemporalPort int    // 7233
	UIPort       int    // 8233
	SimAddr      string // 127.0.0.1:5100
	WorkerHTTP   string // 127.0.0.1:9090
	CodecAddr    string // 127.0.0.1:8081, the codec server the UI decodes payloads with
	// HerokuURL, when set, is a real Heroku: no simulator is started and the worker uses it
	// with the environment's HEROKU_API_TOKEN.
	HerokuURL string
	// SimEnv and WorkerEnv add variables to those processes (e.g. short provisioning delays).
	SimEnv, WorkerEnv []string
	Out               io.Writer // child output; os.Stderr when nil
	NoWorker          bool      // start everything but the worker (tests that run their own)
	// NoPriorityMatcher starts the dev server with its default matcher (no priority or
	// fairness): the bench's baseline for budget-aware ordering.
	NoPriorityMatcher bool
	// NoWebhooks leaves the worker polling for provisioning (no webhook subscription).
	NoWebhooks bool
	// ServerMetricsPort, when set, has the dev server serve its own Prometheus metrics
	// (requests and persistence calls by operation) on 127.0.0.1 at that port: the bench
	// reads where a start's server time goes from them.
	ServerMetricsPort int
}

type proc struct {
	name      string
	cmd       *exec.Cmd
	done      chan struct{} // closed when the process has ended
	path      string        // how it was started, for a restart
	args, env []string
	out       io.Writer
	stopping  *atomic.Bool // this run is being replaced by Restart: its end is not news
	// ready waits until a (re)started process serves; nil for the processes Restart knows.
	ready func(ctx context.Context) error
	// readyWithin bounds spawnReady's wait (30 s when zero).
	readyWithin time.Duration
	// stopSignal ends the process on Stop (SIGTERM when zero; PostgreSQL's fast shutdown
	// is SIGINT).
	stopSignal syscall.Signal
	cred       *syscall.Credential // run as this user (PostgreSQL refuses root)
}

// Stack is a running stack.
type Stack struct {
	TemporalAddress string
	UIURL           string
	SimURL          string // empty when a real Heroku is used
	SimToken        string
	WorkerURL       string
	CodecURL        string // the codec server (no token: it listens on loopback)
	// ServerMetricsURL is the dev server's Prometheus endpoint (Options.ServerMetricsPort).
	ServerMetricsURL string
	// PayloadKeysFile is the development key ring every process of the stack encrypts with
	// (data/payload-keys), or empty when the environment's PAYLOAD_KEYS/PAYLOAD_KEYS_FILE is.
	PayloadKeysFile string
	PayloadRing     *payloadcrypt.Ring
	procs           []*proc
	exited          chan string
	workerHealth    string // the worker's /healthz, for a restart to wait on
}

func (o *Options) defaults() {
	if o.TemporalPort == 0 {
		o.TemporalPort = 7233
	}
	if o.UIPort == 0 {
		o.UIPort = 8233
	}
	if o.SimAddr == "" {
		o.SimAddr = "127.0.0.1:5100"
	}
	if o.WorkerHTTP == "" {
		o.WorkerHTTP = "127.0.0.1:9090"
	}
	if o.CodecAddr == "" {
		o.CodecAddr = "127.0.0.1:8081"
	}
	if o.Out == nil {
		o.Out = os.Stderr
	}
}

// FindRoot walks up from the working directory to the folder holding go.mod.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Start checks ports and tools, then starts each process and waits until it answers.
func Start(ctx context.Context, o Options) (*Stack, error) {
	o.defaults()
	bin := filepath.Join(o.Root, "bin")
	need := []string{"temporal", "herokusim", "worker"}
	for _, b := range need {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			hint := "run `make build`"
			if b == "temporal" {
				hint = "run `make tools` (builds the Temporal CLI v1.5.1 from the Go module proxy, about 3 minutes the first time)"
			}
			return nil, fmt.Errorf("bin/%s is missing: %s", b, hint)
		}
	}
	ports := map[string]string{
		"Temporal gRPC": "127.0.0.1:" + strconv.Itoa(o.TemporalPort), "Temporal UI": "127.0.0.1:" + strconv.Itoa(o.UIPort),
		"codec server": o.CodecAddr,
	}
	if o.HerokuURL == "" {
		ports["herokusim"] = o.SimAddr
	}
	if !o.NoWorker {
		ports["worker /healthz"] = o.WorkerHTTP
	}
	for name, addr := range ports {
		if err := portFree(addr); err != nil {
			return nil, fmt.Errorf("port %s (%s) is busy: stop what uses it (is another `make run` still up?) or choose another port", addr, name)
		}
	}
	s := &Stack{TemporalAddress: "127.0.0.1:" + strconv.Itoa(o.TemporalPort), UIURL: "http://localhost:" + strconv.Itoa(o.UIPort), exited: make(chan string, 8)}
	ok := false
	defer func() {
		if !ok {
			s.Stop()
		}
	}()
	keyEnv, err := s.payloadKeys(o)
	if err != nil {
		return nil, err
	}
	// The codec server first: the UI is pointed at it.
	s.CodecURL = "http://" + strings.Replace(o.CodecAddr, "127.0.0.1", "localhost", 1)
	codecEnv := append([]string{"CODEC_ADDR=" + o.CodecAddr, "CODEC_CORS_ORIGINS=" + s.UIURL + ",http://127.0.0.1:" + strconv.Itoa(o.UIPort)}, keyEnv...)
	if err := s.spawn(o, "codec", filepath.Join(bin, "worker"), []string{"codec-server"}, codecEnv); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, "http://"+o.CodecAddr+"/healthz", "codec server", s.exited, 30*time.Second); err != nil {
		return nil, err
	}

	args := []string{"server", "start-dev", "--ip", "127.0.0.1", "--port", strconv.Itoa(o.TemporalPort), "--ui-port", strconv.Itoa(o.UIPort),
		"--log-level", "warn", "--namespace", "default", "--ui-codec-endpoint", s.CodecURL}
	if !o.NoPriorityMatcher {
		args = append(args, MatchingArgs()...)
	}
	if o.ServerMetricsPort != 0 {
		args = append(args, "--metrics-port", strconv.Itoa(o.ServerMetricsPort))
		s.ServerMetricsURL = "http://127.0.0.1:" + strconv.Itoa(o.ServerMetricsPort) + "/metrics"
	}
	for _, sa := range contract.SearchAttributes() {
		args = append(args, "--search-attribute", sa+"=Keyword")
	}
	if o.DataDir != "" {
		if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
			return nil, err
		}
		args = append(args, "--db-filename", filepath.Join(o.DataDir, "temporal.db"))
	}
	if err := s.spawn(o, "temporal", filepath.Join(bin, "temporal"), args, nil); err != nil {
		return nil, err
	}
	if err := waitTemporal(ctx, s.TemporalAddress, s.exited); err != nil {
		return nil, err
	}

	// Unversioned: in development each restart runs the newest code on the same queues, with
	// no operator to make a new build current (make cluster and production are versioned).
	workerEnv := append([]string{"TEMPORAL_ADDRESS=" + s.TemporalAddress, "WORKER_HTTP_ADDR=" + o.WorkerHTTP, "WORKER_VERSIONING=false"}, keyEnv...)
	workerEnv = append(workerEnv, EventsEnv()...)
	if os.Getenv("WORKER_RETURN_HOSTS") == "" {
		// `starter serve` on its default address is where customers come back in development.
		workerEnv = append(workerEnv, "WORKER_RETURN_HOSTS=localhost:8080,127.0.0.1:8080")
	}
	if o.HerokuURL == "" {
		s.SimURL, s.SimToken = "http://"+o.SimAddr, "sim-token"
		simEnv := append([]string{"SIM_ADDR=" + o.SimAddr}, o.SimEnv...)
		if o.DataDir != "" {
			simEnv = append(simEnv, "SIM_STATE_FILE="+filepath.Join(o.DataDir, "herokusim.json"))
		}
		if err := s.spawn(o, "herokusim", filepath.Join(bin, "herokusim"), nil, simEnv); err != nil {
			return nil, err
		}
		if err := waitHTTP(ctx, s.SimURL+"/_sim/healthz", "herokusim", s.exited, 30*time.Second); err != nil {
			return nil, err
		}
		workerEnv = append(workerEnv, "HEROKU_API_URL="+s.SimURL, "HEROKU_CONNECT_URL="+s.SimURL, "HEROKU_API_TOKEN="+s.SimToken)
		if !o.NoWorker && !o.NoWebhooks {
			// Provisioning is learned from the simulator's webhooks, as it would be from Heroku's.
			if err := subscribeWebhooks(ctx, s, o.SimEnv, o.WorkerHTTP); err != nil {
				return nil, err
			}
			workerEnv = append(workerEnv, "HEROKU_WEBHOOK_SECRET="+DevWebhookSecret)
		}
	}
	if !o.NoWorker {
		s.WorkerURL = "http://" + o.WorkerHTTP
		s.workerHealth = s.WorkerURL + "/healthz"
		if err := s.spawn(o, "worker", filepath.Join(bin, "worker"), nil, append(workerEnv, o.WorkerEnv...)); err != nil {
			return nil, err
		}
		if err := waitHTTP(ctx, s.WorkerURL+"/healthz", "worker", s.exited, 30*time.Second); err != nil {
			return nil, err
		}
	}
	ok = true
	return s, nil
}

func (s *Stack) spawn(o Options, name, path string, args, env []string) error {
	return s.spawnProc(&proc{name: name, path: path, args: args, env: env, out: o.Out})
}

func (s *Stack) spawnProc(p *proc) error {
	if err := s.run(p); err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	return nil
}

// run starts p's process and reports its end on Exited (unless Restart ended it).
func (s *Stack) run(p *proc) error {
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = prefixWriter(p.out, p.name), prefixWriter(p.out, p.name)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: p.cred} // our Ctrl-C handling stops it, not the terminal's
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done, stopping := make(chan struct{}), new(atomic.Bool)
	p.cmd, p.done, p.stopping = cmd, done, stopping
	go func() {
		_ = cmd.Wait()
		close(done)
		if stopping.Load() {
			return
		}
		select {
		case s.exited <- p.name:
		default:
		}
	}()
	return nil
}

// Restart ends a process of the stack (SIGKILL when kill, else SIGTERM: a crash or a
// clean stop) and starts it again as it was started, waiting until it serves. The rest of
// the stack keeps running. A process that already ended on its own is just started.
func (s *Stack) Restart(ctx context.Context, name string, kill bool) error {
	var p *proc
	for _, q := range s.procs {
		if q.name == name {
			p = q
		}
	}
	if p == nil {
		return fmt.Errorf("no %s in this stack", name)
	}
	select {
	case <-p.done:
	default:
		p.stopping.Store(true)
		sig := syscall.SIGTERM
		if kill {
			sig = syscall.SIGKILL
		}
		_ = p.cmd.Process.Signal(sig)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	if err := s.run(p); err != nil {
		return err
	}
	if p.ready != nil {
		return p.ready(ctx)
	}
	switch name {
	case "temporal":
		return waitTemporal(ctx, s.TemporalAddress, s.exited)
	case "worker":
		return waitHTTP(ctx, s.workerHealth, "worker", s.exited, 30*time.Second)
	case "herokusim":
		return waitHTTP(ctx, s.SimURL+"/_sim/healthz", "herokusim", s.exited, 30*time.Second)
	}
	return nil
}

// Names are the stack's processes, in start order.
func (s *Stack) Names() []string {
	var out []string
	for _, p := range s.procs {
		out = append(out, p.name)
	}
	return out
}

// PID returns the process ID of a started process (temporal, herokusim, worker), or 0.
func (s *Stack) PID(name string) int {
	for _, p := range s.procs {
		if p.name == name && p.cmd.Process != nil {
			return p.cmd.Process.Pid
		}
	}
	return 0
}

// Exited delivers the name of a process that ended on its own.
func (s *Stack) Exited() <-chan string { return s.exited }

// Stop interrupts every process, newest first, and kills what has not stopped in 15s.
func (s *Stack) Stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		select {
		case <-p.done:
			continue
		default:
		}
		sig := syscall.SIGTERM
		if p.stopSignal != 0 {
			sig = p.stopSignal
		}
		_ = p.cmd.Process.Signal(sig)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

func portFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return ln.Close()
}

func waitTemporal(ctx context.Context, addr string, exited <-chan string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := client.Dial(client.Options{HostPort: addr, Logger: quiet{}})
		if err == nil {
			_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
			c.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case name := <-exited:
			return fmt.Errorf("%s exited during start-up (see its output above)", name)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the Temporal dev server did not answer on %s within 60s: %v", addr, err)
		}
	}
}

// waitHTTP waits until url answers 200, within the given time.
func waitHTTP(ctx context.Context, url, name string, exited <-chan string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case n := <-exited:
			return fmt.Errorf("%s exited during start-up (see its output above)", n)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer %s within %v", name, url, within)
		}
	}
}

// prefixWriter labels each line of a child's output with its name.
func prefixWriter(w io.Writer, name string) io.Writer {
	return &prefixed{w: w, prefix: []byte(fmt.Sprintf("%-9s | ", name))}
}

type prefixed struct {
	w      io.Writer
	prefix []byte
	buf    []byte
}

func (p *prefixed) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := strings.IndexByte(string(p.buf), '\n')
		if i < 0 {
			break
		}
		line := append(append([]byte{}, p.prefix...), p.buf[:i+1]...)
		if _, err := p.w.Write(line); err != nil {
			return len(b), err
		}
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}

// FreePorts are n distinct TCP ports nobody listens on right now, for a stack of its own
// (all are held open until all are chosen, so none is handed out twice).
func FreePorts(n int) []int {
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return append(ports, 0)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// Ports of a stack of its own: Temporal, UI, herokusim, the worker's HTTP, the codec server
// (and the server's metrics, when asked for).
func (o *Options) FreshPorts() {
	p := FreePorts(6)
	o.TemporalPort, o.UIPort = p[0], p[1]
	if o.ServerMetricsPort != 0 {
		o.ServerMetricsPort = p[5]
	}
	o.SimAddr, o.WorkerHTTP, o.CodecAddr = "127.0.0.1:"+strconv.Itoa(p[2]), "127.0.0.1:"+strconv.Itoa(p[3]), "127.0.0.1:"+strconv.Itoa(p[4])
}

// StartFresh is Start on fresh ports, tried again (up to three times) when a port was taken
// between choosing it and binding it.
func StartFresh(ctx context.Context, o Options) (*Stack, error) {
	var err error
	for range 3 {
		o.FreshPorts()
		var s *Stack
		if s, err = Start(ctx, o); err == nil {
			return s, nil
		}
	}
	return nil, err
}

// Supervise keeps the stack up until ctx ends, then stops it: a worker that exits is started
// again (as a process supervisor would, up to 20 times) while the rest keeps running;
// anything else ending stops the stack.
func (s *Stack) Supervise(ctx context.Context, label string, out io.Writer) {
	restarts := 0
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "\nstopping…")
			s.Stop()
			return
		case name := <-s.Exited():
			if strings.HasPrefix(name, "worker") && restarts < 20 {
				restarts++
				fmt.Fprintf(out, "%s: %s exited; starting it again (restart %d)\n", label, name, restarts)
				err := s.Restart(ctx, name, false)
				if err == nil {
					continue
				}
				if ctx.Err() == nil {
					fmt.Fprintf(out, "%s: %s did not come back: %v\n", label, name, err)
				}
			} else {
				fmt.Fprintf(out, "%s: %s exited; stopping the rest\n", label, name)
			}
			s.Stop()
			return
		}
	}
}
