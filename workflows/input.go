package workflows

import (
	"fmt"
	"regexp"
	"time"
)

// Modes of onboarding.
const (
	ModeProvision = "provision" // create a new herokuconnect:enterprise add-on on the ISV app
	ModeEnroll    = "enroll"    // associate an existing Connect add-on with the integration
)

// Salesforce environments of an authorization.
const (
	EnvProduction = "production" // login.salesforce.com
	EnvSandbox    = "sandbox"    // test.salesforce.com (the default)
	EnvCustom     = "custom"     // the customer's My Domain
)

// Salesforce binds the authorization to the customer's org and integration user.
type Salesforce struct {
	OrgID       string `json:"sf_org_id"`
	Username    string `json:"sf_username"`
	Environment string `json:"environment,omitempty"` // production | sandbox (default) | custom
	Domain      string `json:"domain,omitempty"`      // My Domain login URL, required for custom
	APIVersion  string `json:"api_version,omitempty"` // e.g. "66.0"; Heroku's latest when empty
}

// ConnectionOptions tune timing; zero values take the defaults below.
type ConnectionOptions struct {
	// AuthorizationTimeout bounds each wait for the customer (default 7 days).
	AuthorizationTimeout time.Duration `json:"authorization_timeout,omitempty"`
	// MaxMismatches is how many sign-ins as the wrong org or user are tolerated before the
	// onboarding fails (default 3).
	MaxMismatches int `json:"max_mismatches,omitempty"`
	// URLRefreshMargin reissues the URL this long before it expires (default 1h).
	URLRefreshMargin time.Duration `json:"url_refresh_margin,omitempty"`
	// PollInterval paces the add-on state polls done by activity retries (default 2s).
	PollInterval time.Duration `json:"poll_interval,omitempty"`
	// HerokuTaskQueue is where Heroku activities run (default "heroku").
	HerokuTaskQueue string `json:"heroku_task_queue,omitempty"`
	// WatchWaitingInterval and WatchActiveInterval pace the app watcher (30s and 5m).
	WatchWaitingInterval time.Duration `json:"watch_waiting_interval,omitempty"`
	WatchActiveInterval  time.Duration `json:"watch_active_interval,omitempty"`
	// WatchShards spreads an app's customers over this many watchers (default 4): each
	// reads the app once per interval, and each carries only its share of the customers.
	WatchShards int `json:"watch_shards,omitempty"`
	// ContinueAsNewAfter continues the workflow as new once its history has this many
	// events (default: when Temporal suggests it).
	ContinueAsNewAfter int `json:"continue_as_new_after,omitempty"`
}

// ConnectionInput starts a customer connection workflow.
type ConnectionInput struct {
	ISVSlug    string            `json:"isv_slug"`
	CustomerID string            `json:"customer_id"`
	Mode       string            `json:"mode"`
	App        string            `json:"app,omitempty"`   // provision: the ISV app
	Addon      string            `json:"addon,omitempty"` // enroll: the add-on's ID or name
	Schema     string            `json:"schema,omitempty"`
	DBKey      string            `json:"db_key,omitempty"`
	Salesforce Salesforce        `json:"salesforce"`
	ReturnURL  string            `json:"return_url,omitempty"`
	Options    ConnectionOptions `json:"options,omitzero"`
	// Carry is set only by continue-as-new: the state of the previous run.
	Carry *Carry `json:"carry,omitempty"`
}

// Carry is what a run hands to its continuation.
type Carry struct {
	Status        Status         `json:"status"`
	Compensations []Compensation `json:"compensations"`
}

// Compensation is one undo step, recorded when its step succeeded.
type Compensation struct {
	Kind  string   `json:"kind"` // "destroy_addon"
	Addon AddonRef `json:"addon"`
}

var (
	// SlugPattern is a partner integration slug: 3-30 lower-case letters, digits and single
	// dashes, starting with a letter.
	// (the length, 3-30, is checked apart: see ValidSlug).
	SlugPattern       = regexp.MustCompile(`^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$`)
	customerIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$`)
	appPattern        = regexp.MustCompile(`^[a-z][a-z0-9-]{1,28}[a-z0-9]$`)
	addonNamePattern  = regexp.MustCompile(`^[a-zA-Z][A-Za-z0-9_-]{1,99}$`)
	addonIDPattern    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	schemaPattern     = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	dbKeyPattern      = regexp.MustCompile(`^[A-Z][A-Z0-9_]*_URL$`)
)

// WithDefaults fills the optional fields: the schema from the customer ID, DATABASE_URL,
// the sandbox environment and the timing defaults.
func (in ConnectionInput) WithDefaults() ConnectionInput {
	if in.Schema == "" {
		in.Schema = DefaultSchema(in.CustomerID)
	}
	if in.DBKey == "" {
		in.DBKey = "DATABASE_URL"
	}
	if in.Salesforce.Environment == "" {
		in.Salesforce.Environment = EnvSandbox
	}
	o := &in.Options
	if o.AuthorizationTimeout == 0 {
		o.AuthorizationTimeout = 7 * 24 * time.Hour
	}
	if o.MaxMismatches == 0 {
		o.MaxMismatches = 3
	}
	if o.URLRefreshMargin == 0 {
		o.URLRefreshMargin = time.Hour
	}
	if o.PollInterval == 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.HerokuTaskQueue == "" {
		o.HerokuTaskQueue = HerokuTaskQueue
	}
	if o.WatchWaitingInterval == 0 {
		o.WatchWaitingInterval = 30 * time.Second
	}
	if o.WatchActiveInterval == 0 {
		o.WatchActiveInterval = 5 * time.Minute
	}
	if o.WatchShards == 0 {
		o.WatchShards = 4
	}
	return in
}

// String keeps secrets and personal data out of logs: only the keys.
func (in ConnectionInput) String() string {
	return fmt.Sprintf("connection %s/%s (%s)", in.ISVSlug, in.CustomerID, in.Mode)
}
