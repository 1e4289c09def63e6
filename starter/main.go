// Command starter drives onboarding from a terminal and serves the HTTP API for backend
// services not written in Go. Its commands mirror the Heroku CLI where one exists:
//
//	starter partner create SLUG --team T --isv-name N --description D --docs-url U --contact-email E --logo-file F
//	starter partner update SLUG [--description D] [--docs-url U] [--contact-email E] [--logo-file F]
//	starter partner info SLUG [--refresh]
//	starter partner deactivate SLUG --team T [--confirm SLUG]
//	starter onboard --isv SLUG --customer ID (--app APP | --addon ADDON) --org-id ORG --username USER [--wait]
//	starter status|reauthorize|reissue|offboard --isv SLUG --customer ID
//	starter list --isv SLUG [--stage STAGE]
//	starter serve
//
// Every command takes --json. Settings (Temporal address, API tokens, keys) come from the
// environment; `starter -h` lists them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/connect-onboarding/worker/internal/config"
	"github.com/connect-onboarding/worker/internal/logging"
	"github.com/connect-onboarding/worker/internal/logo"
	"github.com/connect-onboarding/worker/internal/payloadcrypt"
	"github.com/connect-onboarding/worker/internal/temporalclient"
	"github.com/connect-onboarding/worker/internal/tracing"
	"github.com/connect-onboarding/worker/starter/onboarding"
)

const usage = `starter: drive Heroku Connect onboarding.

Commands:
  partner create SLUG --team T --isv-name N --description D --docs-url URL --contact-email E --logo-file FILE [--mappings-file FILE]
  partner update SLUG [--description D] [--docs-url URL] [--contact-email E] [--logo-file FILE] [--mappings-file FILE]
  partner info SLUG [--refresh]
  partner adopt SLUG         register an integration that already exists on Heroku
  partner deactivate SLUG --team T [--confirm SLUG]
  onboard --isv SLUG --customer ID (--app APP | --addon ADDON) --org-id ORG --username USER [flags] [--wait]
  status --isv SLUG --customer ID
  list --isv SLUG [--stage STAGE]
  health --isv SLUG [--customer ID]  an integration's onboardings by stage and who needs attention,
                             or one customer's connection health read from Heroku now
  reissue --isv SLUG --customer ID
  reauthorize --isv SLUG --customer ID
  offboard --isv SLUG --customer ID
  endpoints add|list|update|rotate-secret|secret|test|deliveries|redeliver SLUG ...
                             where lifecycle events go (starter endpoints -h)
  serve                      the HTTP API, the customer return endpoint and connect links
  keys new --name N --scope S  a scoped API key for starter serve: the token once, and its key file line

Every command takes --json. Run "starter COMMAND -h" for its flags.

Settings, from the environment:
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: the tests call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		_ = config.Usage(stdout, &config.Starter{})
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var cfg config.Starter
	if err := config.Load(&cfg); err != nil {
		fmt.Fprintln(stderr, "starter: configuration:", err)
		return 2
	}
	log := logging.New(stderr, cfg.Level, cfg.Format).With().Str("component", "starter").Logger()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, shutdownTracing, err := tracing.Setup(ctx, "connect-onboarding-starter")
	if err != nil {
		fmt.Fprintln(stderr, "starter: tracing (OTEL_*):", err)
		return 1
	}
	defer func() { // a command's spans are sent before it exits
		flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = shutdownTracing(flush)
	}()
	tc, err := temporalclient.Lazy(cfg.Temporal, log, nil) // dials on the first call: help and input checks need no server
	if err != nil {
		fmt.Fprintln(stderr, "starter:", err)
		return 1
	}
	defer tc.Close()
	c := onboarding.New(tc, cfg.OnboardingQueue, cfg.HerokuQueue)
	if ring, err := cfg.Temporal.PayloadRing(); err == nil {
		c.Payloads = payloadcrypt.DataConverter(ring) // the client's own: it read the same ring
	}
	c.CheckLogo = logo.Valid // the worker's image check, before anything is sent
	c.Events = onboarding.Events{Key: cfg.Events.Key(), TaskQueue: cfg.EventsQueue, LinkKey: []byte(cfg.StateKey.Reveal()), LinkBase: cfg.ConnectLinkBase()}
	app := &cli{c: c, cfg: cfg, log: log, in: stdin, out: stdout, errOut: stderr}
	err = app.dispatch(ctx, args)
	var ue usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "starter:", err)
		return 2
	default:
		app.fail(err)
		return 1
	}
}
