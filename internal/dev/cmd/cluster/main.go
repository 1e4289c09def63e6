// Command cluster is `make cluster`: the production topology as local processes, without
// Docker. PostgreSQL, the Temporal server on it, the Temporal UI server, the codec server,
// herokusim and two workers in one terminal; Ctrl-C stops them all.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/connect-onboarding/worker/internal/dev/devstack"
)

const usage = `cluster (make cluster): the production topology in this terminal; Ctrl-C stops it.

PostgreSQL %d (Debian's package, its own data directory under data/cluster and port 55432),
the Temporal server %s on it (schema by Temporal's SQL tool), the Temporal UI server %s
(http://localhost:8233) decoding through the codec server (http://localhost:8081), herokusim
(127.0.0.1:5100), two workers (127.0.0.1:9090 and :9091) sharing the task queues, and
Prometheus (http://localhost:9092) scraping the server and the workers with the alerting rules
of docker/prometheus/rules.yml (Debian's prometheus package). Payloads
are encrypted with the development key in data/payload-keys. The workers are versioned
(Worker Deployment connect-onboarding, each build's own ID; the first build becomes current).
The workers' settings come from the environment (bin/worker -h). Delete data/cluster to start
fresh.

  -next-worker PATH   a second build's worker binary, run beside the first as worker-3
                      (127.0.0.1:9094) and taking work only once ramped or made current
                      (make cluster NEXT_WORKER=PATH; README, Upgrading)
  -next-build-id ID   its build ID, when it is not a different build's own (to try the
                      commands with this build twice: make cluster NEXT_WORKER=bin/worker
                      NEXT_BUILD_ID=next)
`

func main() {
	var next, nextID string
	switch args := os.Args[1:]; {
	case len(args) == 0:
	case len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help"):
		fmt.Printf(usage, devstack.PostgresMajor, devstack.TemporalServerVersion, devstack.TemporalUIVersion)
		return
	case len(args) == 2 && args[0] == "-next-worker" && args[1] != "":
		next = args[1]
	case len(args) == 4 && args[0] == "-next-worker" && args[1] != "" && args[2] == "-next-build-id" && args[3] != "":
		next, nextID = args[1], args[3]
	default:
		fmt.Fprintf(os.Stderr, "make cluster: unexpected arguments %q\n\n", args)
		fmt.Fprintf(os.Stderr, usage, devstack.PostgresMajor, devstack.TemporalServerVersion, devstack.TemporalUIVersion)
		os.Exit(2)
	}
	root, err := devstack.FindRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "make cluster:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := devstack.ClusterOptions{Root: root, NextWorker: next, NextBuildID: nextID}
	if term.IsTerminal(int(os.Stdout.Fd())) && os.Getenv("LOG_FORMAT") == "" {
		opts.SimEnv = append(opts.SimEnv, "LOG_FORMAT=console")
		opts.WorkerEnv = append(opts.WorkerEnv, "LOG_FORMAT=console")
	}
	fmt.Println("make cluster: starting PostgreSQL, Temporal, the UI, the codec server, herokusim, two workers and Prometheus…")
	c, err := devstack.StartCluster(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "make cluster:", err)
		os.Exit(1)
	}
	fmt.Printf(`
  The cluster is up.
    PostgreSQL       127.0.0.1:%d (databases %s and %s, user %s)
    Temporal gRPC    %s (namespace default)
    Temporal UI      %s  (sign in to the codec server once: %s/login, token in %s)
    Codec server     %s  (temporal … --codec-endpoint %s --codec-auth "Bearer $(cat %s)")
    Heroku           herokusim at %s
    Workers          %s (/healthz, /metrics)
    Prometheus       %s/classic/alerts (the server's and the workers' metrics, docker/prometheus/rules.yml)
    Payload key      %s

  Next, in another terminal:  make demo
  Ctrl-C stops everything.

`, c.PostgresPort, devstack.ClusterDB, devstack.ClusterVisibilityDB, devstack.ClusterDBUser, c.TemporalAddress, c.UIURL, c.CodecURL,
		c.CodecTokenFile, c.CodecURL, c.CodecURL, c.CodecTokenFile, c.SimURL, strings.Join(c.WorkerURLs, ", "), c.PrometheusURL, c.PayloadKeysFile)
	c.Supervise(ctx, "make cluster", os.Stderr)
}
