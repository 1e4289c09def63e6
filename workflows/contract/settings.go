package contract

import (
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Settings are the worker's operational settings: the one type from the worker's
// environment (each field's variable, default and description are its tags, which
// internal/config reads) to the workflows, which load it once per run through the
// WorkerSettings local activity so the value is in history and replays. They belong to the
// worker, not to a start request: anyone with namespace access can start a workflow, and one
// customer's input must not pace the shared watcher, move Heroku calls to a queue nobody
// throttles, or spend the account's budget.
type Settings struct {
	// HerokuTaskQueue is where every Heroku call runs (rate limited to the account budget);
	// the worker sets it from TEMPORAL_HEROKU_TASK_QUEUE.
	HerokuTaskQueue string `json:"heroku_task_queue" ignored:"true"`
	// EventsTaskQueue is where the event streams and their deliveries run; the worker sets
	// it from TEMPORAL_EVENTS_TASK_QUEUE (settings recorded before it existed read as the
	// default: see Events).
	EventsTaskQueue string `json:"events_task_queue,omitempty" ignored:"true"`
	// PollInterval paces the add-on state polls (activity retries, no history per poll).
	PollInterval time.Duration `json:"poll_interval" envconfig:"WORKER_POLL_INTERVAL" default:"2s" desc:"pace of add-on state polls"`
	// WatchWaitingInterval and WatchActiveInterval pace each app watcher's read of its app.
	WatchWaitingInterval time.Duration `json:"watch_waiting_interval" envconfig:"WORKER_WATCH_WAITING_INTERVAL" default:"30s" desc:"watcher read interval while a customer waits"`
	WatchActiveInterval  time.Duration `json:"watch_active_interval" envconfig:"WORKER_WATCH_ACTIVE_INTERVAL" default:"5m" desc:"watcher read interval when all are active"`
	// ContinueAsNewAfter continues a customer workflow once its history has this many
	// events; 0 follows Temporal's suggestion.
	ContinueAsNewAfter int `json:"continue_as_new_after,omitempty" envconfig:"WORKER_CONTINUE_AS_NEW_AFTER" default:"0" desc:"history events before a customer workflow continues as new (0: Temporal's suggestion)"`
	// ReturnHosts are the hosts a customer may be sent back to (they receive the signed
	// return state): "host" (any port) or "host:port"; empty allows none.
	ReturnHosts []string `json:"return_hosts,omitempty" envconfig:"WORKER_RETURN_HOSTS" desc:"hosts (host or host:port, comma-separated) customers may be sent back to; none when empty"`
	// ReconcileInterval paces each integration's reconciler; ReconcileGrace is how old an
	// add-on of ours that no live customer owns must be before the reconciler destroys it
	// (a customer may be about to adopt one whose create answer was lost).
	ReconcileInterval time.Duration `json:"reconcile_interval,omitempty" envconfig:"WORKER_RECONCILE_INTERVAL" default:"1h" desc:"how often each integration's reconciler sweeps for orphaned add-ons"`
	ReconcileGrace    time.Duration `json:"reconcile_grace,omitempty" envconfig:"WORKER_RECONCILE_GRACE" default:"1h" desc:"how old an unowned add-on of ours must be before the reconciler destroys it"`
	// WebhookWait, when set, says Heroku's app webhooks (api:addon) reach this worker: a new
	// add-on waits this long for the webhook that says it is provisioned before it is
	// polled, so provisioning costs no Heroku call. The worker sets it from
	// WORKER_WEBHOOK_WAIT when HEROKU_WEBHOOK_SECRET is set.
	WebhookWait time.Duration `json:"webhook_wait,omitempty" ignored:"true"`
	// SyncCheck is how long after a template's import the first read of its mappings waits;
	// each read that finds them still loading doubles the wait, up to SyncCheckMax.
	// AttentionRecheck paces the reads of a customer that needs attention. Each is a Heroku
	// call at background priority.
	SyncCheck        time.Duration `json:"sync_check,omitempty" envconfig:"WORKER_SYNC_CHECK" default:"5s" desc:"wait before the first read of a new template's mappings"`
	SyncCheckMax     time.Duration `json:"sync_check_max,omitempty" envconfig:"WORKER_SYNC_CHECK_MAX" default:"5m" desc:"longest wait between reads of mappings still loading"`
	AttentionRecheck time.Duration `json:"attention_recheck,omitempty" envconfig:"WORKER_ATTENTION_RECHECK" default:"15m" desc:"wait between reads of a customer whose sync needs attention"`
}

// SyncPace is SyncCheck, SyncCheckMax and AttentionRecheck, with their defaults for
// settings recorded before they existed.
func (s Settings) SyncPace() (first, most, attention time.Duration) {
	first, most, attention = s.SyncCheck, s.SyncCheckMax, s.AttentionRecheck
	if first == 0 {
		first = 5 * time.Second
	}
	if most == 0 {
		most = 5 * time.Minute
	}
	if attention == 0 {
		attention = 15 * time.Minute
	}
	return first, most, attention
}

// Events is the events task queue: EventsTaskQueue, or the default when the settings were
// recorded before it existed.
func (s Settings) Events() string {
	if s.EventsTaskQueue == "" {
		return EventsTaskQueue
	}
	return s.EventsTaskQueue
}

// Bounds of the settings: a value outside them is a configuration error at start-up.
const (
	MinPollInterval  = 100 * time.Millisecond
	MinWatchInterval = 100 * time.Millisecond
)

// DefaultSettings are the production defaults: the default tags of Settings, on the
// default heroku task queue.
func DefaultSettings() Settings {
	s := Settings{HerokuTaskQueue: HerokuTaskQueue}
	v := reflect.ValueOf(&s).Elem()
	for i := 0; i < v.NumField(); i++ {
		def, ok := v.Type().Field(i).Tag.Lookup("default")
		if !ok {
			continue
		}
		switch f := v.Field(i); f.Interface().(type) {
		case time.Duration:
			d, err := time.ParseDuration(def)
			if err != nil {
				panic(fmt.Sprintf("contract.Settings: default %q: %v", def, err))
			}
			f.SetInt(int64(d))
		case int:
			n, err := strconv.Atoi(def)
			if err != nil {
				panic(fmt.Sprintf("contract.Settings: default %q: %v", def, err))
			}
			f.SetInt(int64(n))
		default:
			panic("contract.Settings: a default of an unsupported type")
		}
	}
	return s
}

// Validate names the first setting out of bounds.
func (s Settings) Validate() error {
	switch {
	case s.HerokuTaskQueue == "":
		return fmt.Errorf("heroku task queue must not be empty")
	case s.PollInterval < MinPollInterval:
		return fmt.Errorf("poll interval must be at least %s", MinPollInterval)
	case s.WatchWaitingInterval < MinWatchInterval || s.WatchActiveInterval < MinWatchInterval:
		return fmt.Errorf("watch intervals must be at least %s", MinWatchInterval)
	case s.ContinueAsNewAfter != 0 && s.ContinueAsNewAfter < 50:
		return fmt.Errorf("continue-as-new threshold must be 0 or at least 50 events")
	case s.ReconcileInterval != 0 && s.ReconcileInterval < time.Second:
		return fmt.Errorf("reconcile interval must be at least 1s")
	case s.ReconcileGrace < 0:
		return fmt.Errorf("reconcile grace period must not be negative")
	case s.WebhookWait < 0 || s.WebhookWait > time.Hour:
		return fmt.Errorf("webhook wait must be between 0 and 1h")
	case s.SyncCheck < 0 || s.SyncCheckMax < 0 || s.AttentionRecheck < 0 ||
		(s.SyncCheck != 0 && s.SyncCheck < time.Second) || (s.SyncCheckMax != 0 && s.SyncCheckMax < s.SyncCheck) ||
		(s.AttentionRecheck != 0 && s.AttentionRecheck < time.Second):
		return fmt.Errorf("sync checks must be at least 1s, and the longest at least the first")
	}
	for _, h := range s.ReturnHosts {
		if h == "" || strings.ContainsAny(h, "/@?#") {
			return fmt.Errorf("return host %q must be a bare host name (host or host:port)", h)
		}
	}
	return nil
}

// ReturnAllowed reports whether raw is a return URL the worker may hand the signed state to:
// https on a configured host (http only for a configured localhost host, for development),
// no user info and no fragment.
func (s Settings) ReturnAllowed(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return false
	}
	host := strings.ToLower(u.Host)
	local := u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1"
	if u.Scheme != "https" && !(u.Scheme == "http" && local) {
		return false
	}
	for _, h := range s.ReturnHosts {
		// "host:port" allows that port only; a bare "host" allows the host on any port.
		if strings.EqualFold(h, host) || strings.EqualFold(h, u.Hostname()) {
			return true
		}
	}
	return false
}
