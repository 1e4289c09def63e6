package onboarding_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// The integration's template reaches every customer: each onboarding imports it once and is
// active only when its mappings synced; a changed template is rolled out to every active
// customer (a batch operation), each reporting back, within the Heroku budget (issue 24).
func TestTemplateRolloutReachesEveryActiveCustomer(t *testing.T) {
	const n = 12
	t0 := time.Now()
	// The heroku queue at 10 calls a second: the budget paces every call, rollout included,
	// without making the test wait minutes.
	s := startStackEnv(t, []string{"WORKER_SYNC_CHECK=1s", "HEROKU_CALLS_PER_HOUR=36000"})
	t.Logf("stack up in %s", time.Since(t0))
	c := ctx(t)

	// A bad template names its path; nothing changes.
	bad := devstack.MappingTemplate("")
	bad.Mappings[1].Config.Access = "write_everything"
	_, err := s.c.UpdatePartner(c, testenv.ISV, contract.PartnerChanges{Mappings: bad})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "mappings.mappings[1].config.access")

	first := devstack.MappingTemplate("")
	info, err := s.c.UpdatePartner(c, testenv.ISV, contract.PartnerChanges{Mappings: first})
	require.NoError(t, err)
	assert.Equal(t, first.Digest(), info.MappingsDigest)
	assert.Nil(t, info.Mappings, "the template's body stays in the partner workflow")

	t.Logf("%s at %s", "onboarding", time.Since(t0))
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cust := fmt.Sprintf("r%02d", i)
			res, err := s.c.Start(c, fastInput(cust))
			if !assert.NoError(t, err) {
				return
			}
			signInAsCustomer(t, res.AuthorizationURL, org, user)
		}()
	}
	wg.Wait()
	testenv.Eventually(t, 2*time.Minute, "every customer active with its mappings synced", func() bool {
		for i := range n {
			st, err := s.c.Status(c, testenv.ISV, fmt.Sprintf("r%02d", i))
			if err != nil || st.Stage != contract.StageActive || st.Sync == nil || st.Sync.SyncedAt.IsZero() {
				return false
			}
		}
		return true
	})
	t.Logf("%s at %s", "every customer active and synced", time.Since(t0))
	for id, k := range s.sim.Imports() {
		assert.Equal(t, 1, k, "add-on %s got its template once", id)
	}
	assert.Len(t, s.sim.Imports(), n)

	before := s.sim.Snapshot()
	second := devstack.MappingTemplate("Industry")
	info, err = s.c.UpdatePartner(c, testenv.ISV, contract.PartnerChanges{Mappings: second})
	require.NoError(t, err)
	require.NotNil(t, info.Rollout, "the update answers at once with the rollout it started")
	testenv.Eventually(t, 2*time.Minute, "every customer reported the new template", func() bool {
		info, err = s.c.Partner(c, testenv.ISV, false)
		return err == nil && info.Rollout != nil && info.Rollout.Reported() == n
	})
	testenv.Eventually(t, 30*time.Second, "the rollout's batch ran", func() bool {
		info, err = s.c.Partner(c, testenv.ISV, false)
		return err == nil && info.Rollout.Sent
	})
	assert.EqualValues(t, n, info.Rollout.Targets, "every active customer is a target")
	t.Logf("%s at %s", "every customer reported the new template", time.Since(t0))
	assert.Equal(t, n, info.Rollout.Updated, "failures: %+v", info.Rollout.Failures)
	for i := range n {
		st, err := s.c.Status(c, testenv.ISV, fmt.Sprintf("r%02d", i))
		require.NoError(t, err)
		assert.Equal(t, contract.StageActive, st.Stage)
		assert.Equal(t, second.Digest(), st.Sync.Imported)
		assert.Equal(t, 2, st.Sync.Imports)
	}
	for id, k := range s.sim.Imports() {
		assert.Equal(t, 2, k, "add-on %s got the new template once", id)
	}
	after := s.sim.Snapshot()
	spent := 0
	for route, k := range after.Calls {
		spent += k - before.Calls[route]
	}
	// Per customer: one import and the reads of its sync (at most a few); the rollout itself
	// (the count and the batch signal) is no Heroku call.
	assert.LessOrEqual(t, spent, 4*n, "Heroku calls of the rollout")

	// Health: the integration's summary and one customer's connection read now.
	sum, err := s.c.IntegrationHealth(c, testenv.ISV)
	require.NoError(t, err)
	assert.EqualValues(t, n, sum.Stages[string(contract.StageActive)])
	h, err := s.c.RefreshHealth(c, testenv.ISV, "r00")
	require.NoError(t, err)
	assert.Len(t, h.Mappings, 2)
	assert.Zero(t, h.WriteErrors)
	assert.Zero(t, h.Notifications)
	assert.Empty(t, h.Problem)
}
