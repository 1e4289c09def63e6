package contract

import (
	"fmt"
	"time"
)

// The customer connection workflow's payloads.

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

// ConnectionOptions are the per-customer options; zero values take the defaults of
// WithDefaults. The operational settings (queue, polling and watcher pace, continue-as-new)
// are the worker's (Settings): a start request that names one is refused.
type ConnectionOptions struct {
	// AuthorizationTimeout bounds each wait for the customer (default 7 days).
	AuthorizationTimeout time.Duration `json:"authorization_timeout,omitempty"`
	// MaxMismatches is how many sign-ins as the wrong org or user are tolerated before the
	// onboarding fails (default 3).
	MaxMismatches int `json:"max_mismatches,omitempty"`
	// URLRefreshMargin reissues the URL this long before it expires (default 1h).
	URLRefreshMargin time.Duration `json:"url_refresh_margin,omitempty"`
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
	// Mappings is this onboarding's own mapping template, instead of the integration's.
	Mappings *MappingTemplate `json:"mappings,omitempty"`
	// Carry is set only by continue-as-new: the state of the previous run.
	Carry *Carry `json:"carry,omitempty"`
}

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
	return in
}

// String keeps secrets and personal data out of logs: only the keys.
func (in ConnectionInput) String() string {
	return fmt.Sprintf("connection %s/%s (%s)", in.ISVSlug, in.CustomerID, in.Mode)
}

// Carry is what a run hands to its continuation.
type Carry struct {
	Status        Status         `json:"status"`
	Compensations []Compensation `json:"compensations"`
}

// CompensationDestroyAddon is the one kind of undo step: destroy the add-on onboarding
// created.
const CompensationDestroyAddon = "destroy_addon"

// Compensation is one undo step, recorded before its step runs.
type Compensation struct {
	Kind  string   `json:"kind"` // CompensationDestroyAddon
	Addon AddonRef `json:"addon"`
}

// AddonRef identifies an add-on and whether onboarding created it (only those are
// destroyed on compensation).
type AddonRef struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	App     string `json:"app"`
	Created bool   `json:"created"`
	// State is the add-on's state in Heroku's answer that made this reference (its create or
	// info), when there was one: "provisioned" needs no wait.
	State string `json:"state,omitempty"`
}

// Key is how Heroku finds the add-on: its ID, or its name before the ID is known (a
// compensation recorded before the create).
func (r AddonRef) Key() string {
	if r.ID != "" {
		return r.ID
	}
	return r.Name
}

// ConnectionRef identifies a Connect connection and where it lives.
type ConnectionRef struct {
	ID        string `json:"id"`
	RegionURL string `json:"region_url"`
}

// Stage is where a customer connection is in its life.
type Stage string

// Stages, in order; reauthorizing loops back through awaiting_authorization.
const (
	StageValidating            Stage = "validating"
	StageProvisioning          Stage = "provisioning"
	StageEnrolling             Stage = "enrolling"
	StageConfiguring           Stage = "configuring"
	StageAwaitingAuthorization Stage = "awaiting_authorization"
	StageVerifying             Stage = "verifying"
	StageConfiguringSync       Stage = "configuring_sync" // importing the mapping template
	StageSyncing               Stage = "syncing"          // waiting for every mapping's first sync
	StageActive                Stage = "active"
	StageNeedsAttention        Stage = "needs_attention" // a mapping failed or rows could not be written
	StageReauthorizing         Stage = "reauthorizing"
	StageCompensating          Stage = "compensating"
	StageOffboarded            Stage = "offboarded"
	StageFailed                Stage = "failed"
	StageDeactivated           Stage = "deactivated"
	StageCancelled             Stage = "cancelled"
)

// stages are every Stage, in order.
var stages = []Stage{StageValidating, StageProvisioning, StageEnrolling, StageConfiguring, StageAwaitingAuthorization,
	StageVerifying, StageConfiguringSync, StageSyncing, StageActive, StageNeedsAttention, StageReauthorizing, StageCompensating, StageOffboarded, StageFailed, StageDeactivated, StageCancelled}

// Known reports whether s is one of the stages.
func (s Stage) Known() bool {
	for _, k := range stages {
		if s == k {
			return true
		}
	}
	return false
}

// StageNames lists every stage, in order.
func StageNames() []string {
	out := make([]string, len(stages))
	for i, s := range stages {
		out[i] = string(s)
	}
	return out
}

// Terminal reports whether the stage is an end.
func (s Stage) Terminal() bool {
	switch s {
	case StageOffboarded, StageFailed, StageDeactivated, StageCancelled:
		return true
	}
	return false
}

// FirstOnboarding reports whether s is a stage of a customer's first way to active (an
// active customer given a new mapping template passes through configuring_sync and syncing
// again, so those are not).
func (s Stage) FirstOnboarding() bool {
	switch s {
	case StageValidating, StageProvisioning, StageEnrolling, StageConfiguring, StageAwaitingAuthorization, StageVerifying:
		return true
	}
	return false
}

// StartResult answers UpdateStart, UpdateReissueURL and UpdateReauthorize.
type StartResult struct {
	WorkflowID       string    `json:"workflow_id"`
	Stage            Stage     `json:"stage"`
	AuthorizationURL string    `json:"authorization_url,omitempty"`
	ExpiresAt        time.Time `json:"expires_at,omitzero"`
	// Attempt numbers the authorization URLs issued; a return signal names the attempt.
	Attempt int    `json:"attempt"`
	Error   string `json:"error,omitempty"` // why the workflow ended, when it did
	// ErrorType classifies Error: IntegrationInactive, HerokuFinal, AuthorizationTimeout, ...
	ErrorType string `json:"error_type,omitempty"`
	// Identity holds a short hash of each identity field the run was started with (org,
	// user, app, add-on, mode, schema), so a second start for the same customer with
	// different values is told apart without carrying personal data.
	Identity map[string]string `json:"identity,omitempty"`
	// OnboardingID names this onboarding (Status.OnboardingID); ConnectLink is the
	// customer's link that never goes stale, added by a client that knows starter serve's
	// address (onboarding.Client.ConnectLink).
	OnboardingID string `json:"onboarding_id,omitempty"`
	ConnectLink  string `json:"connect_link,omitempty"`
}

// URLWanted is the payload of UpdateCurrentURL.
type URLWanted struct {
	ValidUntil time.Time `json:"valid_until"`
}

// CustomerReturned is the payload of SignalCustomerReturned and UpdateCustomerReturned.
type CustomerReturned struct {
	Attempt int `json:"attempt"`
}

// ReturnResult answers UpdateCustomerReturned: what the verification found.
type ReturnResult struct {
	Stage Stage `json:"stage"`
	// Verified is true once the right org and user authorized.
	Verified bool `json:"verified"`
	// Problem says what the verification found instead (not yet authorized, a mismatch).
	Problem string `json:"problem,omitempty"`
}

// StateGone is what the watcher reports for a connection Heroku no longer lists; every
// other state is Heroku Connect's own (NEW, IDLE, NEED_AUTHENTICATION, ...).
const StateGone = "GONE"

// ConnectionStateReport is the payload of SignalConnectionState.
type ConnectionStateReport struct {
	ConnectionID string    `json:"connection_id"`
	State        string    `json:"state"`
	AuthUpdated  time.Time `json:"auth_updated,omitzero"`
}

// IntegrationDeactivated is the payload of SignalIntegrationDeactivated.
type IntegrationDeactivated struct {
	Reason string `json:"reason,omitempty"`
}

// Event is one line of a connection's story, kept in its status.
type Event struct {
	At    time.Time `json:"at"`
	Stage Stage     `json:"stage"`
	What  string    `json:"what"`
}

// Status is what the status query and update return.
type Status struct {
	WorkflowID       string         `json:"workflow_id"`
	ISVSlug          string         `json:"isv_slug"`
	CustomerID       string         `json:"customer_id"`
	Stage            Stage          `json:"stage"`
	Addon            *AddonRef      `json:"addon,omitempty"`
	Connection       *ConnectionRef `json:"connection,omitempty"`
	AuthorizationURL string         `json:"authorization_url,omitempty"`
	URLExpiresAt     time.Time      `json:"url_expires_at,omitzero"`
	URLRefreshAt     time.Time      `json:"url_refresh_at,omitzero"`
	LastState        string         `json:"last_state,omitempty"`
	// WatcherID is the watcher this connection registered with.
	WatcherID string `json:"watcher_id,omitempty"`
	// AuthorizedAt is Heroku's auth_updated of the authorization the connection is active on.
	AuthorizedAt time.Time `json:"authorized_at,omitzero"`
	// AuthDeadline is when the current wait for the customer gives up; carried through
	// continue-as-new so a customer who never authorizes does not keep an add-on forever.
	AuthDeadline time.Time `json:"auth_deadline,omitzero"`
	// ReturnsUsed are the attempts whose signed return state was consumed.
	ReturnsUsed   []int  `json:"returns_used,omitempty"`
	URLsIssued    int    `json:"urls_issued"`
	Verifications int    `json:"verifications"`
	Mismatches    int    `json:"mismatches"`
	LastProblem   string `json:"last_problem,omitempty"`
	// MismatchedAuth is Heroku's auth_updated of the last wrong authorization: a late report
	// of the same one is not another mismatch.
	MismatchedAuth   time.Time `json:"mismatched_auth,omitzero"`
	Reauthorizations int       `json:"reauthorizations"`
	Compensated      []string  `json:"compensated,omitempty"`
	Error            string    `json:"error,omitempty"`
	ErrorType        string    `json:"error_type,omitempty"`
	Events           []Event   `json:"events"`
	// Identity: see StartResult.Identity.
	Identity map[string]string `json:"identity,omitempty"`
	// OnboardingID names this onboarding of the customer (the first run of its workflow):
	// events carry it, and the customer's connect link is bound to it.
	OnboardingID string `json:"onboarding_id,omitempty"`
	// EventSeq is the sequence number of the last event emitted.
	EventSeq int `json:"event_seq,omitempty"`
	// ConnectLink: see StartResult.ConnectLink.
	ConnectLink string `json:"connect_link,omitempty"`
	// Sync is the customer's data sync, when a mapping template applies; Health is the
	// connection as Heroku last showed it (read while syncing, and on request).
	Sync   *SyncStatus `json:"sync,omitempty"`
	Health *Health     `json:"health,omitempty"`
}

// AddonStateReport is the payload of SignalAddonState.
type AddonStateReport struct {
	AddonID string `json:"addon_id"`
	State   string `json:"state"`
}

// Template sources.
const (
	TemplateFromIntegration = "integration"
	TemplateFromOnboarding  = "onboarding"
)

// SyncStatus is where a customer's data sync is: the template it syncs by, what was
// imported, and its health as Heroku last showed it.
type SyncStatus struct {
	Source   string   `json:"source"`   // TemplateFromIntegration | TemplateFromOnboarding
	Template string   `json:"template"` // the digest of the template to sync by
	Objects  []string `json:"objects"`  // its objects
	// Imported is the digest of the template last imported; Imports counts imports.
	Imported   string    `json:"imported,omitempty"`
	Imports    int       `json:"imports"`
	ImportedAt time.Time `json:"imported_at,omitzero"`
	// SyncedAt is when every mapping of the template first synced.
	SyncedAt time.Time `json:"synced_at,omitzero"`
	// RollingOut: a rollout asked for Template; the customer reports how it took it.
	RollingOut bool `json:"rolling_out,omitempty"`
}

// Health is a customer's connection as Heroku showed it at CheckedAt.
type Health struct {
	CheckedAt       time.Time       `json:"checked_at"`
	ConnectionState string          `json:"connection_state"`
	Mappings        []MappingHealth `json:"mappings"`
	// WriteErrors counts rows that could not be written to Salesforce in the last 24 hours,
	// Notifications the unacknowledged ones (both read on request: -1 when not read).
	WriteErrors   int `json:"write_errors"`
	Notifications int `json:"notifications"`
	// Problem says, in Heroku's words, what needs someone; empty when healthy.
	Problem string `json:"problem,omitempty"`
}

// MappingHealth is one mapping's state and row counts.
type MappingHealth struct {
	Object  string `json:"object"`
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
	DB      int    `json:"db"`
	SF      int    `json:"sf"`
	Pending int    `json:"pending"`
	Errors  int    `json:"errors"`
}

// MappingsChanged is the payload of SignalMappingsChanged.
type MappingsChanged struct {
	Template string `json:"template"` // the new template's digest
}

// RolloutReport is the payload of SignalRolloutReport: how one customer took a template.
type RolloutReport struct {
	Template   string `json:"template"`
	WorkflowID string `json:"workflow_id"`
	CustomerID string `json:"customer_id"`
	Outcome    string `json:"outcome"` // RolloutUpdated | RolloutUnchanged | RolloutOwnTemplate | RolloutFailed
	Error      string `json:"error,omitempty"`
}

// Rollout outcomes.
const (
	RolloutUpdated     = "updated"      // imported and synced (or waiting for its sync)
	RolloutUnchanged   = "unchanged"    // already had it
	RolloutOwnTemplate = "own_template" // syncs by its onboarding's own template
	RolloutFailed      = "failed"       // the import failed, or a mapping needs attention
)
