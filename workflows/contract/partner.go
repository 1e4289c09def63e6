package contract

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// The partner integration workflow's payloads.

// PartnerInput starts (or continues) an integration's workflow.
type PartnerInput struct {
	Slug string `json:"slug"`
	// MaxDeactivateAttempts bounds the calls made while Heroku answers 207 (default 10).
	MaxDeactivateAttempts int `json:"max_deactivate_attempts,omitempty"`
	// DeactivateRetryInterval paces those calls (default 30s).
	DeactivateRetryInterval time.Duration `json:"deactivate_retry_interval,omitempty"`
	// Carry is the previous run's state (continue-as-new).
	Carry *PartnerInfo `json:"carry,omitempty"`
}

// PartnerStage is where an integration is.
type PartnerStage string

// Partner stages.
const (
	PartnerNew          PartnerStage = "new"
	PartnerActive       PartnerStage = "active"
	PartnerDeactivating PartnerStage = "deactivating"
	PartnerInactive     PartnerStage = "inactive"
)

// Integration statuses as Heroku reports them.
const (
	IntegrationActive   = "active"
	IntegrationInactive = "inactive"
)

// TeamRef names a Heroku team.
type TeamRef struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// Integration is the partner integration as Heroku last described it.
type Integration struct {
	ID           string    `json:"id"`
	Slug         string    `json:"slug"`
	Name         string    `json:"name"`
	Status       string    `json:"status"` // IntegrationActive | IntegrationInactive
	Team         TeamRef   `json:"team"`
	TeamName     string    `json:"team_name"`
	Description  string    `json:"description"`
	DocsURL      string    `json:"docs_url"`
	ContactEmail string    `json:"contact_email"`
	LogoURL      string    `json:"logo_url"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// OwnedBy reports whether team (a name) is the integration's.
func (i Integration) OwnedBy(team string) bool { return team == i.TeamName || team == i.Team.Name }

// MaxLogoTransportBytes is the largest logo that travels through Temporal: a payload may
// not exceed 2 MB and bytes are base64-encoded in JSON. Heroku itself accepts 5 MB.
const MaxLogoTransportBytes = 1400 << 10

// Logo is an image file.
type Logo struct {
	Filename string `json:"filename"`
	Data     []byte `json:"data"`
}

// PartnerSpec creates an integration.
type PartnerSpec struct {
	Slug         string `json:"slug"`
	Team         string `json:"team"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	DocsURL      string `json:"docs_url"`
	ContactEmail string `json:"contact_email"`
	Logo         Logo   `json:"logo"`
	// Mappings is the template every customer's connection is given (optional).
	Mappings *MappingTemplate `json:"mappings,omitempty"`
}

// PartnerChanges updates an integration; nil fields stay.
type PartnerChanges struct {
	Description  *string `json:"description,omitempty"`
	DocsURL      *string `json:"docs_url,omitempty"`
	ContactEmail *string `json:"contact_email,omitempty"`
	Logo         *Logo   `json:"logo,omitempty"`
	// Mappings replaces the template and rolls it out to every customer syncing by it.
	Mappings *MappingTemplate `json:"mappings,omitempty"`
}

// Deactivate is the deactivation request.
type Deactivate struct {
	// Confirm must equal the slug: deactivation destroys every add-on and cannot be undone.
	Confirm string `json:"confirm"`
	// Team, when set, must be the integration's team (a guard against the wrong slug).
	Team string `json:"team,omitempty"`
}

// CustomerOutcome is how a customer workflow ended after the deactivation signal.
type CustomerOutcome struct {
	WorkflowID string `json:"workflow_id"`
	CustomerID string `json:"customer_id"`
	AddonID    string `json:"addon_id,omitempty"`
	Outcome    string `json:"outcome"` // the final stage, e.g. deactivated
	Error      string `json:"error,omitempty"`
}

// DeactivationReport is what a deactivation did.
type DeactivationReport struct {
	Attempts  int      `json:"attempts"`  // Heroku deactivate calls
	Total     int      `json:"total"`     // add-ons Heroku reported
	Destroyed int      `json:"destroyed"` // add-ons destroyed by Heroku
	Failed    []string `json:"failed"`    // Heroku's failures still standing
	// Customers is a sample (at most 20) of the customers that ended otherwise than
	// deactivated.
	Customers []CustomerOutcome `json:"customers"`
	Completed bool              `json:"completed"`   // every add-on gone and every customer ended
	At        time.Time         `json:"at,omitzero"` // when it finished
	// Counts instead of lists: the batch operations' jobs, the customers running when the
	// cascade began, and those that ended since, by outcome.
	BatchJobs            []string `json:"batch_jobs,omitempty"`
	CustomersAtStart     int      `json:"customers_at_start,omitempty"`
	CustomersEnded       int      `json:"customers_ended,omitempty"`
	CustomersDeactivated int      `json:"customers_deactivated,omitempty"`
	// Unfinished says the cascade stopped with customers still running (not all told, or
	// their count failed); StillRunning is how many, when known. The partner workflow runs it
	// again (Resumes counts the runs after the first), and another partner.deactivate resumes
	// it at once.
	Unfinished   bool `json:"unfinished,omitempty"`
	StillRunning int  `json:"still_running,omitempty"`
	Resumes      int  `json:"resumes,omitempty"`
	// AddonsGoneAt is when the account's add-on list showed none of the integration's
	// add-ons left after Heroku's deactivate (zero: not confirmed, and each customer reads
	// its own); AddonsLeft is how many the last listing showed, ListReads the Heroku reads
	// the confirmation took (a page of 1,000 add-ons each).
	AddonsGoneAt time.Time `json:"addons_gone_at,omitzero"`
	AddonsLeft   int       `json:"addons_left,omitempty"`
	ListReads    int       `json:"list_reads,omitempty"`
}

// MemoPartner is the partner workflow's memo field (a PartnerMemo) that customer workflows,
// their event deliveries and the starter read with a describe, served by the server, rather
// than with a query, which the partner workflow's worker answers one at a time: four
// queries per onboarding made it the bottleneck of a large start.
const MemoPartner = "partner"

// PartnerMemo is what the partner workflow publishes of itself. FirstRunID is its run
// chain's first run: a memo given at start by whoever started a run cannot know it, so a
// reader takes the memo only from the run chain that wrote it.
type PartnerMemo struct {
	Stage PartnerStage `json:"stage"`
	// Known: the integration is known (created or adopted), not only asked for.
	Known     bool       `json:"known"`
	Endpoints []Endpoint `json:"endpoints"`
	// AddonsGoneAt is when the account's add-on list showed none of the integration's
	// add-ons left after its deactivation (see DeactivationReport).
	AddonsGoneAt time.Time `json:"addons_gone_at,omitzero"`
	FirstRunID   string    `json:"first_run_id"`
}

// PartnerInfo is what the info query returns.
type PartnerInfo struct {
	Slug        string              `json:"slug"`
	Stage       PartnerStage        `json:"stage"`
	Integration *Integration        `json:"integration,omitempty"`
	RefreshedAt time.Time           `json:"refreshed_at,omitzero"`
	Report      *DeactivationReport `json:"deactivation,omitempty"`
	Error       string              `json:"error,omitempty"`
	// Endpoints receive the integration's lifecycle events; EndpointsMade numbers their IDs
	// and EventSeq the integration's own events.
	Endpoints     []Endpoint `json:"endpoints,omitempty"`
	EndpointsMade int        `json:"endpoints_made,omitempty"`
	EventSeq      int        `json:"event_seq,omitempty"`
	// Mappings is the template (carried through continue-as-new; the info query leaves it
	// out: QueryPartnerMappings answers it), MappingsDigest names it and MappingObjects are
	// its objects; Rollout is the last template change's report.
	Mappings       *MappingTemplate `json:"mappings,omitempty"`
	MappingsDigest string           `json:"mappings_digest,omitempty"`
	MappingObjects []string         `json:"mapping_objects,omitempty"`
	Rollout        *Rollout         `json:"rollout,omitempty"`
}

// MemoMappingsDigest is the partner workflow's memo field naming its mapping template by
// digest: customers read it with a describe, not a query.
const MemoMappingsDigest = "mappings_digest"

// maxRolloutFailures bounds the sample of customers a rollout failed for.
const maxRolloutFailures = 20

// Rollout is how a changed template reached the customers syncing by the integration's.
type Rollout struct {
	Template  string    `json:"template"`
	StartedAt time.Time `json:"started_at"`
	BatchJob  string    `json:"batch_job,omitempty"`
	// Targets are the customers past authorization when it began; the others import the
	// template current when they get there.
	Targets     int64             `json:"targets"`
	Updated     int               `json:"updated"`
	Unchanged   int               `json:"unchanged"`
	OwnTemplate int               `json:"own_template"`
	Failed      int               `json:"failed"`
	Failures    []CustomerOutcome `json:"failures,omitempty"` // a sample
	Error       string            `json:"error,omitempty"`    // the batch could not be sent
	// Sent: the batch of signals ran (Targets is then known).
	Sent bool `json:"sent,omitempty"`
}

// Count records one customer's report.
func (r *Rollout) Count(rep RolloutReport) {
	switch rep.Outcome {
	case RolloutUpdated:
		r.Updated++
	case RolloutUnchanged:
		r.Unchanged++
	case RolloutOwnTemplate:
		r.OwnTemplate++
	default:
		r.Failed++
		if len(r.Failures) < maxRolloutFailures {
			r.Failures = append(r.Failures, CustomerOutcome{WorkflowID: rep.WorkflowID, CustomerID: rep.CustomerID, Outcome: rep.Outcome, Error: rep.Error})
		}
	}
}

// Reported is how many customers reported.
func (r *Rollout) Reported() int { return r.Updated + r.Unchanged + r.OwnTemplate + r.Failed }

// ImageCheck checks that a logo file is an image Heroku takes. The worker's decodes it
// (sizes in pixels, SVG safety); validation without one runs CheckLogoFormat.
type ImageCheck func(filename string, data []byte) error

// logoFormats maps the accepted file extensions to the content type their bytes must sniff as.
var logoFormats = map[string]string{".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp", ".svg": "svg"}

// CheckLogoFormat is the check a client can make without an image decoder: a jpeg, png, svg
// or webp file name whose bytes are of that type, at most 5 MB. The worker decodes the image
// as well (100 to 1000 pixels a side, an SVG without scripts).
func CheckLogoFormat(filename string, data []byte) error {
	ext := strings.ToLower(path.Ext(filename))
	want, ok := logoFormats[ext]
	switch {
	case !ok:
		return fmt.Errorf("must be a .jpeg, .jpg, .png, .svg or .webp file, got %q", filename)
	case len(data) > 5<<20:
		return fmt.Errorf("is %d bytes, more than the 5 MB limit", len(data))
	}
	head := data[:min(len(data), 1024)]
	got := http.DetectContentType(head)
	if strings.Contains(strings.ToLower(string(head)), "<svg") {
		got = "svg"
	}
	if got != want {
		return fmt.Errorf("is named %s but its content is %s", ext, got)
	}
	return nil
}

// Validate checks a create request, naming each bad field and its rule.
func (s PartnerSpec) Validate(image ImageCheck) error {
	v := &ValidationError{}
	if !ValidSlug(s.Slug) {
		v.Add("slug", "must be 3-30 lower-case letters, digits and single dashes, starting with a letter")
	}
	if strings.TrimSpace(s.Team) == "" {
		v.Add("team", "is required: the Heroku team that owns the ISV's apps")
	}
	if strings.TrimSpace(s.Name) == "" || utf8.RuneCountInString(s.Name) > 100 {
		v.Add("name", "is required and at most 100 characters")
	}
	checkDescription(v, s.Description, true)
	checkDocsURL(v, s.DocsURL, true)
	checkEmail(v, s.ContactEmail, true)
	checkLogo(v, &s.Logo, true, image)
	checkMappings(v, s.Mappings)
	return v.Err()
}

// Validate checks an update request.
func (c PartnerChanges) Validate(image ImageCheck) error {
	v := &ValidationError{}
	if c.Description == nil && c.DocsURL == nil && c.ContactEmail == nil && c.Logo == nil && c.Mappings == nil {
		v.Add("changes", "name at least one of description, docs_url, contact_email, logo, mappings")
	}
	checkMappings(v, c.Mappings)
	if c.Description != nil {
		checkDescription(v, *c.Description, true)
	}
	if c.DocsURL != nil {
		checkDocsURL(v, *c.DocsURL, true)
	}
	if c.ContactEmail != nil {
		checkEmail(v, *c.ContactEmail, true)
	}
	checkLogo(v, c.Logo, c.Logo != nil, image)
	return v.Err()
}

func checkDescription(v *ValidationError, d string, required bool) {
	switch n := utf8.RuneCountInString(d); {
	case required && strings.TrimSpace(d) == "":
		v.Add("description", "is required")
	case n > 500:
		v.Add("description", fmt.Sprintf("must be at most 500 characters (it has %d)", n))
	}
}

func checkDocsURL(v *ValidationError, raw string, required bool) {
	if raw == "" && !required {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		v.Add("docs_url", "must be an https URL")
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
		v.Add("contact_email", "must be an email address such as dev@example.com")
	}
}

func checkLogo(v *ValidationError, l *Logo, required bool, image ImageCheck) {
	if l == nil || len(l.Data) == 0 {
		if required {
			v.Add("logo", "is required: a jpeg, png, svg or webp file")
		}
		return
	}
	if image == nil {
		image = CheckLogoFormat
	}
	if err := image(l.Filename, l.Data); err != nil {
		v.Add("logo", err.Error())
		return
	}
	if len(l.Data) > MaxLogoTransportBytes {
		v.Add("logo", fmt.Sprintf("is %d bytes; through the worker a logo can be at most %d bytes (Temporal's 2 MB payload limit), though Heroku takes up to 5 MB", len(l.Data), MaxLogoTransportBytes))
	}
}

// checkMappings adds a template's problems, each named by its path under "mappings".
func checkMappings(v *ValidationError, t *MappingTemplate) {
	if t == nil {
		return
	}
	var ve *ValidationError
	if err := t.Validate("mappings"); errors.As(err, &ve) {
		v.Fields = append(v.Fields, ve.Fields...)
	}
}

// Equal reports whether m and o say the same (a memo is published again only when not).
func (m PartnerMemo) Equal(o PartnerMemo) bool {
	return m.Stage == o.Stage && m.Known == o.Known && m.AddonsGoneAt.Equal(o.AddonsGoneAt) && m.FirstRunID == o.FirstRunID &&
		slices.EqualFunc(m.Endpoints, o.Endpoints, func(a, b Endpoint) bool {
			return a.ID == b.ID && a.URL == b.URL && a.Description == b.Description && slices.Equal(a.EventTypes, b.EventTypes) &&
				a.IncludeSalesforceIdentity == b.IncludeSalesforceIdentity && a.State == b.State && a.StateReason == b.StateReason &&
				a.SecretGeneration == b.SecretGeneration && a.PreviousSecretUntil.Equal(b.PreviousSecretUntil) &&
				a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
		})
}

// ReadPartnerMemo reads the partner workflow's published memo with a describe, which the
// server answers without the workflow's worker; dc decodes it (the client's converter).
// found is false when there is no partner workflow; published is false when it has no memo
// of its own (a run of a release before 1.4.0, or a memo written by whoever started the run:
// it must name the run chain's first run, which nobody knows before the start), and the
// caller then asks the workflow by query.
func ReadPartnerMemo(ctx context.Context, c client.Client, dc converter.DataConverter, slug string) (m PartnerMemo, found, published bool, err error) {
	id := PartnerWorkflowID(slug)
	desc, err := c.DescribeWorkflow(ctx, id, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return m, false, false, nil
	}
	if err != nil {
		return m, false, false, fmt.Errorf("describing partner workflow %s: %w", id, err)
	}
	info := desc.RawResponse.GetWorkflowExecutionInfo()
	p := info.GetMemo().GetFields()[MemoPartner]
	if p == nil || info.GetType().GetName() != PartnerWorkflowName {
		return m, true, false, nil
	}
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	if err := dc.FromPayload(p, &m); err != nil || m.FirstRunID == "" || m.FirstRunID != info.GetFirstRunId() {
		return PartnerMemo{}, true, false, nil
	}
	return m, true, true, nil
}
