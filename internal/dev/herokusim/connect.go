package herokusim

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"

	"github.com/connect-onboarding/worker/internal/heroku"
)

var schemaPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func (s *Sim) connectAuth(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ap := s.lookupApp(w, r.PathValue("app"))
	if ap == nil {
		return
	}
	for _, a := range s.st.Addons {
		if a.App == ap.Name {
			a.AccessList[rc.user] = true
		}
	}
	s.dirty = true
	writeJSON(w, http.StatusOK, map[string]string{"message": "Access granted to Heroku Connect add-ons of " + ap.Name})
}

// connectionsOf lists the connections of app the user may see, sorted by ID. Caller holds
// s.mu.
func (s *Sim) connectionsOf(app, resourceName, user string) []*connection {
	s.settleAll()
	var out []*connection
	for _, a := range s.st.Addons {
		if a.App != app || a.ConnectionID == "" || !a.AccessList[user] || (resourceName != "" && a.Name != resourceName) {
			continue
		}
		if c := s.st.Connections[a.ConnectionID]; c != nil {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Sim) discover(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	app := r.URL.Query().Get("app")
	if app == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "The app query parameter is required.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ap := s.lookupApp(w, app)
	if ap == nil {
		return
	}
	results := []heroku.ConnectionRef{}
	for _, c := range s.connectionsOf(app, r.URL.Query().Get("resource_name"), rc.user) {
		a := s.st.Addons[c.AddonID]
		results = append(results, heroku.ConnectionRef{ID: c.ID, ResourceName: a.Name, AppName: ap.Name, AppID: ap.ID,
			Region: "us", RegionURL: s.apiBase(r), DetailURL: s.apiBase(r) + "/api/v3/connections/" + c.ID})
	}
	writeConnectPage(w, r, s.apiBase(r), results)
}

// Connect API lists page by offset and limit (default 100, at most 1000): count is the
// total, next and previous the absolute URLs of the neighbouring pages (null at the ends).
const (
	connectPageDefault = 100
	connectPageMax     = 1000
)

func writeConnectPage[T any](w http.ResponseWriter, r *http.Request, base string, all []T) {
	q := r.URL.Query()
	offset, limit := 0, connectPageDefault
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "bad_request", "offset must be a number of at least 0.")
			return
		}
		offset = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > connectPageMax {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("limit must be between 1 and %d.", connectPageMax))
			return
		}
		limit = n
	}
	link := func(off int) *string {
		q.Set("offset", strconv.Itoa(off))
		q.Set("limit", strconv.Itoa(limit))
		u := base + r.URL.Path + "?" + q.Encode()
		return &u
	}
	var next, previous *string
	if offset+limit < len(all) {
		next = link(offset + limit)
	}
	if offset > 0 {
		previous = link(max(0, offset-limit))
	}
	page := all[min(offset, len(all)):min(offset+limit, len(all))]
	writeJSON(w, http.StatusOK, map[string]any{"count": len(all), "next": next, "previous": previous, "results": page})
}

func (s *Sim) connectionJSON(c *connection) heroku.Connection {
	s.settleMappings(c)
	a := s.st.Addons[c.AddonID]
	return heroku.Connection{ID: c.ID, Name: a.Name, ResourceName: a.Name, AddonID: a.ID, AppName: a.App,
		SchemaName: c.SchemaName, DBKey: c.DBKey, State: c.State, OrganizationID: c.OrgID, AuthUpdated: c.AuthUpdated,
		SFInfo: c.SF, Mappings: mappingsOf(c), CreatedAt: c.CreatedAt}
}

func (s *Sim) appConnections(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	app := r.URL.Query().Get("app")
	if app == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "The app query parameter is required.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lookupApp(w, app) == nil {
		return
	}
	results := []heroku.Connection{}
	for _, c := range s.connectionsOf(app, "", rc.user) {
		results = append(results, s.connectionJSON(c))
	}
	writeConnectPage(w, r, s.apiBase(r), results)
}

// visibleConnection answers 404 or 403 itself when the connection is unknown or the user
// is not on its add-on's access list. Caller holds s.mu.
func (s *Sim) visibleConnection(w http.ResponseWriter, id, user string) *connection {
	c := s.st.Connections[id]
	if c != nil {
		s.settle(s.st.Addons[c.AddonID])
		c = s.st.Connections[id]
	}
	if c == nil {
		writeError(w, http.StatusNotFound, "not_found", "Connection not found.")
		return nil
	}
	if !s.st.Addons[c.AddonID].AccessList[user] {
		writeError(w, http.StatusForbidden, "forbidden", "You are not on the access list of this connection; POST /auth/{app} first.")
		return nil
	}
	return c
}

func (s *Sim) connectionDetail(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.visibleConnection(w, r.PathValue("id"), rc.user); c != nil {
		writeJSON(w, http.StatusOK, s.connectionJSON(c))
	}
}

func (s *Sim) patchConnection(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	var body struct {
		DBKey      string `json:"db_key"`
		SchemaName string `json:"schema_name"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	fields := map[string][]string{}
	if body.DBKey == "" {
		fields["db_key"] = []string{"is required"}
	}
	if !schemaPattern.MatchString(body.SchemaName) {
		fields["schema_name"] = []string{"must be a lower-case Postgres identifier of at most 63 characters"}
	}
	if len(fields) > 0 {
		writeJSON(w, http.StatusBadRequest, apiError{ID: "bad_request", Message: "Invalid connection settings.", Errors: fields})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.visibleConnection(w, r.PathValue("id"), rc.user)
	if c == nil {
		return
	}
	if c.State != heroku.StateNew {
		if c.DBKey == body.DBKey && c.SchemaName == body.SchemaName {
			writeJSON(w, http.StatusOK, s.connectionJSON(c)) // the same settings again: nothing to change
			return
		}
		writeError(w, http.StatusConflict, "conflict", "The database and schema can only be set while the connection is NEW.")
		return
	}
	c.DBKey, c.SchemaName, c.State = body.DBKey, body.SchemaName, heroku.StateNeedAuthentication
	s.dirty = true
	writeJSON(w, http.StatusOK, s.connectionJSON(c))
}
