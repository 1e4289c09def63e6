package onboarding_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Issue 10 item 3a on the real server: a cancellation while the create is in flight waits
// for the create, and the cleanup destroys what it made.
func TestCancelDuringCreateLeavesNoOrphan(t *testing.T) {
	s := startStack(t)
	c := ctx(t)
	s.sim.AddFaults(herokusim.Fault{Route: "addons.create", Mode: "latency", Latency: herokusim.Duration(2 * time.Second), Count: 1})
	go func() { _, _ = s.c.Start(c, fastInput("x1")) }()
	testenv.Eventually(t, 30*time.Second, "the create is in flight", func() bool { return s.sim.Snapshot().Calls["addons.create"] >= 1 })
	require.NoError(t, s.dev.Client.CancelWorkflow(c, onboarding.WorkflowID(testenv.ISV, "x1"), ""))
	testenv.Eventually(t, 60*time.Second, "the run ended", func() bool {
		d, err := s.dev.Client.DescribeWorkflow(c, onboarding.WorkflowID(testenv.ISV, "x1"), "")
		return err == nil && d.RawResponse.WorkflowExecutionInfo.Status != enums.WORKFLOW_EXECUTION_STATUS_RUNNING
	})
	testenv.Eventually(t, 30*time.Second, "nothing left", func() bool { return s.sim.Snapshot().Live == 0 })
	assert.Equal(t, 1, s.sim.Snapshot().AddonsCreated, "the create happened, and was undone")
}

// Issue 10 item 2: an explicit schema another live customer syncs into is refused before
// anything is created.
func TestSchemaOfALiveCustomerIsRefused(t *testing.T) {
	s := startStack(t)
	c := ctx(t)
	first := fastInput("s1")
	first.Schema = "shared"
	_, err := s.c.Start(c, first)
	require.NoError(t, err)
	second := fastInput("s2")
	second.Schema = "shared"
	_, err = s.c.Start(c, second)
	var ended *onboarding.EndedError
	require.ErrorAs(t, err, &ended)
	assert.Equal(t, contract.ErrSchemaTaken, ended.ErrorType)
	assert.Contains(t, ended.Message, onboarding.WorkflowID(testenv.ISV, "s1"))
	assert.Equal(t, 1, s.sim.Snapshot().AddonsCreated, "nothing created for the second customer")
	// Case variants of one customer ID get schemas of their own.
	for _, id := range []string{"cust1", "Cust1"} {
		_, err := s.c.Start(c, fastInput(id))
		require.NoError(t, err, id)
	}
	a, err := s.c.Status(c, testenv.ISV, "cust1")
	require.NoError(t, err)
	b, err := s.c.Status(c, testenv.ISV, "Cust1")
	require.NoError(t, err)
	assert.Equal(t, "awaiting_authorization", string(a.Stage))
	assert.Equal(t, "awaiting_authorization", string(b.Stage))
}

// Issue 10 item 9: an add-on of another ISV, or of another live customer, is refused and
// left unchanged.
func TestEnrollRefusesWhatIsNotOurs(t *testing.T) {
	s := startStack(t)
	c := ctx(t)
	s.sim.CreateIntegration(t, "rival")
	theirs, err := s.sim.Heroku.CreateAddon(context.Background(), testenv.ISVApp, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Config: map[string]string{"isv": "rival"}})
	require.NoError(t, err)
	in := contract.ConnectionInput{ISVSlug: testenv.ISV, CustomerID: "e1", Mode: contract.ModeEnroll, Addon: theirs.ID,
		Salesforce: contract.Salesforce{OrgID: org, Username: user}}
	_, err = s.c.Start(c, in)
	var ended *onboarding.EndedError
	require.ErrorAs(t, err, &ended)
	assert.Equal(t, contract.ErrAddonConflict, ended.ErrorType)
	snap := s.sim.Snapshot()
	assert.Zero(t, snap.Calls["connect.patch"], "nothing configured on another ISV's add-on")
	assert.Equal(t, 1, snap.Live, "and it is not destroyed")

	// Our own add-on, enrolled by one live customer, is refused to a second.
	ours, err := s.sim.Heroku.CreateAddon(context.Background(), testenv.ISVApp, heroku.AddonCreate{Plan: "herokuconnect:enterprise"})
	require.NoError(t, err)
	in.CustomerID, in.Addon = "e2", ours.ID
	_, err = s.c.Start(c, in)
	require.NoError(t, err)
	in.CustomerID = "e3"
	_, err = s.c.Start(c, in)
	require.ErrorAs(t, err, &ended)
	assert.Equal(t, contract.ErrAddonConflict, ended.ErrorType)
	assert.Contains(t, ended.Message, onboarding.WorkflowID(testenv.ISV, "e2"))
	assert.Equal(t, 1, s.sim.Snapshot().Calls["connect.patch"], "only the first customer configured it")
}

// Issue 10 item 12: a start that cannot get an answer says so with a typed error.
func TestStartWithoutAWorkerIsUnavailable(t *testing.T) {
	s := startStack(t)
	s.worker.Kill()
	c, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := s.c.Start(c, fastInput("u1"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, onboarding.ErrUnavailable), "%v", err)
}
