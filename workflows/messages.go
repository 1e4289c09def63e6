// Package workflows holds the onboarding worker's workflow code: the customer connection
// workflow, the per-app connection watcher and the partner integration workflow, with
// their messages (names and types), search attribute keys and workflow IDs. It does no I/O:
// everything that touches Heroku or Temporal's client runs as an activity.
package workflows

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/connect-onboarding/worker/activities"

	"go.temporal.io/sdk/temporal"
)

// Default task queue names; deployments may rename them (TEMPORAL_TASK_QUEUE,
// TEMPORAL_HEROKU_TASK_QUEUE), which is why the Heroku queue travels in workflow inputs.
const (
	OnboardingTaskQueue = "onboarding"
	HerokuTaskQueue     = "heroku"
)

// Updates, signals and queries of the customer connection workflow.
const (
	// UpdateStart is sent with Update-with-Start; it returns the authorization URL.
	UpdateStart = "onboarding.start"
	// UpdateReissueURL asks for a fresh authorization URL while waiting for the customer.
	UpdateReissueURL = "onboarding.reissue_url"
	// UpdateReauthorize asks an active connection to be authorized again.
	UpdateReauthorize = "onboarding.reauthorize"
	// UpdateOffboard ends the connection and removes what onboarding created.
	UpdateOffboard = "onboarding.offboard"
	// UpdateCustomerReturned reports the customer's return with a signed state's attempt; the
	// workflow accepts each attempt once (single use, durable and shared by every replica of
	// the return endpoint) and only for the URL it issued last, then answers once the
	// verification it triggered has run.
	UpdateCustomerReturned = "onboarding.customer_returned"
	// UpdateStatus returns the status through history (read-your-writes).
	UpdateStatus = "onboarding.status"
	// QueryStatus returns the status without touching history.
	QueryStatus = "status"

	// SignalCustomerReturned: the ISV backend saw the customer come back from the
	// authorization page.
	SignalCustomerReturned = "customer.returned"
	// SignalConnectionState: the watcher saw the connection's state change.
	SignalConnectionState = "connection.state"
	// SignalIntegrationDeactivated: the ISV's partner integration was deactivated.
	SignalIntegrationDeactivated = "integration.deactivated"
)

// descriptions explain every signal, update and query to whoever looks at a workflow: the
// Temporal UI and `temporal workflow metadata` show them next to the names.
var descriptions = map[string]string{
	UpdateStart:                  "Start (with Update-with-Start) or reach the customer's onboarding; returns the authorization URL once it exists, or how the run ended.",
	UpdateReissueURL:             "Issue a fresh authorization URL while waiting for the customer (the previous one stops working).",
	UpdateReauthorize:            "Ask an active connection to be authorized again; returns the new URL.",
	UpdateOffboard:               "End the connection and destroy what onboarding created; returns the final status.",
	UpdateStatus:                 "The connection's status, through history (read-your-writes).",
	UpdateCustomerReturned:       "The customer came back with a signed state: accepted once, for the current URL only; answers what the verification found.",
	QueryStatus:                  "The status: stage, add-on, URL and expiry, last connection state, mismatches and the story so far.",
	SignalCustomerReturned:       "The ISV backend saw the customer return from the authorization page (payload: the URL attempt); triggers one verification.",
	SignalConnectionState:        "The app's watcher saw this connection's state or authorization time change.",
	SignalIntegrationDeactivated: "The ISV's partner integration was deactivated: end as deactivated.",
	SignalWatchRegister:          "A customer workflow asks this watcher to report its connection's changes.",
	SignalWatchUnregister:        "A customer workflow leaves this watcher.",
	QueryPartnerInfo:             "The integration as last known, its stage and the deactivation report.",
	UpdatePartnerCreate:          "Create the partner integration on Heroku (with Update-with-Start); creating again returns it.",
	UpdatePartnerUpdate:          "Change the integration's description, docs URL, contact email or logo.",
	UpdatePartnerRefresh:         "Read the integration from Heroku (also how an existing integration is adopted).",
	UpdatePartnerDeactivate:      "Deactivate the integration (confirm with the slug): Heroku destroys its add-ons, then every customer ends.",
}

// watcherQueryDescription is the watcher's status query, which shares its name with the
// customer's.
const watcherQueryDescription = "The watcher's members: each customer workflow, its connection and what it last saw."

// StateGone is what the watcher reports for a connection Heroku no longer lists.
const StateGone = "GONE"

// Signals of the connection watcher.
const (
	SignalWatchRegister   = "watch.register"
	SignalWatchUnregister = "watch.unregister"
)

// Search attributes (Keyword). No secrets or personal data go here: they are not encrypted.
var (
	SAIsvSlug         = temporal.NewSearchAttributeKeyKeyword("IsvSlug")
	SACustomerID      = temporal.NewSearchAttributeKeyKeyword("CustomerId")
	SAOnboardingStage = temporal.NewSearchAttributeKeyKeyword("OnboardingStage")
	SAHerokuAddonID   = temporal.NewSearchAttributeKeyKeyword("HerokuAddonId")
	// SAConnectSchema is app/db_key/schema: where a customer's data lands, so a second live
	// customer claiming the same schema is refused.
	SAConnectSchema = temporal.NewSearchAttributeKeyKeyword("ConnectSchema")
)

// SearchAttributes lists the custom search attributes, all Keyword, for registration on a
// namespace (make run, the tests' dev server, a cluster's operator).
var SearchAttributes = []string{"IsvSlug", "CustomerId", "OnboardingStage", "HerokuAddonId", "ConnectSchema"}

// SearchAttributeTypes is the same set as typed keys, the form testsuite.StartDevServer
// registers.
func SearchAttributeTypes() temporal.SearchAttributes {
	return temporal.NewSearchAttributes(SAIsvSlug.ValueSet(""), SACustomerID.ValueSet(""),
		SAOnboardingStage.ValueSet(""), SAHerokuAddonID.ValueSet(""), SAConnectSchema.ValueSet(""))
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
	StageActive                Stage = "active"
	StageReauthorizing         Stage = "reauthorizing"
	StageCompensating          Stage = "compensating"
	StageOffboarded            Stage = "offboarded"
	StageFailed                Stage = "failed"
	StageDeactivated           Stage = "deactivated"
	StageCancelled             Stage = "cancelled"
)

// Terminal reports whether the stage is an end.
func (s Stage) Terminal() bool {
	switch s {
	case StageOffboarded, StageFailed, StageDeactivated, StageCancelled:
		return true
	}
	return false
}

// ConnectionWorkflowID is the business key of a customer connection.
func ConnectionWorkflowID(isvSlug, customerID string) string {
	return "connection/" + isvSlug + "/" + customerID
}

// WatcherWorkflowID is the business key of the (single, unsharded) watcher of one ISV app:
// the ID of watchers started before watch-shards.
func WatcherWorkflowID(app string) string { return "watch/" + app }

// WatcherShardID is the watcher of one shard of an app's customers: watch/<app>/<n>, where
// n is a stable hash of the customer's workflow ID.
func WatcherShardID(app, workflowID string, shards int) string {
	if shards < 1 {
		shards = 1
	}
	h := fnv.New32a()
	h.Write([]byte(workflowID))
	return fmt.Sprintf("watch/%s/%d", app, h.Sum32()%uint32(shards))
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

// AddonRef and ConnectionRef are shared with the activities that produce them.
type (
	AddonRef      = activities.AddonRef
	ConnectionRef = activities.ConnectionRef
)

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
	ReturnsUsed      []int    `json:"returns_used,omitempty"`
	URLsIssued       int      `json:"urls_issued"`
	Verifications    int      `json:"verifications"`
	Mismatches       int      `json:"mismatches"`
	LastProblem      string   `json:"last_problem,omitempty"`
	Reauthorizations int      `json:"reauthorizations"`
	Compensated      []string `json:"compensated,omitempty"`
	Error            string   `json:"error,omitempty"`
	ErrorType        string   `json:"error_type,omitempty"`
	Events           []Event  `json:"events"`
	// Identity: see StartResult.Identity.
	Identity map[string]string `json:"identity,omitempty"`
}
