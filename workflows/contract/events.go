package contract

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Lifecycle events: what happened to a customer's onboarding (or to the integration),
// pushed to the ISV's endpoints as Standard Webhooks (https://www.standardwebhooks.com):
// the body is {"type", "timestamp", "data"}, the event's ID travels as webhook-id, and the
// signature is HMAC-SHA256 under a whsec_ secret of the endpoint. The workflows emit them;
// the events workflow of each customer delivers them in order, on the events task queue.

// EventType names a lifecycle event. Names are part of every receiver: never rename one.
type EventType string

// The lifecycle events.
const (
	EventOnboardingStarted    EventType = "onboarding.started"
	EventURLIssued            EventType = "onboarding.url_issued"
	EventAuthorized           EventType = "onboarding.authorized"
	EventIdentityMismatch     EventType = "onboarding.identity_mismatch"
	EventSyncing              EventType = "onboarding.syncing"
	EventActive               EventType = "onboarding.active"
	EventNeedsAttention       EventType = "onboarding.needs_attention"
	EventNeedsReauthorization EventType = "onboarding.needs_reauthorization"
	EventRecovered            EventType = "onboarding.recovered"
	EventFailed               EventType = "onboarding.failed"
	EventOffboarded           EventType = "onboarding.offboarded"
	EventDeactivated          EventType = "onboarding.deactivated"
	EventCancelled            EventType = "onboarding.cancelled"
	EventPartnerUpdated       EventType = "partner.updated"
	EventPartnerDeactivated   EventType = "partner.deactivated"
	// EventPing is sent to one endpoint when the ISV tests it; no endpoint subscribes to it.
	EventPing EventType = "endpoint.ping"
)

// EventTypes describes every event type an endpoint may subscribe to, in the order an
// onboarding meets them.
var EventTypes = []struct {
	Type        EventType
	Description string
}{
	{EventOnboardingStarted, "A customer's onboarding started (its input was valid)."},
	{EventURLIssued, "An authorization URL was issued: authorization_url, expires_at, attempt, and the customer's connect_link that never goes stale."},
	{EventAuthorized, "The right Salesforce org and user authorized the connection."},
	{EventIdentityMismatch, "Someone else authorized (another org or user): a new URL is issued, and after too many the onboarding fails."},
	{EventSyncing, "The mapping template was imported: the connection's first sync runs (template, the digest of the template)."},
	{EventActive, "The connection is active: authorized, and with a mapping template, every mapping has synced (mappings: each one's state and counts)."},
	{EventNeedsAttention, "A mapping failed or rows could not be written to Salesforce: problem says what, in Heroku's words. Nothing is cleaned up; the connection is read again until it recovers."},
	{EventNeedsReauthorization, "An active connection lost its authorization (or the ISV asked): the customer must authorize again."},
	{EventRecovered, "A connection that needed re-authorization, or attention, is active again."},
	{EventFailed, "The onboarding failed: error_type, error and what was cleaned up."},
	{EventOffboarded, "The customer was offboarded: what onboarding made is gone."},
	{EventDeactivated, "The customer's onboarding ended because the integration was deactivated."},
	{EventCancelled, "The customer's workflow was cancelled; what onboarding made is cleaned up."},
	{EventPartnerUpdated, "The integration's details changed (partner update or refresh)."},
	{EventPartnerDeactivated, "The integration was deactivated: the cascade's report."},
}

// KnownEventType reports whether t is an event type an endpoint may subscribe to.
func KnownEventType(t EventType) bool {
	for _, e := range EventTypes {
		if e.Type == t {
			return true
		}
	}
	return false
}

// LifecycleEvent is one event: its ID (the webhook-id header, the same on every attempt and
// redelivery, so a receiver drops duplicates by it), type, when it happened and its data.
type LifecycleEvent struct {
	ID        string    `json:"id"`
	Type      EventType `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      EventData `json:"data"`
	// Only, when set, limits delivery to one endpoint (a ping).
	Only string `json:"only,omitempty"`
}

// EventData is an event's data. Customer events carry the customer, its onboarding and a
// sequence number that rises by one with each event of the onboarding; partner events carry
// the integration. Salesforce identities travel only to endpoints that opted in.
type EventData struct {
	ISVSlug    string `json:"isv_slug"`
	CustomerID string `json:"customer_id,omitempty"`
	// OnboardingID names one onboarding of the customer (the first run of its workflow); a
	// new onboarding of the same customer has a new one and starts its sequence again at 1.
	OnboardingID    string `json:"onboarding_id,omitempty"`
	Sequence        int    `json:"sequence"`
	Stage           Stage  `json:"stage,omitempty"`
	AddonID         string `json:"addon_id,omitempty"`
	AddonName       string `json:"addon_name,omitempty"`
	ConnectionState string `json:"connection_state,omitempty"`
	// onboarding.url_issued: the URL, when it expires, its attempt number, and the
	// customer's connect link (added at delivery when starter serve's address is known).
	AuthorizationURL string    `json:"authorization_url,omitempty"`
	ExpiresAt        time.Time `json:"expires_at,omitzero"`
	Attempt          int       `json:"attempt,omitempty"`
	ConnectLink      string    `json:"connect_link,omitempty"`
	// onboarding.identity_mismatch: how many so far, and how many end the onboarding.
	Mismatches    int `json:"mismatches,omitempty"`
	MaxMismatches int `json:"max_mismatches,omitempty"`
	// onboarding.failed: the error's type and its message (with Salesforce identities
	// redacted), and the compensations that ran.
	ErrorType string   `json:"error_type,omitempty"`
	Error     string   `json:"error,omitempty"`
	CleanedUp []string `json:"cleaned_up,omitempty"`
	// partner.updated and partner.deactivated.
	Integration  *Integration        `json:"integration,omitempty"`
	PartnerStage PartnerStage        `json:"partner_stage,omitempty"`
	Report       *DeactivationReport `json:"report,omitempty"`
	// onboarding.syncing, .active, .needs_attention and .recovered with a template: its
	// digest, what needs attention, and each mapping's state and counts.
	Template string          `json:"template,omitempty"`
	Problem  string          `json:"problem,omitempty"`
	Mappings []MappingHealth `json:"mappings,omitempty"`
	// Salesforce is sent only to an endpoint with include_salesforce_identity.
	Salesforce *EventIdentity `json:"salesforce,omitempty"`
}

// EventIdentity is the personal part of an event.
type EventIdentity struct {
	Username string `json:"username,omitempty"`
	OrgID    string `json:"org_id,omitempty"`
	// Problem is an identity mismatch or a failure as Heroku and the check said it,
	// naming the identities involved.
	Problem string `json:"problem,omitempty"`
}

// EventBody is what an endpoint receives: the Standard Webhooks payload.
type EventBody struct {
	Type      EventType `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      EventData `json:"data"`
}

// Redact replaces each of secrets found in s (case-insensitively) with [redacted]: a
// failure's message may name the Salesforce user or org an endpoint did not opt in to.
func Redact(s string, secrets ...string) string {
	for _, x := range secrets {
		if x != "" {
			s = regexp.MustCompile("(?i)"+regexp.QuoteMeta(x)).ReplaceAllLiteralString(s, "[redacted]")
		}
	}
	return s
}

// EventsWorkflowID is the business key of a customer's event stream:
// events/<slug>/<customer>; the integration's own events use events/<slug>.
func EventsWorkflowID(isvSlug, customerID string) string {
	if customerID == "" {
		return "events/" + isvSlug
	}
	return "events/" + isvSlug + "/" + customerID
}

// DeliveryLogWorkflowID is the business key of an endpoint's delivery log:
// deliveries/<slug>/<endpoint>.
func DeliveryLogWorkflowID(isvSlug, endpointID string) string {
	return "deliveries/" + isvSlug + "/" + endpointID
}

// EventsInput starts (or continues) a customer's event stream.
type EventsInput struct {
	ISVSlug    string       `json:"isv_slug"`
	CustomerID string       `json:"customer_id,omitempty"`
	Carry      *EventsCarry `json:"carry,omitempty"`
}

// EventsCarry is what an event stream carries through continue-as-new.
type EventsCarry struct {
	Queue  []QueuedEvent    `json:"queue,omitempty"`
	Recent []LifecycleEvent `json:"recent,omitempty"`
	Seen   []string         `json:"seen,omitempty"` // event IDs received, oldest first
}

// QueuedEvent is an event and the endpoints it is still to reach.
type QueuedEvent struct {
	Event LifecycleEvent `json:"event"`
	// Resolved is set once the endpoints subscribed at the time are known; Pending are
	// those not reached yet.
	Resolved bool     `json:"resolved"`
	Pending  []string `json:"pending,omitempty"`
}

// EventsStatus answers QueryEvents.
type EventsStatus struct {
	Queued []QueuedEvent     `json:"queued"`
	Recent []LifecycleEvent  `json:"recent"`
	Active map[string]string `json:"active,omitempty"` // endpoint → event being delivered
}

// Redeliver asks a customer's event stream to deliver a kept event to an endpoint again.
type Redeliver struct {
	EventID    string `json:"event_id"`
	EndpointID string `json:"endpoint_id"`
}

// Endpoint states.
type EndpointState string

const (
	EndpointEnabled EndpointState = "enabled"
	// EndpointDisabled: by the ISV, or by the receiver's 410. Events are not sent to it.
	EndpointDisabled EndpointState = "disabled"
	// EndpointFailing: a delivery gave up after its retries (3 days). Later events are not
	// attempted (each is logged as skipped, and may be redelivered by its ID) until the ISV
	// enables the endpoint again.
	EndpointFailing EndpointState = "failing"
)

// Endpoint is one of an integration's event receivers. Its secret is never stored: it is
// derived from the worker's EVENTS_SECRET_KEY, the endpoint and its secret generation, so
// no history, log or search attribute can hold it.
type Endpoint struct {
	ID          string      `json:"id"`
	URL         string      `json:"url"`
	Description string      `json:"description,omitempty"`
	EventTypes  []EventType `json:"event_types"` // empty: every type
	// IncludeSalesforceIdentity sends the Salesforce username and org ID in events.
	IncludeSalesforceIdentity bool          `json:"include_salesforce_identity"`
	State                     EndpointState `json:"state"`
	StateReason               string        `json:"state_reason,omitempty"`
	// SecretGeneration rises with each rotation; until PreviousSecretUntil the previous
	// generation's secret signs too.
	SecretGeneration    int       `json:"secret_generation"`
	PreviousSecretUntil time.Time `json:"previous_secret_until,omitzero"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// Wants reports whether the endpoint takes events of type t now.
func (e Endpoint) Wants(t EventType) bool {
	if e.State == EndpointDisabled {
		return false
	}
	return len(e.EventTypes) == 0 || slices.Contains(e.EventTypes, t)
}

// Limits of endpoints.
const (
	MaxEndpoints        = 20
	MaxEndpointURL      = 2048
	MaxKeepPrevious     = 7 * 24 * time.Hour
	DefaultKeepPrevious = 24 * time.Hour
)

// EndpointSpec adds an endpoint.
type EndpointSpec struct {
	URL                       string      `json:"url"`
	Description               string      `json:"description,omitempty"`
	EventTypes                []EventType `json:"event_types,omitempty"`
	IncludeSalesforceIdentity bool        `json:"include_salesforce_identity,omitempty"`
}

// Validate names each field that breaks a rule.
func (s EndpointSpec) Validate() error {
	var v ValidationError
	if p := EndpointURLProblem(s.URL); p != "" {
		v.Add("url", p)
	}
	if len(s.Description) > 500 {
		v.Add("description", "must be at most 500 characters")
	}
	checkEventTypes(&v, "event_types", s.EventTypes)
	return v.Err()
}

func checkEventTypes(v *ValidationError, field string, types []EventType) {
	for i, t := range types {
		switch {
		case !KnownEventType(t):
			v.Add(fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("%.60q is not an event type (see the event list)", t))
		case slices.Contains(types[:i], t):
			v.Add(fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("%q is listed twice", t))
		}
	}
}

// EndpointURLProblem says what is wrong with an endpoint URL, or "": https, or http on a
// loopback address (development; the worker delivers there only with
// EVENTS_ALLOW_LOOPBACK), no user info, no fragment, at most 2048 bytes.
func EndpointURLProblem(raw string) string {
	if len(raw) > MaxEndpointURL {
		return fmt.Sprintf("must be at most %d bytes", MaxEndpointURL)
	}
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "is required"
	case err != nil || u.Host == "" || u.Opaque != "":
		return "must be an absolute URL (https://host/path)"
	case u.User != nil:
		return "must not carry user info (the signature authenticates us)"
	case u.Fragment != "":
		return "must not have a fragment"
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && LoopbackHost(u.Hostname()):
		return ""
	}
	return "must be https (http only on a loopback address, for development)"
}

// LoopbackHost reports whether host is localhost or a loopback address.
func LoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// EndpointChange changes an endpoint: only the fields given.
type EndpointChange struct {
	ID                        string       `json:"id"`
	URL                       *string      `json:"url,omitempty"`
	Description               *string      `json:"description,omitempty"`
	EventTypes                *[]EventType `json:"event_types,omitempty"`
	IncludeSalesforceIdentity *bool        `json:"include_salesforce_identity,omitempty"`
	// Enabled turns delivery on (also after failing) or off.
	Enabled *bool `json:"enabled,omitempty"`
}

// Validate names each field that breaks a rule.
func (c EndpointChange) Validate() error {
	var v ValidationError
	if c.ID == "" {
		v.Add("id", "is required")
	}
	if c.URL != nil {
		if p := EndpointURLProblem(*c.URL); p != "" {
			v.Add("url", p)
		}
	}
	if c.Description != nil && len(*c.Description) > 500 {
		v.Add("description", "must be at most 500 characters")
	}
	if c.EventTypes != nil {
		checkEventTypes(&v, "event_types", *c.EventTypes)
	}
	return v.Err()
}

// EndpointRotate gives an endpoint a new secret; the previous one keeps signing (a second
// signature in webhook-signature) for KeepPrevious (24 h when 0, at most 7 days).
type EndpointRotate struct {
	ID           string        `json:"id"`
	KeepPrevious time.Duration `json:"keep_previous,omitempty"`
}

// Validate names each field that breaks a rule.
func (r EndpointRotate) Validate() error {
	var v ValidationError
	if r.ID == "" {
		v.Add("id", "is required")
	}
	if r.KeepPrevious < 0 || r.KeepPrevious > MaxKeepPrevious {
		v.Add("keep_previous", "must be between 0 and 7 days")
	}
	return v.Err()
}

// EndpointHealth is what delivery reports of an endpoint: gone (410: disabled) or failing.
type EndpointHealth struct {
	ID     string        `json:"id"`
	State  EndpointState `json:"state"`
	Reason string        `json:"reason"`
}

// Delivery outcomes, in the log and the events workflow.
const (
	DeliveryDelivered = "delivered" // the receiver answered 2xx
	DeliveryRetrying  = "retrying"  // an attempt failed; another follows
	DeliveryFailed    = "failed"    // retries gave up (the endpoint is now failing)
	DeliveryGone      = "gone"      // the receiver answered 410 (the endpoint is now disabled)
	DeliverySkipped   = "skipped"   // the endpoint was failing or disabled: not attempted
	DeliveryRefused   = "refused"   // the worker refused the URL (loopback not allowed)
)

// DeliveryAttempt is one attempt (or a skip) of an event to an endpoint.
type DeliveryAttempt struct {
	EventID    string    `json:"event_id"`
	Type       EventType `json:"type"`
	CustomerID string    `json:"customer_id,omitempty"`
	Sequence   int       `json:"sequence"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	Outcome    string    `json:"outcome"`
	StatusCode int       `json:"status_code,omitempty"`
	LatencyMS  int64     `json:"latency_ms"`
	Error      string    `json:"error,omitempty"`
}

// Delivery is the log's record of one event to one endpoint: its latest outcome and its
// last attempts.
type Delivery struct {
	EventID    string            `json:"event_id"`
	Type       EventType         `json:"type"`
	CustomerID string            `json:"customer_id,omitempty"`
	Sequence   int               `json:"sequence"`
	Outcome    string            `json:"outcome"`
	Attempts   []DeliveryAttempt `json:"attempts"`
}

// Bounds of the delivery log: at most about 1 MB however long the errors.
const (
	MaxLoggedDeliveries = 200 // per endpoint, newest kept
	MaxLoggedAttempts   = 10  // per delivery, newest kept
	MaxLoggedError      = 300 // bytes of an attempt's error
)

// Truncate cuts s to at most n bytes, on a rune boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// DeliveryLogInput starts (or continues) an endpoint's delivery log.
type DeliveryLogInput struct {
	ISVSlug    string     `json:"isv_slug"`
	EndpointID string     `json:"endpoint_id"`
	Carry      []Delivery `json:"carry,omitempty"`
}
