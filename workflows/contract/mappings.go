package contract

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/internal/strictjson"
)

// Mapping templates: the Heroku Connect mapping configuration an integration (or one
// onboarding) gives every customer's connection, in Connect's own export format, so an ISV
// exports a connection it configured by hand and registers the file as it is.

// MappingTemplate is a Heroku Connect mapping configuration: `heroku connect:export`'s file.
// The export's "connection" block describes the connection it came from; it is read and
// dropped (Connection is always nil after ParseMappingTemplate).
type MappingTemplate struct {
	Version    int            `json:"version"`
	Connection map[string]any `json:"connection,omitempty"`
	Mappings   []Mapping      `json:"mappings"`
}

// Mapping is one Salesforce object synced into the customer's schema.
type Mapping struct {
	ObjectName string        `json:"object_name"`
	Config     MappingConfig `json:"config"`
}

// MappingConfig is how one object syncs.
type MappingConfig struct {
	Access             string `json:"access"` // MappingReadOnly | MappingReadWrite
	SFNotifyEnabled    bool   `json:"sf_notify_enabled"`
	SFPollingSeconds   int    `json:"sf_polling_seconds"`
	SFMaxDailyAPICalls int    `json:"sf_max_daily_api_calls"`
	// Fields maps each mapped field to {} (Connect's export writes them so).
	Fields      map[string]struct{}     `json:"fields"`
	Indexes     map[string]MappingIndex `json:"indexes,omitempty"`
	UpsertField string                  `json:"upsert_field,omitempty"`
}

// MappingIndex is an index Connect creates on a mapped column.
type MappingIndex struct {
	Unique bool `json:"unique"`
}

// Mapping access values.
const (
	MappingReadOnly  = "read_only"
	MappingReadWrite = "read_write"
)

// Limits of a template. A template travels in workflow payloads (the partner workflow keeps
// it through continue-as-new) and is sent to Heroku once per customer, so it is bounded well
// below Temporal's 2 MB payload limit.
const (
	MaxMappingTemplateBytes = 256 << 10
	MaxMappings             = 100
	MaxMappedFields         = 800 // Salesforce's most fields per object
	MinPollingSeconds       = 120
	MaxPollingSeconds       = 86400
	MaxDailyAPICalls        = 10_000_000
)

// sfName is a Salesforce API name (Account, Invoice__c, ns__Thing__c): letters, digits and
// underscores, starting with a letter, at most 80 characters; Salesforce refuses a trailing
// underscore and three in a row.
var sfName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,79}$`)

func validSFName(s string) bool {
	return sfName.MatchString(s) && !strings.HasSuffix(s, "_") && !strings.Contains(s, "___")
}

// ParseMappingTemplate decodes a mapping configuration file strictly (every unknown or
// repeated key is an error naming its path), drops the export's connection block and
// validates the rest. path prefixes every field named in an error ("mappings" for a request
// body's field, "" for a file).
func ParseMappingTemplate(data []byte, path string) (*MappingTemplate, error) {
	at := func(f string) string {
		if path == "" {
			return f
		}
		if f == "" {
			return path
		}
		return path + "." + f
	}
	if len(data) > MaxMappingTemplateBytes {
		return nil, &ValidationError{Fields: []FieldError{{at(""), fmt.Sprintf("is %d bytes, more than %d", len(data), MaxMappingTemplateBytes)}}}
	}
	var t MappingTemplate
	if err := strictjson.Decode(data, &t); err != nil {
		v := &ValidationError{}
		var se *strictjson.Error
		if errors.As(err, &se) {
			for _, f := range se.Fields {
				v.Add(at(f.Field), f.Rule)
			}
		} else {
			v.Add(at(""), err.Error())
		}
		return nil, v.Err()
	}
	t.Connection = nil
	if err := t.Validate(path); err != nil {
		return nil, err
	}
	return &t, nil
}

// Validate checks a template's rules, naming each bad field by its path under prefix.
func (t *MappingTemplate) Validate(prefix string) error {
	v := &ValidationError{}
	at := func(f string) string {
		if prefix == "" {
			return f
		}
		return prefix + "." + f
	}
	if t.Version != 1 {
		v.Add(at("version"), "must be 1 (Heroku Connect's export format)")
	}
	switch {
	case len(t.Mappings) == 0:
		v.Add(at("mappings"), "must name at least one object")
	case len(t.Mappings) > MaxMappings:
		v.Add(at("mappings"), fmt.Sprintf("must name at most %d objects", MaxMappings))
	}
	seen := map[string]int{}
	for i, m := range t.Mappings {
		p := at(fmt.Sprintf("mappings[%d]", i))
		if !validSFName(m.ObjectName) {
			v.Add(p+".object_name", "must be a Salesforce API name: letters, digits and single or double underscores, starting with a letter, at most 80 characters")
		} else if j, dup := seen[strings.ToLower(m.ObjectName)]; dup {
			v.Add(p+".object_name", fmt.Sprintf("repeats mappings[%d]: each object is mapped once", j))
		} else {
			seen[strings.ToLower(m.ObjectName)] = i
		}
		m.Config.validate(v, p+".config")
	}
	if size := len(t.canonical()); size > MaxMappingTemplateBytes {
		v.Add(at(""), fmt.Sprintf("is %d bytes, more than %d", size, MaxMappingTemplateBytes))
	}
	return v.Err()
}

func (c MappingConfig) validate(v *ValidationError, p string) {
	if c.Access != MappingReadOnly && c.Access != MappingReadWrite {
		v.Add(p+".access", `must be "read_only" or "read_write"`)
	}
	if c.SFPollingSeconds < MinPollingSeconds || c.SFPollingSeconds > MaxPollingSeconds {
		v.Add(p+".sf_polling_seconds", fmt.Sprintf("must be %d to %d", MinPollingSeconds, MaxPollingSeconds))
	}
	if c.SFMaxDailyAPICalls < 0 || c.SFMaxDailyAPICalls > MaxDailyAPICalls {
		v.Add(p+".sf_max_daily_api_calls", fmt.Sprintf("must be 0 to %d", MaxDailyAPICalls))
	}
	switch {
	case len(c.Fields) == 0:
		v.Add(p+".fields", "must name at least one field")
	case len(c.Fields) > MaxMappedFields:
		v.Add(p+".fields", fmt.Sprintf("must name at most %d fields", MaxMappedFields))
	}
	lower := map[string]bool{}
	for _, f := range sortedNames(c.Fields) {
		if !validSFName(f) {
			v.Add(fmt.Sprintf("%s.fields[%q]", p, f), "must be a Salesforce field API name")
		}
		lower[strings.ToLower(f)] = true
	}
	if !lower["id"] || !lower["systemmodstamp"] {
		v.Add(p+".fields", "must include Id and SystemModstamp (Connect syncs by them)")
	}
	for _, f := range sortedNames(c.Indexes) {
		if !lower[strings.ToLower(f)] {
			v.Add(fmt.Sprintf("%s.indexes[%q]", p, f), "must be one of the mapping's fields")
		}
	}
	if c.UpsertField != "" && !lower[strings.ToLower(c.UpsertField)] {
		v.Add(p+".upsert_field", "must be one of the mapping's fields")
	}
	if c.UpsertField != "" && c.Access != MappingReadWrite {
		v.Add(p+".upsert_field", "is only for read_write mappings")
	}
}

// sortedNames are m's keys in order: validation runs in workflows too, and its errors must
// not depend on map order.
func sortedNames[V any](m map[string]V) []string { return workflow.DeterministicKeys(m) }

// JSON is the template as sent to Heroku (by an activity: encoding/json is not for
// workflow code).
func (t *MappingTemplate) JSON() []byte {
	c := *t
	c.Connection = nil
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("contract: a mapping template always encodes: %v", err))
	}
	return b
}

// Digest names a template's content: what a customer records as imported, so the same
// template is never imported twice and a changed one is told apart. Workflows compute it, so
// it is built from the canonical form (every map in key order, by hand), not by encoding/json.
func (t *MappingTemplate) Digest() string {
	sum := sha256.Sum256([]byte(t.canonical()))
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// canonical is the template in a fixed textual form: its size is what the limit bounds,
// its hash the digest.
func (t *MappingTemplate) canonical() string {
	var b strings.Builder
	w := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
	}
	w("version ", strconv.Itoa(t.Version), "\n")
	for _, m := range t.Mappings {
		c := m.Config
		w(strconv.Quote(m.ObjectName), " ", strconv.Quote(c.Access), " notify=", strconv.FormatBool(c.SFNotifyEnabled),
			" polling=", strconv.Itoa(c.SFPollingSeconds), " calls=", strconv.Itoa(c.SFMaxDailyAPICalls), " upsert=", strconv.Quote(c.UpsertField), " fields=")
		for _, f := range sortedNames(c.Fields) {
			w(strconv.Quote(f), ",")
		}
		w(" indexes=")
		for _, f := range sortedNames(c.Indexes) {
			w(strconv.Quote(f), ":", strconv.FormatBool(c.Indexes[f].Unique), ",")
		}
		w("\n")
	}
	return b.String()
}

// Objects are the template's object names, in its order.
func (t *MappingTemplate) Objects() []string {
	out := make([]string, len(t.Mappings))
	for i, m := range t.Mappings {
		out[i] = m.ObjectName
	}
	return out
}
