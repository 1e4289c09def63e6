package workflows_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Ends of a connection: cancellation, failures, compensation, deactivation, continue-as-new.

func TestCancellationWhileWaitingCompensates(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.at(time.Minute, func() { h.env.CancelWorkflow() })
	st, err := h.run(input("c1"))
	require.Error(t, err)
	assert.True(t, temporal.IsCanceledError(err), "%v", err)
	assert.Equal(t, contract.StageCancelled, st.Stage)
	assert.Equal(t, 0, h.live(), "compensation ran on a disconnected context")
	assert.Equal(t, 1, h.sim.Snapshot().AddonsDestroyed)
}

func TestCancellationWhileActiveCompensates(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.at(time.Minute, func() { h.customerSignsIn("c1", orgID, username); h.returned(1) })
	h.at(2*time.Minute, func() {
		assert.Equal(t, contract.StageActive, h.status().Stage)
		h.env.CancelWorkflow()
	})
	st, err := h.run(input("c1"))
	require.Error(t, err)
	assert.Equal(t, contract.StageCancelled, st.Stage)
	assert.Equal(t, 0, h.live())
}

// Cancellation while the add-on is still provisioning: the created add-on is destroyed.
func TestCancellationWhileProvisioningCompensates(t *testing.T) {
	h := newHarness(t, provisioningTakes(time.Minute))
	polls := 0
	h.env.OnActivity("WaitAddonProvisioned", mock.Anything, mock.Anything).Return(func(ctx context.Context, ref contract.AddonRef) error {
		polls++
		if polls == 1 {
			h.env.CancelWorkflow()
		}
		return temporal.NewApplicationError("still provisioning", contract.ErrNotYet)
	})
	st, err := h.run(input("c1"))
	require.Error(t, err)
	assert.Equal(t, contract.StageCancelled, st.Stage, st.Error)
	assert.Equal(t, 1, h.sim.Snapshot().AddonsCreated)
	assert.Equal(t, 0, h.live())
}

func TestStepFailuresCompensate(t *testing.T) {
	cases := []struct {
		name    string
		fault   herokusim.Fault
		created int // add-ons created (and so destroyed)
	}{
		{"provisioning fails", herokusim.Fault{}, 1},
		{"configure is forbidden", herokusim.Fault{Route: "connect.patch", Status: 403}, 1},
		{"authorization URL is refused", herokusim.Fault{Route: "partner.authorize", Status: 403}, 1},
		{"integration lookup fails", herokusim.Fault{Route: "partner.info", Status: 404}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if tc.fault.Route == "" {
				h.settings(map[string]any{"fail_provisions": map[string]int{isvApp: 1}})
			} else {
				h.sim.AddFaults(tc.fault)
			}
			start := h.start()
			st, err := h.run(input("c1"))
			require.Error(t, err)
			assert.Equal(t, contract.StageFailed, st.Stage)
			assert.NotEmpty(t, st.Error)
			assert.Equal(t, contract.StageFailed, start.Stage, "the start update learns of the failure")
			assert.NotEmpty(t, start.Error)
			assert.NotEmpty(t, start.ErrorType)
			assert.Equal(t, tc.created, h.sim.Snapshot().AddonsCreated)
			assert.Equal(t, 0, h.live(), "nothing left behind")
		})
	}
}

func TestTransientErrorsAreRetried(t *testing.T) {
	h := newHarness(t)
	h.sim.AddFaults(
		herokusim.Fault{Route: "addons.create", Status: 500, Count: 1, AfterEffect: true}, // lost response: created anyway
		herokusim.Fault{Route: "partner.authorize", Status: 503, Count: 2},
		herokusim.Fault{Route: "connect.discover", Status: 429, Count: 1},
	)
	start := h.start()
	h.at(time.Hour, func() { h.update(contract.UpdateOffboard.Name, nil) })
	st, err := h.run(input("c1"))
	require.NoError(t, err)
	assert.NotEmpty(t, start.AuthorizationURL)
	assert.Equal(t, contract.StageOffboarded, st.Stage)
	c := h.sim.Snapshot()
	assert.Equal(t, 1, c.AddonsCreated, "the lost response was adopted, not repeated")
	assert.Equal(t, 0, c.Live)
}

func TestCompensationFailsThenSucceeds(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.at(time.Minute, func() {
		h.sim.AddFaults(herokusim.Fault{Route: "addons.destroy", Status: 500, Count: 3})
		h.update(contract.UpdateOffboard.Name, nil)
	})
	st, err := h.run(input("c1"))
	require.NoError(t, err)
	assert.Equal(t, contract.StageOffboarded, st.Stage)
	assert.Equal(t, 5, h.sim.Snapshot().Calls["addons.destroy"], "three failures, the DELETE that lands, then the one that finds it gone")
	assert.Equal(t, 0, h.live())
}

func TestCompensationThatCannotSucceedIsReported(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.at(time.Minute, func() {
		h.sim.AddFaults(herokusim.Fault{Route: "addons.destroy", Status: 403})
		h.update(contract.UpdateOffboard.Name, nil)
	})
	st, err := h.run(input("c1"))
	require.Error(t, err)
	assert.Equal(t, contract.ErrCompensationFailed, appErrType(err))
	assert.Equal(t, contract.StageFailed, st.Stage)
	assert.Contains(t, st.Error, contract.AddonName(isv, "c1"), "the operator learns which add-on is left")
	assert.Equal(t, contract.ErrCompensationFailed, st.ErrorType)
}

func TestDeactivationInEachStage(t *testing.T) {
	deactivate := func(h *harness) {
		_, err := h.client.Deactivate(h.t.Context(), isv) // Heroku destroys the add-ons
		require.NoError(h.t, err)
		h.env.SignalWorkflow(contract.SignalIntegrationDeactivated.Name, contract.IntegrationDeactivated{Reason: "test"})
	}
	cases := map[string]func(h *harness){
		"awaiting authorization": func(h *harness) { h.at(time.Minute, func() { deactivate(h) }) },
		"active": func(h *harness) {
			h.at(time.Minute, func() { h.customerSignsIn("c1", orgID, username); h.returned(1) })
			h.at(2*time.Minute, func() { deactivate(h) })
		},
		"reauthorizing": func(h *harness) {
			h.at(time.Minute, func() { h.customerSignsIn("c1", orgID, username); h.returned(1) })
			h.at(2*time.Minute, func() { h.watcherReports(heroku.StateUnauthorized) })
			h.at(3*time.Minute, func() {
				assert.Equal(h.t, contract.StageReauthorizing, h.status().Stage)
				deactivate(h)
			})
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.start()
			setup(h)
			st, err := h.run(input("c1"))
			require.NoError(t, err)
			assert.Equal(t, contract.StageDeactivated, st.Stage)
			c := h.sim.Snapshot()
			assert.Equal(t, 1, c.AddonsDestroyed, "destroyed once, by Heroku's deactivation")
			assert.Equal(t, 0, c.Live)
			assert.Equal(t, 1, c.Calls["addons.destroy"]+c.Calls["partner.deactivate"], "the workflow destroys nothing itself")
		})
	}
}

func TestReauthorizationAfterRevocation(t *testing.T) {
	h := newHarness(t)
	h.start()
	var reauth contract.StartResult
	h.at(time.Minute, func() { h.customerSignsIn("c1", orgID, username); h.returned(1) })
	h.at(2*time.Minute, func() { h.watcherReports(heroku.StateUnauthorized) })
	h.at(3*time.Minute, func() {
		st := h.status()
		assert.Equal(t, contract.StageReauthorizing, st.Stage)
		assert.Equal(t, 1, st.Reauthorizations)
		assert.Equal(t, 2, st.URLsIssued, "a new URL for the customer")
		h.customerSignsIn("c1", orgID, username)
		h.returned(2)
	})
	h.at(4*time.Minute, func() {
		assert.Equal(t, contract.StageActive, h.status().Stage)
		h.update(contract.UpdateReauthorize.Name, &reauth) // the ISV asks for it
	})
	h.at(5*time.Minute, func() {
		assert.Equal(t, contract.StageReauthorizing, h.status().Stage)
		assert.Equal(t, 3, reauth.Attempt)
		assert.NotEmpty(t, reauth.AuthorizationURL)
		h.update(contract.UpdateOffboard.Name, nil)
	})
	st, err := h.run(input("c1"))
	require.NoError(t, err)
	assert.Equal(t, 2, st.Reauthorizations)
	assert.Equal(t, 0, h.live())
}

func TestContinueAsNewCarriesState(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.at(time.Minute, func() { h.customerSignsIn("c1", orgID, username); h.returned(1) })
	h.at(2*time.Minute, func() {
		assert.Equal(t, contract.StageActive, h.status().Stage)
		h.env.SetContinueAsNewSuggested(true) // what the server says when the history is long
		h.watcherReports(heroku.StatePollingDBChanges)
	})
	h.env.ExecuteWorkflow(workflows.ConnectionWorkflow, input("c1"))
	err := h.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, err, &can)
	var next contract.ConnectionInput
	require.NoError(t, decodeArg(can, &next))
	require.NotNil(t, next.Carry)
	assert.Equal(t, contract.StageActive, next.Carry.Status.Stage)
	assert.Equal(t, heroku.StatePollingDBChanges, next.Carry.Status.LastState, "the report that woke it was applied first")
	assert.Len(t, next.Carry.Compensations, 1, "the undo stack travels")
	assert.Equal(t, "continued as new", next.Carry.Status.Events[len(next.Carry.Status.Events)-1].What)

	// The continuation picks up where the run left off: still active, and it still cleans up.
	h.env = h.newEnv()
	h.at(time.Minute, func() {
		st := h.status()
		assert.Equal(t, contract.StageActive, st.Stage)
		assert.Equal(t, 1, st.URLsIssued)
		h.update(contract.UpdateOffboard.Name, nil)
	})
	st, err := h.run(next)
	require.NoError(t, err)
	assert.Equal(t, contract.StageOffboarded, st.Stage)
	assert.Equal(t, 1, h.sim.Snapshot().AddonsCreated, "no second add-on after continue-as-new")
	assert.Equal(t, 0, h.live())
}

func TestInvalidInputCreatesNothing(t *testing.T) {
	h := newHarness(t)
	in := input("c1")
	in.Salesforce.OrgID = "001-not-an-org"
	in.Schema = "Bad Schema"
	_, err := h.run(in)
	require.Error(t, err)
	assert.Equal(t, contract.ErrInvalidInput, appErrType(err))
	assert.Contains(t, err.Error(), "salesforce.sf_org_id")
	assert.Contains(t, err.Error(), "schema")
	c := h.sim.Snapshot()
	assert.Zero(t, c.Calls["addons.create"]+c.Calls["partner.info"], "no Heroku call for a bad input")
}

// An ISV-requested re-authorization is not satisfied by the authorization the connection
// already had: only a new sign-in ends it.
func TestRequestedReauthorizationNeedsAFreshSignIn(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.at(time.Minute, func() { h.customerSignsIn("c1", orgID, username); h.returned(1) })
	h.at(2*time.Minute, func() { h.update(contract.UpdateReauthorize.Name, nil) })
	h.at(3*time.Minute, func() {
		h.watcherReports(heroku.StateIdle) // the old authorization still looks healthy
		h.returned(2)
	})
	h.at(4*time.Minute, func() {
		st := h.status()
		assert.Equal(t, contract.StageReauthorizing, st.Stage, "the old authorization does not count")
		assert.Equal(t, 0, st.Mismatches)
		h.customerSignsIn("c1", orgID, username)
		h.returned(2)
	})
	h.at(5*time.Minute, func() {
		assert.Equal(t, contract.StageActive, h.status().Stage)
		h.update(contract.UpdateOffboard.Name, nil)
	})
	st, err := h.run(input("c1"))
	require.NoError(t, err)
	assert.Equal(t, 1, st.Reauthorizations)
}

// Cancellation and deactivation arriving while a step runs: the step's activity triggers
// them, so the moment is exact.
func TestInterruptionsDuringSteps(t *testing.T) {
	cases := []struct {
		name, activity string
		deactivate     bool
		want           contract.Stage
		destroyed      int
	}{
		{"cancel while configuring", "AwaitConnection", false, contract.StageCancelled, 1},
		{"cancel while issuing the URL", "RequestAuthorizationURL", false, contract.StageCancelled, 1},
		{"deactivation while provisioning", "WaitAddonProvisioned", true, contract.StageDeactivated, 1},
		{"deactivation while configuring", "SetConnectionSchema", true, contract.StageDeactivated, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []func(*herokusim.Config)
			if tc.activity == "WaitAddonProvisioned" {
				opts = append(opts, provisioningTakes(time.Minute))
			}
			h := newHarness(t, opts...)
			fired := false
			interrupt := func() {
				if fired {
					return
				}
				fired = true
				if tc.deactivate {
					_, err := h.client.Deactivate(t.Context(), isv)
					require.NoError(t, err)
					h.env.SignalWorkflow(contract.SignalIntegrationDeactivated.Name, contract.IntegrationDeactivated{})
					return
				}
				h.env.CancelWorkflow()
			}
			h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
				if info.ActivityType.Name == tc.activity {
					interrupt()
				}
			})
			st, _ := h.run(input("c1"))
			assert.Equal(t, tc.want, st.Stage)
			c := h.sim.Snapshot()
			assert.Equal(t, tc.destroyed, c.AddonsDestroyed)
			assert.Equal(t, 0, c.Live, "nothing left behind")
		})
	}
}

// A customer waiting for its connection from the app's coordinator ends at once when the
// integration is deactivated or the customer offboarded: it does not wait for the
// coordinator's 30-minute give-up (the add-on the deactivation destroyed never shows).
func TestInterruptionWhileAwaitingTheConnection(t *testing.T) {
	for _, deactivate := range []bool{true, false} {
		t.Run(fmt.Sprintf("deactivate=%v", deactivate), func(t *testing.T) {
			h := newHarness(t)
			h.coordinatorSilent = true
			h.start()
			h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
				if info.ActivityType.Name != "AwaitConnection" {
					return
				}
				if deactivate {
					_, err := h.client.Deactivate(t.Context(), isv)
					require.NoError(t, err)
					h.env.SignalWorkflow(contract.SignalIntegrationDeactivated.Name, contract.IntegrationDeactivated{})
					return
				}
				h.update(contract.UpdateOffboard.Name, nil)
			})
			started := h.env.Now()
			st, _ := h.run(input("c1"))
			want := contract.StageOffboarded
			if deactivate {
				want = contract.StageDeactivated
			}
			assert.Equal(t, want, st.Stage)
			assert.Less(t, h.env.Now().Sub(started), 20*time.Minute, "ended long before the coordinator's give-up")
			assert.Equal(t, 0, h.sim.Snapshot().Live, "nothing left behind")
		})
	}
}

// provisioningTakes makes the simulator's add-ons provision for d, so the create answers
// "provisioning" and the workflow polls.
func provisioningTakes(d time.Duration) func(*herokusim.Config) {
	return func(c *herokusim.Config) { c.ProvisionDelay = d }
}
