package heroku

import (
	"encoding/json"
	"time"
)

// Ref is the {id, name} pair Heroku nests in many objects.
type Ref struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// Integration is a Heroku Connect partner integration.
type Integration struct {
	ID           string    `json:"id"`
	Slug         string    `json:"slug"`
	Name         string    `json:"name"`
	Status       string    `json:"status"` // active | inactive
	Team         Ref       `json:"team"`
	TeamName     string    `json:"team_name"`
	Description  string    `json:"description"`
	DocsURL      string    `json:"docs_url"`
	ContactEmail string    `json:"contact_email"`
	LogoURL      string    `json:"logo_url"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Integration statuses.
const (
	IntegrationActive   = "active"
	IntegrationInactive = "inactive"
)

// Logo is a logo file to upload.
type Logo struct {
	Filename string
	Data     []byte
}

// IntegrationCreate is the body of partner create.
type IntegrationCreate struct {
	Slug         string
	Name         string
	Team         string
	ContactEmail string
	Description  string
	DocsURL      string
	Logo         Logo
}

// IntegrationUpdate carries only the fields to change; nil means unchanged.
type IntegrationUpdate struct {
	Description  *string
	DocsURL      *string
	ContactEmail *string
	Logo         *Logo
}

// Enrollment is the answer to enroll.
type Enrollment struct {
	AddonUUID string `json:"addon_uuid"`
	ISVGUID   string `json:"isv_guid"`
	ISVSlug   string `json:"isv_slug"`
	Message   string `json:"message"`
}

// Salesforce environments of an authorization.
const (
	EnvProduction = "production"
	EnvSandbox    = "sandbox"
	EnvCustom     = "custom"
)

// AuthorizeRequest binds an authorization URL to the customer's org and integration user.
type AuthorizeRequest struct {
	SFOrgID     string `json:"sf_org_id"`
	SFUsername  string `json:"sf_username"`
	Environment string `json:"environment,omitempty"`
	Domain      string `json:"domain,omitempty"`
	APIVersion  string `json:"api_version,omitempty"`
	// Next is where the customer's browser goes after authorizing (the ISV's return URL).
	Next string `json:"next,omitempty"`
}

// Authorization is a customer authorization URL and its expiry.
type Authorization struct {
	Redirect  string    `json:"redirect"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Deactivation is the answer to deactivate.
type Deactivation struct {
	ISVGUID   string                    `json:"isv_guid,omitempty"`
	ISVStatus string                    `json:"isv_status,omitempty"`
	Message   string                    `json:"message,omitempty"`
	Summary   DeactivationSummary       `json:"summary"`
	Responses []DeactivationAddonResult `json:"responses,omitempty"`
	// AlreadyInactive is set when Heroku answered 200 "inactive": nothing was done.
	AlreadyInactive bool `json:"-"`
	// Partial is set on 207: some add-ons were not destroyed; call again to finish.
	Partial bool `json:"-"`
}

// DeactivationSummary counts the add-ons a deactivation touched.
type DeactivationSummary struct {
	Total     int `json:"total"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
}

// DeactivationAddonResult is one add-on's outcome.
type DeactivationAddonResult struct {
	AddonGUID string `json:"addon_guid"`
	Status    string `json:"status"`
	Error     string `json:"error,omitempty"`
	Message   string `json:"message,omitempty"`
}

// Add-on states.
const (
	AddonProvisioning   = "provisioning"
	AddonProvisioned    = "provisioned"
	AddonDeprovisioning = "deprovisioning"
	AddonDeprovisioned  = "deprovisioned"
)

// Addon is a Heroku add-on.
type Addon struct {
	ID            string        `json:"id"`
	Name          string        `json:"name"`
	AddonService  Ref           `json:"addon_service"`
	Plan          Ref           `json:"plan"`
	App           Ref           `json:"app"`
	BillingEntity BillingEntity `json:"billing_entity"`
	ConfigVars    []string      `json:"config_vars"`
	State         string        `json:"state"`
	WebURL        string        `json:"web_url,omitempty"`
	ProviderID    string        `json:"provider_id,omitempty"`
	Actions       []any         `json:"actions"`
	CreatedAt     time.Time     `json:"created_at"`
	UpdatedAt     time.Time     `json:"updated_at"`
}

// BillingEntity is who pays for an add-on.
type BillingEntity struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// AddonCreate is the body of add-on create.
type AddonCreate struct {
	Plan       string            `json:"plan"`
	Config     map[string]string `json:"config,omitempty"`
	Name       string            `json:"name,omitempty"`
	Attachment *Ref              `json:"attachment,omitempty"`
	Confirm    string            `json:"confirm,omitempty"`
}

// ConnectionRef is one discovery result: where a connection lives.
type ConnectionRef struct {
	ID           string `json:"id"`
	ResourceName string `json:"resource_name"`
	AppName      string `json:"app_name"`
	AppID        string `json:"app_id"`
	Region       string `json:"region"`
	RegionURL    string `json:"region_url"`
	DetailURL    string `json:"detail_url"`
}

// Connection states.
const (
	StateNew                = "NEW"
	StateNeedAuthentication = "NEED_AUTHENTICATION"
	StateIdle               = "IDLE"
	StatePollingDBChanges   = "POLLING_DB_CHANGES"
	StateImportConfig       = "IMPORT_CONFIGURATION"
	StateBusy               = "BUSY"
	StateUnauthorized       = "UNAUTHORIZED"
	StateSystemError        = "SYSTEM_ERROR"
	StateDBUnavailable      = "DB_UNAVAILABLE"
	StateHerokuUnauth       = "HEROKU_UNAUTH"
	StateTooManyRows        = "TOO_MANY_ROWS"
	StateInactiveOrg        = "INACTIVE_ORG"
	StateRecovery           = "RECOVERY"
	StatePaused             = "PAUSED"
)

// Healthy reports whether a connection state means "authorized and working".
func Healthy(state string) bool {
	switch state {
	case StateIdle, StatePollingDBChanges, StateImportConfig, StateBusy:
		return true
	}
	return false
}

// SFInfo is the Salesforce identity a connection was authorized with.
type SFInfo struct {
	Username       string `json:"username,omitempty"`
	OrganizationID string `json:"organization_id,omitempty"`
	Environment    string `json:"environment,omitempty"`
	Domain         string `json:"domain,omitempty"`
	APIVersion     string `json:"api_version,omitempty"`
}

// Connection is a Heroku Connect connection's detail.
type Connection struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	ResourceName   string     `json:"resource_name"`
	AddonID        string     `json:"addon_id"`
	AppName        string     `json:"app_name"`
	SchemaName     string     `json:"schema_name"`
	DBKey          string     `json:"db_key"`
	State          string     `json:"state"`
	OrganizationID *string    `json:"organization_id"`
	AuthUpdated    *time.Time `json:"auth_updated"`
	SFInfo         *SFInfo    `json:"sf_info"`
	UserInfo       any        `json:"user_info,omitempty"`
	Mappings       []Mapping  `json:"mappings"`
	CreatedAt      time.Time  `json:"created_at"`
}

// WebhookCreate is the body of an app webhook create.
type WebhookCreate struct {
	Include       []string `json:"include"`
	Level         string   `json:"level"`
	URL           string   `json:"url"`
	Secret        string   `json:"secret,omitempty"`
	Authorization string   `json:"authorization,omitempty"`
}

// Webhook is an app webhook subscription.
type Webhook struct {
	ID        string    `json:"id"`
	App       Ref       `json:"app"`
	Include   []string  `json:"include"`
	Level     string    `json:"level"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Mapping is one mapping of a connection: a Salesforce object synced into its schema, as a
// deep detail (?deep=true) lists it.
type Mapping struct {
	ID               string        `json:"id"`
	ObjectName       string        `json:"object_name"`
	State            string        `json:"state"`
	StateDescription string        `json:"state_description,omitempty"`
	Counts           MappingCounts `json:"counts"`
	// Config is the mapping's configuration, as an import gave it.
	Config json.RawMessage `json:"config,omitempty"`
}

// MappingCounts are a mapping's rows: in the database, in Salesforce, waiting to be
// written, and failed writes.
type MappingCounts struct {
	DB      int `json:"db"`
	SF      int `json:"sf"`
	Pending int `json:"pending"`
	Errors  int `json:"errors"`
}

// Mapping states (docs/heroku-api.md). A new mapping goes INITIAL, then loads
// (RELOAD_TABLE, the bulk states), then DATA_SYNCED and back to polling.
const (
	MappingInitial       = "INITIAL"
	MappingReloadTable   = "RELOAD_TABLE"
	MappingResync        = "RESYNC"
	MappingSchemaChanged = "SCHEMA_CHANGED"
	MappingDataSynced    = "DATA_SYNCED"
	MappingPolling       = "POLLING_SF_CHANGES"
	MappingSystemError   = "SYSTEM_ERROR"
	MappingAborted       = "ABORTED"
)

// MappingFailed reports a mapping state that stays until someone acts (a reload or a
// restart); the others move on by themselves.
func MappingFailed(state string) bool { return state == MappingSystemError || state == MappingAborted }

// MappingSynced reports a mapping whose rows have all synced once: DATA_SYNCED, or polling
// for changes after it.
func MappingSynced(state string) bool { return state == MappingDataSynced || state == MappingPolling }

// WriteError is a row Connect could not write to Salesforce.
type WriteError struct {
	ID        string    `json:"id"`
	TableName string    `json:"table_name"`
	RecordID  string    `json:"record_id"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
}

// Notification is something Connect tells the connection's owners (a mapping error, a
// database it cannot reach) until it is acknowledged.
type Notification struct {
	ID        string    `json:"id"`
	EventType string    `json:"event_type"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
}
