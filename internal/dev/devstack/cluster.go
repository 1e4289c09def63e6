package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// The production topology's pinned versions: the Makefile builds these from the Go module
// proxy and docker-compose.yml runs the same ones as images (a test keeps all three in step).
const (
	TemporalServerVersion = "v1.29.1" // go.temporal.io/server/cmd/server and cmd/tools/sql
	TemporalUIVersion     = "v2.42.1" // github.com/temporalio/ui-server/v2/cmd/server
	PostgresMajor         = 15        // Debian 12's PostgreSQL
	// PostgresPlugin is Temporal's persistence plugin for PostgreSQL 12 and newer.
	PostgresPlugin = "postgres12"
	// ClusterDB and ClusterVisibilityDB are the two databases Temporal's schema tool makes.
	ClusterDB           = "temporal"
	ClusterVisibilityDB = "temporal_visibility"
	// ClusterDBUser and ClusterDBPassword are the development database login (the compose
	// file uses the same); production brings its own.
	ClusterDBUser     = "temporal"
	ClusterDBPassword = "temporal"
	// ClusterNamespaceRetention is how long closed workflows stay in the cluster's namespace.
	ClusterNamespaceRetention = 72 * time.Hour
)

// The cluster's binaries under bin/, named with their versions so a version bump builds anew.
var (
	TemporalServerBin   = "temporal-server-" + TemporalServerVersion
	TemporalSQLToolBin  = "temporal-sql-tool-" + TemporalServerVersion
	TemporalUIServerBin = "temporal-ui-server-" + TemporalUIVersion
)

// ClusterDynamicConfig is the cluster's dynamic configuration: the matcher settings of
// budget-aware ordering (MatchingConfig) and the visibility rate the workflows' lookups need
// (Temporal's default of 10 a second per frontend is below what a cascade of many customers
// asks; the dev server also raises it to 100).
func ClusterDynamicConfig() map[string]string {
	out := map[string]string{"frontend.namespaceRPS.visibility": "100"}
	for k, v := range MatchingConfig {
		out[k] = v
	}
	return out
}

// ClusterOptions shape `make cluster`. Zero values give its defaults.
type ClusterOptions struct {
	Root    string
	DataDir string // data/cluster: PostgreSQL's files, generated configs, the codec token, herokusim's state
	// Ports the operator reaches (defaults 55432, 7233, 8233); Temporal's internal service
	// ports are chosen free at start.
	PostgresPort, TemporalPort, UIPort int
	CodecAddr, SimAddr                 string   // 127.0.0.1:8081, 127.0.0.1:5100
	WorkerHTTP                         []string // one per worker: 127.0.0.1:9090, 127.0.0.1:9091
	// PrometheusPort is Prometheus' (9092), ServerMetricsPort the Temporal server's metrics
	// endpoint it scrapes (9093).
	PrometheusPort, ServerMetricsPort int
	SimEnv, WorkerEnv                 []string
	// NextWorker is a second build's worker binary, run beside the first build's workers
	// (worker-3, on NextWorkerHTTP, 127.0.0.1:9094) and never current by itself: make
	// cluster NEXT_WORKER=… for an upgrade (README, Upgrading).
	NextWorker, NextWorkerHTTP string
	// NextBuildID is its WORKER_BUILD_ID, when set (the same binary twice needs one).
	NextBuildID string
	Out         io.Writer
}

func (o *ClusterOptions) defaults() {
	if o.DataDir == "" {
		o.DataDir = filepath.Join(o.Root, "data", "cluster")
	}
	if o.PostgresPort == 0 {
		o.PostgresPort = 55432
	}
	if o.TemporalPort == 0 {
		o.TemporalPort = 7233
	}
	if o.UIPort == 0 {
		o.UIPort = 8233
	}
	if o.CodecAddr == "" {
		o.CodecAddr = "127.0.0.1:8081"
	}
	if o.SimAddr == "" {
		o.SimAddr = "127.0.0.1:5100"
	}
	if len(o.WorkerHTTP) == 0 {
		o.WorkerHTTP = []string{"127.0.0.1:9090", "127.0.0.1:9091"}
	}
	if o.NextWorkerHTTP == "" {
		o.NextWorkerHTTP = "127.0.0.1:9094"
	}
	if o.PrometheusPort == 0 {
		o.PrometheusPort = 9092
	}
	if o.ServerMetricsPort == 0 {
		o.ServerMetricsPort = 9093
	}
	if o.Out == nil {
		o.Out = os.Stderr
	}
}

// FreshPorts gives every port of the cluster a free one (for tests next to anything else).
func (o *ClusterOptions) FreshPorts(workers int) {
	p := FreePorts(7 + workers)
	o.PostgresPort, o.TemporalPort, o.UIPort = p[0], p[1], p[2]
	o.CodecAddr, o.SimAddr = "127.0.0.1:"+strconv.Itoa(p[3]), "127.0.0.1:"+strconv.Itoa(p[4])
	o.PrometheusPort, o.ServerMetricsPort = p[5], p[6]
	o.WorkerHTTP = nil
	for i := range workers {
		o.WorkerHTTP = append(o.WorkerHTTP, "127.0.0.1:"+strconv.Itoa(p[7+i]))
	}
}

// Cluster is a running production-shaped stack: the Stack's processes plus what an operator
// needs to reach the parts only the cluster has.
type Cluster struct {
	*Stack
	PostgresPort   int
	CodecTokenFile string   // the codec server's bearer token (CODEC_TOKENS), for --codec-auth and /login
	Workers        []string // the worker processes' names: worker-1, worker-2, …
	WorkerURLs     []string
	PrometheusURL  string // Prometheus scraping the workers and the server, the rules loaded

	workerEnv []string // every worker's settings (StartWorker)
	out       io.Writer
}

// CodecToken reads the codec server's token.
func (c *Cluster) CodecToken() (string, error) {
	b, err := os.ReadFile(c.CodecTokenFile)
	return strings.TrimSpace(string(b)), err
}

// StartCluster starts PostgreSQL (its own data directory and port, as the invoking user or,
// for root, as the postgres user), sets up Temporal's schema with Temporal's SQL tool,
// starts the Temporal server on it, registers the namespace and search attributes, then the
// codec server, the Temporal UI server pointed at it, herokusim and the workers.
func StartCluster(ctx context.Context, o ClusterOptions) (*Cluster, error) {
	o.defaults()
	bin := filepath.Join(o.Root, "bin")
	for _, b := range []string{TemporalServerBin, TemporalSQLToolBin, TemporalUIServerBin, "worker", "herokusim"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return nil, fmt.Errorf("bin/%s is missing: run `make cluster-tools` (builds the Temporal server %s, its SQL tool and the UI server %s from the Go module proxy, a few minutes the first time) and `make build`",
				b, TemporalServerVersion, TemporalUIVersion)
		}
	}
	pgBin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	prometheus, err := exec.LookPath("prometheus")
	if err != nil {
		return nil, errors.New("prometheus is missing: install Debian's prometheus package (apt-get install prometheus); make cluster runs it with docker/prometheus/rules.yml")
	}
	ports := map[string]string{
		"Prometheus": "127.0.0.1:" + strconv.Itoa(o.PrometheusPort), "Temporal metrics": "127.0.0.1:" + strconv.Itoa(o.ServerMetricsPort),
		"PostgreSQL": "127.0.0.1:" + strconv.Itoa(o.PostgresPort), "Temporal gRPC": "127.0.0.1:" + strconv.Itoa(o.TemporalPort),
		"Temporal UI": "127.0.0.1:" + strconv.Itoa(o.UIPort), "codec server": o.CodecAddr, "herokusim": o.SimAddr,
	}
	for i, w := range o.WorkerHTTP {
		ports[fmt.Sprintf("worker-%d /healthz", i+1)] = w
	}
	if o.NextWorker != "" {
		if _, err := os.Stat(o.NextWorker); err != nil {
			return nil, fmt.Errorf("the next build's worker binary: %w", err)
		}
		ports[fmt.Sprintf("worker-%d /healthz (the next build)", len(o.WorkerHTTP)+1)] = o.NextWorkerHTTP
	}
	for name, addr := range ports {
		if err := portFree(addr); err != nil {
			return nil, fmt.Errorf("port %s (%s) is busy: stop what uses it (is `make run` or another `make cluster` up?) or choose another port", addr, name)
		}
	}
	if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
		return nil, err
	}
	s := &Stack{TemporalAddress: "127.0.0.1:" + strconv.Itoa(o.TemporalPort), UIURL: "http://localhost:" + strconv.Itoa(o.UIPort), exited: make(chan string, 16)}
	c := &Cluster{Stack: s, PostgresPort: o.PostgresPort, CodecTokenFile: filepath.Join(o.DataDir, "codec-token")}
	ok := false
	defer func() {
		if !ok {
			s.Stop()
		}
	}()
	so := Options{Root: o.Root, Out: o.Out}

	if err := c.startPostgres(ctx, o, pgBin); err != nil {
		return nil, err
	}
	if err := setupSchema(ctx, o, bin); err != nil {
		return nil, err
	}
	if err := c.startTemporal(ctx, o, bin); err != nil {
		return nil, err
	}

	keyEnv, err := s.payloadKeys(so)
	if err != nil {
		return nil, err
	}
	token, err := ensureToken(c.CodecTokenFile)
	if err != nil {
		return nil, err
	}
	s.CodecURL = "http://" + strings.Replace(o.CodecAddr, "127.0.0.1", "localhost", 1)
	codecEnv := append([]string{"CODEC_ADDR=" + o.CodecAddr, "CODEC_TOKENS=" + token,
		"CODEC_CORS_ORIGINS=" + s.UIURL + ",http://127.0.0.1:" + strconv.Itoa(o.UIPort)}, keyEnv...)
	if err := s.spawnReady(ctx, &proc{name: "codec", path: filepath.Join(bin, "worker"), args: []string{"codec-server"}, env: codecEnv, out: o.Out},
		"http://"+o.CodecAddr+"/healthz"); err != nil {
		return nil, err
	}
	uiRoot := filepath.Join(o.DataDir, "ui")
	if err := writeFile(filepath.Join(uiRoot, "config", "development.yaml"), uiConfig(o, s.CodecURL)); err != nil {
		return nil, err
	}
	if err := s.spawnReady(ctx, &proc{name: "ui", path: filepath.Join(bin, TemporalUIServerBin), args: []string{"--root", uiRoot, "--env", "development", "start"}, out: o.Out},
		"http://127.0.0.1:"+strconv.Itoa(o.UIPort)+"/"); err != nil {
		return nil, err
	}

	s.SimURL, s.SimToken = "http://"+o.SimAddr, "sim-token"
	simEnv := append([]string{"SIM_ADDR=" + o.SimAddr, "SIM_STATE_FILE=" + filepath.Join(o.DataDir, "herokusim.json")}, o.SimEnv...)
	if err := s.spawnReady(ctx, &proc{name: "herokusim", path: filepath.Join(bin, "herokusim"), env: simEnv, out: o.Out}, s.SimURL+"/_sim/healthz"); err != nil {
		return nil, err
	}
	// Heroku delivers an app's webhooks to one URL: the first worker's (any worker can
	// take them; a production deployment puts its load balancer there).
	if err := subscribeWebhooks(ctx, s, o.SimEnv, o.WorkerHTTP[0]); err != nil {
		return nil, err
	}
	c.workerEnv = append([]string{"TEMPORAL_ADDRESS=" + s.TemporalAddress, "HEROKU_API_URL=" + s.SimURL,
		"HEROKU_CONNECT_URL=" + s.SimURL, "HEROKU_API_TOKEN=" + s.SimToken, "HEROKU_WEBHOOK_SECRET=" + DevWebhookSecret}, keyEnv...)
	// Builds replace each other here (a rebuilt worker on the same data/cluster): each start
	// takes over. Not beside a NEXT_WORKER build, which waits for an operator: once that one
	// is promoted, a rerun must not take its place back.
	policy := "always"
	if o.NextWorker != "" {
		policy = "when-none"
	}
	c.workerEnv = append(c.workerEnv, "WORKER_BECOME_CURRENT="+policy)
	c.workerEnv = append(c.workerEnv, EventsEnv()...)
	if os.Getenv("WORKER_RETURN_HOSTS") == "" {
		c.workerEnv = append(c.workerEnv, "WORKER_RETURN_HOSTS=localhost:8080,127.0.0.1:8080")
	}
	c.workerEnv = append(c.workerEnv, o.WorkerEnv...)
	c.out = o.Out
	for _, addr := range o.WorkerHTTP {
		if err := c.StartWorker(ctx, filepath.Join(bin, "worker"), addr); err != nil {
			return nil, err
		}
	}
	if o.NextWorker != "" {
		env := []string{"WORKER_BECOME_CURRENT=never"}
		if o.NextBuildID != "" {
			env = append(env, "WORKER_BUILD_ID="+o.NextBuildID)
		}
		if err := c.StartWorker(ctx, o.NextWorker, o.NextWorkerHTTP, env...); err != nil {
			return nil, fmt.Errorf("the next build (%s): %w", o.NextWorker, err)
		}
	}
	s.WorkerURL = c.WorkerURLs[0]
	if err := c.startPrometheus(ctx, o, prometheus); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// StartWorker starts one more worker process (worker-N) from the binary at path, serving
// /healthz and /metrics on addr, with the cluster's settings and env after them: a second
// build beside the first (WORKER_BUILD_ID, WORKER_BECOME_CURRENT=never) is how an upgrade
// begins.
func (c *Cluster) StartWorker(ctx context.Context, path, addr string, env ...string) error {
	name := fmt.Sprintf("worker-%d", len(c.Workers)+1)
	all := append(append(slices.Clip(c.workerEnv), "WORKER_HTTP_ADDR="+addr), env...)
	// A versioned worker is ready once the server lists its version's task queues and its
	// routing is settled: after a restart of the whole cluster the server's deployment
	// records took about a minute to answer.
	p := &proc{name: name, path: path, env: all, out: c.out, readyWithin: 3 * time.Minute}
	if err := c.spawnReady(ctx, p, "http://"+addr+"/healthz"); err != nil {
		return err
	}
	c.Workers = append(c.Workers, name)
	c.WorkerURLs = append(c.WorkerURLs, "http://"+addr)
	return nil
}

// startPrometheus runs Prometheus on its own data directory, scraping the Temporal server and
// every worker, with the repository's rules loaded (docker/prometheus/rules.yml).
func (c *Cluster) startPrometheus(ctx context.Context, o ClusterOptions, bin string) error {
	root := filepath.Join(o.DataDir, "prometheus")
	cfg := filepath.Join(root, "prometheus.yml")
	if err := writeFile(cfg, prometheusConfig(o)); err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(o.PrometheusPort)
	c.PrometheusURL = "http://" + strings.Replace(addr, "127.0.0.1", "localhost", 1)
	return c.spawnReady(ctx, &proc{name: "prometheus", path: bin, out: o.Out, args: []string{"--config.file=" + cfg,
		"--storage.tsdb.path=" + filepath.Join(root, "data"), "--web.listen-address=" + addr, "--log.level=warn"}},
		"http://"+addr+"/-/ready")
}

// prometheusConfig scrapes the server and the workers every 15 s and loads the rules.
func prometheusConfig(o ClusterOptions) string {
	var workers []string
	for _, w := range o.WorkerHTTP {
		workers = append(workers, strconv.Quote(w))
	}
	if o.NextWorker != "" {
		workers = append(workers, strconv.Quote(o.NextWorkerHTTP))
	}
	return fmt.Sprintf(`# Generated by make cluster (internal/dev/devstack/cluster.go); docker/prometheus/prometheus.yml
# is the same for docker compose.
global:
  scrape_interval: 15s
  evaluation_interval: 15s
rule_files:
  - %q
scrape_configs:
  - job_name: temporal
    static_configs:
      - targets: ["127.0.0.1:%d"]
  - job_name: worker
    static_configs:
      - targets: [%s]
`, filepath.Join(o.Root, "docker", "prometheus", "rules.yml"), o.ServerMetricsPort, strings.Join(workers, ", "))
}

// spawnReady starts p, waits until health answers 200, and keeps that wait for Restart.
func (s *Stack) spawnReady(ctx context.Context, p *proc, health string) error {
	within := p.readyWithin
	if within == 0 {
		within = 30 * time.Second
	}
	p.ready = func(ctx context.Context) error { return waitHTTP(ctx, health, p.name, s.exited, within) }
	if err := s.spawnProc(p); err != nil {
		return err
	}
	return p.ready(ctx)
}

// Where Debian's PostgreSQL server programs live, and the tool that names another place.
var (
	pgBinGlob = "/usr/lib/postgresql/*/bin"
	pgConfig  = "pg_config"
)

// postgresBinDir finds Debian's PostgreSQL server programs (initdb, postgres, pg_isready).
func postgresBinDir() (string, error) {
	dirs, _ := filepath.Glob(pgBinGlob)
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	if out, err := exec.Command(pgConfig, "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
				return d, nil
			}
		}
	}
	return "", fmt.Errorf("the PostgreSQL server is not installed: `sudo apt-get install -y postgresql` (Debian's PostgreSQL %d; make cluster runs it as its own process, the system service may stay off)", PostgresMajor)
}

func versionOf(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// pgCredential: PostgreSQL refuses to run as root, so root runs it as the postgres user
// Debian's package creates.
func pgCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("running as root, make cluster starts PostgreSQL as the user postgres, which does not exist: install Debian's postgresql package, or run as another user")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (c *Cluster) startPostgres(ctx context.Context, o ClusterOptions, pgBin string) error {
	cred, err := pgCredential()
	if err != nil {
		return err
	}
	dir := filepath.Join(o.DataDir, "postgres")
	chown := func(path string) error {
		if cred == nil {
			return nil
		}
		return os.Chown(path, int(cred.Uid), int(cred.Gid))
	}
	if cred != nil && (strings.HasPrefix(o.DataDir, o.Root) || strings.HasPrefix(o.DataDir, filepath.Clean(os.TempDir()))) {
		// The postgres user must reach its directory: open the folders on the way that this
		// stack or its caller made (data/ under the repository, a temporary folder of a test).
		for d := o.DataDir; d != o.Root && d != filepath.Clean(os.TempDir()) && d != "/" && d != "."; d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
				_ = os.Chmod(d, fi.Mode().Perm()|0o011)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if err := chown(dir); err != nil {
			return err
		}
		pw := filepath.Join(o.DataDir, ".pgpass-init")
		if err := os.WriteFile(pw, []byte(ClusterDBPassword+"\n"), 0o600); err != nil {
			return err
		}
		defer os.Remove(pw)
		if err := chown(pw); err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, filepath.Join(pgBin, "initdb"), "-D", dir, "-U", ClusterDBUser, "--pwfile", pw,
			"--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := cmd.CombinedOutput(); err != nil {
			hint := ""
			if cred != nil {
				hint = " (the postgres user must be able to reach " + dir + ": every folder above it needs o+x)"
			}
			return fmt.Errorf("initdb %s%s: %v\n%s", dir, hint, err, out)
		}
	}
	port := strconv.Itoa(o.PostgresPort)
	p := &proc{name: "postgres", path: filepath.Join(pgBin, "postgres"), out: o.Out, cred: cred, stopSignal: syscall.SIGINT,
		args: []string{"-D", dir, "-p", port, "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "log_min_messages=warning"}}
	p.ready = func(ctx context.Context) error {
		deadline := time.Now().Add(60 * time.Second)
		for {
			if exec.CommandContext(ctx, filepath.Join(pgBin, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", port).Run() == nil {
				return nil
			}
			select {
			case n := <-c.exited:
				return fmt.Errorf("%s exited during start-up (see its output above)", n)
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("PostgreSQL did not accept connections on 127.0.0.1:%s within 60s", port)
			}
		}
	}
	if err := c.spawnProc(p); err != nil {
		return err
	}
	return p.ready(ctx)
}

// setupSchema makes Temporal's two databases with Temporal's own SQL tool the first time,
// and brings them to the tool's newest schema version on every start (a no-op when current).
func setupSchema(ctx context.Context, o ClusterOptions, bin string) error {
	base := []string{"--plugin", PostgresPlugin, "--endpoint", "127.0.0.1", "--port", strconv.Itoa(o.PostgresPort),
		"--user", ClusterDBUser, "--password", ClusterDBPassword}
	tool := func(db string, args ...string) error {
		all := append(append(append([]string{}, base...), "--database", db), args...)
		cmd := exec.CommandContext(ctx, filepath.Join(bin, TemporalSQLToolBin), all...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("temporal-sql-tool %s on %s: %v\n%s", args[0], db, err, out)
		}
		return nil
	}
	for db, schema := range map[string]string{ClusterDB: "postgresql/v12/temporal", ClusterVisibilityDB: "postgresql/v12/visibility"} {
		marker := filepath.Join(o.DataDir, ".schema-"+db)
		if _, err := os.Stat(marker); err != nil {
			if err := tool(db, "create-database"); err != nil && !strings.Contains(err.Error(), "already exists") {
				return err
			}
			if err := tool(db, "setup-schema", "-v", "0.0"); err != nil {
				return err
			}
			if err := os.WriteFile(marker, nil, 0o644); err != nil {
				return err
			}
		}
		if err := tool(db, "update-schema", "--schema-name", schema); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) startTemporal(ctx context.Context, o ClusterOptions, bin string) error {
	root := filepath.Join(o.DataDir, "temporal")
	internal := lowFreePorts(8)
	dc := filepath.Join(root, "config", "dynamicconfig.yaml")
	if err := writeFile(filepath.Join(root, "config", "development.yaml"), temporalConfig(o, internal, dc)); err != nil {
		return err
	}
	if err := writeFile(dc, dynamicConfigYAML(ClusterDynamicConfig())); err != nil {
		return err
	}
	p := &proc{name: "temporal", path: filepath.Join(bin, TemporalServerBin), out: o.Out,
		args: []string{"--root", root, "--config", "config", "--env", "development", "--allow-no-auth", "start"}}
	p.ready = func(ctx context.Context) error { return waitTemporal(ctx, c.TemporalAddress, c.exited) }
	if err := c.spawnProc(p); err != nil {
		return err
	}
	if err := p.ready(ctx); err != nil {
		return err
	}
	return registerNamespace(ctx, c.TemporalAddress)
}

// registerNamespace makes the default namespace and the project's search attributes (what
// the dev server's flags do) and waits until a visibility query by them is answered.
func registerNamespace(ctx context.Context, addr string) error {
	tc, err := client.Dial(client.Options{HostPort: addr, Logger: quiet{}})
	if err != nil {
		return err
	}
	defer tc.Close()
	const ns = "default"
	_, err = tc.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: ns, WorkflowExecutionRetentionPeriod: durationpb.New(ClusterNamespaceRetention)})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register namespace %s: %w", ns, err)
	}
	attrs := map[string]enumspb.IndexedValueType{}
	for _, name := range contract.SearchAttributes() {
		attrs[name] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		// A new namespace reaches every service's cache within seconds: until then both
		// calls fail, and are tried again.
		err = addSearchAttributes(ctx, tc, ns, attrs)
		if err == nil {
			_, err = tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: ns, PageSize: 1, Query: contract.SACustomerID.GetName() + " = 'probe'"})
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the namespace %s and its search attributes were not usable within 90s: %w", ns, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func addSearchAttributes(ctx context.Context, tc client.Client, ns string, attrs map[string]enumspb.IndexedValueType) error {
	have, err := tc.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		return err
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, t := range attrs {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = t
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = tc.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: ns, SearchAttributes: missing})
	var exists *serviceerror.AlreadyExists
	if errors.As(err, &exists) {
		return nil
	}
	if err == nil {
		err = errors.New("search attributes added; checking again")
	}
	return err
}

// lowFreePorts are n free ports below 32768: Temporal's SQL schema keeps membership ports in
// a smallint, and the kernel's ephemeral ports start above it.
func lowFreePorts(n int) []int {
	var out []int
	var held []io.Closer
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	start := 20000 + int(time.Now().UnixNano()%10000)
	for p := start; len(out) < n && p < 32768; p++ {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		held = append(held, ln)
		out = append(out, p)
	}
	return out
}

func temporalConfig(o ClusterOptions, p []int, dynamicConfigFile string) string {
	store := func(db string, conns int) string {
		return fmt.Sprintf(`      sql:
        pluginName: %q
        databaseName: %q
        connectAddr: "127.0.0.1:%d"
        connectProtocol: "tcp"
        user: %q
        password: %q
        maxConns: %d
        maxIdleConns: %d
        maxConnLifetime: "1h"
`, PostgresPlugin, db, o.PostgresPort, ClusterDBUser, ClusterDBPassword, conns, conns)
	}
	return fmt.Sprintf(`# Generated by make cluster (internal/dev/devstack/cluster.go): Temporal %s on PostgreSQL.
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
%s    postgres-visibility:
%sglobal:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      timerType: "histogram"
      listenAddress: "127.0.0.1:%d"
services:
  frontend:
    rpc: {grpcPort: %d, membershipPort: %d, bindOnLocalHost: true, httpPort: %d}
  matching:
    rpc: {grpcPort: %d, membershipPort: %d, bindOnLocalHost: true}
  history:
    rpc: {grpcPort: %d, membershipPort: %d, bindOnLocalHost: true}
  worker:
    rpc: {grpcPort: %d, membershipPort: %d, bindOnLocalHost: true}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:%d"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: %q
  pollInterval: "10s"
`, TemporalServerVersion, store(ClusterDB, 20), store(ClusterVisibilityDB, 10), o.ServerMetricsPort,
		o.TemporalPort, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], o.TemporalPort, dynamicConfigFile)
}

// dynamicConfigYAML writes settings in Temporal's dynamic config file format.
func dynamicConfigYAML(settings map[string]string) string {
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Generated by make cluster: the same settings as docker/dynamicconfig.yaml.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s:\n  - value: %s\n", k, settings[k])
	}
	return b.String()
}

func uiConfig(o ClusterOptions, codecURL string) string {
	return fmt.Sprintf(`# Generated by make cluster: the Temporal UI server %s, decoding through the codec server.
temporalGrpcAddress: 127.0.0.1:%d
host: 127.0.0.1
port: %d
publicPath:
enableUi: true
defaultNamespace: default
cors:
  allowOrigins:
    - http://localhost:%d
codec:
  endpoint: %s
  passAccessToken: false
  includeCredentials: true
auth:
  enabled: false
`, TemporalUIVersion, o.TemporalPort, o.UIPort, o.UIPort, codecURL)
}

func writeFile(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// ensureToken reads the codec server's development token, making a random one first.
func ensureToken(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(raw)
	return tok, os.WriteFile(path, []byte(tok+"\n"), 0o600)
}
