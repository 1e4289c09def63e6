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
}
