// Command worker is the onboarding worker: it dials Temporal, runs the workflows and the
// non-Heroku activities on the onboarding task queue and the Heroku activities on the
// heroku task queue (rate limited by the server to the account's Heroku budget), and serves
// /healthz and Prometheus /metrics.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/uber-go/tally/v4"
	prom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
	"go.temporal.io/sdk/worker"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/config"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/logging"
	"github.com/connect-onboarding/worker/internal/temporalclient"
	"github.com/connect-onboarding/worker/workflows"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help") {
		fmt.Println("worker: runs the Heroku Connect onboarding workflows and activities.\n\nSettings, from the environment:")
		_ = config.Usage(os.Stdout, &config.Worker{})
		return
	}
	var cfg config.Worker
	if err := config.Load(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, "worker: configuration:", err)
		os.Exit(2)
	}
	log := logging.New(os.Stderr, cfg.Level, cfg.Format).With().Str("component", "worker").Logger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error().Err(err).Msg("worker stopped with an error")
		os.Exit(1)
	}
}

// run serves until ctx ends, then drains in-flight tasks within the stop timeout.
func run(ctx context.Context, cfg config.Worker, log zerolog.Logger) error {
	if cfg.Token == "" {
		return errors.New("HEROKU_API_TOKEN is not set: the worker cannot call Heroku (make run sets it for the simulator)")
	}
	reporter := prom.NewReporter(prom.Options{})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter: reporter, Separator: prom.DefaultSeparator, SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	defer closer.Close()
	metrics := sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope))

	tc, err := temporalclient.Dial(cfg.Temporal, log, metrics)
	if err != nil {
		return err
	}
	defer tc.Close()
	hc, err := heroku.New(heroku.Options{PlatformURL: cfg.PlatformURL, ConnectURL: cfg.ConnectURL, Token: cfg.Token.Reveal(), Timeout: cfg.Heroku.Timeout})
	if err != nil {
		return err
	}
	acts := &activities.Activities{Heroku: hc, Temporal: tc, StateKey: []byte(cfg.StateKey.Reveal())}

	onboarding := worker.New(tc, cfg.OnboardingQueue, worker.Options{WorkerStopTimeout: cfg.StopTimeout})
	workflows.Register(onboarding)
	activities.RegisterOnboarding(onboarding, acts)
	herokuWorker := worker.New(tc, cfg.HerokuQueue, worker.Options{
		WorkerStopTimeout: cfg.StopTimeout,
		// The server enforces this across every worker on the queue: the account's budget
		// holds however many worker processes run.
		TaskQueueActivitiesPerSecond: float64(cfg.CallsPerHour) / 3600,
	})
	activities.RegisterHeroku(herokuWorker, acts)

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (WORKER_HTTP_ADDR): %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{Handler: handler(tc, reporter.HTTPHandler()), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	if err := onboarding.Start(); err != nil {
		return fmt.Errorf("start onboarding worker: %w", err)
	}
	if err := herokuWorker.Start(); err != nil {
		onboarding.Stop()
		return fmt.Errorf("start heroku worker: %w", err)
	}
	log.Info().Str("temporal", cfg.Address).Str("namespace", cfg.Namespace).Str("onboarding_queue", cfg.OnboardingQueue).
		Str("heroku_queue", cfg.HerokuQueue).Str("heroku", cfg.PlatformURL).Str("http", ln.Addr().String()).Msg("worker started")
	<-ctx.Done()
	log.Info().Dur("stop_timeout", cfg.StopTimeout).Msg("stopping: draining in-flight tasks")
	herokuWorker.Stop()
	onboarding.Stop()
	log.Info().Msg("worker stopped")
	return nil
}

// handler serves /healthz (Temporal reachable) and /metrics.
func handler(tc client.Client, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if _, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			http.Error(w, "temporal unreachable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", metrics)
	return mux
}
