// Command devstack is `make run`: the Temporal dev server, herokusim (unless HEROKU_API_URL
// names a real Heroku) and the worker in one terminal. Ctrl-C stops them all.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/dev/eventsink"
	"github.com/connect-onboarding/worker/workflows/contract"
)

const usage = `devstack (make run): the whole stack in this terminal; Ctrl-C stops it.

It starts the codec server (http://localhost:8081), the Temporal dev server (gRPC
localhost:7233, UI http://localhost:8233 decoding through the codec server, SQLite under
data/), herokusim on 127.0.0.1:5100 (unless HEROKU_API_URL and HEROKU_API_TOKEN name a real
Heroku), the worker (http://127.0.0.1:9090/healthz) and a receiver of lifecycle events
(http://127.0.0.1:8090/events/SLUG, printing what it verifies); payloads are encrypted with the
development key data/payload-keys (made on first use) unless PAYLOAD_KEYS(_FILE) is set. It takes no arguments; the worker's
settings come from the environment (bin/worker -h lists them). Delete data/ to start fresh.
`

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "-h", "--help", "help":
			fmt.Print(usage)
			return
		default:
			fmt.Fprintf(os.Stderr, "make run: unexpected argument %q\n\n%s", os.Args[1], usage)
			os.Exit(2)
		}
	}
	root, err := devstack.FindRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "make run:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := devstack.Options{Root: root, DataDir: filepath.Join(root, "data")}
	if term.IsTerminal(int(os.Stdout.Fd())) && os.Getenv("LOG_FORMAT") == "" {
		// The children write into our pipe; on a terminal they should still read as text.
		opts.SimEnv = append(opts.SimEnv, "LOG_FORMAT=console")
		opts.WorkerEnv = append(opts.WorkerEnv, "LOG_FORMAT=console")
	}
	if u := os.Getenv("HEROKU_API_URL"); u != "" {
		if os.Getenv("HEROKU_API_TOKEN") == "" {
			fmt.Fprintln(os.Stderr, "make run: HEROKU_API_URL is set but HEROKU_API_TOKEN is not; set both for a real Heroku, or neither for the simulator")
			os.Exit(2)
		}
		opts.HerokuURL = u
	}
	s, err := devstack.Start(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "make run:", err)
		os.Exit(1)
	}
	sinkURL, err := startSink(ctx, s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "make run:", err)
		s.Stop()
		os.Exit(1)
	}
	keys := s.PayloadKeysFile
	if keys == "" {
		keys = "from PAYLOAD_KEYS/PAYLOAD_KEYS_FILE"
	}
	heroku := "herokusim at " + s.SimURL + " (token sim-token; control API under /_sim)"
	if opts.HerokuURL != "" {
		heroku = "the real Heroku at " + opts.HerokuURL
	}
	fmt.Printf(`
  The stack is up.
    Temporal UI      %s
    Temporal gRPC    %s (namespace default)
    Heroku           %s
    Worker           %s/healthz and /metrics
    Codec server     %s (the UI decodes payloads with it; temporal … --codec-endpoint %s)
    Payload key      %s (payloads are encrypted with it; export PAYLOAD_KEYS_FILE=%s for the starter)
    State            %s (survives a restart; delete it to start fresh)
    Event receiver   %s/SLUG (verifies and prints what it receives: starter endpoints add SLUG --url %s/SLUG)

  Next, in another terminal:  make demo      (a partner integration and a customer, end to end)
  Ctrl-C stops everything.

`, s.UIURL, s.TemporalAddress, heroku, s.WorkerURL, s.CodecURL, s.CodecURL, keys, keys, opts.DataDir, sinkURL, sinkURL)
	// A worker that dies is started again (as a process supervisor would) while the rest
	// keeps running; anything else ending stops the stack.
	s.Supervise(ctx, "make run", os.Stderr)
}

// sinkAddr is where make run's event receiver listens.
const sinkAddr = "127.0.0.1:8090"

// startSink serves a receiver of lifecycle events at /events/SLUG: it verifies each
// delivery with the secrets of the integration's endpoints that point at it (derived from
// the stack's events key, as a receiver would hold them) and prints what it received.
func startSink(ctx context.Context, s *devstack.Stack) (string, error) {
	key, err := devstack.EventsKey()
	if err != nil {
		return "", err
	}
	tc, err := client.Dial(s.ClientOptions())
	if err != nil {
		return "", err
	}
	base := "http://" + sinkAddr + "/events"
	sink := eventsink.New("")
	sink.Lookup = func(r *http.Request) []string {
		slug := strings.TrimPrefix(r.URL.Path, "/events/")
		eps, err := contract.QueryEndpoints.Ask(r.Context(), tc, contract.PartnerWorkflowID(slug))
		if err != nil {
			return nil
		}
		var secrets []string
		for _, e := range eps {
			if strings.TrimRight(e.URL, "/") != base+"/"+slug {
				continue
			}
			for _, gen := range []int{e.SecretGeneration, e.SecretGeneration - 1} {
				if sec, err := key.Secret(slug, e.ID, gen); err == nil && gen > 0 {
					secrets = append(secrets, sec)
				}
			}
		}
		return secrets
	}
	sink.OnEvent = func(r eventsink.Received) {
		fmt.Printf("[events] %s %-34s %s #%d %s (signature verified)\n", r.Data.ISVSlug, r.Type, r.Data.CustomerID, r.Data.Sequence, r.ID)
	}
	ln, err := net.Listen("tcp", sinkAddr)
	if err != nil {
		return "", fmt.Errorf("the event receiver cannot listen on %s: %w", sinkAddr, err)
	}
	srv := &http.Server{Handler: sink, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
		tc.Close()
	}()
	return base, nil
}
