// Command devstack is `make run`: the Temporal dev server, herokusim (unless HEROKU_API_URL
// names a real Heroku) and the worker in one terminal. Ctrl-C stops them all.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"golang.org/x/term"

	"github.com/connect-onboarding/worker/internal/devstack"
)

func main() {
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
    State            %s (survives a restart; delete it to start fresh)

  Next, in another terminal:  make demo      (a partner integration and a customer, end to end)
  Ctrl-C stops everything.

`, s.UIURL, s.TemporalAddress, heroku, s.WorkerURL, opts.DataDir)
	select {
	case <-ctx.Done():
		fmt.Println("\nstopping…")
	case name := <-s.Exited():
		fmt.Fprintf(os.Stderr, "make run: %s exited; stopping the rest\n", name)
	}
	s.Stop()
}
