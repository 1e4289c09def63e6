package herokusim

import (
	"time"

	"github.com/connect-onboarding/worker/internal/heroku"
)

// The simulator's whole state. Everything is exported for JSON persistence only.
type state struct {
	Apps         map[string]*app         `json:"apps"`         // by name
	Integrations map[string]*integration `json:"integrations"` // by id
	Addons       map[string]*addon       `json:"addons"`       // by id, live ones
	Connections  map[string]*connection  `json:"connections"`  // by id
	Sessions     map[string]*authSession `json:"sessions"`     // by token
	Webhooks     map[string]*webhook     `json:"webhooks"`     // by id
	Attachments  map[string]*attachment  `json:"attachments"`  // by id, of live add-ons
	Destroyed    []*addon                `json:"destroyed"`    // add-ons that are gone
	Counters     Counters                `json:"counters"`
	Mismatches   []AuthorizationMismatch `json:"mismatches"`
}

func newState() *state {
	return &state{
		Apps: map[string]*app{}, Integrations: map[string]*integration{}, Addons: map[string]*addon{},
		Connections: map[string]*connection{}, Sessions: map[string]*authSession{}, Webhooks: map[string]*webhook{},
		Attachments: map[string]*attachment{},
		Counters:    newCounters(),
	}
}

type app struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Team      string    `json:"team"`
	CreatedAt time.Time `json:"created_at"`
	Releases  []release `json:"releases"` // oldest first
}

// release is a change of an app's config: attaching or detaching an add-on makes one.
type release struct {
	ID          string    `json:"id"`
	Version     int       `json:"version"`
	Description string    `json:"description"`
	Plans       []string  `json:"plans"` // add-on plans attached after it
	User        string    `json:"user"`
	CreatedAt   time.Time `json:"created_at"`
}

type integration struct {
	heroku.Integration
	Logo     []byte `json:"logo"`
	LogoType string `json:"logo_type"`
}

type addon struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	App           string          `json:"app"`
	Plan          string          `json:"plan"`
	ISV           string          `json:"isv"` // integration slug it is associated with
	State         string          `json:"state"`
	ReadyAt       time.Time       `json:"ready_at"`
	GoneAt        time.Time       `json:"gone_at"`
	FailProvision bool            `json:"fail_provision"`
	DestroyAt     time.Time       `json:"destroy_at"` // set by a deactivation: Heroku destroys it then
	AccessList    map[string]bool `json:"access_list"`
	ConnectionID  string          `json:"connection_id"`
	AttachmentID  string          `json:"attachment_id"` // its attachment to its own app
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
}

// attachment is an add-on attached to an app (its own, or another it was shared with).
type attachment struct {
	ID        string    `json:"id"`
	AddonID   string    `json:"addon_id"`
	App       string    `json:"app"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

type connection struct {
	ID          string         `json:"id"`
	AddonID     string         `json:"addon_id"`
	SchemaName  string         `json:"schema_name"`
	DBKey       string         `json:"db_key"`
	State       string         `json:"state"`
	OrgID       *string        `json:"org_id"`
	AuthUpdated *time.Time     `json:"auth_updated"`
	SF          *heroku.SFInfo `json:"sf"`
	CreatedAt   time.Time      `json:"created_at"`
	// The Connect API beyond authorization (mappings.go).
	Mappings      []*mapping             `json:"mappings,omitempty"`
	Imports       int                    `json:"imports,omitempty"` // configurations imported
	WriteErrors   []*rowError            `json:"write_errors,omitempty"`
	Notifications []*notification        `json:"notifications,omitempty"`
	Validations   map[string]*validation `json:"validations,omitempty"`
	PendingFaults []MappingFault         `json:"pending_faults,omitempty"`
}

type authSession struct {
	Token      string                  `json:"token"`
	AddonID    string                  `json:"addon_id"`
	ISV        string                  `json:"isv"`
	Request    heroku.AuthorizeRequest `json:"request"`
	ExpiresAt  time.Time               `json:"expires_at"`
	Superseded bool                    `json:"superseded"`
	Used       bool                    `json:"used"`
}

type webhook struct {
	heroku.Webhook
	Secret string `json:"secret"`
	// Authorization is sent as the Authorization header of every delivery, as Heroku does.
	Authorization string `json:"authorization,omitempty"`
}

// Counters are what tests and benchmarks read to prove "no duplicate, no orphan".
type Counters struct {
	Calls            map[string]int `json:"calls"`            // per route
	RateLimited      int            `json:"rate_limited"`     // 429s served
	FaultsInjected   int            `json:"faults_injected"`  // injected failures served
	AddonsCreated    int            `json:"addons_created"`   // every successful create
	AddonsDestroyed  int            `json:"addons_destroyed"` // every destroy that went through
	CreatedPerApp    map[string]int `json:"created_per_app"`
	CreatedPerISV    map[string]int `json:"created_per_isv"`
	LivePerApp       map[string]int `json:"live_per_app"`      // computed on read
	LivePerISV       map[string]int `json:"live_per_isv"`      // computed on read
	Live             int            `json:"live"`              // computed on read
	Authorizations   int            `json:"authorizations"`    // completed customer authorizations
	URLsIssued       int            `json:"urls_issued"`       // authorization URLs handed out
	DuplicateCreates int            `json:"duplicate_creates"` // creates refused because the name was taken
	Imports          int            `json:"imports"`           // mapping configurations imported
	// ReadsOfGoing counts add-on reads answered while the add-on was deprovisioning: calls
	// spent watching an add-on on its way out (what a deactivation's confirmation spares).
	ReadsOfGoing int `json:"reads_of_going"`
}

func newCounters() Counters {
	return Counters{Calls: map[string]int{}, CreatedPerApp: map[string]int{}, CreatedPerISV: map[string]int{}}
}

// AuthorizationMismatch records a customer who signed in as someone else than the URL was
// bound to (accepted only in lenient mode, refused otherwise).
type AuthorizationMismatch struct {
	AddonID      string    `json:"addon_id"`
	WantOrg      string    `json:"want_org"`
	WantUsername string    `json:"want_username"`
	GotOrg       string    `json:"got_org"`
	GotUsername  string    `json:"got_username"`
	Accepted     bool      `json:"accepted"`
	At           time.Time `json:"at"`
}
