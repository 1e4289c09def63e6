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
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/config"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/herokuhooks"
	"github.com/connect-onboarding/worker/internal/logging"
	"github.com/connect-onboarding/worker/internal/metrics"
	"github.com/connect-onboarding/worker/internal/runworker"
	"github.com/connect-onboarding/worker/internal/temporalclient"
	"github.com/connect-onboarding/worker/internal/tracing"
	"github.com/connect-onboarding/worker/workflows/contract"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help") {
		fmt.Println("worker: runs the Heroku Connect onboarding workflows and activities.\n`worker codec-server` serves the payload codec to the Temporal Web UI (`worker codec-server -h`);\n`worker new-payload-key ID` prints a new entry for PAYLOAD_KEYS.\n\nSettings, from the environment:")
		_ = config.Usage(os.Stdout, &config.Worker{})
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "new-payload-key" {
		os.Exit(newPayloadKey(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "codec-server" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := codecServer(ctx, os.Args[2:])
		stop()
		os.Exit(code)
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
	traced, shutdownTracing, err := tracing.Setup(ctx, "connect-onboarding-worker")
	if err != nil {
		return fmt.Errorf("tracing (OTEL_*): %w", err)
	}
	defer func() {
		flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = shutdownTracing(flush)
	}()
	metricsHandler, metricsHTTP, closer := metrics.NewPrometheus()
	defer closer.Close()

	copts, err := temporalclient.Options(cfg.Temporal, log, metricsHandler)
	if err != nil {
		return err
	}
	tc, err := temporalclient.DialOptions(copts)
	if err != nil {
		return err
	}
	defer tc.Close()
	if ring, _ := cfg.PayloadRing(); ring.Empty() {
		log.Warn().Msg("PAYLOAD_KEYS is not set: payloads (customers' Salesforce identities included) are stored in Temporal in clear")
	} else {
		log.Info().Str("active_key", ring.ActiveID()).Int("keys", len(ring.IDs())).Msg("payloads encrypted (AES-256-GCM)")
	}
	hc, err := heroku.New(heroku.Options{PlatformURL: cfg.PlatformURL, ConnectURL: cfg.ConnectURL, Token: cfg.Token.Reveal(), Timeout: cfg.Heroku.Timeout,
		Observe: observeHeroku(metrics.HerokuObserver(metricsHandler))})
	if err != nil {
		return err
	}
	acts := &activities.Activities{Heroku: hc, Temporal: tc, StateKey: []byte(cfg.StateKey.Reveal()), Settings: cfg.WorkflowSettings(),
		Payloads: copts.DataConverter, Events: activities.Events{Key: cfg.Events.Key(), ConnectLinkBase: cfg.ConnectLinkBase(), AllowLoopback: cfg.AllowLoopback, AllowPrivate: cfg.AllowPrivate}}
	if len(acts.Events.Key) == 0 {
		log.Warn().Msg("no EVENTS_SECRET_KEY: events to the ISV's endpoints wait (queued, nothing lost) until it is set")
	}

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (WORKER_HTTP_ADDR): %w", cfg.HTTPAddr, err)
	}
	dep, err := deployment(cfg.Deployment)
	if err != nil {
		return err
	}
	var ready atomic.Bool
	srv := &http.Server{Handler: handler(tc, &ready, metricsHTTP, cfg.WebhookSecret.Reveal(), log), ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, MaxHeaderBytes: 16 << 10}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	if err := checkSearchAttributes(ctx, tc, copts.Namespace, log); err != nil {
		return err
	}
	// Process-wide and before any worker starts: bounded memory however many customers wait.
	worker.SetStickyWorkflowCacheSize(cfg.CacheSize)
	workers, err := runworker.Start(tc, acts, runworker.Options{OnboardingQueue: cfg.OnboardingQueue, CallsPerHour: cfg.CallsPerHour,
		StopTimeout: cfg.StopTimeout, Deployment: dep})
	if err != nil {
		return err
	}
	defer func() {
		workers.Stop()
		log.Info().Msg("worker stopped")
	}()
	takeWork(ctx, tc, workers, dep, cfg.BecomeCurrent, log)
	ready.Store(true)
	go watchRouting(ctx, tc, dep, metricsHandler, log)
	log.Info().Bool("tracing", traced).Str("deployment_version", dep.String()).Str("temporal", cfg.Connection.Address()).Str("namespace", cfg.Connection.Namespace()).Str("onboarding_queue", cfg.OnboardingQueue).
		Str("heroku_queue", cfg.HerokuQueue).Str("heroku", cfg.PlatformURL).Str("http", ln.Addr().String()).Msg("worker started")
	<-ctx.Done()
	log.Info().Dur("stop_timeout", cfg.StopTimeout).Msg("stopping: draining in-flight tasks")
	return nil
}

// deployment is the worker's Worker Deployment Version, or the zero one when unversioned.
func deployment(d config.Deployment) (runworker.Deployment, error) {
	if !d.Versioning {
		return runworker.Deployment{}, nil
	}
	id := d.BuildID
	if id == "" {
		var err error
		if id, err = runworker.BuildID(); err != nil {
			return runworker.Deployment{}, err
		}
	}
	return runworker.Deployment{Name: d.Name, BuildID: id}, nil
}

// takeWork waits until the server knows a versioned worker's version with all its task
// queues (then it can be ramped or made current), makes the build its deployment's current
// version as WORKER_BECOME_CURRENT says (when-none: the first deploy; always: every start) and
// says where work goes. /healthz answers 503 until it returns, so a deployment's readiness
// check, and an operator's next command, wait for both. What it cannot do (a namespace whose
// deployments this worker may not manage, a refusal, a server that does not answer for five
// minutes) is logged and left to an operator: the worker polls all the same, and
// connect_worker_build_current says whether its build takes work.
func takeWork(ctx context.Context, tc client.Client, workers *runworker.Workers, dep runworker.Deployment, policy string, log zerolog.Logger) {
	if dep == (runworker.Deployment{}) {
		log.Info().Msg("unversioned worker (WORKER_VERSIONING=false): it takes the unversioned tasks of its queues")
		return
	}
	// A server just restarted may take a while to answer for its deployments.
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := workers.WaitRegistered(wctx, tc); err != nil {
		log.Error().Err(err).Str("deployment_version", dep.String()).Msg("could not see this build's version registered: ramp or set it current with `temporal worker deployment` commands once `describe-version` lists its task queues")
		return
	}
	if policy == config.BecomeCurrentNever {
		log.Info().Str("deployment_version", dep.String()).Msg("versioned worker; it takes work once an operator ramps it or sets it current (WORKER_BECOME_CURRENT=never)")
		return
	}
	current, err := runworker.BecomeCurrent(wctx, tc, dep, policy == config.BecomeCurrentWhenNone)
	switch {
	case err != nil:
		log.Error().Err(err).Str("deployment_version", dep.String()).Msg("could not settle the deployment's current version: set it with `temporal worker deployment set-current-version`")
	case current == dep.BuildID:
		log.Info().Str("deployment_version", dep.String()).Msg("this build is the deployment's current version")
	case current == "":
		log.Warn().Str("deployment_version", dep.String()).Msg("the deployment's current version is unversioned workers (an operator's choice): this build takes work once ramped or set current")
	default:
		log.Info().Str("deployment_version", dep.String()).Str("current_build_id", current).
			Msg("another build is current: this one takes work once an operator ramps it or sets it current (README, Upgrading)")
	}
}

// watchRouting keeps connect_worker_build_current of a versioned worker, every 30 s until ctx
// ends, and warns each minute while its build is not current: a new build that replaced the
// current one's workers without being made current leaves every workflow waiting.
func watchRouting(ctx context.Context, tc client.Client, dep runworker.Deployment, h client.MetricsHandler, log zerolog.Logger) {
	if dep == (runworker.Deployment{}) {
		return
	}
	var warned time.Time
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		build, err := runworker.CurrentBuild(cctx, tc, dep.Name)
		current := err == nil && build == dep.BuildID
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			log.Debug().Err(err).Msg("could not read the worker deployment's routing")
		case err == nil:
			v := 0.0
			if current {
				v = 1
			} else if time.Since(warned) >= time.Minute {
				warned = time.Now()
				log.Warn().Str("deployment_version", dep.String()).Msg("this build is not the deployment's current version: it takes only ramped work; if no running worker is current, nothing moves (temporal worker deployment describe --name " + dep.Name + ")")
			}
			metrics.BuildCurrent.Set(h, v, "deployment", dep.Name, "build_id", dep.BuildID)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(30 * time.Second):
		}
	}
}

// observeHeroku counts a Heroku request and records it as a span of its activity's trace.
func observeHeroku(count func(context.Context, heroku.Exchange)) func(context.Context, heroku.Exchange) {
	return func(ctx context.Context, e heroku.Exchange) {
		count(ctx, e)
		tracing.HerokuSpan(ctx, e)
	}
}

// checkSearchAttributes stops the worker when the namespace lacks one of the search
// attributes the workflows set: upserting an unknown one fails every workflow task of the
// run, forever. A namespace the worker may not inspect is only warned about.
func checkSearchAttributes(ctx context.Context, tc client.Client, namespace string, log zerolog.Logger) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := tc.OperatorService().ListSearchAttributes(cctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		log.Warn().Err(err).Msg("could not list the namespace's search attributes; make sure they are registered (README, Production)")
		return nil
	}
	var missing []string
	for _, name := range contract.SearchAttributes() {
		if _, ok := resp.GetCustomAttributes()[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("namespace %s lacks the search attributes %s: register each with `temporal operator search-attribute create --namespace %s --name NAME --type Keyword`",
			namespace, strings.Join(missing, ", "), namespace)
	}
	return nil
}

// handler serves /healthz (Temporal reachable and the worker's routing settled), /metrics
// and, with a webhook secret, Heroku's app webhooks.
func handler(tc client.Client, ready *atomic.Bool, metrics http.Handler, webhookSecret string, log zerolog.Logger) http.Handler {
	mux := http.NewServeMux()
	if webhookSecret != "" {
		mux.Handle(herokuhooks.Path, herokuhooks.Handler(webhookSecret, tc))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if _, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			// This port may face the internet (Heroku's webhooks): the error's text, which
			// names Temporal's host and namespace, goes to the log only.
			log.Warn().Err(err).Msg("health check: Temporal unreachable")
			http.Error(w, "temporal unreachable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", metrics)
	return mux
}
