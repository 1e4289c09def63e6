package contract

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/internal/salesforce"
)

// Validation of a start input: every field with its rule, before anything is created. The
// client checks what it can; the workflow checks it all again, against the worker's settings
// too, because anyone with namespace access can start a workflow.

// FieldError names a field and the rule it broke.
type FieldError struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
}

// ValidationError lists every bad field of an input.
type ValidationError struct {
	Fields []FieldError `json:"fields"`
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Rule
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add records a bad field.
func (e *ValidationError) Add(field, rule string) {
	e.Fields = append(e.Fields, FieldError{field, rule})
}

// Err is nil when no field is bad, else e with its fields sorted by name.
func (e *ValidationError) Err() error {
	if len(e.Fields) == 0 {
		return nil
	}
	sort.SliceStable(e.Fields, func(i, j int) bool { return e.Fields[i].Field < e.Fields[j].Field })
	return e
}

var (
	customerIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$`)
	appPattern        = regexp.MustCompile(`^[a-z][a-z0-9-]{1,28}[a-z0-9]$`)
	addonNamePattern  = regexp.MustCompile(`^[a-zA-Z][A-Za-z0-9_-]{1,99}$`)
	addonIDPattern    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	schemaPattern     = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	dbKeyPattern      = regexp.MustCompile(`^[A-Z][A-Z0-9_]*_URL$`)
)

// Validate checks every field of a start input (after WithDefaults) and reports all that
// are wrong, each with its rule. Nothing is created for an input that fails.
func (in ConnectionInput) Validate() error {
	v := &ValidationError{}
	if !ValidSlug(in.ISVSlug) {
		v.Add("isv_slug", "must be 3-30 lower-case letters, digits and single dashes, starting with a letter")
	}
	if !customerIDPattern.MatchString(in.CustomerID) {
		v.Add("customer_id", "must be 1-100 letters, digits or . _ : @ -, starting with a letter or digit")
	}
	switch in.Mode {
	case ModeProvision:
		if !appPattern.MatchString(in.App) {
			v.Add("app", "is required to provision and must be a Heroku app name (lower-case letters, digits and dashes, 3-30 characters)")
		}
		if in.Addon != "" {
			v.Add("addon", "must be empty when provisioning (it is for enroll)")
		}
	case ModeEnroll:
		if !addonNamePattern.MatchString(in.Addon) && !addonIDPattern.MatchString(in.Addon) {
			v.Add("addon", "is required to enroll and must be an add-on ID (UUID) or name")
		}
		if in.App != "" {
			v.Add("app", "must be empty when enrolling (the add-on's app is used)")
		}
	default:
		v.Add("mode", `must be "provision" or "enroll"`)
	}
	if !schemaPattern.MatchString(in.Schema) {
		v.Add("schema", "must be a lower-case Postgres identifier (letters, digits, _) of at most 63 characters")
	} else if in.Schema == "public" || in.Schema == "information_schema" || strings.HasPrefix(in.Schema, "pg_") {
		v.Add("schema", "must not be public, information_schema or a pg_ schema")
	}
	if !dbKeyPattern.MatchString(in.DBKey) {
		v.Add("db_key", "must be a config var name ending in _URL, such as DATABASE_URL")
	}
	sf := in.Salesforce
	if _, err := salesforce.NormalizeOrgID(sf.OrgID); err != nil {
		v.Add("salesforce.sf_org_id", err.Error())
	}
	if err := salesforce.CheckUsername(sf.Username); err != nil {
		v.Add("salesforce.sf_username", err.Error())
	}
	switch sf.Environment {
	case EnvProduction, EnvSandbox:
		if sf.Domain != "" {
			v.Add("salesforce.domain", "is only for the custom environment")
		}
	case EnvCustom:
		if sf.Domain == "" {
			v.Add("salesforce.domain", "is required when environment is custom")
		} else if err := salesforce.CheckDomain(sf.Domain); err != nil {
			v.Add("salesforce.domain", err.Error())
		}
	default:
		v.Add("salesforce.environment", "must be production, sandbox or custom")
	}
	if sf.APIVersion != "" {
		if err := salesforce.CheckAPIVersion(sf.APIVersion); err != nil {
			v.Add("salesforce.api_version", err.Error())
		}
	}
	if in.ReturnURL != "" {
		u, err := url.Parse(in.ReturnURL)
		local := err == nil && u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1")
		if err != nil || u.Host == "" || (u.Scheme != "https" && !local) || u.User != nil || u.Fragment != "" || len(in.ReturnURL) > 2000 {
			v.Add("return_url", "must be an https URL (http only for localhost) without user info or fragment, at most 2000 characters")
		}
	}
	o := in.Options
	if o.AuthorizationTimeout < time.Minute || o.AuthorizationTimeout > 90*24*time.Hour {
		v.Add("options.authorization_timeout", "must be between 1m and 90 days")
	}
	if o.MaxMismatches < 1 || o.MaxMismatches > 100 {
		v.Add("options.max_mismatches", "must be between 1 and 100")
	}
	if o.URLRefreshMargin < 0 {
		v.Add("options.url_refresh_margin", "must not be negative")
	}
	return v.Err()
}

// OpaqueIDProblems holds a customer ID to being opaque: it lands in a workflow ID and a search
// attribute, which are never encrypted, so it must not be an email address, nor the
// customer's Salesforce org ID or username (map such an ID to one of your own first).
func (in ConnectionInput) OpaqueIDProblems() *ValidationError {
	v := &ValidationError{}
	id := in.CustomerID
	switch {
	case strings.Contains(id, "@"):
		v.Add("customer_id", "must be an opaque ID, not an email address or username (it is stored unencrypted in the workflow ID and search attributes); use your own customer key")
	case in.Salesforce.OrgID != "" && strings.EqualFold(id, in.Salesforce.OrgID),
		len(id) >= 15 && len(in.Salesforce.OrgID) >= 15 && strings.EqualFold(id[:15], in.Salesforce.OrgID[:15]):
		v.Add("customer_id", "must be an opaque ID, not the Salesforce org ID (it is stored unencrypted in the workflow ID and search attributes); use your own customer key")
	}
	return v
}

// ValidateRequest checks a start input as given (before defaults), for a caller that does
// not know the worker's settings: operational options are the worker's, per-customer options
// are bounded. The worker checks it again, and the return host against its settings.
// The customer ID must also be opaque (OpaqueIDProblems).
func (in ConnectionInput) ValidateRequest() error {
	v := in.RequestProblems()
	v.Fields = append(v.Fields, in.OpaqueIDProblems().Fields...)
	return v.Err()
}

// RequestProblems is ValidateRequest's list, for a caller that adds checks of its own.
func (in ConnectionInput) RequestProblems() *ValidationError {
	v := &ValidationError{}
	full := in.WithDefaults()
	if err := full.Validate(); err != nil {
		v.Fields = append(v.Fields, err.(*ValidationError).Fields...)
	}
	if m := full.Options.URLRefreshMargin; m < time.Minute || m > 12*time.Hour {
		v.Add("options.url_refresh_margin", "must be between 1m and 12h")
	}
	checkMappings(v, in.Mappings)
	return v
}

// IdentityHashes are short hashes of the fields that make a customer's onboarding what it
// is; a second start with different values is refused, naming the fields, without the status
// holding the values themselves twice.
func (in ConnectionInput) IdentityHashes() map[string]string {
	org, err := salesforce.NormalizeOrgID(in.Salesforce.OrgID)
	if err != nil {
		org = in.Salesforce.OrgID
	}
	fields := map[string]string{
		"mode": in.Mode, "app": in.App, "addon": in.Addon, "schema": in.Schema, "db_key": in.DBKey,
		"salesforce.sf_org_id": org, "salesforce.sf_username": strings.ToLower(in.Salesforce.Username),
		"salesforce.environment": in.Salesforce.Environment, "salesforce.domain": strings.ToLower(in.Salesforce.Domain),
	}
	out := make(map[string]string, len(fields))
	for _, k := range workflow.DeterministicKeys(fields) {
		val := fields[k]
		sum := sha256.Sum256([]byte(k + "\x00" + val))
		out[k] = hex.EncodeToString(sum[:8])
	}
	return out
}
