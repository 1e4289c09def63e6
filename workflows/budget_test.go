package workflows_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// onboardAndOffboard runs one customer from start to active to offboarded.
func onboardAndOffboard(t *testing.T, h *harness) contract.Status {
	t.Helper()
	start := h.start()
	h.at(5*time.Minute, func() {
		h.customerSignsIn("c1", orgID, username)
		h.returned(start.Attempt)
	})
	h.at(10*time.Minute, func() {
		require.Equal(t, contract.StageActive, h.status().Stage)
		h.update(contract.UpdateOffboard.Name, nil)
	})
	st, err := h.run(input("c1"))
	require.NoError(t, err)
	return st
}

// Under a saturated budget the heroku queue dispatches by priority: the levels must make a
// further-along onboarding go first and put what a waiting person needs before everything.
func TestHerokuCallsCarryBudgetPriorities(t *testing.T) {
	h := newHarness(t, provisioningTakes(3*time.Second))
	onboardAndOffboard(t, h)
	want := map[string]int{
		"CheckIntegration": 4, "CreateAddon": 4, "WaitAddonProvisioned": 3,
		"SetConnectionSchema":     2, // the join and the discovery are the app's coordinator's (TestAccessCallsCarryConfigurePriority)
		"RequestAuthorizationURL": 1, "ReadConnection": 1, "DestroyAddon": 5,
	}
	seen := map[string]bool{}
	for _, s := range h.scheduled {
		level, ok := want[s.Type]
		if !ok {
			continue // not a Heroku call
		}
		seen[s.Type] = true
		assert.Equal(t, level, s.Priority.PriorityKey, "priority of %s", s.Type)
		assert.Equal(t, isv, s.Priority.FairnessKey, "fairness key of %s: the integration", s.Type)
	}
	for typ := range want {
		assert.True(t, seen[typ], "%s was called", typ)
	}
	// Further along means a smaller key, step by step.
	order := []string{"CreateAddon", "WaitAddonProvisioned", "SetConnectionSchema", "RequestAuthorizationURL"}
	for i := 1; i < len(order); i++ {
		assert.Less(t, want[order[i]], want[order[i-1]], "%s goes before %s", order[i], order[i-1])
	}
}

// The partner workflow knows its integration is active: no Heroku read per customer.
func TestActivePartnerSparesTheIntegrationRead(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(act.PartnerStage, mock.Anything, isv).Return(contract.PartnerActive, nil)
	before := h.sim.Snapshot().Calls["partner.info"]
	onboardAndOffboard(t, h)
	assert.Equal(t, before, h.sim.Snapshot().Calls["partner.info"], "no integration read on Heroku")
	assert.NotContains(t, h.started(), "CheckIntegration")
}

// A partner workflow that does not know (none, or not created yet) leaves the check to Heroku.
func TestUnknownPartnerAsksHeroku(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(act.PartnerStage, mock.Anything, isv).Return(contract.PartnerStage(""), nil)
	onboardAndOffboard(t, h)
	assert.Contains(t, h.started(), "CheckIntegration")
}

// A deactivating integration refuses the customer before anything is created.
func TestDeactivatingPartnerRefusesBeforeAnything(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(act.PartnerStage, mock.Anything, isv).Return(func(context.Context, string) (contract.PartnerStage, error) {
		return contract.PartnerDeactivating, temporal.NewNonRetryableApplicationError("partner integration acme is deactivating", contract.ErrIntegrationInactive, nil)
	})
	start := h.start()
	st, err := h.run(input("c1"))
	require.NoError(t, err)
	assert.Equal(t, contract.StageDeactivated, st.Stage, "an outcome of the deactivation, which counts it")
	assert.Equal(t, contract.StageDeactivated, start.Stage, "the start answers it")
	assert.Equal(t, 0, h.sim.Snapshot().AddonsCreated, "nothing created")
}

// An add-on whose create answered "provisioned" is not polled; one still provisioning is
// first polled after a poll interval, so the poll finds it ready.
func TestProvisioningPolls(t *testing.T) {
	t.Run("provisioned at create", func(t *testing.T) {
		h := newHarness(t)
		onboardAndOffboard(t, h)
		assert.NotContains(t, h.started(), "WaitAddonProvisioned")
	})
	t.Run("provisioning for less than the interval", func(t *testing.T) {
		h := newHarness(t, provisioningTakes(time.Second)) // the poll interval is 2 s
		before := h.sim.Snapshot().Calls["addons.info"]
		onboardAndOffboard(t, h)
		assert.Contains(t, h.started(), "WaitAddonProvisioned")
		assert.Equal(t, 1, h.sim.Snapshot().Calls["addons.info"]-before, "one poll finds it provisioned")
	})
}

// With webhooks, a new add-on waits for Heroku's webhook instead of polling: a report about
// another add-on or another state changes nothing; ours ends the wait, and no poll is made.
// Without the webhook in time, it polls.
func TestProvisioningFromWebhook(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deliver  bool
		wantPoll bool
	}{{"the webhook comes", true, false}, {"the webhook never comes", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, provisioningTakes(3*time.Second))
			h.webhookWait = time.Minute
			h.env = h.newEnv()
			h.at(time.Second, func() {
				h.env.SignalWorkflow(contract.SignalAddonState.Name, contract.AddonStateReport{AddonID: "someone-else", State: heroku.AddonProvisioned})
				h.env.SignalWorkflow(contract.SignalAddonState.Name, contract.AddonStateReport{AddonID: h.status().Addon.ID, State: "provisioning"})
			})
			if tc.deliver {
				h.at(5*time.Second, func() {
					h.env.SignalWorkflow(contract.SignalAddonState.Name, contract.AddonStateReport{AddonID: h.status().Addon.ID, State: heroku.AddonProvisioned})
				})
			}
			before := h.sim.Snapshot().Calls["addons.info"]
			st := onboardAndOffboard(t, h)
			assert.Equal(t, contract.StageOffboarded, st.Stage)
			assert.Equal(t, tc.wantPoll, slices.Contains(h.started(), "WaitAddonProvisioned"))
			if !tc.wantPoll {
				assert.Equal(t, before, h.sim.Snapshot().Calls["addons.info"], "provisioning cost no call")
			}
		})
	}
}

// The integration is deactivated between the customer's check and its create: Heroku refuses
// the create, and the partner workflow's stage (no Heroku call) says why: the customer ends
// as deactivated, nothing created.
func TestCreateRefusedByADeactivationEndsDeactivated(t *testing.T) {
	h := newHarness(t)
	asked := 0
	h.env.OnActivity(act.PartnerStage, mock.Anything, isv).Return(func(context.Context, string) (contract.PartnerStage, error) {
		asked++
		if asked == 1 {
			return contract.PartnerActive, nil
		}
		return contract.PartnerDeactivating, temporal.NewNonRetryableApplicationError("partner integration acme is deactivating", contract.ErrIntegrationInactive, nil)
	})
	h.sim.AddFaults(herokusim.Fault{Route: "addons.create", Status: 422})
	h.start()
	st, err := h.run(input("c1"))
	require.NoError(t, err)
	assert.Equal(t, contract.StageDeactivated, st.Stage)
	assert.Equal(t, 2, asked)
	assert.Zero(t, h.live())
}
