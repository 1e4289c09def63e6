package workflows_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

const templateJSON = `{"version": 1, "mappings": [
 {"object_name": "Account", "config": {"access": "read_only", "sf_notify_enabled": false, "sf_polling_seconds": 600,
  "sf_max_daily_api_calls": 30000, "fields": {"Id": {}, "Name": {}, "SystemModstamp": {}}, "indexes": {"Id": {"unique": true}}}},
 {"object_name": "Contact", "config": {"access": "read_write", "sf_notify_enabled": false, "sf_polling_seconds": 600,
  "sf_max_daily_api_calls": 30000, "fields": {"Id": {}, "Email": {}, "SystemModstamp": {}}}}]}`

func template(t *testing.T) *contract.MappingTemplate {
	t.Helper()
	tpl, err := contract.ParseMappingTemplate([]byte(templateJSON), "")
	require.NoError(t, err)
	return tpl
}

// withTemplate is a customer onboarded with its own template.
func withTemplate(t *testing.T, customer string) contract.ConnectionInput {
	in := input(customer)
	in.Mappings = template(t)
	return in
}

func (h *harness) emittedTypes() []contract.EventType {
	var out []contract.EventType
	for _, e := range h.emitted {
		out = append(out, e.Type)
	}
	return out
}

// After the identity is verified the template is imported once, even when the import's
// answer is lost (the retry reads the connection instead of importing again), and the
// customer is active only when every mapping has synced.
func TestTemplateImportedOnceThenActiveWhenSynced(t *testing.T) {
	h := newHarness(t)
	h.sim.AddFaults(herokusim.Fault{Route: "connect.import", Status: 500, AfterEffect: true, Count: 1})
	start := h.start()
	var stages []contract.Stage
	h.at(time.Minute, func() {
		h.customerSignsIn("c1", orgID, username)
		h.returned(start.Attempt)
	})
	for _, d := range []time.Duration{time.Minute + 2*time.Second, time.Minute + 5*time.Second, 10 * time.Minute} {
		h.at(d, func() { stages = append(stages, h.status().Stage) })
	}
	h.at(11*time.Minute, func() { h.update(contract.UpdateOffboard.Name, nil) })
	_, err := h.run(withTemplate(t, "c1"))
	require.NoError(t, err)

	assert.Contains(t, stages, contract.StageSyncing, "waits for the first sync")
	assert.Equal(t, contract.StageActive, stages[len(stages)-1])
	a := h.sim.Snapshot()
	assert.Equal(t, 1, a.Imports, "imported exactly once, though the first answer was lost")
	assert.Contains(t, h.started(), "ImportedAlready", "the retry read the connection instead of importing again")
	assert.Equal(t, []contract.EventType{contract.EventOnboardingStarted, contract.EventURLIssued, contract.EventAuthorized,
		contract.EventSyncing, contract.EventActive, contract.EventOffboarded}, h.emittedTypes())
	var active contract.LifecycleEvent
	for _, e := range h.emitted {
		if e.Type == contract.EventActive {
			active = e
		}
	}
	require.Len(t, active.Data.Mappings, 2)
	assert.Equal(t, heroku.MappingDataSynced, active.Data.Mappings[0].State)
	assert.Equal(t, template(t).Digest(), active.Data.Template)
}

// A mapping that fails puts the customer in needs_attention with Heroku's words, and
// nothing is cleaned up; once the connection is restarted it recovers to active.
func TestFailedMappingNeedsAttentionWithoutCompensation(t *testing.T) {
	h := newHarness(t)
	start := h.start()
	h.at(time.Minute, func() {
		require.NoError(t, h.sim.InjectMappingFault(herokusim.MappingFault{Addon: contract.AddonName(isv, "c1"), Object: "Contact",
			Kind: "fail", Message: "INVALID_FIELD: No such column 'Email'"}))
		h.customerSignsIn("c1", orgID, username)
		h.returned(start.Attempt)
	})
	var attention contract.Status
	h.at(10*time.Minute, func() {
		attention = h.status()
		// The ISV's operator fixes it: connect:recover restarts the connection.
		h.restartConnection(attention.Connection)
	})
	var recovered contract.Status
	h.at(40*time.Minute, func() {
		recovered = h.status()
		h.update(contract.UpdateOffboard.Name, nil)
	})
	_, err := h.run(withTemplate(t, "c1"))
	require.NoError(t, err)

	assert.Equal(t, contract.StageNeedsAttention, attention.Stage)
	require.NotNil(t, attention.Health)
	assert.Contains(t, attention.Health.Problem, "INVALID_FIELD: No such column 'Email'", "Heroku's words")
	assert.Empty(t, attention.Compensated, "partial data is the customer's: nothing is cleaned up")
	assert.Equal(t, contract.StageActive, recovered.Stage)
	assert.Contains(t, h.emittedTypes(), contract.EventNeedsAttention)
	assert.Contains(t, h.emittedTypes(), contract.EventRecovered)
	assert.Equal(t, 1, h.sim.Snapshot().Imports)
}

// Without a template an onboarding is what it was: active on authorization, no import.
func TestWithoutTemplateActiveOnAuthorization(t *testing.T) {
	h := newHarness(t)
	start := h.start()
	h.at(time.Minute, func() {
		h.customerSignsIn("c1", orgID, username)
		h.returned(start.Attempt)
	})
	var st contract.Status
	h.at(time.Minute+time.Second, func() { st = h.status(); h.update(contract.UpdateOffboard.Name, nil) })
	_, err := h.run(input("c1"))
	require.NoError(t, err)
	assert.Equal(t, contract.StageActive, st.Stage)
	assert.Nil(t, st.Sync)
	assert.NotContains(t, h.started(), "ImportMappings")
	assert.Zero(t, h.sim.Snapshot().Imports)
}

// A rollout: the integration's template changes while the customer is active; it imports
// the new one at background priority and reports to the partner workflow.
func TestRolloutImportsTheNewTemplateAndReports(t *testing.T) {
	h := newHarness(t)
	first, second := template(t), template(t)
	second.Mappings[0].Config.Fields["Industry"] = struct{}{}
	current := first
	h.env.OnActivity("IntegrationTemplate", mock.Anything, mock.Anything).Return(func(context.Context, string) (activities.TemplateRef, error) {
		return activities.TemplateRef{Digest: current.Digest(), Objects: current.Objects()}, nil
	})
	// The import asks the partner workflow for the body: here the test is that workflow.
	imports := 0
	h.env.OnActivity("ImportMappings", mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.ImportInput) (activities.TemplateRef, error) {
		imports++
		st := h.status()
		require.NoError(t, h.client.ImportMappings(ctx, st.Connection.RegionURL, st.Connection.ID, current.JSON()))
		return activities.TemplateRef{Digest: current.Digest(), Objects: current.Objects()}, nil
	})
	start := h.start()
	h.at(time.Minute, func() {
		h.customerSignsIn("c1", orgID, username)
		h.returned(start.Attempt)
	})
	var before, after contract.Status
	h.at(10*time.Minute, func() {
		before = h.status()
		current = second
		h.env.SignalWorkflow(contract.SignalMappingsChanged.Name, contract.MappingsChanged{Template: second.Digest()})
	})
	h.at(20*time.Minute, func() {
		after = h.status()
		h.env.SignalWorkflow(contract.SignalMappingsChanged.Name, contract.MappingsChanged{Template: second.Digest()})
	})
	h.at(30*time.Minute, func() { h.update(contract.UpdateOffboard.Name, nil) })
	_, err := h.run(input("c1"))
	require.NoError(t, err)

	assert.Equal(t, contract.StageActive, before.Stage)
	assert.Equal(t, first.Digest(), before.Sync.Imported)
	assert.Equal(t, contract.StageActive, after.Stage)
	assert.Equal(t, second.Digest(), after.Sync.Imported)
	assert.Equal(t, 2, after.Sync.Imports)
	assert.Equal(t, 2, imports, "the same template again is not imported again")
	var reports []contract.RolloutReport
	for _, s := range h.signaled {
		if s.WorkflowID == contract.PartnerWorkflowID(isv) && s.Name == contract.SignalRolloutReport.Name {
			var r contract.RolloutReport
			decodeInto(t, s.Arg, &r)
			reports = append(reports, r)
		}
	}
	require.Len(t, reports, 2)
	assert.Equal(t, contract.RolloutUpdated, reports[0].Outcome)
	assert.Equal(t, second.Digest(), reports[0].Template)
	assert.Equal(t, contract.RolloutUnchanged, reports[1].Outcome)
	var rolloutPriority int
	for _, s := range h.scheduled {
		if s.Type == "ImportMappings" {
			rolloutPriority = s.Priority.PriorityKey
		}
	}
	assert.Equal(t, 5, rolloutPriority, "a rollout's import runs at background priority")
}

// restartConnection is an operator's connect:recover.
func (h *harness) restartConnection(ref *contract.ConnectionRef) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, ref.RegionURL+"/api/v3/connections/"+ref.ID+"/actions/restart", nil)
	require.NoError(h.t, err)
	req.Header.Set("Authorization", "Bearer sim-token")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	resp.Body.Close()
	require.Equal(h.t, http.StatusAccepted, resp.StatusCode)
}

// The customer's return reported while the watcher's report of the same authorization is
// being verified changes nothing more: the customer goes on through the sync to active. The
// return was left pending, and the sync's wait could not wait (a timer per loop, forever:
// seen in CI's privacy test, whose workflow task failed).
func TestReturnDuringVerificationThenSyncs(t *testing.T) {
	h := newHarness(t, func(c *herokusim.Config) { c.SyncDelay = 30 * time.Second })
	start := h.start()
	told := false
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "ReadConnection" && !told {
			told = true
			h.returned(start.Attempt) // while the watcher's report is being verified
		}
	})
	h.at(time.Minute, func() {
		h.customerSignsIn("c1", orgID, username)
		h.watcherReports(heroku.StateIdle)
	})
	var after contract.Stage
	h.at(10*time.Minute, func() {
		after = h.status().Stage
		h.update(contract.UpdateOffboard.Name, nil)
	})
	_, err := h.run(withTemplate(t, "c1"))
	require.NoError(t, err)
	assert.True(t, told)
	assert.Equal(t, contract.StageActive, after)
}
