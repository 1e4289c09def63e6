package contract

import "time"

// The app watcher's payloads.

// WatchMember is the payload of SignalWatchRegister: a customer workflow (or the reconciler)
// wakes its app's watcher. The watcher keeps no members: it finds the owner of every
// connection in visibility by its add-on.
type WatchMember struct {
	WorkflowID   string `json:"workflow_id"`
	ConnectionID string `json:"connection_id,omitempty"`
	// Waiting marks a customer who has not authorized yet: the watcher reads at the waiting
	// pace for at least one pass.
	Waiting bool `json:"waiting,omitempty"`
}

// WatcherInput starts (or continues) the watcher of one app. Its queue and pace are the
// worker's settings, never its input. The watcher carries only where it is in its pass over
// the app and what it has told: Offset is where the next page starts; PassStart and
// LastPassStart when this pass and the one before began (a connection authorized after the
// one before began, less a margin, is news); Reported the authorizations told within that
// margin; Unhealthy the connections told of a state that needs someone (bounded by such
// connections, forgotten when a pass no longer finds them so).
type WatcherInput struct {
	App string `json:"app"`
	// RegionURL is where the app's connections live; empty when the reconciler started the
	// watcher (it is discovered then).
	RegionURL     string               `json:"region_url,omitempty"`
	Offset        int                  `json:"offset,omitempty"`
	PassStart     time.Time            `json:"pass_start,omitzero"`
	LastPassStart time.Time            `json:"last_pass_start,omitzero"`
	Reported      map[string]time.Time `json:"reported,omitempty"`
	Unhealthy     map[string]string    `json:"unhealthy,omitempty"`
	// SeenCount is the app's connection count at the last page read: a smaller count at the
	// next read means connections were removed, shifting unread ones onto pages already read.
	SeenCount int `json:"seen_count,omitempty"`
}

// WatchStatus is what a watcher answers to QueryWatch.
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
