package herokusim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/connect-onboarding/worker/internal/heroku"
)

// Every handler takes any method, path, Accept, Range and body without panicking or
// answering a 5xx (no fault is installed), and every answer is JSON with Heroku's error
// shape when it is an error.
func FuzzHandlers(f *testing.F) {
	f.Add("POST", "/apps/acme-app/addons", heroku.AcceptPlatform, "", `{"plan":"herokuconnect:enterprise","name":"hc-f"}`)
	f.Add("GET", "/apps/acme-app/addons", heroku.AcceptPlatform+".sdk", "name ]zz..; max=1, order=desc", "")
	f.Add("POST", "/actions/addons/resolve", heroku.AcceptPlatform, "", `{"addon":{"name":"x"},"app":["a"]}`)
	f.Add("POST", "/addon-attachments", heroku.AcceptPlatform, "", `{"addon":{"id":7},"app":{"name":"acme-app"},"name":"%00"}`)
	f.Add("POST", "/partner/connect", heroku.AcceptPartner, "", `--x\r\n`)
	f.Add("POST", "/partner/connect/acme/addon/x/authorize", heroku.AcceptPartner, "", `{"sf_org_id":"00D","environment":"custom","domain":"javascript:x"}`)
	f.Add("GET", "/connections?app=acme-app&limit=-1&offset=99999999999999999999", "", "", "")
	f.Add("PATCH", "/api/v3/connections/%2e%2e", "", "", `{"schema_name":"public"}`)
	f.Add("GET", "/apps/acme-app/releases/v99999999999999999999", heroku.AcceptPlatform, "version ..; max=1000", "")
	f.Add("DELETE", "/partner/connect/acme", heroku.AcceptPartner, "", "")
	s, err := New(Config{Apps: map[string]string{"acme-app": "acme-team"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	f.Fuzz(func(t *testing.T, method, path, accept, rng, body string) {
		if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, AdminPrefix) || strings.HasPrefix(path, "/authorize/") {
			return // the control API and the customer's pages are not Heroku's
		}
		req, err := http.NewRequest(method, "http://sim"+path, bytes.NewReader([]byte(body)))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer sim-token")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		req.Header.Set("Range", rng)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s answered %d: %s", method, path, w.Code, w.Body.String())
		}
		if w.Code >= 400 {
			var e apiError
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.ID == "" || e.Message == "" {
				t.Fatalf("%s %s answered %d without Heroku's error shape: %s", method, path, w.Code, w.Body.String())
			}
		}
	})
}
