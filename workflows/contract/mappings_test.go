package contract_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// An export of `heroku connect:export`, connection block included.
const export = `{"version": 1,
 "connection": {"app_name": "acme-isv-app", "organization_id": "00D000000000062", "exported_at": "2026-12-01T10:00:00Z", "features": {"poll_db_no_merge": true}},
 "mappings": [
  {"object_name": "Account", "config": {"access": "read_only", "sf_notify_enabled": false, "sf_polling_seconds": 600,
   "sf_max_daily_api_calls": 30000, "fields": {"Id": {}, "Name": {}, "SystemModstamp": {}}, "indexes": {"Id": {"unique": true}}}},
  {"object_name": "Invoice__c", "config": {"access": "read_write", "sf_notify_enabled": true, "sf_polling_seconds": 120,
   "sf_max_daily_api_calls": 0, "fields": {"Id": {}, "Amount__c": {}, "External_ID__c": {}, "SystemModstamp": {}},
   "indexes": {"External_ID__c": {"unique": true}}, "upsert_field": "External_ID__c"}}]}`

func TestAnExportIsATemplate(t *testing.T) {
	tpl, err := contract.ParseMappingTemplate([]byte(export), "")
	require.NoError(t, err)
	assert.Nil(t, tpl.Connection, "the export's connection block is dropped")
	assert.Equal(t, []string{"Account", "Invoice__c"}, tpl.Objects())
	assert.Regexp(t, `^sha256:[0-9a-f]{16}$`, tpl.Digest())

	again, err := contract.ParseMappingTemplate(tpl.JSON(), "")
	require.NoError(t, err)
	assert.Equal(t, tpl.Digest(), again.Digest(), "what is sent to Heroku is the same template")
	again.Mappings[0].Config.Fields["Industry"] = struct{}{}
	assert.NotEqual(t, tpl.Digest(), again.Digest(), "a changed template is told apart")
}

// Every rule names the path of what broke it, before anything is sent.
func TestTemplateRulesNameThePath(t *testing.T) {
	swap := func(old, new string) string { return strings.Replace(export, old, new, 1) }
	many := make([]string, contract.MaxMappings+1)
	for i := range many {
		many[i] = fmt.Sprintf(`{"object_name": "Obj%d__c", "config": {"access": "read_only", "sf_polling_seconds": 600, "fields": {"Id": {}, "SystemModstamp": {}}}}`, i)
	}
	cases := []struct {
		name, body, path, rule string
	}{
		{"version", swap(`"version": 1`, `"version": 2`), "version", "must be 1"},
		{"access", swap(`"access": "read_only"`, `"access": "write_everything"`), "mappings[0].config.access", `"read_only" or "read_write"`},
		{"object name", swap(`"Account"`, `"Account; DROP TABLE"`), "mappings[0].object_name", "Salesforce API name"},
		{"field name", swap(`"Name": {}`, `"Na me": {}`), `mappings[0].config.fields["Na me"]`, "field API name"},
		{"required fields", swap(`"SystemModstamp": {}}, "indexes": {"Id"`, `"Foo": {}}, "indexes": {"Id"`), "mappings[0].config.fields", "Id and SystemModstamp"},
		{"polling", swap(`"sf_polling_seconds": 120`, `"sf_polling_seconds": 5`), "mappings[1].config.sf_polling_seconds", "120 to 86400"},
		{"api calls", swap(`"sf_max_daily_api_calls": 0`, `"sf_max_daily_api_calls": -1`), "mappings[1].config.sf_max_daily_api_calls", "0 to"},
		{"index", swap(`"External_ID__c": {"unique": true}`, `"Nope__c": {"unique": true}`), `mappings[1].config.indexes["Nope__c"]`, "one of the mapping's fields"},
		{"upsert on read only", swap(`"access": "read_write"`, `"access": "read_only"`), "mappings[1].config.upsert_field", "only for read_write"},
		{"twice", swap(`"Invoice__c", "config"`, `"account", "config"`), "mappings[1].object_name", "repeats mappings[0]"},
		{"none", `{"version": 1, "mappings": []}`, "mappings", "at least one object"},
		{"too many", `{"version": 1, "mappings": [` + strings.Join(many, ",") + `]}`, "mappings", "at most 100"},
		{"unknown key", swap(`"sf_notify_enabled": false`, `"sf_notify_enabled": false, "sync_everything": true`), "mappings[0].config.sync_everything", ""},
		{"a field's config", swap(`"Name": {}`, `"Name": {"x": 1}`), `mappings[0].config.fields.Name.x`, ""},
		{"too big", `{"version": 1, "mappings": [], "pad": "` + strings.Repeat("x", contract.MaxMappingTemplateBytes) + `"}`, "", "more than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := contract.ParseMappingTemplate([]byte(tc.body), "")
			require.Error(t, err)
			var ve *contract.ValidationError
			require.ErrorAs(t, err, &ve)
			found := false
			for _, f := range ve.Fields {
				if f.Field == tc.path && strings.Contains(f.Rule, tc.rule) {
					found = true
				}
			}
			assert.True(t, found, "no error at %q with %q in %v", tc.path, tc.rule, ve.Fields)
		})
	}
}

// A start request's or a partner change's template is checked with the rest, under
// "mappings".
func TestTemplateProblemsInRequests(t *testing.T) {
	tpl, err := contract.ParseMappingTemplate([]byte(export), "")
	require.NoError(t, err)
	tpl.Mappings[0].Config.Access = "all"
	err = contract.PartnerChanges{Mappings: tpl}.Validate(contract.CheckLogoFormat)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "mappings.mappings[0].config.access")
	in := contract.ConnectionInput{ISVSlug: "acme", CustomerID: "c1", Mode: contract.ModeProvision, App: "acme-isv-app",
		Salesforce: contract.Salesforce{OrgID: "00D000000000062", Username: "int@c1.example"}, Mappings: tpl}
	assert.Contains(t, in.RequestProblems().Err().Error(), "mappings.mappings[0].config.access")
}
