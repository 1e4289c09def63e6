package workflows_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// The tests of issue 10's guarantees: each attacks one.

// A reissue asked for while the verification read is in flight, and a verification that
// then succeeds: the connection is active, the reissue settles, and the customer can still
// be offboarded (before the fix every workflow task failed with a potential deadlock).
func TestReissueDuringVerificationDoesNotLivelock(t *testing.T) {
	h := newHarness(t)
	h.start()
	var reissued contract.StartResult
	var reissueErr *error
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "ReadConnection" && reissueErr == nil {
			reissueErr = h.update(contract.UpdateReissueURL.Name, &reissued)
		}
	})
	h.at(time.Minute, func() { h.customerSignsIn("c1", orgID, username); h.returned(1) })
	h.at(2*time.Minute, func() {
		assert.Equal(t, contract.StageActive, h.status().Stage)
		h.update(contract.UpdateOffboard.Name, nil)
	})
	st, err := h.run(input("c1"))
	require.NoError(t, err)
	assert.Equal(t, contract.StageOffboarded, st.Stage)
	require.NotNil(t, reissueErr, "the reissue was sent during the verification")
	assert.NoError(t, *reissueErr)
	assert.Equal(t, contract.StageActive, reissued.Stage, "the reissue settles with the active stage")
	assert.Equal(t, 0, h.live())
}

// Customer IDs that differ only in case never share a schema.
func TestDefaultSchemaIsTheCustomersOwn(t *testing.T) {
	seen := map[string]string{}
	for _, id := range []string{"cust1", "Cust1", "CUST1", "cust-1", "cust_1", "cust.1"} {
		s := contract.DefaultSchema(id)
		assert.LessOrEqual(t, len(s), 63)
		assert.Regexp(t, `^customer_[a-z0-9_]+_[0-9a-f]{8}$`, s)
		if other, ok := seen[s]; ok {
			t.Errorf("%q and %q share schema %s", id, other, s)
		}
		seen[s] = id
	}
	long := contract.DefaultSchema(string(make([]byte, 0)) + "a" + string(bytesOf('b', 99)))
	assert.Len(t, long, 63)
}

func bytesOf(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}

// A schema another live customer holds is refused before anything is created.
func TestSchemaTakenCreatesNothing(t *testing.T) {
	h := newHarness(t)
	var claimed activities.ClaimInput
	h.claims = func(in activities.ClaimInput) error {
		claimed = in
		return temporal.NewNonRetryableApplicationError("schema acme-app/DATABASE_URL/shared is used by the live customer workflow connection/acme/other",
			contract.ErrSchemaTaken, nil)
	}
	in := input("c1")
	in.Schema = "shared"
	st, err := h.run(in)
	require.Error(t, err)
	assert.Equal(t, contract.ErrSchemaTaken, appErrType(err))
	assert.Equal(t, contract.StageFailed, st.Stage)
	assert.Equal(t, isvApp+"/DATABASE_URL/shared", claimed.SchemaClaim)
	assert.Zero(t, h.sim.Snapshot().Calls["addons.create"], "nothing created")
}

// The create happened but its answer was lost, and Heroku then answers 5xx for the whole
// step window: the run fails, and the add-on is destroyed by its deterministic name.
func TestLostCreateThenOutageLeavesNoOrphan(t *testing.T) {
	h := newHarness(t)
	h.sim.AddFaults(herokusim.Fault{Route: "addons.create", AfterEffect: true, Status: 500, Count: 1},
		herokusim.Fault{Route: "addons.create", Status: 503})
	st, err := h.run(input("c1"))
	require.Error(t, err)
	assert.Equal(t, contract.StageFailed, st.Stage)
	c := h.sim.Snapshot()
	assert.Equal(t, 1, c.AddonsCreated)
	assert.Equal(t, 0, c.Live, "the add-on whose answer was lost is destroyed")
	assert.Contains(t, st.Compensated, "destroyed add-on "+contract.AddonName(isv, "c1"))
}

// A 401 during the cleanup (a rotated token) is retried within the cleanup's 24 hours.
func TestCleanupOutlastsARotatedToken(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.at(time.Minute, func() {
		h.sim.AddFaults(herokusim.Fault{Route: "addons.destroy", Status: 401, Count: 5})
		h.update(contract.UpdateOffboard.Name, nil)
	})
	st, err := h.run(input("c1"))
	require.NoError(t, err)
	assert.Equal(t, contract.StageOffboarded, st.Stage)
	assert.Equal(t, 0, h.live())
}

// The authorization deadline travels through continue-as-new: a customer who never
// authorizes is let go at the first deadline, however often the run continued as new.
func TestAuthorizationDeadlineSurvivesContinueAsNew(t *testing.T) {
	h := newHarness(t)
	in := input("c1")
	in.Options.AuthorizationTimeout = 2 * time.Hour
	h.start()
	h.at(90*time.Minute, func() {
		h.env.SetContinueAsNewSuggested(true)
		h.watcherReports(heroku.StateNeedAuthentication)
	})
	h.env.ExecuteWorkflow(workflows.ConnectionWorkflow, in)
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, h.env.GetWorkflowError(), &can)
	var next contract.ConnectionInput
	require.NoError(t, decodeArg(can, &next))
	deadline := next.Carry.Status.AuthDeadline
	require.False(t, deadline.IsZero(), "the deadline is carried")

	h.env = h.newEnv()
	h.env.SetStartTime(deadline.Add(-30 * time.Minute))
	st, err := h.run(next)
	require.Error(t, err)
	assert.Equal(t, contract.ErrAuthorizationTimeout, appErrType(err))
	assert.False(t, h.env.Now().After(deadline.Add(time.Minute)), "ended at the carried deadline, not a fresh one (%s vs %s)", h.env.Now(), deadline)
	assert.Equal(t, 0, h.live(), "the add-on of a customer who never authorized is destroyed")
	assert.Equal(t, contract.StageFailed, st.Stage)
}

// A customer return honours its attempt and is accepted once; the answer says what the
// verification found, not a blanket "you're all set".
func TestReturnIsSingleUseAndHonoursTheAttempt(t *testing.T) {
	h := newHarness(t)
	h.start()
	var early, used, stale, good contract.ReturnResult
	var earlyErr, usedErr, staleErr, goodErr *error
	h.at(time.Minute, func() {
		earlyErr = h.updateWith(contract.UpdateCustomerReturned.Name, contract.CustomerReturned{Attempt: 1}, &early)
	})
	h.at(2*time.Minute, func() {
		usedErr = h.updateWith(contract.UpdateCustomerReturned.Name, contract.CustomerReturned{Attempt: 1}, &used) // the same state again
		h.update(contract.UpdateReissueURL.Name, nil)
	})
	h.at(3*time.Minute, func() {
		staleErr = h.updateWith(contract.UpdateCustomerReturned.Name, contract.CustomerReturned{Attempt: 1}, &stale)
		h.customerSignsIn("c1", orgID, username)
		goodErr = h.updateWith(contract.UpdateCustomerReturned.Name, contract.CustomerReturned{Attempt: 2}, &good)
	})
	h.at(4*time.Minute, func() { h.update(contract.UpdateOffboard.Name, nil) })
	_, err := h.run(input("c1"))
	require.NoError(t, err)

	require.NoError(t, *earlyErr)
	assert.False(t, early.Verified, "a return before signing in is not reported as connected")
	assert.Contains(t, early.Problem, "not authorized")
	assert.ErrorContains(t, *usedErr, "already used")
	assert.ErrorContains(t, *staleErr, "not the current authorization URL")
	require.NoError(t, *goodErr)
	assert.True(t, good.Verified, "%+v", good)
	assert.Equal(t, contract.StageActive, good.Stage)
}

// A start request is refused, naming the field, before any Heroku call, for a return URL on
// a host the worker does not allow or a per-customer option out of bounds.
func TestStartInputCannotSteerTheWorker(t *testing.T) {
	cases := map[string]struct {
		edit  func(*contract.ConnectionInput)
		field string
	}{
		"return host":      {func(in *contract.ConnectionInput) { in.ReturnURL = "https://attacker.example/steal" }, "return_url"},
		"refresh margin":   {func(in *contract.ConnectionInput) { in.Options.URLRefreshMargin = time.Second }, "options.url_refresh_margin"},
		"return with user": {func(in *contract.ConnectionInput) { in.ReturnURL = "https://u@isv.example/r" }, "return_url"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			in := input("c1")
			tc.edit(&in)
			_, err := h.run(in)
			require.Error(t, err)
			assert.Equal(t, contract.ErrInvalidInput, appErrType(err))
			assert.Contains(t, err.Error(), tc.field)
			c := h.sim.Snapshot()
			assert.Zero(t, c.Calls["addons.create"]+c.Calls["partner.info"], "no Heroku call")
		})
	}
}

// The settings the workflow runs with are the worker's, read once per run: a start input
// written by hand (anyone with namespace access can start one) that names a queue, a pace or
// a history limit is not obeyed.
func TestWorkerSettingsPaceTheWorkflow(t *testing.T) {
	h := newHarness(t)
	var queues []string
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		queues = append(queues, info.TaskQueue)
	})
	h.start()
	h.at(time.Minute, func() { h.update(contract.UpdateOffboard.Name, nil) })
	// What a hand-written start input may say about queues and pace has nowhere to land:
	// ConnectionInput holds no operational field, so the decoder drops them.
	var in contract.ConnectionInput
	b, _ := json.Marshal(input("c1"))
	raw := strings.Replace(string(b), `"salesforce"`, `"options":{"heroku_task_queue":"nobody-polls-this","poll_interval":1,"watch_shards":64,"continue_as_new_after":1},"salesforce"`, 1)
	require.NoError(t, json.Unmarshal([]byte(raw), &in))
	require.Equal(t, input("c1"), in)
	_, err := h.run(in)
	require.NoError(t, err)
	require.NotEmpty(t, queues)
	for _, q := range queues {
		assert.Contains(t, []string{"heroku", "default-test-taskqueue"}, q)
	}
}

// Issue 10 item 13: valid inputs that were refused and invalid ones that were accepted.
func TestValidationRulesFromReview(t *testing.T) {
	base := func() contract.ConnectionInput { return input("c1").WithDefaults() }
	valid := map[string]func(*contract.ConnectionInput){
		"three-letter slug with a dash": func(in *contract.ConnectionInput) { in.ISVSlug = "a-b" },
		"30-character slug":             func(in *contract.ConnectionInput) { in.ISVSlug = "a" + strings.Repeat("b", 29) },
		"UUID add-on starting with a digit": func(in *contract.ConnectionInput) {
			in.Mode, in.App, in.Addon = contract.ModeEnroll, "", "0f8fad5b-d9cb-469f-a165-70867728950e"
		},
		"upper-case 18-character org": func(in *contract.ConnectionInput) { in.Salesforce.OrgID = "00D000000000062EAA" },
		"API version 68.0":            func(in *contract.ConnectionInput) { in.Salesforce.APIVersion = "68.0" },
	}
	for name, edit := range valid {
		in := base()
		edit(&in)
		assert.NoError(t, in.Validate(), name)
	}
	invalid := map[string]struct {
		edit  func(*contract.ConnectionInput)
		field string
	}{
		"31-character slug":   {func(in *contract.ConnectionInput) { in.ISVSlug = "a" + strings.Repeat("b", 30) }, "isv_slug"},
		"slug ending in dash": {func(in *contract.ConnectionInput) { in.ISVSlug = "abc-" }, "isv_slug"},
		"org with spaces":     {func(in *contract.ConnectionInput) { in.Salesforce.OrgID = " " + orgID + " " }, "salesforce.sf_org_id"},
		"username with NUL":   {func(in *contract.ConnectionInput) { in.Salesforce.Username = "int\x00@acme.com" }, "salesforce.sf_username"},
		"username with markup": {func(in *contract.ConnectionInput) { in.Salesforce.Username = "<script>@acme.com" },
			"salesforce.sf_username"},
		"username non-ASCII": {func(in *contract.ConnectionInput) { in.Salesforce.Username = "jöe@acme.com" }, "salesforce.sf_username"},
		"domain with empty label": {func(in *contract.ConnectionInput) {
			in.Salesforce.Environment, in.Salesforce.Domain = "custom", "https://.my.salesforce.com"
		}, "salesforce.domain"},
		"domain with port": {func(in *contract.ConnectionInput) {
			in.Salesforce.Environment, in.Salesforce.Domain = "custom", "https://acme.my.salesforce.com:444"
		}, "salesforce.domain"},
		"return URL with user info": {func(in *contract.ConnectionInput) { in.ReturnURL = "https://me@isv.example/r" }, "return_url"},
		"enroll with an app":        {func(in *contract.ConnectionInput) { in.Mode, in.Addon = contract.ModeEnroll, "hc-x" }, "app"},
	}
	for name, tc := range invalid {
		in := base()
		tc.edit(&in)
		err := in.Validate()
		var ve *contract.ValidationError
		if assert.ErrorAs(t, err, &ve, name) {
			found := false
			for _, f := range ve.Fields {
				found = found || f.Field == tc.field
			}
			assert.True(t, found, "%s: %v", name, ve.Fields)
		}
	}
}

// Issue 11: every handler is described, so the UI and `temporal workflow metadata` explain
// it (read through Temporal's built-in metadata query, as the UI does).
func TestEveryHandlerIsDescribed(t *testing.T) {
	h := newHarness(t)
	h.start()
	var meta sdkpb.WorkflowMetadata
	h.at(time.Minute, func() {
		v, err := h.env.QueryWorkflow("__temporal_workflow_metadata")
		require.NoError(t, err)
		require.NoError(t, v.Get(&meta))
		h.update(contract.UpdateOffboard.Name, nil)
	})
	_, err := h.run(input("c1"))
	require.NoError(t, err)
	def := meta.GetDefinition()
	require.NotNil(t, def)
	names := map[string]string{}
	for _, q := range def.GetQueryDefinitions() {
		names["query "+q.GetName()] = q.GetDescription()
	}
	for _, s := range def.GetSignalDefinitions() {
		names["signal "+s.GetName()] = s.GetDescription()
	}
	for _, u := range def.GetUpdateDefinitions() {
		names["update "+u.GetName()] = u.GetDescription()
	}
	for _, want := range []string{"query " + contract.QueryStatus.Name, "signal " + contract.SignalCustomerReturned.Name, "signal " + contract.SignalConnectionState.Name,
		"signal " + contract.SignalIntegrationDeactivated.Name, "update " + contract.UpdateStart.Name, "update " + contract.UpdateOffboard.Name,
		"update " + contract.UpdateCustomerReturned.Name, "update " + contract.UpdateReissueURL.Name, "update " + contract.UpdateReauthorize.Name} {
		assert.NotEmpty(t, names[want], "%s has a description", want)
	}
}
