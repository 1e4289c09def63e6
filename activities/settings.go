package activities

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Settings are the operational knobs of every customer workflow and watcher. They belong to
// the worker's configuration, not to a start request: anyone with namespace access can start
// a workflow, and one customer's input must not pace the shared watcher, move Heroku calls to
// a queue nobody throttles, or spend the account's budget. Workflows read them once per run
// through the WorkerSettings local activity, so the value is recorded in history and replays.
type Settings struct {
	// HerokuTaskQueue is where every Heroku call runs (rate limited to the account budget).
	HerokuTaskQueue string `json:"heroku_task_queue"`
	// PollInterval paces the add-on state polls.
	PollInterval time.Duration `json:"poll_interval"`
	// WatchWaitingInterval and WatchActiveInterval pace each watcher's read of its app.
	WatchWaitingInterval time.Duration `json:"watch_waiting_interval"`
	WatchActiveInterval  time.Duration `json:"watch_active_interval"`
	// WatchShards spreads an app's customers over this many watchers.
	WatchShards int `json:"watch_shards"`
	// ContinueAsNewAfter continues a customer workflow once its history has this many
	// events; 0 follows Temporal's suggestion.
	ContinueAsNewAfter int `json:"continue_as_new_after,omitempty"`
	// ReturnHosts are the hosts a customer may be sent back to (they receive the signed
	// return state): "host" (any port) or "host:port"; empty allows none.
	ReturnHosts []string `json:"return_hosts,omitempty"`
	// ReconcileInterval paces each integration's reconciler; ReconcileGrace is how old an
	// add-on of ours that no live customer owns must be before the reconciler destroys it
	// (a customer may be about to adopt one whose create answer was lost).
	ReconcileInterval time.Duration `json:"reconcile_interval,omitempty"`
	ReconcileGrace    time.Duration `json:"reconcile_grace,omitempty"`
	// WebhookWait, when set, says Heroku's app webhooks (api:addon) reach this worker: a new
	// add-on waits this long for the webhook that says it is provisioned before it is
	// polled, so provisioning costs no Heroku call.
	WebhookWait time.Duration `json:"webhook_wait,omitempty"`
}

// Bounds of the settings: a value outside them is a configuration error at start-up.
const (
	MinPollInterval  = 100 * time.Millisecond
	MinWatchInterval = 100 * time.Millisecond
	MaxWatchShards   = 64
)

// DefaultSettings are the production defaults.
func DefaultSettings() Settings {
	return Settings{HerokuTaskQueue: "heroku", PollInterval: 2 * time.Second, WatchWaitingInterval: 30 * time.Second,
		WatchActiveInterval: 5 * time.Minute, WatchShards: 4, ReconcileInterval: time.Hour, ReconcileGrace: time.Hour}
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
	case s.WatchShards < 1 || s.WatchShards > MaxWatchShards:
		return fmt.Errorf("watch shards must be between 1 and %d", MaxWatchShards)
	case s.ContinueAsNewAfter != 0 && s.ContinueAsNewAfter < 50:
		return fmt.Errorf("continue-as-new threshold must be 0 or at least 50 events")
	case s.ReconcileInterval != 0 && s.ReconcileInterval < time.Second:
		return fmt.Errorf("reconcile interval must be at least 1s")
	case s.ReconcileGrace < 0:
		return fmt.Errorf("reconcile grace period must not be negative")
	case s.WebhookWait < 0 || s.WebhookWait > time.Hour:
		return fmt.Errorf("webhook wait must be between 0 and 1h")
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

// WorkerSettings returns this worker's settings. Workflows call it as a local activity.
func (a *Activities) WorkerSettings(ctx context.Context) (Settings, error) {
	s := a.Settings
	if s.HerokuTaskQueue == "" {
		s = DefaultSettings()
		s.ReturnHosts = a.Settings.ReturnHosts
	}
	return s, nil
}
