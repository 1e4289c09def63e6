package workflows

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/logo"
)

// Messages of the partner integration workflow.
const (
	PartnerWorkflowName = "PartnerWorkflow"
	// UpdatePartnerCreate is sent with Update-with-Start; it creates the integration.
	UpdatePartnerCreate = "partner.create"
	// UpdatePartnerUpdate changes the given fields.
	UpdatePartnerUpdate = "partner.update"
	// UpdatePartnerRefresh re-reads the integration from Heroku.
	UpdatePartnerRefresh = "partner.refresh"
	// UpdatePartnerDeactivate deactivates: destructive, needs the slug as confirmation.
	UpdatePartnerDeactivate = "partner.deactivate"
	// QueryPartnerInfo always answers with the last known state, even after the end.
	QueryPartnerInfo = "partner.info"
)

// PartnerWorkflowID is the business key of an ISV's integration.
func PartnerWorkflowID(slug string) string { return "partner/" + slug }

// PartnerStage is where an integration is.
type PartnerStage string

// Partner stages.
const (
	PartnerNew          PartnerStage = "new"
	PartnerActive       PartnerStage = "active"
	PartnerDeactivating PartnerStage = "deactivating"
	PartnerInactive     PartnerStage = "inactive"
)

// MaxLogoTransportBytes is the largest logo that travels through Temporal: a payload may
// not exceed 2 MB and bytes are base64-encoded in JSON. Heroku itself accepts 5 MB.
const MaxLogoTransportBytes = 1400 << 10

// Logo is an image file.
type Logo = activities.Logo

// PartnerSpec creates an integration.
type PartnerSpec struct {
	Slug         string `json:"slug"`
	Team         string `json:"team"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	DocsURL      string `json:"docs_url"`
	ContactEmail string `json:"contact_email"`
	Logo         Logo   `json:"logo"`
}

// PartnerChanges updates an integration; nil fields stay.
type PartnerChanges struct {
	Description  *string `json:"description,omitempty"`
	DocsURL      *string `json:"docs_url,omitempty"`
	ContactEmail *string `json:"contact_email,omitempty"`
	Logo         *Logo   `json:"logo,omitempty"`
}

// Deactivate is the deactivation request.
type Deactivate struct {
	// Confirm must equal the slug: deactivation destroys every add-on and cannot be undone.
	Confirm string `json:"confirm"`
	// Team, when set, must be the integration's team (a guard against the wrong slug).
	Team string `json:"team,omitempty"`
}

// CustomerOutcome is one customer's line in a deactivation report.
type CustomerOutcome = activities.CustomerOutcome

// DeactivationReport is what a deactivation did.
type DeactivationReport struct {
	Attempts  int               `json:"attempts"`    // Heroku deactivate calls
	Total     int               `json:"total"`       // add-ons Heroku reported
	Destroyed int               `json:"destroyed"`   // add-ons destroyed by Heroku
	Failed    []string          `json:"failed"`      // Heroku's failures still standing
	Customers []CustomerOutcome `json:"customers"`   // one per customer workflow that was running
	Completed bool              `json:"completed"`   // every add-on gone and every customer ended
	At        time.Time         `json:"at,omitzero"` // when it finished
}

// PartnerInfo is what the info query returns.
type PartnerInfo struct {
	Slug        string                  `json:"slug"`
	Stage       PartnerStage            `json:"stage"`
	Integration *activities.Integration `json:"integration,omitempty"`
	RefreshedAt time.Time               `json:"refreshed_at,omitzero"`
	Report      *DeactivationReport     `json:"deactivation,omitempty"`
	Error       string                  `json:"error,omitempty"`
}

// Validate checks a create request, naming each bad field and its rule.
func (s PartnerSpec) Validate() error {
	v := &ValidationError{}
	if !ValidSlug(s.Slug) {
		v.add("slug", "must be 3-30 lower-case letters, digits and single dashes, starting with a letter")
	}
	if strings.TrimSpace(s.Team) == "" {
		v.add("team", "is required: the Heroku team that owns the ISV's apps")
	}
	if strings.TrimSpace(s.Name) == "" || utf8.RuneCountInString(s.Name) > 100 {
		v.add("name", "is required and at most 100 characters")
	}
	checkDescription(v, s.Description, true)
	checkDocsURL(v, s.DocsURL, true)
	checkEmail(v, s.ContactEmail, true)
	checkLogo(v, &s.Logo, true)
	return v.orNil()
}

// Validate checks an update request.
func (c PartnerChanges) Validate() error {
	v := &ValidationError{}
	if c.Description == nil && c.DocsURL == nil && c.ContactEmail == nil && c.Logo == nil {
		v.add("changes", "name at least one of description, docs_url, contact_email, logo")
	}
	if c.Description != nil {
		checkDescription(v, *c.Description, true)
	}
	if c.DocsURL != nil {
		checkDocsURL(v, *c.DocsURL, true)
	}
	if c.ContactEmail != nil {
		checkEmail(v, *c.ContactEmail, true)
	}
	checkLogo(v, c.Logo, c.Logo != nil)
	return v.orNil()
}

func checkDescription(v *ValidationError, d string, required bool) {
	switch n := utf8.RuneCountInString(d); {
	case required && strings.TrimSpace(d) == "":
		v.add("description", "is required")
	case n > 500:
		v.add("description", fmt.Sprintf("must be at most 500 characters (it has %d)", n))
	}
}

func checkDocsURL(v *ValidationError, raw string, required bool) {
	if raw == "" && !required {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		v.add("docs_url", "must be an https URL")
	}
}

// emailPattern is a plain address check (net/mail would do, but its parser may log, which
// workflow code must not).
var emailPattern = regexp.MustCompile(`^[^@\s<>(),;:"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)

func checkEmail(v *ValidationError, e string, required bool) {
	if e == "" && !required {
		return
	}
	if len(e) > 254 || !emailPattern.MatchString(e) {
		v.add("contact_email", "must be an email address such as dev@example.com")
	}
}

func checkLogo(v *ValidationError, l *Logo, required bool) {
	if l == nil || len(l.Data) == 0 {
		if required {
			v.add("logo", "is required: a jpeg, png, svg or webp file")
		}
		return
	}
	if _, err := logo.Check(l.Filename, l.Data); err != nil {
		v.add("logo", err.Error())
		return
	}
	if len(l.Data) > MaxLogoTransportBytes {
		v.add("logo", fmt.Sprintf("is %d bytes; through the worker a logo can be at most %d bytes (Temporal's 2 MB payload limit), though Heroku takes up to 5 MB", len(l.Data), MaxLogoTransportBytes))
	}
}
