// Package returnstate signs and checks the state carried by the customer's return from
// Heroku's authorization page to the ISV (starter serve). The state binds the customer
// workflow and the authorization attempt, expires, and is signed with HMAC-SHA256 so that
// only the worker that issued the URL could have made it.
package returnstate

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"
)

// State is what a return proves.
type State struct {
	WorkflowID string `json:"w"`
	Attempt    int    `json:"a"`
	Expires    int64  `json:"e"` // unix seconds
}

// Errors of Verify. None of them says more than needed to a forger.
var (
	ErrMalformed = errors.New("return state is malformed")
	ErrForged    = errors.New("return state signature does not match")
	ErrExpired   = errors.New("return state has expired")
)

// Labels keep the two kinds of token apart: a return state never verifies as a link, nor
// a link as a return state.
const (
	stateLabel = "connect-onboarding/return-state/v1"
	linkLabel  = "connect-onboarding/connect-link/v1"
)

// Sign returns the state token.
func Sign(key []byte, s State) string { return sign(key, stateLabel, s) }

// Verify checks the signature in constant time, then the expiry.
func Verify(key []byte, token string, now time.Time) (State, error) {
	var s State
	if err := verify(key, stateLabel, token, &s); err != nil {
		return State{}, err
	}
	if s.WorkflowID == "" {
		return State{}, ErrMalformed
	}
	if now.Unix() >= s.Expires {
		return State{}, ErrExpired
	}
	return s, nil
}

func sign(key []byte, label string, v any) string {
	payload, _ := json.Marshal(v)
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(mac(key, label, p))
}

func verify(key []byte, label, token string, v any) error {
	p, sig, ok := strings.Cut(token, ".")
	if !ok || p == "" || sig == "" {
		return ErrMalformed
	}
	// Strict: one spelling per signature. Lenient base64 decodes several spellings (the
	// unused low bits of the last character) to the same bytes, which let a used state be
	// presented again under a new spelling.
	got, err := b64.DecodeString(sig)
	if err != nil || b64.EncodeToString(got) != sig {
		return ErrMalformed
	}
	if !hmac.Equal(got, mac(key, label, p)) {
		return ErrForged
	}
	raw, err := b64.DecodeString(p)
	if err != nil || json.Unmarshal(raw, v) != nil {
		return ErrMalformed
	}
	return nil
}

var b64 = base64.RawURLEncoding.Strict()

func mac(key []byte, label, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label + "\x00" + payload))
	return m.Sum(nil)
}

// AddToURL returns returnURL with state=token added to its query.
func AddToURL(returnURL, token string) (string, error) {
	u, err := url.Parse(returnURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("state", token)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
