package herokusim

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/connect-onboarding/worker/internal/heroku"
)

// AdminPrefix is where the control API lives; it is not part of Heroku.
const AdminPrefix = "/_sim"

func (s *Sim) adminRoutes(m *http.ServeMux) {
	m.HandleFunc("GET "+AdminPrefix+"/healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	m.HandleFunc("GET "+AdminPrefix+"/counters", s.adminCounters)
	m.HandleFunc("GET "+AdminPrefix+"/calls", s.adminCalls)
	m.HandleFunc("POST "+AdminPrefix+"/apps", s.adminCreateApp)
	m.HandleFunc("GET "+AdminPrefix+"/addons", s.adminAddons)
	m.HandleFunc("POST "+AdminPrefix+"/authorize", s.adminAuthorize)
	m.HandleFunc("POST "+AdminPrefix+"/revoke", s.adminRevoke)
	m.HandleFunc("POST "+AdminPrefix+"/connection-state", s.adminSetState)
	m.HandleFunc("GET "+AdminPrefix+"/faults", s.adminFaults)
	m.HandleFunc("POST "+AdminPrefix+"/faults", s.adminAddFaults)
	m.HandleFunc("DELETE "+AdminPrefix+"/faults", s.adminClearFaults)
	m.HandleFunc("DELETE "+AdminPrefix+"/faults/{id}", s.adminRemoveFault)
	m.HandleFunc("POST "+AdminPrefix+"/settings", s.adminSettings)
	m.HandleFunc("POST "+AdminPrefix+"/mapping-faults", s.adminMappingFault)
	m.HandleFunc("GET "+AdminPrefix+"/imports", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.Imports()) })
	m.HandleFunc("GET "+AdminPrefix+"/mismatches", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		writeJSON(w, 200, append([]AuthorizationMismatch{}, s.st.Mismatches...))
	})
	m.HandleFunc("GET "+AdminPrefix+"/logos/{id}", s.adminLogo)
}

// Snapshot returns the counters with the live figures computed now.
func (s *Sim) Snapshot() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleAll()
	c := s.st.Counters
	c.Calls = copyMap(c.Calls)
	c.CreatedPerApp = copyMap(c.CreatedPerApp)
	c.CreatedPerISV = copyMap(c.CreatedPerISV)
	c.LivePerApp, c.LivePerISV, c.Live = map[string]int{}, map[string]int{}, len(s.st.Addons)
	for _, a := range s.st.Addons {
		c.LivePerApp[a.App]++
		if a.ISV != "" {
			c.LivePerISV[a.ISV]++
		}
	}
	return c
}

func copyMap(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (s *Sim) adminCounters(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.Snapshot()) }

// CallTimes returns when each counted request arrived (wall clock), oldest first.
func (s *Sim) CallTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.callLog...)
}

// MaxPerWindow is the largest number of calls in any window of length w.
func MaxPerWindow(times []time.Time, w time.Duration) int {
	best, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// adminCalls answers the arrival times of counted requests in unix milliseconds.
func (s *Sim) adminCalls(w http.ResponseWriter, r *http.Request) {
	times := s.CallTimes()
	ms := make([]int64, len(times))
	for i, t := range times {
		ms[i] = t.UnixMilli()
	}
	writeJSON(w, 200, map[string]any{"times_ms": ms})
}

// CreateApp makes an app owned by team (Heroku apps are created outside this flow).
func (s *Sim) CreateApp(name, team string) error {
	if !appNamePattern.MatchString(name) {
		return &heroku.Error{Kind: heroku.KindInvalid, Message: "app name must match " + appNamePattern.String()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.Apps[name]; !ok {
		s.st.Apps[name] = &app{ID: uuid.NewString(), Name: name, Team: team, CreatedAt: s.now()}
		s.dirty = true
	}
	return nil
}

func (s *Sim) adminCreateApp(w http.ResponseWriter, r *http.Request) {
	var body struct{ Name, Team string }
	if !decodeBody(w, r, &body) {
		return
	}
	if err := s.CreateApp(body.Name, body.Team); err != nil {
		writeJSON(w, 422, apiError{ID: "invalid_params", Message: err.Error(), Errors: map[string][]string{"name": {err.Error()}}})
		return
	}
	writeJSON(w, 201, body)
}

// AdminAddon is an add-on as the control API shows it, destroyed ones included.
type AdminAddon struct {
	heroku.Addon
	ISV        string `json:"isv"`
	Connection string `json:"connection_state,omitempty"`
	Gone       bool   `json:"gone"`
}

func (s *Sim) adminAddons(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleAll()
	out := []AdminAddon{}
	for _, a := range s.st.Addons {
		aa := AdminAddon{Addon: s.addonJSON(a), ISV: a.ISV}
		if c := s.st.Connections[a.ConnectionID]; c != nil {
			aa.Connection = c.State
		}
		out = append(out, aa)
	}
	for _, a := range s.st.Destroyed {
		if s.st.Apps[a.App] == nil {
			continue
		}
		aa := AdminAddon{Addon: s.addonJSON(a), ISV: a.ISV, Gone: true}
		aa.State = heroku.AddonDeprovisioned
		out = append(out, aa)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	writeJSON(w, 200, out)
}

// adminAuthorize completes an authorization as the given org and user, exactly as the
// customer's sign-in would: {"url" or "addon", "org_id", "username"}.
func (s *Sim) adminAuthorize(w http.ResponseWriter, r *http.Request) {
	var body struct {
		URL      string `json:"url"`
		Addon    string `json:"addon"`
		OrgID    string `json:"org_id"`
		Username string `json:"username"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	token := tokenOf(body.URL)
	if token == "" && body.Addon != "" {
		s.mu.Lock()
		if a := s.findAddon("", body.Addon); a != nil {
			for _, sess := range s.st.Sessions {
				if sess.AddonID == a.ID && !sess.Superseded && !sess.Used {
					token = sess.Token
				}
			}
		}
		s.mu.Unlock()
	}
	out := s.completeAuthorization(token, body.OrgID, body.Username)
	if out.err != nil {
		writeJSON(w, out.status, map[string]any{"id": "refused", "message": out.err.Error(), "mismatch": out.mismatch})
		return
	}
	writeJSON(w, 200, map[string]any{"authorized": true, "next": out.next, "mismatch": out.mismatch})
}

func tokenOf(u string) string {
	i := strings.Index(u, "/authorize/")
	if i < 0 {
		return ""
	}
	tok := u[i+len("/authorize/"):]
	tok, _, _ = strings.Cut(tok, "/")
	tok, _, _ = strings.Cut(tok, "?")
	return tok
}

// connectionOfAddon finds the connection of an add-on ID or name. Caller holds s.mu.
func (s *Sim) connectionOfAddon(idOrName string) *connection {
	a := s.findAddon("", idOrName)
	if a == nil {
		return nil
	}
	return s.st.Connections[a.ConnectionID]
}

// adminRevoke is Salesforce revoking the authorization: the connection goes UNAUTHORIZED.
func (s *Sim) adminRevoke(w http.ResponseWriter, r *http.Request) {
	var body struct{ Addon string }
	if !decodeBody(w, r, &body) {
		return
	}
	s.setState(w, body.Addon, heroku.StateUnauthorized)
}

func (s *Sim) adminSetState(w http.ResponseWriter, r *http.Request) {
	var body struct{ Addon, State string }
	if !decodeBody(w, r, &body) {
		return
	}
	s.setState(w, body.Addon, body.State)
}

func (s *Sim) setState(w http.ResponseWriter, addonIDOrName, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.connectionOfAddon(addonIDOrName)
	if c == nil {
		writeError(w, 404, "not_found", "no connection for add-on "+addonIDOrName)
		return
	}
	c.State = state
	s.dirty = true
	writeJSON(w, 200, s.connectionJSON(c))
}

func (s *Sim) adminFaults(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Fault{}
	for _, f := range s.faults {
		out = append(out, *f)
	}
	writeJSON(w, 200, out)
}

// AddFaults installs faults (see Fault) and returns them as installed (IDs, ends).
func (s *Sim) AddFaults(fs ...Fault) []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, len(fs))
	for i := range fs {
		f := fs[i]
		if f.ID == "" {
			f.ID = uuid.NewString()[:8]
		}
		if f.For > 0 {
			f.Until = time.Now().Add(time.Duration(f.For))
		}
		s.faults = append(s.faults, &f)
		out[i] = f
	}
	return out
}

// RemoveFault removes the fault rule with id; it reports whether there was one.
func (s *Sim) RemoveFault(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.ID == id {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return true
		}
	}
	return false
}

func (s *Sim) adminAddFaults(w http.ResponseWriter, r *http.Request) {
	var fs []Fault
	if !decodeBody(w, r, &fs) {
		return
	}
	for _, f := range fs {
		if f.Route != "*" && !contains(Routes, f.Route) {
			writeJSON(w, 422, apiError{ID: "invalid_params", Message: "unknown route " + f.Route, Errors: map[string][]string{"route": {"must be * or one of " + strings.Join(Routes, ", ")}}})
			return
		}
	}
	writeJSON(w, 201, s.AddFaults(fs...))
}

func (s *Sim) adminRemoveFault(w http.ResponseWriter, r *http.Request) {
	if !s.RemoveFault(r.PathValue("id")) {
		writeError(w, http.StatusNotFound, "not_found", "No fault rule "+r.PathValue("id")+".")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sim) adminClearFaults(w http.ResponseWriter, r *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

// ClearFaults removes every injected fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// Settings are the run-time knobs of the control API. Unset fields are left alone.
type Settings struct {
	ProvisionDelay   *Duration      `json:"provision_delay,omitempty"`
	DeprovisionDelay *Duration      `json:"deprovision_delay,omitempty"`
	AuthURLTTL       *Duration      `json:"auth_url_ttl,omitempty"`
	SyncDelay        *Duration      `json:"sync_delay,omitempty"`
	Lenient          *bool          `json:"lenient,omitempty"`
	RateCapacity     *int           `json:"rate_capacity,omitempty"`
	RatePerMinute    *float64       `json:"rate_per_minute,omitempty"`
	FailProvisions   map[string]int `json:"fail_provisions,omitempty"`   // app → how many next creates fail
	FailDeactivation *int           `json:"fail_deactivation,omitempty"` // how many add-ons the next deactivations fail to destroy
}

// Apply changes the settings.
func (s *Sim) Apply(st Settings) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.ProvisionDelay != nil {
		s.cfg.ProvisionDelay = time.Duration(*st.ProvisionDelay)
	}
	if st.DeprovisionDelay != nil {
		s.cfg.DeprovisionDelay = time.Duration(*st.DeprovisionDelay)
	}
	if st.AuthURLTTL != nil {
		s.cfg.AuthURLTTL = time.Duration(*st.AuthURLTTL)
	}
	if st.SyncDelay != nil {
		s.cfg.SyncDelay = time.Duration(*st.SyncDelay)
	}
	if st.Lenient != nil {
		s.cfg.Lenient = *st.Lenient
	}
	if st.RateCapacity != nil {
		s.cfg.RateCapacity = *st.RateCapacity
		s.buckets = map[string]*bucket{}
	}
	if st.RatePerMinute != nil {
		s.cfg.RatePerMinute = *st.RatePerMinute
	}
	if s.failProvisions == nil {
		s.failProvisions = map[string]int{}
	}
	for app, n := range st.FailProvisions {
		s.failProvisions[app] += n
	}
	if st.FailDeactivation != nil {
		s.failDeactivation += *st.FailDeactivation
	}
}

func (s *Sim) adminSettings(w http.ResponseWriter, r *http.Request) {
	var st Settings
	if !decodeBody(w, r, &st) {
		return
	}
	s.Apply(st)
	writeJSON(w, 200, st)
}

// takeProvisionFailure spends one pending provisioning failure of app. Caller holds s.mu.
func (s *Sim) takeProvisionFailure(app string) bool {
	if s.failProvisions[app] > 0 {
		s.failProvisions[app]--
		return true
	}
	return false
}

// takeDeactivateFailure spends one pending deactivation failure. Caller holds s.mu.
func (s *Sim) takeDeactivateFailure() bool {
	if s.failDeactivation > 0 {
		s.failDeactivation--
		return true
	}
	return false
}

func (s *Sim) adminLogo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	in := s.st.Integrations[r.PathValue("id")]
	var data []byte
	var ctype string
	if in != nil {
		data, ctype = in.Logo, in.LogoType
	}
	s.mu.Unlock()
	if len(data) == 0 {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, _ = w.Write(data)
}
