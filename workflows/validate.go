package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/salesforce"
)

// Validation of a start input: every field with its rule, before anything is created.

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

func (e *ValidationError) add(field, rule string) {
	e.Fields = append(e.Fields, FieldError{field, rule})
}

func (e *ValidationError) orNil() error {
	if len(e.Fields) == 0 {
		return nil
	}
	sort.SliceStable(e.Fields, func(i, j int) bool { return e.Fields[i].Field < e.Fields[j].Field })
	return e
}

// Validate checks every field of a start input (after WithDefaults) and reports all that
// are wrong, each with its rule. Nothing is created for an input that fails.
func (in ConnectionInput) Validate() error {
	v := &ValidationError{}
	if !ValidSlug(in.ISVSlug) {
		v.add("isv_slug", "must be 3-30 lower-case letters, digits and single dashes, starting with a letter")
	}
	if !customerIDPattern.MatchString(in.CustomerID) {
		v.add("customer_id", "must be 1-100 letters, digits or . _ : @ -, starting with a letter or digit")
	}
	switch in.Mode {
	case ModeProvision:
		if !appPattern.MatchString(in.App) {
			v.add("app", "is required to provision and must be a Heroku app name (lower-case letters, digits and dashes, 3-30 characters)")
		}
		if in.Addon != "" {
			v.add("addon", "must be empty when provisioning (it is for enroll)")
		}
	case ModeEnroll:
		if !addonNamePattern.MatchString(in.Addon) && !addonIDPattern.MatchString(in.Addon) {
			v.add("addon", "is required to enroll and must be an add-on ID (UUID) or name")
		}
		if in.App != "" {
			v.add("app", "must be empty when enrolling (the add-on's app is used)")
		}
	default:
		v.add("mode", `must be "provision" or "enroll"`)
	}
	if !schemaPattern.MatchString(in.Schema) {
		v.add("schema", "must be a lower-case Postgres identifier (letters, digits, _) of at most 63 characters")
	} else if in.Schema == "public" || in.Schema == "information_schema" || strings.HasPrefix(in.Schema, "pg_") {
		v.add("schema", "must not be public, information_schema or a pg_ schema")
	}
	if !dbKeyPattern.MatchString(in.DBKey) {
		v.add("db_key", "must be a config var name ending in _URL, such as DATABASE_URL")
	}
	sf := in.Salesforce
	if _, err := salesforce.NormalizeOrgID(sf.OrgID); err != nil {
		v.add("salesforce.sf_org_id", err.Error())
	}
	if err := salesforce.CheckUsername(sf.Username); err != nil {
		v.add("salesforce.sf_username", err.Error())
	}
	switch sf.Environment {
	case EnvProduction, EnvSandbox:
		if sf.Domain != "" {
			v.add("salesforce.domain", "is only for the custom environment")
		}
	case EnvCustom:
		if sf.Domain == "" {
			v.add("salesforce.domain", "is required when environment is custom")
		} else if err := salesforce.CheckDomain(sf.Domain); err != nil {
			v.add("salesforce.domain", err.Error())
		}
	default:
		v.add("salesforce.environment", "must be production, sandbox or custom")
	}
	if sf.APIVersion != "" {
		if err := salesforce.CheckAPIVersion(sf.APIVersion); err != nil {
			v.add("salesforce.api_version", err.Error())
		}
	}
	if in.ReturnURL != "" {
		u, err := url.Parse(in.ReturnURL)
		local := err == nil && u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1")
		if err != nil || u.Host == "" || (u.Scheme != "https" && !local) || u.User != nil || u.Fragment != "" || len(in.ReturnURL) > 2000 {
			v.add("return_url", "must be an https URL (http only for localhost) without user info or fragment, at most 2000 characters")
		}
	}
	o := in.Options
	if o.AuthorizationTimeout < time.Minute || o.AuthorizationTimeout > 90*24*time.Hour {
		v.add("options.authorization_timeout", "must be between 1m and 90 days")
	}
	if o.MaxMismatches < 1 || o.MaxMismatches > 100 {
		v.add("options.max_mismatches", "must be between 1 and 100")
	}
	if o.URLRefreshMargin < 0 || o.PollInterval < 0 || o.WatchWaitingInterval < 0 || o.WatchActiveInterval < 0 {
		v.add("options", "durations must not be negative")
	}
	if o.WatchShards < 1 || o.WatchShards > 64 {
		v.add("options.watch_shards", "must be between 1 and 64")
	}
	if o.ContinueAsNewAfter != 0 && o.ContinueAsNewAfter < 50 {
		v.add("options.continue_as_new_after", "must be 0 (Temporal's suggestion) or at least 50 events")
	}
	return v.orNil()
}

// workerSettings names the options a start request may not set, each with the worker
// setting that decides it.
var workerSettings = []struct {
	field, env string
	set        func(ConnectionOptions) bool
}{
	{"options.heroku_task_queue", "TEMPORAL_HEROKU_TASK_QUEUE", func(o ConnectionOptions) bool { return o.HerokuTaskQueue != "" }},
	{"options.poll_interval", "WORKER_POLL_INTERVAL", func(o ConnectionOptions) bool { return o.PollInterval != 0 }},
	{"options.watch_waiting_interval", "WORKER_WATCH_WAITING_INTERVAL", func(o ConnectionOptions) bool { return o.WatchWaitingInterval != 0 }},
	{"options.watch_active_interval", "WORKER_WATCH_ACTIVE_INTERVAL", func(o ConnectionOptions) bool { return o.WatchActiveInterval != 0 }},
	{"options.watch_shards", "WORKER_WATCH_SHARDS", func(o ConnectionOptions) bool { return o.WatchShards != 0 }},
	{"options.continue_as_new_after", "WORKER_CONTINUE_AS_NEW_AFTER", func(o ConnectionOptions) bool { return o.ContinueAsNewAfter != 0 }},
}

// ValidateStart checks a start input as given (before defaults) against the worker's
// settings: operational options are the worker's, per-customer options are bounded, and the
// return URL must be on a host the worker was configured to send customers back to.
func (in ConnectionInput) ValidateStart(s activities.Settings) error {
	v := in.validateRequest()
	if in.ReturnURL != "" && !s.ReturnAllowed(in.ReturnURL) {
		v.add("return_url", "must be on a return host the worker allows (WORKER_RETURN_HOSTS)")
	}
	return v.orNil()
}

// ValidateRequest is ValidateStart without the worker's settings, for a caller that does
// not know them (the starter): the worker still checks the return host.
func (in ConnectionInput) ValidateRequest() error { return in.validateRequest().orNil() }

func (in ConnectionInput) validateRequest() *ValidationError {
	v := &ValidationError{}
	for _, ws := range workerSettings {
		if ws.set(in.Options) {
			v.add(ws.field, "is a worker setting ("+ws.env+"); a start request may not set it")
		}
	}
	full := in.WithDefaults()
	if err := full.Validate(); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			v.Fields = append(v.Fields, ve.Fields...)
		}
	}
	if m := full.Options.URLRefreshMargin; m < time.Minute || m > 12*time.Hour {
		v.add("options.url_refresh_margin", "must be between 1m and 12h")
	}
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
	// Building a map does not depend on order.
	//workflowcheck:ignore
	for k, val := range fields {
		sum := sha256.Sum256([]byte(k + "\x00" + val))
		out[k] = hex.EncodeToString(sum[:8])
	}
	return out
}
