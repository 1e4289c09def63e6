package workflows_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/metrics"
	"github.com/connect-onboarding/worker/workflows/contract"
)

func appErrType(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Type()
	}
	return ""
}

func TestHappyPathProvisionSignalFirst(t *testing.T) {
	h := newHarness(t)
	start := h.start()
	var off contract.Status
	h.at(time.Minute, func() {
		assert.Equal(t, contract.StageAwaitingAuthorization, h.status().Stage)
		h.customerSignsIn("c1", orgID, username)
		h.returned(start.Attempt)
	})
	h.at(2*time.Minute, func() {
		st := h.status()
		assert.Equal(t, contract.StageActive, st.Stage)
		assert.Equal(t, heroku.StateIdle, st.LastState)
		assert.Equal(t, 1, st.Verifications, "one detail read verifies")
		h.update(contract.UpdateOffboard.Name, &off)
	})
	st, err := h.run(input("c1"))
	require.NoError(t, err)

	assert.Contains(t, start.AuthorizationURL, h.srv.URL+"/authorize/")
	assert.Equal(t, 1, start.Attempt)
	assert.Equal(t, contract.StageAwaitingAuthorization, start.Stage)
	assert.Equal(t, contract.StageOffboarded, st.Stage)
	assert.Equal(t, contract.StageOffboarded, off.Stage, "the offboard update returns the final status")
	require.NotNil(t, st.Addon)
	assert.True(t, st.Addon.Created)
	assert.Equal(t, contract.AddonName(isv, "c1"), st.Addon.Name)
	assert.Equal(t, []string{"destroyed add-on " + st.Addon.Name}, st.Compensated)
	assert.Equal(t, "watch/acme-app", st.WatcherID, "registered with the app's one watcher")

	c := h.sim.Snapshot()
	assert.Equal(t, 1, c.AddonsCreated)
	assert.Equal(t, 1, c.AddonsDestroyed)
	assert.Equal(t, 0, c.Live, "nothing left behind")
}

func TestHappyPathPollFirst(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.at(time.Minute, func() {
		h.customerSignsIn("c1", orgID, username)
		h.watcherReports(heroku.StateIdle) // no return signal: only the watcher saw it
	})
	h.at(2*time.Minute, func() {
		assert.Equal(t, contract.StageActive, h.status().Stage)
		h.update(contract.UpdateOffboard.Name, nil)
	})
	st, err := h.run(input("c1"))
	require.NoError(t, err)
	assert.Equal(t, contract.StageOffboarded, st.Stage)
}

func TestEnrollNeverDestroysWhatItDidNotCreate(t *testing.T) {
	h := newHarness(t)
	existing, err := h.client.CreateAddon(t.Context(), isvApp, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: "customer-own-connect"})
	require.NoError(t, err)
	in := input("c2")
	in.Mode, in.App, in.Addon = contract.ModeEnroll, "", existing.Name
	start := h.start()
	h.at(time.Minute, func() {
		h.signInOn(existing.Name, orgID, username)
		h.returned(1)
	})
	h.at(2*time.Minute, func() {
		assert.Equal(t, contract.StageActive, h.status().Stage)
		h.update(contract.UpdateOffboard.Name, nil)
	})
	st, err := h.run(in)
	require.NoError(t, err)
	assert.NotEmpty(t, start.AuthorizationURL)
	assert.Equal(t, contract.StageOffboarded, st.Stage)
	assert.False(t, st.Addon.Created)
	assert.Empty(t, st.Compensated)
	assert.Equal(t, 1, h.live(), "an enrolled add-on is the customer's: it stays")
	assert.Equal(t, 0, h.sim.Snapshot().AddonsDestroyed)
}

func TestDuplicateAndLateSignals(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.at(time.Minute, func() {
		h.returned(1) // the customer came back without authorizing
		h.returned(1)
	})
	h.at(2*time.Minute, func() {
		st := h.status()
		assert.Equal(t, contract.StageAwaitingAuthorization, st.Stage, "returns without authorization change nothing")
		assert.LessOrEqual(t, st.Verifications, 2)
		h.customerSignsIn("c1", orgID, username)
		h.returned(1)
		h.watcherReports(heroku.StateIdle)
	})
	h.at(3*time.Minute, func() {
		st := h.status()
		assert.Equal(t, contract.StageActive, st.Stage)
		verifications := st.Verifications
		h.returned(1) // late
		h.watcherReports(heroku.StateIdle)
		h.at(time.Minute, func() {
			assert.Equal(t, verifications, h.status().Verifications, "late signals cause no Heroku call")
			assert.Equal(t, contract.StageActive, h.status().Stage)
			h.update(contract.UpdateOffboard.Name, nil)
		})
	})
	st, err := h.run(input("c1"))
	require.NoError(t, err)
	assert.Equal(t, contract.StageOffboarded, st.Stage)
	assert.Equal(t, 1, h.sim.Snapshot().AddonsCreated)
}

func TestURLRefreshedBeforeExpiryAndOnRequest(t *testing.T) {
	h := newHarness(t, func(c *herokusim.Config) { c.AuthURLTTL = 3 * time.Hour })
	in := input("c1")
	in.Options.URLRefreshMargin = time.Hour
	start := h.start()
	var reissued contract.StartResult
	h.at(30*time.Minute, func() {
		assert.Equal(t, 1, h.status().URLsIssued)
		h.update(contract.UpdateReissueURL.Name, &reissued)
	})
	h.at(time.Hour, func() {
		assert.Equal(t, 2, reissued.Attempt)
		assert.NotEqual(t, start.AuthorizationURL, reissued.AuthorizationURL)
	})
	h.at(3*time.Hour, func() {
		st := h.status()
		assert.GreaterOrEqual(t, st.URLsIssued, 3, "refreshed an hour before it expired")
		assert.True(t, st.URLExpiresAt.After(h.env.Now()))
		h.update(contract.UpdateOffboard.Name, nil)
	})
	st, err := h.run(in)
	require.NoError(t, err)
	assert.Equal(t, contract.StageOffboarded, st.Stage)
}

func TestReissueRejectedWhenActive(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.at(time.Minute, func() { h.customerSignsIn("c1", orgID, username); h.returned(1) })
	var rejected *error
	h.at(2*time.Minute, func() { rejected = h.update(contract.UpdateReissueURL.Name, nil) })
	h.at(3*time.Minute, func() { h.update(contract.UpdateOffboard.Name, nil) })
	_, err := h.run(input("c1"))
	require.NoError(t, err)
	require.NotNil(t, *rejected)
	assert.Contains(t, (*rejected).Error(), "only be issued while waiting")
}

func TestIdentityMismatchReissuesThenSucceeds(t *testing.T) {
	h := newHarness(t, func(c *herokusim.Config) { c.Lenient = true })
	h.start()
	h.at(time.Minute, func() {
		h.customerSignsIn("c1", orgID, "someone.else@customer.example")
		h.returned(1)
	})
	h.at(2*time.Minute, func() {
		st := h.status()
		assert.Equal(t, contract.StageAwaitingAuthorization, st.Stage, "a mismatch is never success")
		assert.Equal(t, 1, st.Mismatches)
		assert.Contains(t, st.LastProblem, "someone.else@customer.example")
		assert.Equal(t, 2, st.URLsIssued, "a fresh URL for the right user")
		h.customerSignsIn("c1", orgID+"EAA", "INTEGRATION@customer.example") // 18-char org, other case: same identity
		h.returned(2)
	})
	h.at(3*time.Minute, func() {
		assert.Equal(t, contract.StageActive, h.status().Stage)
		h.update(contract.UpdateOffboard.Name, nil)
	})
	st, err := h.run(input("c1"))
	require.NoError(t, err)
	assert.Equal(t, contract.StageOffboarded, st.Stage)
	assert.Empty(t, st.LastProblem)
}

func TestTooManyMismatchesFailsAndCompensates(t *testing.T) {
	h := newHarness(t, func(c *herokusim.Config) { c.Lenient = true })
	in := input("c1")
	in.Options.MaxMismatches = 2
	h.start()
	h.at(time.Minute, func() { h.customerSignsIn("c1", "00D000000000099", username); h.returned(1) })
	h.at(2*time.Minute, func() { h.customerSignsIn("c1", "00D000000000099", username); h.returned(2) })
	st, err := h.run(in)
	require.Error(t, err)
	assert.Equal(t, contract.ErrIdentityMismatch, appErrType(err))
	assert.Equal(t, contract.StageFailed, st.Stage)
	assert.Equal(t, 2, st.Mismatches)
	assert.Equal(t, 0, h.live(), "the add-on is destroyed")
}

func TestAuthorizationTimeoutCompensates(t *testing.T) {
	h := newHarness(t)
	in := input("c1")
	in.Options.AuthorizationTimeout = 2 * time.Hour
	h.start()
	st, err := h.run(in)
	require.Error(t, err)
	assert.Equal(t, contract.ErrAuthorizationTimeout, appErrType(err))
	assert.Equal(t, contract.StageFailed, st.Stage)
	assert.Len(t, st.Compensated, 1)
	assert.Equal(t, 0, h.live())
}

// Add-on names are global on Heroku. When the customer's deterministic name is held by an
// add-on on another app, the create is refused (by error id), the lookup finds it elsewhere,
// and the onboarding fails as a conflict without touching that add-on.
func TestNameHeldOnAnotherAppIsAConflict(t *testing.T) {
	h := newHarness(t, func(c *herokusim.Config) { c.Apps["someone-elses-app"] = "other-team" })
	_, err := h.client.CreateAddon(t.Context(), "someone-elses-app", heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: contract.AddonName(isv, "c9")})
	require.NoError(t, err)
	st, err := h.run(input("c9"))
	require.Error(t, err)
	assert.Equal(t, contract.StageFailed, st.Stage)
	assert.Equal(t, contract.ErrAddonConflict, st.ErrorType)
	assert.Contains(t, st.Error, "someone-elses-app")
	assert.Equal(t, 1, h.live(), "the other app's add-on is left alone")
	assert.Equal(t, 0, h.sim.Snapshot().AddonsDestroyed)
}

// An enroll whose answer was lost is repeated; Heroku answers "already ours" with the
// enrollment, not a conflict, and the onboarding goes on.
func TestLostEnrollAnswerIsNotAConflict(t *testing.T) {
	h := newHarness(t)
	existing, err := h.client.CreateAddon(t.Context(), isvApp, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Name: "customer-lost-enroll"})
	require.NoError(t, err)
	h.sim.AddFaults(herokusim.Fault{Route: "partner.enroll", Status: 500, Count: 1, AfterEffect: true})
	in := input("c7")
	in.Mode, in.App, in.Addon = contract.ModeEnroll, "", existing.Name
	h.start()
	h.at(time.Minute, func() {
		assert.Equal(t, contract.StageAwaitingAuthorization, h.status().Stage, "enrolled despite the lost answer")
		h.update(contract.UpdateOffboard.Name, nil)
	})
	st, err := h.run(in)
	require.NoError(t, err)
	assert.Equal(t, contract.StageOffboarded, st.Stage)
	assert.Equal(t, 2, h.sim.Snapshot().Calls["partner.enroll"], "the lost call and its repeat")
}

// The watcher's late report of a wrong authorization the customer's return already had
// verified is not a second mismatch: one wrong sign-in, one mismatch, one new URL (1.2.0).
func TestLateReportOfAMismatchCountsOnce(t *testing.T) {
	h := newHarness(t, func(c *herokusim.Config) { c.Lenient = true })
	h.start()
	h.at(time.Minute, func() {
		h.customerSignsIn("c1", orgID, "someone.else@customer.example")
		h.returned(1)
	})
	h.at(2*time.Minute, func() {
		require.Equal(t, 1, h.status().Mismatches)
		h.watcherReports("IDLE") // the same authorization, seen by the watcher's next read
	})
	h.at(3*time.Minute, func() {
		st := h.status()
		assert.Equal(t, 1, st.Mismatches, "the same wrong authorization is one mismatch")
		assert.Equal(t, 2, st.URLsIssued, "and one new URL")
		assert.Equal(t, contract.StageAwaitingAuthorization, st.Stage)
		h.customerSignsIn("c1", orgID, username)
		h.returned(2)
	})
	h.at(4*time.Minute, func() {
		assert.Equal(t, contract.StageActive, h.status().Stage)
		h.update(contract.UpdateOffboard.Name, nil)
	})
	st, err := h.run(input("c1"))
	require.NoError(t, err)
	assert.Equal(t, 1, st.Mismatches)
}

// A cleanup that gives up on an add-on is loud: besides the log's ORPHANED ADD-ON, the
// worker counts it (connect_orphaned_addons_total, alert OrphanedAddon).
func TestOrphanedAddonIsCounted(t *testing.T) {
	h := newHarness(t)
	h.start()
	var off contract.Status
	h.at(time.Minute, func() {
		assert.Equal(t, contract.StageAwaitingAuthorization, h.status().Stage)
		h.sim.AddFaults(herokusim.Fault{Route: "addons.destroy", Status: 403}) // final: never retried
		h.update(contract.UpdateOffboard.Name, &off)
	})
	st, _ := h.run(input("c1"))
	assert.NotEmpty(t, st.Addon)
	assert.Empty(t, st.Compensated, "the add-on was not destroyed")
	assert.Equal(t, int64(1), h.metrics.Count(metrics.OrphanedAddons, "isv", isv))
}
