package returnstate

import (
	"testing"
	"time"
)

// A return state comes back through the customer's browser: anything may arrive. Verify
// never panics, accepts only what the key signed, and only in one spelling.
func FuzzVerify(f *testing.F) {
	key := []byte("fuzz-key")
	now := time.Unix(1_800_000_000, 0)
	good := Sign(key, State{WorkflowID: "connection/acme/c1", Attempt: 2, Expires: now.Add(time.Hour).Unix()})
	f.Add(good)
	f.Add(good + "A")
	f.Add("." + good)
	f.Add("eyJ3IjoiIn0.")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		s, err := Verify(key, token, now)
		if err != nil {
			return
		}
		if token != Sign(key, s) && token != good {
			// Another token verified: it must be the one spelling of a state we signed.
			if re := Sign(key, s); re != token {
				t.Fatalf("accepted %q, which is not the signature of %+v (%q)", token, s, re)
			}
		}
		if s.WorkflowID == "" || now.Unix() >= s.Expires {
			t.Fatalf("accepted an empty or expired state: %+v", s)
		}
	})
}
