package heroku_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/heroku"
)

// testClock is a simulator clock a test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const accountConfig = `{"version": 1, "connection": {"app_name": "elsewhere", "organization_id": "00D000000000001"},
 "mappings": [
  {"object_name": "Account", "config": {"access": "read_only", "sf_notify_enabled": false, "sf_polling_seconds": 600,
   "sf_max_daily_api_calls": 30000, "fields": {"Id": {}, "Name": {}, "SystemModstamp": {}}, "indexes": {"Id": {"unique": true}}}},
  {"object_name": "Contact", "config": {"access": "read_write", "sf_notify_enabled": true, "sf_polling_seconds": 600,
   "sf_max_daily_api_calls": 30000, "fields": {"Id": {}, "Email": {}, "SystemModstamp": {}}, "indexes": {}}}]}`

func states(t *testing.T, f *fixture, ref heroku.ConnectionRef) map[string]string {
	t.Helper()
	conn, err := f.client.Connection(ctx(t), ref.RegionURL, ref.ID)
	require.NoError(t, err)
	out := map[string]string{}
	for _, m := range conn.Mappings {
		out[m.ObjectName] = m.State
	}
	return out
}

// A configuration imported into an authorized connection syncs on the simulator's clock; an
// import names only what it changes; faults stop a mapping until a reload; write errors and
// notifications are read and acknowledged.
func TestMappingsImportSyncAndFaults(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	f := newFixture(t, func(c *herokusim.Config) { c.Now, c.SyncDelay = clock.Now, 10*time.Second })
	c := ctx(t)
	f.createIntegration(t, "acme")
	a, ref := f.onboard(t, "acme", "hc-acme-m1")

	// Before the customer authorizes there is nothing to sync into.
	err := f.client.ImportMappings(c, ref.RegionURL, ref.ID, json.RawMessage(accountConfig))
	require.ErrorIs(t, err, heroku.ErrConflict)

	auth, err := f.client.Authorize(c, "acme", a.ID, heroku.AuthorizeRequest{SFOrgID: org, SFUsername: user, Next: "https://isv.example/return"})
	require.NoError(t, err)
	signIn(t, auth.Redirect, org, user)

	post(t, f.srv.URL+"/_sim/mapping-faults", herokusim.MappingFault{Addon: a.Name, Object: "Contact", Kind: "fail", Message: "INVALID_FIELD: Email"})
	require.NoError(t, f.client.ImportMappings(c, ref.RegionURL, ref.ID, json.RawMessage(accountConfig)))
	assert.Equal(t, map[string]string{"Account": heroku.MappingInitial, "Contact": heroku.MappingInitial}, states(t, f, ref))
	clock.Add(5 * time.Second)
	assert.Equal(t, map[string]string{"Account": heroku.MappingReloadTable, "Contact": heroku.MappingReloadTable}, states(t, f, ref))
	clock.Add(5 * time.Second)
	assert.Equal(t, map[string]string{"Account": heroku.MappingDataSynced, "Contact": heroku.MappingSystemError}, states(t, f, ref))

	conn, err := f.client.Connection(c, ref.RegionURL, ref.ID)
	require.NoError(t, err)
	for _, m := range conn.Mappings {
		if m.ObjectName == "Contact" {
			assert.Equal(t, "INVALID_FIELD: Email", m.StateDescription, "Heroku's words reach the client")
		} else {
			assert.Equal(t, 42, m.Counts.DB)
		}
	}
	notes, err := f.client.Notifications(c, ref.RegionURL, ref.ID)
	require.NoError(t, err)
	require.Len(t, notes, 1)
	assert.Equal(t, "mapping-error", notes[0].EventType)

	// Write errors count the last 24 hours.
	post(t, f.srv.URL+"/_sim/mapping-faults", herokusim.MappingFault{Addon: a.Name, Object: "Account", Kind: "write_errors", Count: 3})
	n, rows, err := f.client.WriteErrors(c, ref.RegionURL, ref.ID)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Len(t, rows, 3)
	assert.Equal(t, "customer_hc_acme_m1.account", rows[0].TableName)
	clock.Add(25 * time.Hour)
	n, _, err = f.client.WriteErrors(c, ref.RegionURL, ref.ID)
	require.NoError(t, err)
	assert.Zero(t, n, "errors older than 24 hours are not listed")

	// A second import that names one object leaves the other alone, and an unchanged
	// config does not reload.
	one := `{"version": 1, "mappings": [{"object_name": "Account", "config": {"access": "read_only", "sf_notify_enabled": false,
	 "sf_polling_seconds": 600, "sf_max_daily_api_calls": 30000, "fields": {"Id": {}, "Name": {}, "SystemModstamp": {}}, "indexes": {"Id": {"unique": true}}}}]}`
	require.NoError(t, f.client.ImportMappings(c, ref.RegionURL, ref.ID, json.RawMessage(one)))
	assert.Equal(t, map[string]string{"Account": heroku.MappingDataSynced, "Contact": heroku.MappingSystemError}, states(t, f, ref))
	assert.Equal(t, map[string]int{a.ID: 2}, f.sim.Imports())

	// A restart clears the failure and the mapping loads again.
	req, err := http.NewRequest(http.MethodPost, ref.RegionURL+"/api/v3/connections/"+ref.ID+"/actions/restart", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	clock.Add(10 * time.Second)
	assert.Equal(t, map[string]string{"Account": heroku.MappingDataSynced, "Contact": heroku.MappingDataSynced}, states(t, f, ref))
}
