package contract

import (
	"encoding/json"
	"testing"
)

// Start inputs come from anyone with namespace access: validation never panics, names each
// bad field with a rule, and what it accepts is valid once defaulted.
func FuzzConnectionInputValidation(f *testing.F) {
	for _, seed := range []string{
		`{"isv_slug":"acme","customer_id":"c1","mode":"provision","app":"acme-app","salesforce":{"sf_org_id":"00D5e000000abcdEAA","sf_username":"int@acme.example"}}`,
		`{"isv_slug":"acme","customer_id":"c1","mode":"enroll","addon":"0f8fad5b-d9cb-469f-a165-70867728950e","salesforce":{"sf_org_id":"00D5e000000abcd","sf_username":"u@x.io","environment":"custom","domain":"https://acme.my.salesforce.com"}}`,
		`{"isv_slug":"Acme!","customer_id":"","mode":"x","schema":"public","db_key":"db","return_url":"javascript:alert(1)","options":{"authorization_timeout":-1,"max_mismatches":1e9,"watch_shards":-5}}`,
		`{"customer_id":"a\u0000b","schema":"pg_catalog","salesforce":{"sf_username":"\ud800"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in ConnectionInput
		if json.Unmarshal(body, &in) != nil {
			return
		}
		err := in.ValidateRequest()
		if err == nil {
			if derr := in.WithDefaults().Validate(); derr != nil {
				t.Fatalf("accepted a request whose defaulted form is invalid: %v", derr)
			}
			_ = in.IdentityHashes()
			return
		}
		ve, ok := err.(*ValidationError)
		if !ok || len(ve.Fields) == 0 {
			t.Fatalf("a refusal must list fields: %v", err)
		}
		for _, fe := range ve.Fields {
			if fe.Field == "" || fe.Rule == "" {
				t.Fatalf("a field error must name the field and the rule: %+v", fe)
			}
		}
	})
}

func FuzzPartnerSpecValidation(f *testing.F) {
	f.Add([]byte(`{"slug":"beta","team":"t","name":"Beta","description":"d","docs_url":"https://b.example","contact_email":"a@b.example","logo":{"filename":"l.png","data":"iVBORw0KGgo="}}`))
	f.Add([]byte(`{"slug":"-","team":" ","name":"","description":"","docs_url":"http://","contact_email":"<a>@b","logo":{"filename":"l.svg","data":"PHN2Zz4="}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var s PartnerSpec
		if json.Unmarshal(body, &s) != nil {
			return
		}
		err := s.Validate(nil)
		if err == nil && (!ValidSlug(s.Slug) || len(s.Logo.Data) == 0) {
			t.Fatalf("accepted a spec without a valid slug and a logo: %+v", s)
		}
		var c PartnerChanges
		if json.Unmarshal(body, &c) == nil {
			_ = c.Validate(nil)
		}
	})
}

// Workflow IDs parse back to what made them, and parsers refuse what no maker makes.
func FuzzWorkflowIDs(f *testing.F) {
	f.Add("acme", "cust-1")
	f.Add("a-b-c", "x/y")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, slug, customer string) {
		if isv, cust, err := ParseConnectionWorkflowID(ConnectionWorkflowID(slug, customer)); err == nil && ConnectionWorkflowID(isv, cust) != ConnectionWorkflowID(slug, customer) {
			t.Fatalf("%q/%q parsed as %q/%q", slug, customer, isv, cust)
		}
		if got, err := ParsePartnerWorkflowID(PartnerWorkflowID(slug)); ValidSlug(slug) && (err != nil || got != slug) {
			t.Fatalf("partner ID of %q parsed as %q, %v", slug, got, err)
		}
		if _, err := ParseWatcherWorkflowID(slug); err == nil && len(slug) < len("watch/x") {
			t.Fatalf("%q parsed as a watcher ID", slug)
		}
		if name := AddonName(slug, customer); ValidSlug(slug) && !IsProductAddonName(slug, name) {
			t.Fatalf("AddonName(%q, %q) = %q is not recognised as ours", slug, customer, name)
		}
	})
}
