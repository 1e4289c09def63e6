package onboarding_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/payloadcrypt"

	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/logo/logotest"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// The deactivation cascade on the dev server: customers waiting, active and mid
// re-authorization; Heroku fails one destroy once (207); afterwards every customer workflow
// ended as deactivated, no add-on is left, and the report says so.
func TestDeactivationCascade(t *testing.T) {
	dev := testenv.StartDevServer(t)
	sim := testenv.StartSim(t, func(c *herokusim.Config) { c.ProvisionDelay = 100 * time.Millisecond })
	testenv.StartWorkerProcess(t, dev.Address, sim.URL)
	c := onboarding.New(dev.Client, "", "")
	c.DeactivateRetryInterval = time.Second
	ctx := ctx(t)

	// Bad input is refused before anything is created.
	bad := contract.PartnerSpec{Slug: "Beta!", Team: testenv.ISVTeam, Name: "Beta", Description: "d", DocsURL: "http://x",
		ContactEmail: "x", Logo: contract.Logo{Filename: "l.png", Data: logotest.JPEG(200, 200)}}
	_, err := c.CreatePartner(ctx, bad)
	var inv *onboarding.InvalidInputError
	require.ErrorAs(t, err, &inv)
	assert.Len(t, inv.Fields, 4, "%v", inv.Fields)
	assert.Zero(t, sim.Snapshot().Calls["partner.create"])

	spec := contract.PartnerSpec{Slug: "beta", Team: testenv.ISVTeam, Name: "Beta Sync", Description: "Syncs Beta",
		DocsURL: "https://beta.example/docs", ContactEmail: "dev@beta.example", Logo: contract.Logo{Filename: "l.svg", Data: logotest.SVG(`width="256" height="256"`)}}
	info, err := c.CreatePartner(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, "active", string(info.Stage))
	again, err := c.CreatePartner(ctx, spec)
	require.NoError(t, err, "creating twice returns the same integration")
	assert.Equal(t, info.Integration.ID, again.Integration.ID)
	assert.Equal(t, 1, sim.Snapshot().Calls["partner.create"])
	// The partner workflow publishes its stage in its memo: starts and customers read it
	// with a describe, not a query.
	dc := payloadcrypt.DataConverter(testenv.PayloadRing())
	testenv.Eventually(t, 10*time.Second, "the partner memo", func() bool {
		m, found, published, err := contract.ReadPartnerMemo(ctx, dev.Client, dc, "beta")
		return err == nil && found && published && m.Stage == contract.PartnerActive && m.Known
	})

	in := func(customer string) contract.ConnectionInput {
		i := fastInput(customer)
		i.ISVSlug = "beta"
		return i
	}
	// c1 waits; c2 is active; c3 is re-authorizing.
	_, err = c.Start(ctx, in("c1"))
	require.NoError(t, err)
	for _, cust := range []string{"c2", "c3"} {
		res, err := c.Start(ctx, in(cust))
		require.NoError(t, err)
		signInAsCustomer(t, res.AuthorizationURL, org, user)
		require.NoError(t, c.CustomerReturned(ctx, "beta", cust, res.Attempt))
		testenv.Eventually(t, 30*time.Second, cust+" active", func() bool {
			st, err := c.Status(ctx, "beta", cust)
			return err == nil && st.Stage == "active"
		})
	}
	_, err = c.Reauthorize(ctx, "beta", "c3")
	require.NoError(t, err)
	// A report of the old, still healthy authorization may pass through verifying; it must
	// settle back in reauthorizing, not in active.
	testenv.Eventually(t, 30*time.Second, "c3 re-authorizing", func() bool {
		st, err := c.Status(ctx, "beta", "c3")
		return err == nil && st.Stage == "reauthorizing"
	})
	// An integration without endpoints starts no event stream: its events would go nowhere.
	_, err = dev.Client.DescribeWorkflow(ctx, contract.EventsWorkflowID("beta", "c2"), "")
	var nf *serviceerror.NotFound
	require.ErrorAs(t, err, &nf, "no event stream without an endpoint")
	// c4 is mid-provisioning (Heroku holds its add-on) when the deactivation comes: it learns
	// of it from Heroku, before the partner workflow's confirmation.
	sim.Post(t, "/_sim/settings", map[string]any{"provision_delay": "1h"})
	startCtx, stopStart := context.WithCancel(ctx)
	defer stopStart()
	go func() { _, _ = c.Start(startCtx, in("c4")) }()
	testenv.Eventually(t, 30*time.Second, "c4 provisioning", func() bool {
		st, err := c.Status(ctx, "beta", "c4")
		return err == nil && st.Stage == contract.StageProvisioning && st.Addon != nil
	})
	sim.Post(t, "/_sim/settings", map[string]any{"provision_delay": "100ms", "deprovision_delay": "10s"})
	testenv.Eventually(t, 30*time.Second, "visibility to see the four customers", func() bool {
		list, err := c.List(ctx, "beta", "")
		return err == nil && len(list) == 4
	})

	sim.Post(t, "/_sim/settings", map[string]any{"fail_deactivation": 1})
	_, err = c.DeactivatePartner(ctx, "beta", testenv.ISVTeam, "bet")
	require.ErrorAs(t, err, &inv, "a wrong confirmation is refused")

	done, err := c.DeactivatePartner(ctx, "beta", testenv.ISVTeam, "beta")
	require.NoError(t, err)
	r := done.Report
	require.NotNil(t, r)
	assert.Equal(t, "inactive", string(done.Stage))
	assert.Equal(t, 2, r.Attempts, "the 207 was called again")
	assert.Equal(t, 4, r.Total)
	assert.Equal(t, 4, r.Destroyed)
	assert.True(t, r.Completed, "report: %+v", r)
	// Counts, not lists: the server's batch operation told them, visibility counted them.
	assert.Empty(t, r.Customers, "nobody ended otherwise")
	assert.NotEmpty(t, r.BatchJobs)
	// c4 may have ended on its own before the cascade counted.
	assert.Contains(t, []int{3, 4}, r.CustomersAtStart)
	assert.Equal(t, r.CustomersAtStart, r.CustomersEnded)
	assert.Equal(t, r.CustomersAtStart, r.CustomersDeactivated)
	for _, cust := range []string{"c1", "c2", "c3", "c4"} {
		st, err := c.Status(ctx, "beta", cust)
		require.NoError(t, err)
		assert.Equal(t, contract.StageDeactivated, st.Stage, "%s", cust)
	}
	snap := sim.Snapshot()
	assert.Equal(t, 0, snap.LivePerISV["beta"], "no add-on left")
	assert.Equal(t, 4, snap.AddonsDestroyed, "each destroyed exactly once")
	assert.Zero(t, snap.Calls["addons.destroy"], "the customer workflows destroyed nothing themselves")
	// Issue 25: the account's add-on list confirmed them gone, once for all three; no
	// customer read its own add-on.
	assert.False(t, r.AddonsGoneAt.IsZero(), "confirmed gone: %+v", r)
	assert.Zero(t, r.AddonsLeft)
	assert.GreaterOrEqual(t, r.ListReads, 1)
	assert.Equal(t, r.ListReads, snap.Calls["addons.list-all"], "the confirmation's reads are the listing's")
	// c4's provisioning poll (at most 6 s apart) finds its add-on deprovisioning (for 10 s):
	// that is the only read of an add-on on its way out; c4 then waited for the
	// confirmation, as the others did, instead of reading its add-on until it was gone.
	assert.LessOrEqual(t, snap.ReadsOfGoing, 1, "no customer read its add-on after learning of the deactivation")
	for _, cust := range []string{"c1", "c2", "c3", "c4"} {
		st, err := c.Status(ctx, "beta", cust)
		require.NoError(t, err)
		assert.Contains(t, st.Compensated, "add-on "+contract.AddonName("beta", cust)+" removed by Heroku", cust)
	}

	// New onboardings are refused and create nothing.
	_, err = c.Start(ctx, in("c4"))
	assert.ErrorIs(t, err, onboarding.ErrIntegrationInactive)
	assert.Equal(t, 4, sim.Snapshot().AddonsCreated)
	info, err = c.Partner(ctx, "beta", false)
	require.NoError(t, err, "info answers after the end")
	assert.Equal(t, "inactive", string(info.Stage))

	// The confirmation customers read is the partner run's own: a run started by someone
	// else with the memo already in it does not count.
	m, _, published, err := contract.ReadPartnerMemo(ctx, dev.Client, dc, "beta")
	require.NoError(t, err)
	assert.True(t, published)
	assert.Equal(t, contract.PartnerInactive, m.Stage, "the memo follows the stage")
	acts := &activities.Activities{Temporal: dev.Client, Payloads: dc}
	gone, err := acts.AddonsGone(ctx, "beta")
	require.NoError(t, err)
	assert.True(t, gone, "the deactivated integration's memo confirms its add-ons gone")
	// (On a queue no worker polls, so the run never writes a memo of its own.)
	forged, err := dev.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: contract.PartnerWorkflowID("forged"), TaskQueue: "nobody-polls",
		Memo: map[string]any{contract.MemoPartner: contract.PartnerMemo{Stage: contract.PartnerInactive, Known: true, AddonsGoneAt: time.Now(), FirstRunID: "a-guess"}}},
		contract.PartnerWorkflowName, contract.PartnerInput{Slug: "forged"})
	require.NoError(t, err)
	defer func() { _ = dev.Client.TerminateWorkflow(ctx, forged.GetID(), "", "test over") }()
	gone, err = acts.AddonsGone(ctx, "forged")
	require.NoError(t, err)
	assert.False(t, gone, "a memo written at start by whoever started the run is not a confirmation")
	_, found, published, err := contract.ReadPartnerMemo(ctx, dev.Client, dc, "forged")
	require.NoError(t, err)
	assert.True(t, found)
	assert.False(t, published, "nor a published memo")
	gone, err = acts.AddonsGone(ctx, "nobody")
	require.NoError(t, err)
	assert.False(t, gone, "no partner workflow, no confirmation")
}
