package heroku

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Kind classifies a failed call so callers can branch without reading status codes.
type Kind int

// Kinds of failure.
const (
	KindOther        Kind = iota
	KindBadRequest        // 400 bad_request, 406
	KindInvalid           // 400 validation_error, 422 invalid_params: Fields says which
	KindUnauthorized      // 401
	KindForbidden         // 403
	KindNotFound          // 404
	KindConflict          // 409
	KindRateLimited       // 429: RetryAfter says how long to wait
	KindTransient         // 5xx, timeouts, connection resets
)

var kindNames = map[Kind]string{
	KindOther: "other", KindBadRequest: "bad request", KindInvalid: "invalid params",
	KindUnauthorized: "unauthorized", KindForbidden: "forbidden", KindNotFound: "not found",
	KindConflict: "conflict", KindRateLimited: "rate limited", KindTransient: "transient",
}

func (k Kind) String() string { return kindNames[k] }

// Sentinels for errors.Is: errors.Is(err, heroku.ErrNotFound).
var (
	ErrBadRequest   = &Error{Kind: KindBadRequest}
	ErrInvalid      = &Error{Kind: KindInvalid}
	ErrUnauthorized = &Error{Kind: KindUnauthorized}
	ErrForbidden    = &Error{Kind: KindForbidden}
	ErrNotFound     = &Error{Kind: KindNotFound}
	ErrConflict     = &Error{Kind: KindConflict}
	ErrRateLimited  = &Error{Kind: KindRateLimited}
	ErrTransient    = &Error{Kind: KindTransient}
)

// Error is a failed Heroku call. It never holds the token.
type Error struct {
	Kind       Kind
	Op         string // what we were doing, e.g. "create add-on"
	StatusCode int    // 0 when no response arrived
	ID         string // Heroku's error id, e.g. "not_found"
	Message    string // Heroku's message, or the transport error
	URL        string // Heroku's documentation URL, if any
	RequestID  string
	Fields     map[string][]string // field errors of a validation failure
	RetryAfter time.Duration       // for KindRateLimited
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("heroku: ")
	if e.Op != "" {
		b.WriteString(e.Op + ": ")
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "%d ", e.StatusCode)
	}
	if e.ID != "" {
		b.WriteString(e.ID + ": ")
	}
	b.WriteString(e.Message)
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "; %s: %s", k, strings.Join(e.Fields[k], ", "))
		}
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	return b.String()
}

// Is matches the kind sentinels above.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.StatusCode == 0 && t.Message == "" && t.Kind == e.Kind
}

// Retryable reports whether trying the same call again later can succeed.
func (e *Error) Retryable() bool { return e.Kind == KindTransient || e.Kind == KindRateLimited }

// AsError returns err as *Error when it is one.
func AsError(err error) (*Error, bool) {
	var he *Error
	ok := errors.As(err, &he)
	return he, ok
}

func kindOf(status int) Kind {
	switch {
	case status == 400 || status == 406:
		return KindBadRequest
	case status == 422:
		return KindInvalid
	case status == 401:
		return KindUnauthorized
	case status == 403:
		return KindForbidden
	case status == 404 || status == 410:
		return KindNotFound
	case status == 409:
		return KindConflict
	case status == 429:
		return KindRateLimited
	case status == 408 || status >= 500:
		return KindTransient
	}
	return KindOther
}
