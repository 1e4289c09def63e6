package herokusim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/connect-onboarding/worker/internal/heroku"
)

// The rest of the Connect API: mappings that sync on the simulator's clock, export and
// import, connection actions, validations, write errors and notifications, the
// authorization URL Heroku's own CLI plugin asks for, and the app's database keys.

// mapping is one object a connection syncs. Its state advances on the simulator's clock:
// INITIAL, RELOAD_TABLE (each for half of Config.SyncDelay), then DATA_SYNCED; an injected
// schema change passes through SCHEMA_CHANGED and RESYNC, an injected failure stops it in
// SYSTEM_ERROR until a reload or a restart.
type mapping struct {
	ID         string               `json:"id"`
	ObjectName string               `json:"object_name"`
	Config     map[string]any       `json:"config"`
	State      string               `json:"state"`
	Since      time.Time            `json:"since"`
	Message    string               `json:"message"`
	Counts     heroku.MappingCounts `json:"counts"`
	// Fail and SchemaChange are injected faults still to happen.
	Fail         string    `json:"fail,omitempty"`
	SchemaChange bool      `json:"schema_change,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

type rowError struct {
	heroku.WriteError
	MappingID string `json:"mapping_id"`
}

type notification struct {
	heroku.Notification
	Acknowledged bool `json:"acknowledged"`
}

type validation struct {
	ID      string    `json:"id"`
	ReadyAt time.Time `json:"ready_at"`
}

// MappingFault is an injected mapping fault (POST /_sim/mapping-faults): Kind "fail" stops
// the object's mapping in SYSTEM_ERROR (at once, or when its load ends), "schema_changed"
// sends it through SCHEMA_CHANGED and RESYNC, "write_errors" records Count rows Connect
// could not write. A fault for an object not mapped yet waits for its import.
type MappingFault struct {
	Addon   string `json:"addon"` // ID or name
	Object  string `json:"object"`
	Kind    string `json:"kind"`
	Count   int    `json:"count,omitempty"`
	Message string `json:"message,omitempty"`
}

// syncRows is how many rows the simulator pretends every object holds.
const syncRows = 42

// halfSync is how long each loading state lasts.
func (s *Sim) halfSync() time.Duration { return s.cfg.SyncDelay / 2 }

// syncing reports whether a connection in state moves its mappings along.
func syncing(state string) bool {
	switch state {
	case heroku.StateNew, heroku.StateNeedAuthentication, heroku.StateUnauthorized, heroku.StatePaused:
		return false
	}
	return true
}

// settleMappings moves c's mappings along to now. Caller holds s.mu.
func (s *Sim) settleMappings(c *connection) {
	if !syncing(c.State) {
		return
	}
	now := s.now()
	for _, m := range c.Mappings {
		for step := 0; step < 5; step++ {
			due := m.Since.Add(s.halfSync())
			if now.Before(due) {
				break
			}
			switch m.State {
			case heroku.MappingInitial:
				m.State = heroku.MappingReloadTable
				if m.SchemaChange {
					m.State, m.SchemaChange = heroku.MappingSchemaChanged, false
				}
			case heroku.MappingSchemaChanged:
				m.State = heroku.MappingResync
			case heroku.MappingReloadTable, heroku.MappingResync:
				if m.Fail != "" {
					s.failMapping(c, m, due)
				} else {
					m.State, m.Message = heroku.MappingDataSynced, "OK"
					m.Counts.DB, m.Counts.SF = syncRows, syncRows
				}
			default:
				step = 5 // settled: DATA_SYNCED or failed
				continue
			}
			m.Since, m.UpdatedAt = due, due
			s.dirty = true
		}
	}
}

// failMapping stops m in SYSTEM_ERROR with its injected message and tells the owners.
func (s *Sim) failMapping(c *connection, m *mapping, at time.Time) {
	m.State, m.Message, m.Fail = heroku.MappingSystemError, m.Fail, ""
	m.Since, m.UpdatedAt = at, at
	c.Notifications = append(c.Notifications, &notification{Notification: heroku.Notification{ID: uuid.NewString(),
		EventType: "mapping-error", Message: fmt.Sprintf("Mapping %s failed: %s", m.ObjectName, m.Message), CreatedAt: at}})
	s.dirty = true
}

func (s *Sim) mappingJSON(r *http.Request, c *connection, m *mapping) map[string]any {
	base := s.apiBase(r) + "/api/v3"
	return map[string]any{"id": m.ID, "_id": m.ID, "object_name": m.ObjectName, "state": m.State, "state_description": m.Message,
		"config": m.Config, "counts": m.Counts, "access": m.Config["access"], "connection": map[string]string{"id": c.ID},
		"detail_url": base + "/mappings/" + m.ID, "errors_url": base + "/mappings/" + m.ID + "/errors",
		"created_at": m.CreatedAt, "updated_at": m.UpdatedAt}
}

func mappingsOf(c *connection) []heroku.Mapping {
	out := make([]heroku.Mapping, 0, len(c.Mappings))
	for _, m := range c.Mappings {
		cfg, _ := json.Marshal(m.Config)
		out = append(out, heroku.Mapping{ID: m.ID, ObjectName: m.ObjectName, State: m.State, StateDescription: m.Message, Counts: m.Counts, Config: cfg})
	}
	return out
}

// liveConnection finds a visible connection and settles its mappings; it answers itself
// when there is none. Caller holds s.mu.
func (s *Sim) liveConnection(w http.ResponseWriter, r *http.Request, rc reqCtx) *connection {
	c := s.visibleConnection(w, r.PathValue("id"), rc.user)
	if c != nil {
		s.settleMappings(c)
	}
	return c
}

func authenticated(c *connection) bool {
	return c.State != heroku.StateNew && c.State != heroku.StateNeedAuthentication
}

func (s *Sim) exportMappings(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.liveConnection(w, r, rc)
	if c == nil {
		return
	}
	a := s.st.Addons[c.AddonID]
	conn := map[string]any{"app_name": a.App, "name": a.Name, "exported_at": s.now(), "organization_id": c.OrgID}
	if c.SF != nil {
		conn["api_version"] = c.SF.APIVersion
	}
	ms := []map[string]any{}
	for _, m := range c.Mappings {
		ms = append(ms, map[string]any{"object_name": m.ObjectName, "config": m.Config})
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": 1, "connection": conn, "mappings": ms})
}

// importMappings creates the mappings the configuration names and changes those that
// exist; mappings it does not name are left alone (the import is a PATCH).
func (s *Sim) importMappings(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	var body struct {
		Version    int             `json:"version"`
		Connection json.RawMessage `json:"connection"`
		Mappings   []struct {
			ObjectName string         `json:"object_name"`
			Config     map[string]any `json:"config"`
		} `json:"mappings"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	fields := map[string][]string{}
	if body.Version != 1 {
		fields["version"] = []string{"must be 1"}
	}
	for i, m := range body.Mappings {
		if m.ObjectName == "" {
			fields[fmt.Sprintf("mappings[%d].object_name", i)] = []string{"is required"}
		}
		if acc, _ := m.Config["access"].(string); acc != "read_only" && acc != "read_write" {
			fields[fmt.Sprintf("mappings[%d].config.access", i)] = []string{"must be read_only or read_write"}
		}
		if f, _ := m.Config["fields"].(map[string]any); len(f) == 0 {
			fields[fmt.Sprintf("mappings[%d].config.fields", i)] = []string{"must name at least one field"}
		}
	}
	if len(fields) > 0 {
		writeJSON(w, http.StatusBadRequest, apiError{ID: "bad_request", Message: "Invalid mapping configuration.", Errors: fields})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.liveConnection(w, r, rc)
	if c == nil {
		return
	}
	if !authenticated(c) {
		writeError(w, http.StatusConflict, "conflict", "The connection must be authenticated to Salesforce before a configuration is imported.")
		return
	}
	now := s.now()
	for _, in := range body.Mappings {
		var m *mapping
		for _, have := range c.Mappings {
			if strings.EqualFold(have.ObjectName, in.ObjectName) {
				m = have
			}
		}
		if m == nil {
			m = &mapping{ID: uuid.NewString(), ObjectName: in.ObjectName, State: heroku.MappingInitial, Since: now, CreatedAt: now, UpdatedAt: now}
			c.Mappings = append(c.Mappings, m)
			for _, f := range c.PendingFaults {
				if strings.EqualFold(f.Object, in.ObjectName) {
					s.applyFault(c, m, f)
				}
			}
			m.Config = in.Config
			continue
		}
		old, _ := json.Marshal(m.Config)
		nu, _ := json.Marshal(in.Config)
		if !bytes.Equal(old, nu) {
			m.Config, m.State, m.Since, m.UpdatedAt = in.Config, heroku.MappingResync, now, now
		}
	}
	kept := c.PendingFaults[:0]
	for _, f := range c.PendingFaults {
		if s.mappingNamed(c, f.Object) == nil {
			kept = append(kept, f)
		}
	}
	c.PendingFaults = kept
	c.Imports++
	s.st.Counters.Imports++
	s.dirty = true
	writeJSON(w, http.StatusAccepted, map[string]string{"message": "The configuration is being imported."})
}

func (s *Sim) mappingNamed(c *connection, object string) *mapping {
	for _, m := range c.Mappings {
		if strings.EqualFold(m.ObjectName, object) {
			return m
		}
	}
	return nil
}

// connectionAction pauses, resumes or restarts a connection.
func (s *Sim) connectionAction(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.liveConnection(w, r, rc)
	if c == nil {
		return
	}
	now := s.now()
	switch r.PathValue("action") {
	case "pause":
		if c.State != heroku.StateIdle {
			writeError(w, http.StatusConflict, "conflict", "Only an IDLE connection can be paused; this one is "+c.State+".")
			return
		}
		c.State = heroku.StatePaused
	case "resume":
		if c.State != heroku.StatePaused {
			writeError(w, http.StatusConflict, "conflict", "Only a PAUSED connection can be resumed; this one is "+c.State+".")
			return
		}
		c.State = heroku.StateIdle
		for _, m := range c.Mappings {
			m.Since = now // loads pick up where they stopped
		}
	case "restart":
		if !authenticated(c) || c.State == heroku.StateUnauthorized {
			writeError(w, http.StatusConflict, "conflict", "The connection must be authenticated to Salesforce to restart.")
			return
		}
		c.State = heroku.StateIdle
		for _, m := range c.Mappings {
			if heroku.MappingFailed(m.State) {
				m.State, m.Message, m.Since, m.UpdatedAt = heroku.MappingReloadTable, "", now, now
			}
		}
	default:
		writeError(w, http.StatusNotFound, "not_found", "Unknown connection action.")
		return
	}
	s.dirty = true
	writeJSON(w, http.StatusAccepted, map[string]string{"message": "Accepted."})
}

func (s *Sim) startValidation(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.liveConnection(w, r, rc)
	if c == nil {
		return
	}
	v := &validation{ID: uuid.NewString()[:8], ReadyAt: s.now().Add(time.Second)}
	if c.Validations == nil {
		c.Validations = map[string]*validation{}
	}
	c.Validations[v.ID] = v
	s.dirty = true
	writeJSON(w, http.StatusAccepted, map[string]string{"result_url": s.apiBase(r) + "/api/v3/connections/" + c.ID + "/validations/" + v.ID})
}

type validationResult struct {
	DisplayName string `json:"display_name"`
	Message     string `json:"message"`
	DocURL      string `json:"doc_url,omitempty"`
	RuleID      string `json:"rule_id"`
	Status      string `json:"status"`
}

func (s *Sim) validationResult(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.liveConnection(w, r, rc)
	if c == nil {
		return
	}
	v := c.Validations[r.PathValue("vid")]
	if v == nil {
		writeError(w, http.StatusNotFound, "not_found", "Validation not found.")
		return
	}
	if s.now().Before(v.ReadyAt) {
		writeJSON(w, http.StatusAccepted, map[string]string{"state": "PENDING"})
		return
	}
	type group struct {
		Errors   []validationResult `json:"errors"`
		Warnings []validationResult `json:"warnings"`
		Passes   []validationResult `json:"passes"`
		Skips    []validationResult `json:"skips"`
	}
	top := group{Errors: []validationResult{}, Warnings: []validationResult{}, Skips: []validationResult{}}
	top.Passes = []validationResult{{DisplayName: "Heroku Postgres", Message: "The database is reachable.", RuleID: "DB_REACHABLE", Status: "PASSED"}}
	if authenticated(c) && c.State != heroku.StateUnauthorized {
		top.Passes = append(top.Passes, validationResult{DisplayName: "Salesforce authorization", Message: "Connect can reach Salesforce.", RuleID: "SF_AUTHORIZED", Status: "PASSED"})
	} else {
		top.Errors = append(top.Errors, validationResult{DisplayName: "Salesforce authorization", Message: "The connection is not authorized to Salesforce.",
			DocURL: "https://devcenter.heroku.com/articles/managing-heroku-connect-sync-and-connections", RuleID: "SF_AUTHORIZED", Status: "FAILED"})
	}
	per := map[string]group{}
	for _, m := range c.Mappings {
		g := group{Errors: []validationResult{}, Warnings: []validationResult{}, Passes: []validationResult{}, Skips: []validationResult{}}
		if heroku.MappingFailed(m.State) {
			g.Errors = append(g.Errors, validationResult{DisplayName: "Mapping state", Message: m.ObjectName + " is " + m.State + ": " + m.Message,
				RuleID: "MAPPING_HEALTHY", Status: "FAILED"})
		} else {
			g.Passes = append(g.Passes, validationResult{DisplayName: "Mapping state", Message: m.ObjectName + " is " + m.State, RuleID: "MAPPING_HEALTHY", Status: "PASSED"})
		}
		per[m.ObjectName] = g
	}
	writeJSON(w, http.StatusOK, map[string]any{"errors": top.Errors, "warnings": top.Warnings, "passes": top.Passes, "skips": top.Skips, "mappings": per})
}

// writeErrorsOf answers the write errors of the last 24 hours, of a connection or of one
// of its mappings.
func (s *Sim) writeErrorsOf(w http.ResponseWriter, c *connection, mappingID string) {
	since := s.now().Add(-24 * time.Hour)
	out := []heroku.WriteError{}
	for _, e := range c.WriteErrors {
		if e.CreatedAt.After(since) && (mappingID == "" || e.MappingID == mappingID) {
			out = append(out, e.WriteError)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "results": out})
}

func (s *Sim) connectionErrors(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.liveConnection(w, r, rc); c != nil {
		s.writeErrorsOf(w, c, "")
	}
}

// notificationsMatching are the unacknowledged notifications the query selects (after,
// before: RFC 3339 times; event_type). Caller holds s.mu.
func notificationsMatching(c *connection, r *http.Request) ([]*notification, error) {
	q := r.URL.Query()
	var after, before time.Time
	for name, dst := range map[string]*time.Time{"after": &after, "before": &before} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return nil, fmt.Errorf("%s must be an RFC 3339 time", name)
			}
			*dst = t
		}
	}
	var out []*notification
	for _, n := range c.Notifications {
		if n.Acknowledged || (!after.IsZero() && !n.CreatedAt.After(after)) || (!before.IsZero() && !n.CreatedAt.Before(before)) ||
			(q.Get("event_type") != "" && q.Get("event_type") != n.EventType) {
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

func (s *Sim) listNotifications(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.liveConnection(w, r, rc)
	if c == nil {
		return
	}
	ns, err := notificationsMatching(c, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	out := []heroku.Notification{}
	for _, n := range ns {
		out = append(out, n.Notification)
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "results": out})
}

func (s *Sim) acknowledgeNotifications(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.liveConnection(w, r, rc)
	if c == nil {
		return
	}
	ns, err := notificationsMatching(c, r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"id": "bad_request", "message": err.Error()})
		return
	}
	for _, n := range ns {
		n.Acknowledged = true
	}
	s.dirty = true
	w.WriteHeader(http.StatusNoContent)
}

// connectAppInfo lists the app's database keys (connect:db:set offers them).
func (s *Sim) connectAppInfo(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ap := s.lookupApp(w, r.PathValue("app"))
	if ap == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": ap.Name, "db_keys": []map[string]any{
		{"name": "DATABASE_URL", "addon": map[string]string{"plan": "heroku-postgresql:standard-0"}}}})
}

// connectAuthorizeURL is the authorization URL Heroku's own CLI plugin asks for
// (connect:sf:auth): not bound to an org or user, unlike the partner API's.
func (s *Sim) connectAuthorizeURL(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	var body struct {
		Environment string `json:"environment"`
		Next        string `json:"next"`
		Domain      string `json:"domain"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	switch body.Environment {
	case heroku.EnvProduction, heroku.EnvSandbox, heroku.EnvCustom:
	default:
		writeFieldErrors(w, map[string][]string{"environment": {"must be production, sandbox or custom"}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.liveConnection(w, r, rc)
	if c == nil {
		return
	}
	if c.State == heroku.StateNew {
		writeError(w, http.StatusConflict, "conflict", "Set the database and schema first (connect:db:set).")
		return
	}
	a := s.st.Addons[c.AddonID]
	sess := &authSession{Token: randomWords() + randomWords() + randomWords() + randomWords(), AddonID: a.ID, ISV: a.ISV,
		Request:   heroku.AuthorizeRequest{Environment: body.Environment, Domain: body.Domain, Next: body.Next},
		ExpiresAt: s.now().Add(s.cfg.AuthURLTTL).Truncate(time.Second)}
	s.st.Sessions[sess.Token] = sess
	s.st.Counters.URLsIssued++
	s.dirty = true
	writeJSON(w, http.StatusCreated, map[string]string{"redirect": s.pageBase() + "/authorize/" + sess.Token})
}

// findMapping finds a mapping by ID among the connections the user may see. Caller holds
// s.mu.
func (s *Sim) findMapping(w http.ResponseWriter, id, user string) (*connection, *mapping) {
	ids := make([]string, 0, len(s.st.Connections))
	for cid := range s.st.Connections {
		ids = append(ids, cid)
	}
	sort.Strings(ids)
	for _, cid := range ids {
		c := s.st.Connections[cid]
		for _, m := range c.Mappings {
			if m.ID != id {
				continue
			}
			if a := s.st.Addons[c.AddonID]; a == nil || !a.AccessList[user] {
				writeError(w, http.StatusForbidden, "forbidden", "You are not on the access list of this connection; POST /auth/{app} first.")
				return nil, nil
			}
			s.settleMappings(c)
			return c, m
		}
	}
	writeError(w, http.StatusNotFound, "not_found", "Mapping not found.")
	return nil, nil
}

func (s *Sim) mappingInfo(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, m := s.findMapping(w, r.PathValue("mid"), rc.user); m != nil {
		writeJSON(w, http.StatusOK, s.mappingJSON(r, c, m))
	}
}

func (s *Sim) reloadMapping(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m := s.findMapping(w, r.PathValue("mid"), rc.user)
	if m == nil {
		return
	}
	if !syncing(c.State) {
		writeError(w, http.StatusConflict, "conflict", "The connection is "+c.State+"; a mapping reloads only on a running connection.")
		return
	}
	now := s.now()
	m.State, m.Message, m.Since, m.UpdatedAt = heroku.MappingReloadTable, "", now, now
	m.Counts.DB = 0
	s.dirty = true
	writeJSON(w, http.StatusAccepted, map[string]string{"message": "Reload started."})
}

func (s *Sim) deleteMapping(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m := s.findMapping(w, r.PathValue("mid"), rc.user)
	if m == nil {
		return
	}
	kept := c.Mappings[:0]
	for _, have := range c.Mappings {
		if have != m {
			kept = append(kept, have)
		}
	}
	c.Mappings = kept
	s.dirty = true
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sim) mappingErrors(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, m := s.findMapping(w, r.PathValue("mid"), rc.user); m != nil {
		s.writeErrorsOf(w, c, m.ID)
	}
}

// applyFault makes an injected fault happen to m. Caller holds s.mu.
func (s *Sim) applyFault(c *connection, m *mapping, f MappingFault) {
	now := s.now()
	switch f.Kind {
	case "fail":
		m.Fail = orDefault(f.Message, "INVALID_FIELD: No such column 'Region__c' on entity '"+m.ObjectName+"'")
		if heroku.MappingSynced(m.State) {
			s.failMapping(c, m, now)
		}
	case "schema_changed":
		m.SchemaChange = true
		if heroku.MappingSynced(m.State) {
			m.State, m.SchemaChange, m.Since, m.UpdatedAt = heroku.MappingSchemaChanged, false, now, now
		}
	case "write_errors":
		n := max(1, f.Count)
		schema := c.SchemaName
		for i := 0; i < n; i++ {
			c.WriteErrors = append(c.WriteErrors, &rowError{MappingID: m.ID, WriteError: heroku.WriteError{ID: uuid.NewString()[:8],
				TableName: schema + "." + strings.ToLower(m.ObjectName), RecordID: fmt.Sprint(i + 1),
				Message: orDefault(f.Message, "FIELD_CUSTOM_VALIDATION_EXCEPTION: Amount must be positive"), CreatedAt: now}})
		}
		m.Counts.Errors += n
		c.Notifications = append(c.Notifications, &notification{Notification: heroku.Notification{ID: uuid.NewString(),
			EventType: "mapping-error", Message: fmt.Sprintf("%d rows of %s could not be written to Salesforce", n, m.ObjectName), CreatedAt: now}})
	}
	s.dirty = true
}

// InjectMappingFault applies f now, or when its object is imported.
func (s *Sim) InjectMappingFault(f MappingFault) error {
	switch f.Kind {
	case "fail", "schema_changed", "write_errors":
	default:
		return fmt.Errorf("kind must be fail, schema_changed or write_errors")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findAddon("", f.Addon)
	if a == nil || a.ConnectionID == "" {
		return fmt.Errorf("no add-on %q with a connection", f.Addon)
	}
	c := s.st.Connections[a.ConnectionID]
	s.settleMappings(c)
	if m := s.mappingNamed(c, f.Object); m != nil {
		s.applyFault(c, m, f)
		return nil
	}
	c.PendingFaults = append(c.PendingFaults, f)
	s.dirty = true
	return nil
}

func (s *Sim) adminMappingFault(w http.ResponseWriter, r *http.Request) {
	var f MappingFault
	if !decodeBody(w, r, &f) {
		return
	}
	if err := s.InjectMappingFault(f); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, f)
}

// Imports reports how many configurations were imported into each add-on's connection, by
// add-on ID.
func (s *Sim) Imports() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, c := range s.st.Connections {
		if c.Imports > 0 {
			out[c.AddonID] = c.Imports
		}
	}
	return out
}
