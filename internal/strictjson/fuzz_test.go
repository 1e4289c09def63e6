package strictjson

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The HTTP API's bodies come from the network. Decode never panics; what it accepts is one
// valid UTF-8 JSON object with only known fields, no key twice, nothing after it; what it
// refuses it says without Go's type names.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"isv_slug":"acme","customer_id":"c1","salesforce":{"sf_org_id":"x"}}`,
		`{"isv_slug":"acme","isv_slug":"evil"}`,
		`{"isv_slug":"acme","unknown":1}`,
		`{"count":1e400}`,
		`{"count":99999999999999999999999}`,
		`{"isv_slug":"\xff"}`,
		`{"isv_slug":"a"} {"isv_slug":"b"}`,
		`[{"isv_slug":"a"}]`,
		`{"list":[{"sf_org_id":"y","sf_org_id":"z"}]}`,
		`{"tags":{"a":"b","a":"c"}}`,
		`{"salesforce":{"extra":true}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got req
		done := make(chan error, 1)
		go func() { done <- Decode(body, &got) }()
		var err error
		select {
		case err = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Decode hangs on %q", body)
		}
		if err != nil {
			msg := err.Error()
			if strings.Contains(msg, "Go struct") || strings.Contains(msg, "strictjson.") {
				t.Fatalf("refusal names Go internals: %s", msg)
			}
			return
		}
		if !utf8.Valid(body) {
			t.Fatalf("accepted invalid UTF-8")
		}
		strict := json.NewDecoder(bytes.NewReader(body))
		strict.DisallowUnknownFields()
		var again req
		if err := strict.Decode(&again); err != nil {
			t.Fatalf("accepted what the standard strict decoder refuses: %v", err)
		}
		// No key twice: a body whose top-level object repeats a key is refused.
		dec := json.NewDecoder(bytes.NewReader(body))
		if tok, err := dec.Token(); err == nil && tok == json.Delim('{') {
			seen := map[string]bool{}
			for i := 0; dec.More() && i < 1000; i++ {
				k, err := dec.Token()
				if err != nil {
					break
				}
				if s, ok := k.(string); ok {
					if seen[s] {
						t.Fatalf("accepted key %q twice", s)
					}
					seen[s] = true
				}
				var skip json.RawMessage
				if dec.Decode(&skip) != nil {
					break
				}
			}
		}
	})
}
