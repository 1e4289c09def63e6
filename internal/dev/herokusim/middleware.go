package herokusim

import (
	"encoding/base64"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/connect-onboarding/worker/internal/heroku"
)

// reqCtx is what the middleware learned about a request.
type reqCtx struct {
	route string
	user  string // account email of the token
	token string
}

type apiHandler func(w http.ResponseWriter, r *http.Request, rc reqCtx)

// api wraps a handler of the Heroku APIs: request ID, counting, auth, Accept, the token
// bucket and injected faults, in that order, as Heroku answers them.
func (s *Sim) api(route, accept string, free bool, h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		reqID := r.Header.Get("Request-Id")
		if _, err := uuid.Parse(reqID); err != nil {
			reqID = uuid.NewString()
		}
		w.Header().Set("Request-Id", reqID)

		s.mu.Lock()
		s.st.Counters.Calls[route]++
		s.dirty = true
		if !free {
			if len(s.callLog) >= maxCallLog {
				s.callLog = append(s.callLog[:0], s.callLog[len(s.callLog)/2:]...)
			}
			s.callLog = append(s.callLog, time.Now())
		}
		s.mu.Unlock()

		token := bearer(r)
		s.mu.Lock()
		user, ok := s.cfg.Tokens[token]
		s.mu.Unlock()
		if token == "" || !ok {
			writeError(w, http.StatusUnauthorized, "unauthorized", "Invalid credentials provided.")
			return
		}
		if accept != "" && !acceptMatches(r.Header.Get("Accept"), accept) {
			writeError(w, http.StatusNotAcceptable, "not_acceptable", "Accept header must be "+accept)
			return
		}
		remaining, wait, allowed := s.take(user, free)
		w.Header().Set("RateLimit-Remaining", strconv.Itoa(remaining))
		if !allowed {
			s.mu.Lock()
			s.st.Counters.RateLimited++
			s.mu.Unlock()
			if s.cfg.RetryAfter {
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			}
			writeError(w, http.StatusTooManyRequests, "rate_limit", "Your account reached the API rate limit. Please wait a few minutes before making new requests.")
			return
		}
		if key := r.PathValue("app"); key != "" && !s.mayTouchApp(user, key) {
			writeError(w, http.StatusForbidden, "forbidden", "You do not have access to the app "+key+".")
			return
		}
		rc := reqCtx{route: route, user: user, token: token}
		if f := s.fault(route); f != nil {
			s.serveFault(w, r, f, func(w http.ResponseWriter) { h(w, r, rc) })
			return
		}
		h(w, r, rc)
	}
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(h, "Bearer "):
		return strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	case strings.HasPrefix(h, "Basic "):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
		if err != nil {
			return ""
		}
		_, pass, _ := strings.Cut(string(raw), ":")
		return pass
	}
	return ""
}

// acceptMatches compares media types ignoring spaces and case around parameters. Where the
// Platform API's version=3 is wanted, the variant Heroku's own SDK and CLI send
// (version=3.sdk) is accepted too.
func acceptMatches(got, want string) bool {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, " ", "")) }
	for _, part := range strings.Split(got, ",") {
		p := norm(part)
		if p == norm(want) || want == heroku.AcceptPlatform && p == norm(want)+".sdk" {
			return true
		}
	}
	return false
}

// --- token bucket ---

type bucket struct {
	tokens float64
	at     time.Time
}

// mayTouchApp reports whether account may use the app named or identified by key; an
// unknown app is left to the handler's 404.
func (s *Sim) mayTouchApp(account, key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ap := s.appByNameOrID(key)
	return ap == nil || s.memberOf(account, ap.Team)
}

// memberOf reports whether account belongs to team. Caller holds s.mu.
func (s *Sim) memberOf(account, team string) bool {
	teams, restricted := s.cfg.Members[account]
	return !restricted || slices.Contains(teams, team)
}

// take spends a token of the account's bucket. free calls (rate-limit status) cost nothing.
// It returns what is left, and how long until a token exists when none does.
func (s *Sim) take(account string, free bool) (int, time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	b := s.buckets[account]
	if b == nil {
		b = &bucket{tokens: float64(s.cfg.RateCapacity), at: now}
		s.buckets[account] = b
	}
	perSec := s.cfg.RatePerMinute / 60
	b.tokens = math.Min(float64(s.cfg.RateCapacity), b.tokens+now.Sub(b.at).Seconds()*perSec)
	b.at = now
	if free {
		return int(b.tokens), 0, true
	}
	if b.tokens < 1 {
		wait := time.Duration((1 - b.tokens) / perSec * float64(time.Second))
		return 0, wait, false
	}
	b.tokens--
	return int(b.tokens), 0, true
}

// --- faults ---

// Fault makes matching calls fail. Route is a route name (see Routes) or "*".
type Fault struct {
	// ID names the rule so it can be removed alone (DELETE /_sim/faults/{id}); one is made up
	// when empty.
	ID    string `json:"id,omitempty"`
	Route string `json:"route"`
	// Status to answer (500, 503, 429, ...). Zero with Mode "error" means 500.
	Status int `json:"status,omitempty"`
	// Mode: "error" (default) answers Status; "timeout" holds the request for Latency (or
	// 60s) and then drops it; "reset" closes the connection without an answer; "latency"
	// only delays, then serves normally.
	Mode string `json:"mode,omitempty"`
	// Rate is the probability a matching call fails (1 when zero).
	Rate float64 `json:"rate,omitempty"`
	// Count limits the fault to the next Count matching calls (one-shot when 1); zero means
	// until cleared.
	Count int `json:"count,omitempty"`
	// For limits the fault in time: it ends this long after it is installed, however few
	// calls came (a burst bounded by count alone outlasts the traffic when load falls).
	For Duration `json:"for,omitempty"`
	// Until is when a fault with For ends (set when installed).
	Until time.Time `json:"until,omitzero"`
	// Latency is added before the call is served or failed.
	Latency Duration `json:"latency,omitempty"`
	// AfterEffect performs the call and then fails its answer: the "lost response" that
	// makes a POST look failed although it happened.
	AfterEffect bool `json:"after_effect,omitempty"`
}

// Duration is a time.Duration written as "1.5s" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(time.Duration(d).String())), nil
}

// UnmarshalJSON reads "1.5s" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if s, err := strconv.Unquote(string(b)); err == nil {
		v, err := time.ParseDuration(s)
		*d = Duration(v)
		return err
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	*d = Duration(n)
	return err
}

// fault picks the first matching fault that fires, spending one of its count.
func (s *Sim) fault(route string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	live := s.faults[:0]
	for _, f := range s.faults { // drop the rules whose time is up
		if f.Until.IsZero() || now.Before(f.Until) {
			live = append(live, f)
		}
	}
	s.faults = live
	for i, f := range s.faults {
		if f.Route != "*" && f.Route != route {
			continue
		}
		if f.Rate > 0 && f.Rate < 1 && rand.Float64() >= f.Rate {
			continue
		}
		picked := *f
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		if picked.Mode != "latency" {
			s.st.Counters.FaultsInjected++
		}
		return &picked
	}
	return nil
}

func (s *Sim) serveFault(w http.ResponseWriter, r *http.Request, f *Fault, serve func(http.ResponseWriter)) {
	if f.Latency > 0 && f.Mode != "timeout" {
		select {
		case <-time.After(time.Duration(f.Latency)):
		case <-r.Context().Done():
			return
		}
	}
	if f.Mode == "latency" {
		serve(w)
		return
	}
	if f.AfterEffect {
		serve(httptest.NewRecorder()) // the work happens; its answer is lost
	}
	switch f.Mode {
	case "timeout":
		hold := time.Duration(f.Latency)
		if hold == 0 {
			hold = time.Minute
		}
		select {
		case <-time.After(hold):
		case <-r.Context().Done():
		}
		hijackClose(w)
	case "reset":
		hijackClose(w)
	default:
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		id := map[int]string{429: "rate_limit", 500: "internal_error", 503: "unavailable", 404: "not_found", 409: "conflict", 403: "forbidden"}[status]
		if id == "" {
			id = "error"
		}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		writeError(w, status, id, "injected fault")
	}
}

func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // the server drops the connection
}

// Routes the simulator counts and can fault, by name.
var Routes = []string{
	"partner.create", "partner.info", "partner.update", "partner.enroll", "partner.authorize", "partner.deactivate",
	"addons.create", "addons.info", "addons.list", "addons.list-all", "addons.resolve", "addons.destroy", "webhooks.create", "webhooks.list",
	"account.rate-limits", "account.info", "apps.list", "apps.info", "attachments.list", "attachments.create", "attachments.info",
	"attachments.delete", "attachments.resolve", "services.list", "services.info", "plans.list", "plans.info",
	"releases.list", "releases.info",
	"connect.auth", "connect.discover", "connect.detail", "connect.list", "connect.patch",
	"connect.export", "connect.import", "connect.action", "connect.validate", "connect.validation", "connect.errors",
	"connect.notifications", "connect.acknowledge", "connect.app", "connect.authorize",
	"mapping.info", "mapping.reload", "mapping.delete", "mapping.errors",
}

// route is one Heroku API endpoint of the simulator.
type route struct {
	pattern, name, accept string
	free                  bool // costs no rate limit token
	handler               apiHandler
}

// platformRoutes are the Platform API endpoints; the definitions test holds each one's
// answers to Heroku's published resource definitions.
func (s *Sim) platformRoutes() []route {
	return []route{
		{"GET /account/rate-limits", "account.rate-limits", heroku.AcceptPlatform, true, s.rateLimits},
		{"GET /account", "account.info", heroku.AcceptPlatform, false, s.accountInfo},
		{"GET /apps", "apps.list", heroku.AcceptPlatform, false, s.listApps},
		{"GET /apps/{app}", "apps.info", heroku.AcceptPlatform, false, s.appInfo},
		{"GET /addons", "addons.list-all", heroku.AcceptPlatform, false, s.listAllAddons},
		{"POST /actions/addons/resolve", "addons.resolve", heroku.AcceptPlatform, false, s.resolveAddon},
		{"GET /addon-attachments", "attachments.list", heroku.AcceptPlatform, false, s.listAttachments},
		{"POST /addon-attachments", "attachments.create", heroku.AcceptPlatform, false, s.createAttachment},
		{"GET /addon-attachments/{attachment}", "attachments.info", heroku.AcceptPlatform, false, s.attachmentInfo},
		{"DELETE /addon-attachments/{attachment}", "attachments.delete", heroku.AcceptPlatform, false, s.deleteAttachment},
		{"GET /addons/{addon}/addon-attachments", "attachments.list", heroku.AcceptPlatform, false, s.listAttachments},
		{"GET /apps/{app}/addon-attachments", "attachments.list", heroku.AcceptPlatform, false, s.listAttachments},
		{"GET /apps/{app}/addon-attachments/{attachment}", "attachments.info", heroku.AcceptPlatform, false, s.attachmentInfo},
		{"POST /actions/addon-attachments/resolve", "attachments.resolve", heroku.AcceptPlatform, false, s.resolveAttachment},
		{"GET /addon-services", "services.list", heroku.AcceptPlatform, false, s.listServices},
		{"GET /addon-services/{service}", "services.info", heroku.AcceptPlatform, false, s.serviceInfo},
		{"GET /addon-services/{service}/plans", "plans.list", heroku.AcceptPlatform, false, s.listPlans},
		{"GET /addon-services/{service}/plans/{plan}", "plans.info", heroku.AcceptPlatform, false, s.planInfo},
		{"POST /apps/{app}/addons", "addons.create", heroku.AcceptPlatform, false, s.createAddon},
		{"GET /apps/{app}/addons", "addons.list", heroku.AcceptPlatform, false, s.listAddons},
		{"GET /apps/{app}/addons/{addon}", "addons.info", heroku.AcceptPlatform, false, s.addonInfo},
		{"GET /addons/{addon}", "addons.info", heroku.AcceptPlatform, false, s.addonInfo},
		{"DELETE /apps/{app}/addons/{addon}", "addons.destroy", heroku.AcceptPlatform, false, s.destroyAddon},
		{"POST /apps/{app}/webhooks", "webhooks.create", heroku.AcceptWebhooks, false, s.createWebhook},
		{"GET /apps/{app}/webhooks", "webhooks.list", heroku.AcceptWebhooks, false, s.listWebhooks},
		{"GET /users/{user}/apps", "apps.list", heroku.AcceptPlatform, false, s.listApps},
		{"GET /apps/{app}/releases", "releases.list", heroku.AcceptPlatform, false, s.listReleases},
		{"GET /apps/{app}/releases/{release}", "releases.info", heroku.AcceptPlatform, false, s.releaseInfo},
	}
}

func (s *Sim) routes() {
	m := http.NewServeMux()
	for _, r := range s.platformRoutes() {
		m.HandleFunc(r.pattern, s.api(r.name, r.accept, r.free, r.handler))
	}
	// Partner API.
	m.HandleFunc("POST /partner/connect", s.api("partner.create", heroku.AcceptPartner, false, s.createIntegration))
	m.HandleFunc("GET /partner/connect/{slug}", s.api("partner.info", heroku.AcceptPartner, false, s.integrationInfo))
	m.HandleFunc("PATCH /partner/connect/{slug}", s.api("partner.update", heroku.AcceptPartner, false, s.updateIntegration))
	m.HandleFunc("DELETE /partner/connect/{slug}", s.api("partner.deactivate", heroku.AcceptPartner, false, s.deactivate))
	m.HandleFunc("POST /partner/connect/{slug}/addon/{addon}/enroll", s.api("partner.enroll", heroku.AcceptPartner, false, s.enroll))
	m.HandleFunc("POST /partner/connect/{slug}/addon/{addon}/authorize", s.api("partner.authorize", heroku.AcceptPartner, false, s.authorize))
	// Connect discovery (hc-central) and the regional API.
	m.HandleFunc("POST /auth/{app}", s.api("connect.auth", "", false, s.connectAuth))
	m.HandleFunc("GET /connections", s.api("connect.discover", "", false, s.discover))
	m.HandleFunc("GET /api/v3/connections", s.api("connect.list", "", false, s.appConnections))
	m.HandleFunc("GET /api/v3/connections/{id}", s.api("connect.detail", "", false, s.connectionDetail))
	m.HandleFunc("PATCH /api/v3/connections/{id}", s.api("connect.patch", "", false, s.patchConnection))
	m.HandleFunc("GET /api/v3/connections/{id}/actions/export", s.api("connect.export", "", false, s.exportMappings))
	m.HandleFunc("POST /api/v3/connections/{id}/actions/import", s.api("connect.import", "", false, s.importMappings))
	m.HandleFunc("POST /api/v3/connections/{id}/actions/{action}", s.api("connect.action", "", false, s.connectionAction))
	m.HandleFunc("POST /api/v3/connections/{id}/validations", s.api("connect.validate", "", false, s.startValidation))
	m.HandleFunc("GET /api/v3/connections/{id}/validations/{vid}", s.api("connect.validation", "", false, s.validationResult))
	m.HandleFunc("GET /api/v3/connections/{id}/errors", s.api("connect.errors", "", false, s.connectionErrors))
	m.HandleFunc("GET /api/v3/connections/{id}/notifications", s.api("connect.notifications", "", false, s.listNotifications))
	m.HandleFunc("POST /api/v3/connections/{id}/notifications/acknowledge", s.api("connect.acknowledge", "", false, s.acknowledgeNotifications))
	m.HandleFunc("POST /api/v3/connections/{id}/authorize_url", s.api("connect.authorize", "", false, s.connectAuthorizeURL))
	m.HandleFunc("GET /api/v3/apps/{app}", s.api("connect.app", "", false, s.connectAppInfo))
	m.HandleFunc("GET /api/v3/mappings/{mid}", s.api("mapping.info", "", false, s.mappingInfo))
	m.HandleFunc("POST /api/v3/mappings/{mid}/actions/reload", s.api("mapping.reload", "", false, s.reloadMapping))
	m.HandleFunc("DELETE /api/v3/mappings/{mid}", s.api("mapping.delete", "", false, s.deleteMapping))
	m.HandleFunc("GET /api/v3/mappings/{mid}/errors", s.api("mapping.errors", "", false, s.mappingErrors))
	// The customer's pages.
	m.HandleFunc("GET /authorize/{token}", s.authorizePage)
	m.HandleFunc("GET /authorize/{token}/login", s.loginPage)
	m.HandleFunc("POST /authorize/{token}/login", s.loginSubmit)
	// Control API.
	s.adminRoutes(m)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Request-Id", uuid.NewString())
		writeError(w, http.StatusNotFound, "not_found", "The requested API endpoint was not found. Are you using the right HTTP verb (i.e. GET vs. POST), and did you specify your intended version with the Accept header?")
	})
	s.mux = m
}
