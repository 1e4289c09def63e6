// Package eventsink is the project's own receiver of lifecycle events, for the tests, the
// demo and `make run`: it verifies every delivery with the Standard Webhooks library (the
// one any ISV's receiver would use), keeps what it received, and can play a receiver that
// is down (503), slow, or gone (410).
package eventsink

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// Received is one delivery as the sink saw it.
type Received struct {
	ID       string             `json:"id"` // webhook-id
	Type     contract.EventType `json:"type"`
	Data     contract.EventData `json:"data"`
	Happened time.Time          `json:"happened"` // the event's timestamp
	At       time.Time          `json:"at"`       // when it arrived
	Verified bool               `json:"verified"`
	Error    string             `json:"error,omitempty"`
	// Body and Header are the request as it came, for tests that tamper with it.
	Body   []byte      `json:"-"`
	Header http.Header `json:"-"`
}

// Sink is an http.Handler that verifies and records deliveries.
type Sink struct {
	mu      sync.Mutex
	secrets []string // any of them verifies
	// Lookup, when set, gives the secrets that may verify a request (make run's sink finds
	// them from the endpoints that point at it); it is asked after secrets.
	Lookup   func(r *http.Request) []string
	got      []Received
	answer   int // status to answer; 0: 204
	delay    time.Duration
	OnEvent  func(Received) // called for each verified delivery (make run prints them)
	attempts int
}

// New makes a sink that verifies with secret.
func New(secret string) *Sink { return &Sink{secrets: []string{secret}} }

// SetSecrets replaces the secrets that verify (a rotation).
func (s *Sink) SetSecrets(secrets ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets = secrets
}

// Answer makes the sink answer code to every delivery (0: 204 after verifying); a sink
// answering 503 is a receiver that is down.
func (s *Sink) Answer(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = code
}

// Delay makes every answer wait (a slow receiver).
func (s *Sink) Delay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// ServeHTTP verifies the delivery's signature, then records it.
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.attempts++
	answer, delay, secrets, lookup := s.answer, s.delay, append([]string{}, s.secrets...), s.Lookup
	s.mu.Unlock()
	if lookup != nil {
		secrets = append(secrets, lookup(r)...)
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if answer != 0 {
		w.WriteHeader(answer)
		return
	}
	rec := Received{ID: r.Header.Get("webhook-id"), At: time.Now(), Body: body, Header: r.Header.Clone()}
	rec.Error = "no secret to verify with"
	for _, sec := range secrets {
		wh, err := standardwebhooks.NewWebhook(sec)
		if err == nil {
			if err = wh.Verify(body, r.Header); err == nil {
				rec.Verified = true
				break
			}
		}
		rec.Error = err.Error()
	}
	var b contract.EventBody
	if err := json.Unmarshal(body, &b); err != nil && rec.Verified {
		rec.Verified, rec.Error = false, "body is not an event: "+err.Error()
	}
	rec.Type, rec.Data, rec.Happened = b.Type, b.Data, b.Timestamp
	s.mu.Lock()
	s.got = append(s.got, rec)
	on := s.OnEvent
	s.mu.Unlock()
	if !rec.Verified {
		http.Error(w, "signature: "+rec.Error, http.StatusUnauthorized)
		return
	}
	if on != nil {
		on(rec)
	}
	w.WriteHeader(http.StatusNoContent)
}

// Received lists what arrived (verified or not), in arrival order.
func (s *Sink) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received{}, s.got...)
}

// Attempts counts every request, answered or not.
func (s *Sink) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Customer lists the verified events of one customer, in arrival order, duplicates (the same
// webhook-id again: at-least-once delivery) dropped.
func (s *Sink) Customer(customerID string) []Received {
	var out []Received
	seen := map[string]bool{}
	for _, r := range s.Received() {
		if r.Verified && r.Data.CustomerID == customerID && !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	return out
}

// Types lists the types of rs.
func Types(rs []Received) []contract.EventType {
	out := make([]contract.EventType, len(rs))
	for i, r := range rs {
		out[i] = r.Type
	}
	return out
}
