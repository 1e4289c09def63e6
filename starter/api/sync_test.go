package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// The document says what the contract says: every stage and event type in the contract's
// order, a webhook (whose example is a valid event body) for every event type, and the
// mapping template's limits.
func TestOpenAPIMatchesContract(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPI)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(t.Context()))
	schema := func(name string) *openapi3.Schema {
		t.Helper()
		ref := doc.Components.Schemas[name]
		require.NotNil(t, ref, "schema %s", name)
		return ref.Value
	}
	strs := func(enum []any) []string {
		out := make([]string, len(enum))
		for i, v := range enum {
			out[i] = fmt.Sprint(v)
		}
		return out
	}

	assert.Equal(t, contract.StageNames(), strs(schema("Stage").Enum), "the stages, in the contract's order")
	for _, name := range []string{"Status", "StartResult"} {
		assert.Equal(t, "#/components/schemas/Stage", schema(name).Properties["stage"].Ref, "%s.stage", name)
	}
	var types []string
	for _, e := range contract.EventTypes {
		types = append(types, string(e.Type))
	}
	assert.Equal(t, append(slices.Clone(types), string(contract.EventPing)), strs(schema("EventType").Enum), "the event types, in the contract's order")

	eventBody := schema("EventBody")
	for _, typ := range types {
		hook := doc.Webhooks[typ]
		if !assert.NotNil(t, hook, "a webhook entry for %s", typ) || !assert.NotNil(t, hook.Post, typ) {
			continue
		}
		assert.Contains(t, hook.Post.Description, "subscribed to "+typ+",", typ)
		media := hook.Post.RequestBody.Value.Content.Get("application/json")
		require.NotNil(t, media, typ)
		assert.Equal(t, "#/components/schemas/EventBody", media.Schema.Ref, typ)
		ex := media.Examples["example"]
		require.NotNil(t, ex, typ)
		value, ok := ex.Value.Value.(map[string]any)
		require.True(t, ok, typ)
		assert.Equal(t, typ, value["type"], "%s: the example's type", typ)
		assert.NoError(t, eventBody.VisitJSON(value), "%s: the example is an event body", typ)
		if data, ok := value["data"].(map[string]any); ok && data["stage"] != nil {
			assert.True(t, contract.Stage(fmt.Sprint(data["stage"])).Known(), "%s: the example's stage", typ)
		}
	}
	assert.Len(t, doc.Webhooks, len(types), "a webhook entry for each event type, and no other")

	tpl := schema("MappingTemplate")
	assert.EqualValues(t, contract.MaxMappings, *tpl.Properties["mappings"].Value.MaxItems)
	cfg := schema("Mapping").Properties["config"].Value.Properties
	assert.EqualValues(t, contract.MinPollingSeconds, *cfg["sf_polling_seconds"].Value.Min)
	assert.EqualValues(t, contract.MaxPollingSeconds, *cfg["sf_polling_seconds"].Value.Max)
	assert.EqualValues(t, contract.MaxDailyAPICalls, *cfg["sf_max_daily_api_calls"].Value.Max)
	assert.EqualValues(t, contract.MaxMappedFields, *cfg["fields"].Value.MaxProps)
	assert.Equal(t, []string{contract.MappingReadOnly, contract.MappingReadWrite}, strs(cfg["access"].Value.Enum))
	assert.NotContains(t, schema("PartnerInfo").Properties, "mappings", "the template's body is never in an answer")
}

func apiSyncTemplate() *contract.MappingTemplate {
	return &contract.MappingTemplate{Version: 1, Mappings: []contract.Mapping{
		{ObjectName: "Account", Config: contract.MappingConfig{Access: contract.MappingReadOnly, SFPollingSeconds: 600, SFMaxDailyAPICalls: 30000,
			Fields: map[string]struct{}{"Id": {}, "Name": {}, "SystemModstamp": {}}}},
		{ObjectName: "Contact", Config: contract.MappingConfig{Access: contract.MappingReadWrite, SFPollingSeconds: 600, SFMaxDailyAPICalls: 30000,
			Fields: map[string]struct{}{"Id": {}, "Email": {}, "SystemModstamp": {}}, Indexes: map[string]contract.MappingIndex{"Email": {Unique: true}}, UpsertField: "Email"}},
	}}
}

// Mapping templates and health over HTTP, every answer held to /openapi.json: a start whose
// template breaks a rule is refused naming its path and starts nothing; the integration's
// health counts its onboardings by stage; a customer's health is refused until it has
// authorized; a template given to the integration answers its digest and objects, never its
// body; and a customer that authorizes afterwards syncs by it and answers its health.
func TestSyncTemplatesAndHealthAPI(t *testing.T) {
	e := setup(t, "WORKER_SYNC_CHECK=1s")
	keys := &Keys{}
	keys.FullAccess("test", apiToken)
	a := New(e.c, keys, []byte(stateKey), "", zerolog.Nop())
	srv := httptest.NewServer(a)
	defer srv.Close()
	a.returnURL = srv.URL + "/return"

	answered := newDocumented(t)
	send := func(method, path string, body []byte) (int, []byte) {
		t.Helper()
		resp, out := answered.send(t, nil, method, srv.URL+path, apiToken, body)
		return resp.StatusCode, out
	}
	call := func(method, path string, body any) (int, []byte) {
		t.Helper()
		return send(method, path, jsonBody(t, body))
	}
	input := func(customer string, mappings *contract.MappingTemplate) map[string]any {
		in := map[string]any{"isv_slug": testenv.ISV, "customer_id": customer, "mode": "provision", "app": testenv.ISVApp,
			"salesforce": map[string]string{"sf_org_id": org, "sf_username": user}}
		if mappings != nil {
			in["mappings"] = mappings
		}
		return in
	}
	fieldsOf := func(body []byte) []string {
		t.Helper()
		var ae apiError
		require.NoError(t, json.Unmarshal(body, &ae), string(body))
		var out []string
		for _, f := range ae.Fields {
			out = append(out, f.Field)
		}
		return out
	}
	idOf := func(body []byte) string {
		var ae apiError
		_ = json.Unmarshal(body, &ae)
		return ae.ID
	}

	// (a) A start whose template breaks a rule answers 400 naming the path; nothing starts.
	bad := apiSyncTemplate()
	bad.Mappings[0].Config.Access = "write_everything"
	bad.Mappings[0].Config.Fields = map[string]struct{}{"Id": {}, "Name": {}}
	code, body := call("POST", "/v1/onboardings", input("t1", bad))
	require.Equal(t, 400, code, string(body))
	assert.Equal(t, "invalid_input", idOf(body))
	assert.Contains(t, fieldsOf(body), "mappings.mappings[0].config.access")
	assert.Contains(t, fieldsOf(body), "mappings.mappings[0].config.fields")
	// A body past 64 KB is read when it carries a template (64 KB and the template's 256 KB):
	// this one is refused for its second mapping's access, not for its size.
	big := apiSyncTemplate()
	big.Mappings[0].Config.Fields = map[string]struct{}{"Id": {}, "SystemModstamp": {}}
	for i := range contract.MaxMappedFields - 2 {
		big.Mappings[0].Config.Fields[fmt.Sprintf("Field%04d_%s", i, strings.Repeat("x", 69))] = struct{}{}
	}
	big.Mappings[1].Config.Access = "write_everything"
	b, err := json.Marshal(input("t1", big))
	require.NoError(t, err)
	require.Greater(t, len(b), maxBody)
	code, body = send("POST", "/v1/onboardings", b)
	assert.Equal(t, 400, code, string(body))
	assert.Equal(t, []string{"mappings.mappings[1].config.access", "mappings.mappings[1].config.upsert_field"}, fieldsOf(body))
	code, body = send("POST", "/v1/onboardings", []byte(`{"customer_id":"`+strings.Repeat("a", maxStartBody)+`"}`))
	assert.Equal(t, 413, code, string(body))
	assert.Contains(t, string(body), fmt.Sprint(maxStartBody))
	code, body = call("GET", "/v1/onboardings/acme/t1", nil)
	assert.Equal(t, 404, code, "nothing was started: %s", body)
	assert.Zero(t, e.sim.Snapshot().Calls["addons.create"])

	// (b) Two customers waiting for their authorization: the integration's health counts them.
	starts := map[string]contract.StartResult{}
	for _, cust := range []string{"h1", "h2"} {
		code, body := call("POST", "/v1/onboardings", input(cust, nil))
		require.Equal(t, 200, code, string(body))
		var res contract.StartResult
		require.NoError(t, json.Unmarshal(body, &res))
		require.Equal(t, contract.StageAwaitingAuthorization, res.Stage)
		starts[cust] = res
	}
	partnerHealth := func() onboarding.IntegrationHealth {
		t.Helper()
		code, body := call("GET", "/v1/partners/acme/health", nil)
		require.Equal(t, 200, code, string(body))
		var h onboarding.IntegrationHealth
		require.NoError(t, json.Unmarshal(body, &h))
		return h
	}
	var health onboarding.IntegrationHealth
	testenv.Eventually(t, 30*time.Second, "both customers counted awaiting authorization", func() bool {
		health = partnerHealth()
		return health.Running == 2 && health.Stages[string(contract.StageAwaitingAuthorization)] == 2
	})
	assert.Equal(t, testenv.ISV, health.ISVSlug)
	assert.Equal(t, map[string]int64{string(contract.StageAwaitingAuthorization): 2}, health.Stages)
	assert.Empty(t, health.NeedsAttention)
	code, body = call("GET", "/v1/partners/Not_A_Slug/health", nil)
	assert.Equal(t, 400, code, string(body))
	assert.Equal(t, []string{"isv"}, fieldsOf(body))

	// (c) A customer's health is read once it has authorized: before, the update is rejected.
	code, body = call("GET", "/v1/onboardings/acme/h1/health", nil)
	assert.Equal(t, 409, code, string(body))
	assert.Equal(t, "rejected", idOf(body))
	assert.Contains(t, string(body), "authorized")
	code, body = call("GET", "/v1/onboardings/acme/nobody/health", nil)
	assert.Equal(t, 404, code, string(body))
	assert.Equal(t, "not_found", idOf(body))

	// (d) The integration's template: a bad one names its path and changes nothing; a good one
	// answers its digest and objects, never its body, here and in the info.
	code, body = call("PATCH", "/v1/partners/acme", map[string]any{"mappings": bad})
	assert.Equal(t, 400, code, string(body))
	assert.Contains(t, fieldsOf(body), "mappings.mappings[0].config.access")
	tpl := apiSyncTemplate()
	code, body = call("PATCH", "/v1/partners/acme", map[string]any{"mappings": tpl})
	require.Equal(t, 200, code, string(body))
	checkInfo := func(body []byte) {
		t.Helper()
		var info contract.PartnerInfo
		require.NoError(t, json.Unmarshal(body, &info))
		assert.Equal(t, tpl.Digest(), info.MappingsDigest)
		assert.Equal(t, tpl.Objects(), info.MappingObjects)
		var top map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(body, &top))
		assert.NotContains(t, top, "mappings", "the template's body is never in an answer")
		assert.NotContains(t, string(body), "SystemModstamp")
	}
	checkInfo(body)
	code, body = call("GET", "/v1/partners/acme", nil)
	require.Equal(t, 200, code, string(body))
	checkInfo(body)

	// A customer that authorizes now syncs by the integration's template, and its health
	// answers each mapping.
	resp := testenv.SignIn(t, starts["h1"].AuthorizationURL, org, user)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	next := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(next, srv.URL+"/return?state="), next)
	page, err := http.Get(next)
	require.NoError(t, err)
	page.Body.Close()
	assert.Contains(t, []int{200, 202}, page.StatusCode)
	var st contract.Status
	testenv.Eventually(t, time.Minute, "h1 active with its mappings synced", func() bool {
		code, body := call("GET", "/v1/onboardings/acme/h1", nil)
		st = contract.Status{}
		return code == 200 && json.Unmarshal(body, &st) == nil && st.Stage == contract.StageActive && st.Sync != nil && !st.Sync.SyncedAt.IsZero()
	})
	assert.Equal(t, contract.TemplateFromIntegration, st.Sync.Source)
	assert.Equal(t, tpl.Digest(), st.Sync.Template)
	assert.Equal(t, tpl.Digest(), st.Sync.Imported)
	assert.Equal(t, tpl.Objects(), st.Sync.Objects)
	assert.Equal(t, 1, st.Sync.Imports)
	code, body = call("GET", "/v1/onboardings/acme/h1/health", nil)
	require.Equal(t, 200, code, string(body))
	var h contract.Health
	require.NoError(t, json.Unmarshal(body, &h))
	var objects []string
	for _, m := range h.Mappings {
		objects = append(objects, m.Object)
	}
	assert.ElementsMatch(t, tpl.Objects(), objects)
	assert.NotEmpty(t, h.ConnectionState)
	assert.False(t, h.CheckedAt.IsZero())
	assert.Zero(t, h.WriteErrors)
	assert.Zero(t, h.Notifications)
	assert.Empty(t, h.Problem)
	code, body = call("GET", "/v1/onboardings/acme/h1", nil)
	require.Equal(t, 200, code, string(body))
	require.NoError(t, json.Unmarshal(body, &st))
	if assert.NotNil(t, st.Health, "the health read is kept in the status") {
		assert.Len(t, st.Health.Mappings, len(tpl.Mappings))
	}
	testenv.Eventually(t, 30*time.Second, "one customer counted active, one awaiting authorization", func() bool {
		health = partnerHealth()
		return health.Running == 2 && health.Stages[string(contract.StageActive)] == 1 && health.Stages[string(contract.StageAwaitingAuthorization)] == 1
	})
	assert.Len(t, health.Stages, 2)
	assert.Empty(t, health.NeedsAttention)
}
