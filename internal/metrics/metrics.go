// Package metrics names the worker's own Prometheus metrics, the one place each name, kind,
// label set and meaning is written: the code that emits a metric takes it from here,
// docs/metrics.md lists them (a test holds the two together), and the Prometheus rules in
// docker/prometheus/ are written against these names (a test checks that every connect_
// name they use is one of them, and that the README's alert table names every alert).
//
// Names are as Prometheus shows them, after the SDK's Prometheus naming (a counter gains
// _total); emitters pass the name without that suffix (Add and Set do).
package metrics

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/uber-go/tally/v4"
	prom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"

	"github.com/connect-onboarding/worker/internal/heroku"
)

// Kind is a metric's Prometheus type.
type Kind string

const (
	KindCounter Kind = "counter"
	KindGauge   Kind = "gauge"
)

// Metric describes one metric of the worker.
type Metric struct {
	Name   string // as Prometheus shows it
	Kind   Kind
	Labels []string // the worker's own; emitters in a workflow or activity also carry the SDK's namespace, task_queue and workflow_type/activity_type
	Help   string
	From   string // what emits it
}

// The worker's metrics.
var (
	HerokuRequests = Metric{Name: "connect_heroku_requests_total", Kind: KindCounter, Labels: []string{"op", "status"},
		Help: "Heroku API requests by operation and HTTP status (\"error\" when no answer came: a timeout or a refused connection). 429 is Heroku's rate limit.",
		From: "the Heroku client, every request"}
	HerokuRateLimitRemaining = Metric{Name: "connect_heroku_ratelimit_remaining", Kind: KindGauge,
		Help: "RateLimit-Remaining of Heroku's last answer: the account's budget left (4,500 when full; it refills about 75 a minute).",
		From: "the Heroku client, every answer that carries the header"}
	OrphanedAddons = Metric{Name: "connect_orphaned_addons_total", Kind: KindCounter, Labels: []string{"isv"},
		Help: "Add-ons a customer's cleanup gave up destroying (logged as ORPHANED ADD-ON): billed until someone destroys them or the reconciler does.",
		From: "the customer workflow's compensation"}
	CascadeFailures = Metric{Name: "connect_cascade_failures_total", Kind: KindCounter, Labels: []string{"isv", "reason"},
		Help: "Integration deactivations that gave up: reason deactivation_failed (Heroku refused; nothing was told to the customers: retry partner.deactivate) or customers_left (Heroku deactivated, but customers were still running when the cascade stopped: it runs again by itself, and partner.deactivate resumes it now).",
		From: "the partner workflow"}
	EventsNotEmitted = Metric{Name: "connect_events_not_emitted_total", Kind: KindCounter, Labels: []string{"isv"},
		Help: "Lifecycle events Temporal did not take for a day (logged as EVENT NOT EMITTED): lost to the ISV's endpoints.",
		From: "the customer workflow's event emission"}
	EventDeliveries = Metric{Name: "connect_event_deliveries_total", Kind: KindCounter, Labels: []string{"outcome"},
		Help: "Delivery attempts of lifecycle events to the ISV's endpoints, by the outcome the delivery log records: delivered, retrying (an attempt failed; another follows), failed (retries gave up: the endpoint is now failing), gone (410: disabled), skipped, refused.",
		From: "the delivery activities, each attempt and each delivery's end"}
	WatcherRounds = Metric{Name: "connect_watcher_rounds_total", Kind: KindCounter, Labels: []string{"app"},
		Help: "Rounds of reads the watcher of an app finished with every read answered (one every waiting interval while anyone waits, every active interval otherwise). A watcher moves between workers: sum over them.",
		From: "the watcher workflow, after each round"}
	WatcherIdles = Metric{Name: "connect_watcher_idles_total", Kind: KindCounter, Labels: []string{"app"},
		Help: "Times the watcher of an app found no connection to read and went idle (it ends after an hour of that): no round is due after it.",
		From: "the watcher workflow"}
	Customers = Metric{Name: "connect_customers", Kind: KindGauge, Labels: []string{"isv", "stage"},
		Help: "Running onboardings of an integration by stage, counted in Temporal's visibility by the integration's reconciler sweep.",
		From: "the reconciler's census, each sweep"}
	CustomersStartedDayAgo = Metric{Name: "connect_customers_started_over_a_day_ago", Kind: KindGauge, Labels: []string{"isv", "stage"},
		Help: "Of them, those whose run started more than 24 hours ago, in the stages of a first onboarding (validating to verifying): customers whose onboarding is taking long. A run continued as new counts from its continuation.",
		From: "the reconciler's census, each sweep"}
	CensusAt = Metric{Name: "connect_customers_census_timestamp_seconds", Kind: KindGauge, Labels: []string{"isv"},
		Help: "When the census above was taken (Unix seconds): with several workers, the newest census is the truth (the rules pick it).",
		From: "the reconciler's census, each sweep"}
	BuildCurrent = Metric{Name: "connect_worker_build_current", Kind: KindGauge, Labels: []string{"deployment", "build_id"},
		Help: "1 when this worker's build is its Worker Deployment's current version, 0 when it is not (a new build waiting to be ramped or made current, or an old one draining). Only versioned workers export it: when no worker reports 1, nothing runs the current build and no workflow moves.",
		From: "the worker, every 30 s"}
)

// All is every metric of the worker, in the order docs/metrics.md lists them.
var All = []Metric{HerokuRequests, HerokuRateLimitRemaining, OrphanedAddons, CascadeFailures, EventsNotEmitted, EventDeliveries,
	WatcherRounds, WatcherIdles, Customers, CustomersStartedDayAgo, CensusAt, BuildCurrent}

// NewPrometheus is the worker's metrics handler (the SDK's metrics and these) and the HTTP
// handler that serves them in Prometheus' text format; close flushes and stops it.
//
// Label values keep dashes, dots and spaces (Prometheus allows any text in a value): an
// integration's slug, an app's name and a Heroku operation read as they are written, so an
// alert's labels can be pasted into a command. Names and label names follow Prometheus'
// rule, as the SDK's defaults do.
func NewPrometheus() (client.MetricsHandler, http.Handler, io.Closer) {
	opts := sdktally.PrometheusSanitizeOptions
	opts.ValueCharacters = tally.ValidCharacters{Ranges: tally.AlphanumericRange, Characters: []rune{'_', '-', '.', ' '}}
	reporter := prom.NewReporter(prom.Options{})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{CachedReporter: reporter, Separator: prom.DefaultSeparator, SanitizeOptions: &opts}, time.Second)
	return sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)), reporter.HTTPHandler(), closer
}

// EmitName is the name an emitter passes: the SDK's Prometheus naming adds _total to a
// counter.
func (m Metric) EmitName() string { return strings.TrimSuffix(m.Name, "_total") }

// Add counts n on handler h (a workflow's, an activity's or the worker's) with the labels
// given as name, value pairs.
func (m Metric) Add(h client.MetricsHandler, n int64, labels ...string) {
	if h == nil {
		return
	}
	m.tagged(h, labels).Counter(m.EmitName()).Inc(n)
}

// Set sets the gauge on handler h with the labels given as name, value pairs.
func (m Metric) Set(h client.MetricsHandler, v float64, labels ...string) {
	if h == nil {
		return
	}
	m.tagged(h, labels).Gauge(m.EmitName()).Update(v)
}

func (m Metric) tagged(h client.MetricsHandler, labels []string) client.MetricsHandler {
	if len(labels) == 0 {
		return h
	}
	tags := make(map[string]string, len(labels)/2)
	for i := 0; i+1 < len(labels); i += 2 {
		tags[labels[i]] = labels[i+1]
	}
	return h.WithTags(tags)
}

// HerokuObserver counts the Heroku client's requests and keeps its budget gauge on h (the
// worker's root handler): heroku.Options.Observe.
func HerokuObserver(h client.MetricsHandler) func(context.Context, heroku.Exchange) {
	return func(_ context.Context, e heroku.Exchange) {
		status := "error"
		if e.Status != 0 {
			status = strconv.Itoa(e.Status)
		}
		HerokuRequests.Add(h, 1, "op", e.Op, "status", status)
		if e.Remaining >= 0 {
			HerokuRateLimitRemaining.Set(h, float64(e.Remaining))
		}
	}
}
