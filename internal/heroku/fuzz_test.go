package heroku

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Heroku's answers are untrusted input. Error decoding never panics, never carries the
// token, maps every status to its kind (a 4xx is never retried, a 429 waits a bounded
// while), and success decoding of each resource never panics.
func FuzzDecodeAnswers(f *testing.F) {
	f.Add(422, []byte(`{"id":"invalid_params","message":"Name hc-x is already taken."}`), "")
	f.Add(400, []byte(`{"id":"validation_error","message":"Validation failed","errors":{"slug":["is already taken"]}}`), "")
	f.Add(429, []byte(`{"id":"rate_limit","message":"slow down"}`), "99999999999")
	f.Add(429, []byte(`not json`), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(503, []byte(`<html>gateway</html>`), "")
	f.Add(200, []byte(`{"id":"x","name":"hc-1","state":"provisioned","app":{"id":"a","name":"app"},"addon_service":{"name":"herokuconnect"}}`), "")
	f.Add(206, []byte(`[{"id":1}]`), "")
	const token = "secret-token-value"
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		if status < 100 || status > 999 {
			return
		}
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		h.Set("RateLimit-Remaining", "0")
		resp := &http.Response{StatusCode: status, Header: h}
		err := decodeError("read add-on", "req-1", resp, body)
		he, ok := AsError(err)
		if !ok {
			t.Fatalf("decodeError returned %T", err)
		}
		if strings.Contains(err.Error(), token) {
			t.Fatalf("an error carries the token")
		}
		if status >= 400 && status < 500 && status != 429 && status != 408 && he.Retryable() {
			t.Fatalf("a %d is retryable", status)
		}
		if status == 429 && (he.Kind != KindRateLimited || he.RetryAfter < 0 || he.RetryAfter > maxRetryAfter) {
			t.Fatalf("a 429 became %v, retry after %s (want a wait of at most %s)", he.Kind, he.RetryAfter, maxRetryAfter)
		}
		r := &response{status: status, header: h, body: body}
		for _, dst := range []any{&Addon{}, &Integration{}, &Connection{}, &[]Connection{}, &Deactivation{}, &Authorization{}, &[]Addon{}} {
			if err := decode("decode", r, dst); err != nil {
				if _, ok := AsError(err); !ok {
					t.Fatalf("decode returned %T", err)
				}
			}
		}
		var probe any
		_ = json.Unmarshal(body, &probe)
	})
}
