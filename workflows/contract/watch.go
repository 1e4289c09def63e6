package contract

import "time"

// The connection watcher's payloads.

// WatchMember is one customer workflow a watcher reports to: the payload of
// SignalWatchRegister.
type WatchMember struct {
	WorkflowID   string `json:"workflow_id"`
	ConnectionID string `json:"connection_id"`
	// Waiting marks a customer who has not authorized yet: the watcher polls faster.
	Waiting bool `json:"waiting"`
	// KnownState is the state the member last saw; the watcher reports changes from it.
	KnownState string `json:"known_state"`
	// KnownAuth is the auth_updated the member last saw; a newer one is reported too.
	KnownAuth time.Time `json:"known_auth,omitzero"`
}

// WatcherInput starts (or continues) the watcher of one app. From trust-guarantees on, its
// queue and pace are the worker's settings whatever the input says.
type WatcherInput struct {
	App             string                 `json:"app"`
	RegionURL       string                 `json:"region_url"`
	HerokuTaskQueue string                 `json:"heroku_task_queue"`
	WaitingInterval time.Duration          `json:"waiting_interval"`
	ActiveInterval  time.Duration          `json:"active_interval"`
	Members         map[string]WatchMember `json:"members,omitempty"`
	// IdleTimeout ends the watcher when nobody has been registered this long.
	IdleTimeout time.Duration `json:"idle_timeout"`
	// ContinueAsNewAfter continues as new after this many polls (default 500).
	ContinueAsNewAfter int `json:"continue_as_new_after,omitempty"`

	// From watch-from-truth on the watcher carries no members, only where it is in its pass
	// over the app and what it has told: Offset is where the next page starts; PassStart and
	// LastPassStart when this pass and the one before began (a connection authorized after
	// the one before began, less a margin, is news); Reported the authorizations told within
	// that margin; Unhealthy the connections told of a state that needs someone (bounded by
	// such connections, forgotten when a pass no longer finds them so).
	Offset        int                  `json:"offset,omitempty"`
	PassStart     time.Time            `json:"pass_start,omitzero"`
	LastPassStart time.Time            `json:"last_pass_start,omitzero"`
	Reported      map[string]time.Time `json:"reported,omitempty"`
	Unhealthy     map[string]string    `json:"unhealthy,omitempty"`
}

// WatchStatus is what a watcher from watch-from-truth on answers to QueryWatch.
type WatchStatus struct {
	App         string    `json:"app"`
	Connections int       `json:"connections"` // in the app, at the last page read
	Waiting     int       `json:"waiting"`     // waiting for a customer, in the last complete pass
	Unhealthy   int       `json:"unhealthy"`   // told of a state that needs someone
	Rounds      int       `json:"rounds"`      // in this run
	Pages       int       `json:"pages"`       // Heroku reads in this run
	Told        int       `json:"told"`        // signals sent in this run
	LastRound   time.Time `json:"last_round,omitzero"`
}
