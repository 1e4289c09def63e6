package contract

import (
	"time"
)

// The Connect access coordinator's payloads. One coordinator per ISV app does, for every
// customer of the app at once, the two Heroku Connect calls each onboarding used to make on
// its own before its schema can be set: the join of the account's user to the access list
// of the app's add-ons, and the discovery of a new add-on's connection.

// AccessWorkflowID is the business key of the one coordinator of an ISV app:
// connect-access/<app>.
func AccessWorkflowID(app string) string { return "connect-access/" + app }

// AccessInput starts (or continues) the coordinator of one app. JoinedAt is when its last
// join was asked: an add-on that existed then is on the list (see docs/heroku-api.md).
type AccessInput struct {
	App      string    `json:"app"`
	JoinedAt time.Time `json:"joined_at,omitzero"`
	// Waiting and Answers are carried over by a run that continued as new (at most
	// AccessCarryMax of each); a request not carried is asked again by its activity.
	Waiting []ConnectionWanted `json:"waiting,omitempty"`
	Answers []AccessAnswer     `json:"answers,omitempty"`
}

// AccessCarryMax bounds what a coordinator carries into its next run.
const AccessCarryMax = 1000

// ConnectionWanted is the payload of SignalConnectionWanted: a customer's add-on, by name,
// known to exist since Since (provisioned or looked up), whose connection it needs.
type ConnectionWanted struct {
	Addon   string    `json:"addon"`
	ISVSlug string    `json:"isv_slug"` // whose share of the budget the calls are
	Since   time.Time `json:"since"`
}

// Validate checks a request before the coordinator takes it: anyone with namespace access
// can send one, and a request costs Heroku calls.
func (c ConnectionWanted) Validate() error {
	v := &ValidationError{}
	if !addonNamePattern.MatchString(c.Addon) {
		v.Add("addon", "must be an add-on name (a letter, then 1-99 letters, digits, dashes or underscores)")
	}
	if !ValidSlug(c.ISVSlug) {
		v.Add("isv_slug", "must be 3-30 lower-case letters, digits and single dashes, starting with a letter")
	}
	if c.Since.IsZero() {
		v.Add("since", "is required: when the add-on was known to exist")
	}
	return v.Err()
}

// The states of an AccessAnswer.
const (
	AccessUnknown = "unknown" // no request of this add-on (or it was not carried over): ask again
	AccessWaiting = "waiting"
	AccessFound   = "found"
	AccessFailed  = "failed"
)

// AccessAnswer is what the coordinator knows of one add-on's request (QueryConnectionAnswer).
// Since is the request's, as the asker sent it: an answer counts only for a request of that
// time or earlier, so a later request (a new add-on of the same name) is never answered by
// an older read.
type AccessAnswer struct {
	Addon      string        `json:"addon"`
	State      string        `json:"state"`
	Since      time.Time     `json:"since,omitzero"`
	Connection ConnectionRef `json:"connection,omitzero"`
	Error      string        `json:"error,omitempty"`
	At         time.Time     `json:"at,omitzero"` // when the round answered
}

// AccessStatus is what a coordinator answers to QueryAccess.
type AccessStatus struct {
	App         string    `json:"app"`
	Waiting     int       `json:"waiting"`     // add-ons whose connection is not found yet
	Connections int       `json:"connections"` // of the app, at the last page read
	Rounds      int       `json:"rounds"`      // in this run
	Joins       int       `json:"joins"`       // Heroku joins in this run
	Reads       int       `json:"reads"`       // Heroku discovery reads in this run
	Found       int       `json:"found"`       // connections handed out in this run
	Refused     int       `json:"refused"`     // requests dropped in this run (invalid, or too many waiting)
	JoinedAt    time.Time `json:"joined_at,omitzero"`
}

// ValidApp reports whether s can be a Heroku app name.
func ValidApp(s string) bool { return appPattern.MatchString(s) }
