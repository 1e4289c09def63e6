// Package herokusim is a local Heroku: the Platform API (add-ons, webhooks, rate limits),
// the partner API, Heroku Connect discovery and the regional Connect API on one port, plus
// the customer's authorization page and a control API for tests under /_sim. It follows
// docs/heroku-api.md, with real state machines, a token bucket per API token and
// fault injection, so the real client runs against it unchanged.
package herokusim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Config sets the simulator's behaviour. Durations of zero mean "at once".
type Config struct {
	// PublicURL is how API clients reach this server; it is written into region URLs. When
	// empty, each request's Host is used (so containers reaching it by service name work).
	PublicURL string
	// PageURL is how the customer's browser reaches this server: the base of authorization
	// and logo URLs. PublicURL when empty.
	PageURL string
	// Tokens maps API tokens to the account (user email) they belong to.
	Tokens map[string]string
	// Apps to create at start, name → team.
	Apps map[string]string
	// ProvisionDelay is how long an add-on stays provisioning; DeprovisionDelay how long a
	// destroyed one stays deprovisioning before it is gone.
	ProvisionDelay   time.Duration
	DeprovisionDelay time.Duration
	// DeactivationDelay is how long a deactivated integration's add-ons stay alive after the
	// 202: Heroku destroys them asynchronously.
	DeactivationDelay time.Duration
	// SyncDelay is how long a new mapping takes from INITIAL to DATA_SYNCED.
	SyncDelay time.Duration
	// AuthURLTTL is how long an authorization URL lives (24h on Heroku).
	AuthURLTTL time.Duration
	// RateCapacity and RatePerMinute shape the token bucket of every account: as on Heroku,
	// all of an account's tokens share one.
	RateCapacity  int
	RatePerMinute float64
	// RetryAfter sends a Retry-After header on 429. Heroku documents none, so by default
	// neither does the simulator: clients pace from RateLimit-Remaining.
	RetryAfter bool
	// Members maps an account (email) to the teams whose apps it may touch; an account
	// without an entry may touch every app. Other apps answer 403 forbidden.
	Members map[string][]string
	// Lenient accepts a customer who signs in as another org or user than the URL was bound
	// to (and records it), so the worker's own identity check can be tested.
	Lenient bool
	// StateFile, when set, persists the state across restarts.
	StateFile string
	// Faults to install at start.
	Faults []Fault
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// DefaultConfig is Heroku's shape with short delays for local use.
func DefaultConfig() Config {
	return Config{
		Tokens:           map[string]string{"sim-token": "isv@example.com"},
		ProvisionDelay:   2 * time.Second,
		DeprovisionDelay: time.Second,
		AuthURLTTL:       24 * time.Hour,
		SyncDelay:        2 * time.Second,
		RateCapacity:     4500,
		RatePerMinute:    75,
	}
}

// Sim is the simulator; it is an http.Handler.
type Sim struct {
	mu      sync.Mutex
	cfg     Config
	st      *state
	buckets map[string]*bucket
	faults  []*Fault
	// pending injected failures of provisioning (per app) and of deactivation
	failProvisions   map[string]int
	failDeactivation int
	mux              *http.ServeMux
	dirty            bool
	stopSave         chan struct{}
	stopSettle       chan struct{} // closed by Close: ends settleLoop
	saveDone         chan struct{}
	hooks            chan delivery
	// callLog holds when each counted (non-free) request arrived, newest last, at most
	// maxCallLog: what a budget check compares with the account's calls per minute.
	callLog []time.Time
}

const maxCallLog = 200_000

// New builds a simulator, loading the state file when there is one.
func New(cfg Config) (*Sim, error) {
	def := DefaultConfig()
	if cfg.Tokens == nil {
		cfg.Tokens = def.Tokens
	}
	if cfg.AuthURLTTL == 0 {
		cfg.AuthURLTTL = def.AuthURLTTL
	}
	if cfg.RateCapacity == 0 {
		cfg.RateCapacity = def.RateCapacity
	}
	if cfg.RatePerMinute == 0 {
		cfg.RatePerMinute = def.RatePerMinute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	cfg.PageURL = strings.TrimRight(cfg.PageURL, "/")
	s := &Sim{cfg: cfg, st: newState(), buckets: map[string]*bucket{}, hooks: make(chan delivery, 1024)}
	if cfg.StateFile != "" {
		if err := s.load(); err != nil {
			return nil, err
		}
	}
	for name, team := range cfg.Apps {
		if _, ok := s.st.Apps[name]; !ok {
			s.st.Apps[name] = &app{ID: uuid.NewString(), Name: name, Team: team, CreatedAt: cfg.Now().UTC()}
		}
	}
	for i := range cfg.Faults {
		f := cfg.Faults[i]
		s.faults = append(s.faults, &f)
	}
	s.routes()
	for range webhookSenders {
		go s.deliverWebhooks() // Heroku delivers concurrently; one slow receiver call does not hold the rest
	}
	s.stopSettle = make(chan struct{})
	go s.settleLoop()
	if cfg.StateFile != "" {
		s.stopSave, s.saveDone = make(chan struct{}), make(chan struct{})
		go s.saveLoop()
	}
	return s, nil
}

// webhookSenders is how many deliveries are in flight at once.
const webhookSenders = 8

// settleLoop moves add-ons along on Heroku's schedule while an app has webhooks: Heroku
// tells a subscriber when provisioning ends without anyone asking, so the simulator cannot
// wait for the next request to notice.
func (s *Sim) settleLoop() {
	s.mu.Lock()
	stop := s.stopSettle
	s.mu.Unlock()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.mu.Lock()
			if len(s.st.Webhooks) > 0 {
				s.settleAll()
			}
			s.mu.Unlock()
		}
	}
}

// SetPublicURL sets the URL clients reach the simulator at, for servers whose port is
// known only after listening (httptest).
func (s *Sim) SetPublicURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.PublicURL = strings.TrimRight(u, "/")
}

// Close stops background work and writes the state file one last time.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.stopSettle != nil {
		close(s.stopSettle)
		s.stopSettle = nil
	}
	s.mu.Unlock()
	if s.stopSave != nil {
		close(s.stopSave)
		<-s.saveDone
		s.stopSave = nil
	}
	return nil
}

func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Sim) now() time.Time { return s.cfg.Now().UTC() }

// pageBase is the browser-facing base URL.
func (s *Sim) pageBase() string {
	if s.cfg.PageURL != "" {
		return s.cfg.PageURL
	}
	return s.cfg.PublicURL
}

// apiBase is the base URL API clients use, from the configuration or the request.
func (s *Sim) apiBase(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// --- persistence ---

func (s *Sim) load() error {
	b, err := os.ReadFile(s.cfg.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("herokusim: read state: %w", err)
	}
	st := newState()
	if err := json.Unmarshal(b, st); err != nil {
		return fmt.Errorf("herokusim: state file %s is corrupt: %w", s.cfg.StateFile, err)
	}
	if st.Counters.Calls == nil {
		st.Counters = newCounters()
	}
	if st.Attachments == nil { // a state file from before attachments
		st.Attachments = map[string]*attachment{}
	}
	s.st = st
	for _, a := range st.Addons {
		if a.AttachmentID == "" {
			a.AttachmentID = s.attach(a, a.App, "").ID
		}
	}
	return nil
}

func (s *Sim) saveLoop() {
	defer close(s.saveDone)
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.saveIfDirty()
		case <-s.stopSave:
			s.saveIfDirty()
			return
		}
	}
}

func (s *Sim) saveIfDirty() {
	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		return
	}
	b, err := json.Marshal(s.st)
	s.dirty = false
	s.mu.Unlock()
	if err != nil {
		return
	}
	tmp := s.cfg.StateFile + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		_ = os.Rename(tmp, s.cfg.StateFile)
	}
}

// --- responses ---

// apiError is Heroku's error body.
type apiError struct {
	ID      string              `json:"id"`
	Message string              `json:"message"`
	URL     string              `json:"url,omitempty"`
	Errors  map[string][]string `json:"errors,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, id, msg string) {
	writeJSON(w, status, apiError{ID: id, Message: msg})
}

func writeFieldErrors(w http.ResponseWriter, fields map[string][]string) {
	var parts []string
	for k, v := range fields {
		parts = append(parts, k+" "+strings.Join(v, ", "))
	}
	writeJSON(w, http.StatusBadRequest, apiError{ID: "validation_error", Message: "Validation failed: " + strings.Join(parts, "; "), Errors: fields})
}

// decodeBody reads a JSON body; on failure it has answered 400 bad_request.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(dst); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "Invalid JSON body: "+err.Error())
		return false
	}
	return true
}
