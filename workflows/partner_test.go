package workflows_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/logo"
	"github.com/connect-onboarding/worker/internal/logo/logotest"
	"github.com/connect-onboarding/worker/workflows"
	"github.com/connect-onboarding/worker/workflows/contract"
)

func spec(slug string) contract.PartnerSpec {
	return contract.PartnerSpec{Slug: slug, Team: isvTeam, Name: "Beta Sync", Description: "Syncs Beta with Salesforce",
		DocsURL: "https://beta.example/docs", ContactEmail: "dev@beta.example", Logo: contract.Logo{Filename: "logo.png", Data: logotest.PNG(300, 300)}}
}

func TestPartnerSpecValidation(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*contract.PartnerSpec)
		field string
		rule  string
	}{
		{"valid png", func(*contract.PartnerSpec) {}, "", ""},
		{"valid jpg", func(s *contract.PartnerSpec) {
			s.Logo = contract.Logo{Filename: "l.jpg", Data: logotest.JPEG(100, 100)}
		}, "", ""},
		{"valid jpeg", func(s *contract.PartnerSpec) {
			s.Logo = contract.Logo{Filename: "l.jpeg", Data: logotest.JPEG(1000, 1000)}
		}, "", ""},
		{"valid svg", func(s *contract.PartnerSpec) {
			s.Logo = contract.Logo{Filename: "l.svg", Data: logotest.SVG(`viewBox="0 0 400 200"`)}
		}, "", ""},
		{"valid webp", func(s *contract.PartnerSpec) {
			s.Logo = contract.Logo{Filename: "l.webp", Data: logotest.WebP(640, 480)}
		}, "", ""},
		{"bad slug", func(s *contract.PartnerSpec) { s.Slug = "Beta_Sync" }, "slug", "lower-case"},
		{"slug too short", func(s *contract.PartnerSpec) { s.Slug = "ab" }, "slug", "3-30"},
		{"slug double dash", func(s *contract.PartnerSpec) { s.Slug = "be--ta" }, "slug", "single dashes"},
		{"no team", func(s *contract.PartnerSpec) { s.Team = " " }, "team", "required"},
		{"no name", func(s *contract.PartnerSpec) { s.Name = "" }, "name", "required"},
		{"description 501", func(s *contract.PartnerSpec) { s.Description = strings.Repeat("é", 501) }, "description", "at most 500"},
		{"description 500 ok", func(s *contract.PartnerSpec) { s.Description = strings.Repeat("é", 500) }, "", ""},
		{"http docs", func(s *contract.PartnerSpec) { s.DocsURL = "http://beta.example" }, "docs_url", "https"},
		{"bad email", func(s *contract.PartnerSpec) { s.ContactEmail = "beta at example" }, "contact_email", "email"},
		{"no logo", func(s *contract.PartnerSpec) { s.Logo = contract.Logo{} }, "logo", "required"},
		{"logo too small", func(s *contract.PartnerSpec) { s.Logo.Data = logotest.PNG(99, 400) }, "logo", "between 100 and 1000"},
		{"logo too large", func(s *contract.PartnerSpec) { s.Logo.Data = logotest.PNG(400, 1001) }, "logo", "between 100 and 1000"},
		{"svg too large", func(s *contract.PartnerSpec) {
			s.Logo = contract.Logo{Filename: "l.svg", Data: logotest.SVG(`width="2000" height="100"`)}
		}, "logo", "between 100 and 1000"},
		{"logo too heavy", func(s *contract.PartnerSpec) {
			s.Logo.Data = append(logotest.PNG(200, 200), bytes.Repeat([]byte{0}, 5<<20)...)
		}, "logo", "5 MB"},
		{"logo over the transport limit", func(s *contract.PartnerSpec) {
			s.Logo.Data = append(logotest.PNG(200, 200), bytes.Repeat([]byte{0}, contract.MaxLogoTransportBytes)...)
		}, "logo", "payload limit"},
		{"jpeg named png", func(s *contract.PartnerSpec) {
			s.Logo = contract.Logo{Filename: "l.png", Data: logotest.JPEG(200, 200)}
		}, "logo", "holds a jpeg"},
		{"png named svg", func(s *contract.PartnerSpec) {
			s.Logo = contract.Logo{Filename: "l.svg", Data: logotest.PNG(200, 200)}
		}, "logo", "holds a png"},
		{"gif", func(s *contract.PartnerSpec) { s.Logo = contract.Logo{Filename: "l.gif", Data: []byte("GIF89a")} }, "logo", ".jpeg, .jpg"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := spec("beta")
			tc.edit(&s)
			err := s.Validate(logo.Valid)
			if tc.field == "" {
				assert.NoError(t, err)
				return
			}
			var ve *contract.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.Fields, 1, "%v", ve.Fields)
			assert.Equal(t, tc.field, ve.Fields[0].Field)
			assert.Contains(t, ve.Fields[0].Rule, tc.rule)
		})
	}
}

func TestPartnerChangesValidation(t *testing.T) {
	assert.ErrorContains(t, contract.PartnerChanges{}.Validate(logo.Valid), "at least one")
	long := strings.Repeat("x", 501)
	assert.ErrorContains(t, contract.PartnerChanges{Description: &long}.Validate(logo.Valid), "description")
	ok := "fine"
	assert.NoError(t, contract.PartnerChanges{Description: &ok}.Validate(logo.Valid))
}

// The partner workflow in the test environment, against herokusim.
func TestPartnerLifecycleAndDeactivation(t *testing.T) {
	h := newHarness(t)
	env := h.env
	// Two customers were running; both end as deactivated.
	env.OnActivity(act.SignalRunningCustomers, mock.Anything, mock.Anything).Return(activities.BatchResult{JobID: "job", Total: 2, Signaled: 2}, nil)
	env.OnActivity(act.CountCustomers, mock.Anything, mock.Anything).Return(activities.CustomerCounts{Ended: 2, Deactivated: 2}, nil)

	var created, updated, refreshed, deactivated contract.PartnerInfo
	var rejectedConfirm, rejectedNoTeam, rejectedAfter *error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(contract.UpdatePartnerCreate.Name, "create", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("create rejected: %v", err) }, OnComplete: func(v any, err error) { require.NoError(t, err); decodeInto(t, v, &created) },
		}, spec("beta"))
	}, 0)
	env.RegisterDelayedCallback(func() {
		desc := "New words"
		env.UpdateWorkflow(contract.UpdatePartnerUpdate.Name, "update", &testsuite.TestUpdateCallback{
			OnComplete: func(v any, err error) { require.NoError(t, err); decodeInto(t, v, &updated) },
		}, contract.PartnerChanges{Description: &desc})
		env.UpdateWorkflow(contract.UpdatePartnerRefresh.Name, "refresh", &testsuite.TestUpdateCallback{
			OnComplete: func(v any, err error) { require.NoError(t, err); decodeInto(t, v, &refreshed) },
		})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		// Heroku's first deactivate fails on one add-on (207).
		h.createAddonFor(t, "beta")
		h.createAddonFor(t, "beta")
		h.settings(map[string]any{"fail_deactivation": 1})
		env.UpdateWorkflow(contract.UpdatePartnerDeactivate.Name, "bad-confirm", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { rejectedConfirm = &err }, OnComplete: func(any, error) { t.Error("accepted a wrong confirmation") },
		}, contract.Deactivate{Confirm: "bet", Team: isvTeam})
		// The slug is public: without the team a deactivation is refused, naming team.
		env.UpdateWorkflow(contract.UpdatePartnerDeactivate.Name, "no-team", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { rejectedNoTeam = &err }, OnComplete: func(any, error) { t.Error("accepted a deactivation without the team") },
		}, contract.Deactivate{Confirm: "beta"})
		env.UpdateWorkflow(contract.UpdatePartnerDeactivate.Name, "deactivate", &testsuite.TestUpdateCallback{
			OnComplete: func(v any, err error) { require.NoError(t, err); decodeInto(t, v, &deactivated) },
		}, contract.Deactivate{Confirm: "beta", Team: isvTeam})
	}, 2*time.Minute)
	env.RegisterDelayedCallback(func() {
		desc := "too late"
		env.UpdateWorkflow(contract.UpdatePartnerUpdate.Name, "late", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { rejectedAfter = &err }, OnComplete: func(any, error) {},
		}, contract.PartnerChanges{Description: &desc})
	}, 2*time.Minute+time.Second)

	env.ExecuteWorkflow(workflows.PartnerWorkflow, contract.PartnerInput{Slug: "beta", DeactivateRetryInterval: time.Second})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	require.NotNil(t, created.Integration)
	assert.Equal(t, contract.PartnerActive, created.Stage)
	assert.Equal(t, "beta", created.Integration.Slug)
	assert.Equal(t, "New words", updated.Integration.Description)
	assert.Equal(t, "New words", refreshed.Integration.Description)
	require.NotNil(t, rejectedConfirm)
	assert.Contains(t, (*rejectedConfirm).Error(), "confirm")
	require.NotNil(t, rejectedNoTeam)
	assert.Contains(t, (*rejectedNoTeam).Error(), "team: is required")
	require.NotNil(t, rejectedAfter, "changes are refused once deactivation began")
	assert.Contains(t, (*rejectedAfter).Error(), "deactivat")

	assert.Equal(t, contract.PartnerInactive, deactivated.Stage)
	r := deactivated.Report
	require.NotNil(t, r)
	assert.Equal(t, 2, r.Attempts, "the 207 was retried")
	assert.Equal(t, 2, r.Total)
	assert.Equal(t, 2, r.Destroyed)
	assert.Empty(t, r.Failed)
	assert.Empty(t, r.Customers, "nobody ended otherwise")
	assert.Equal(t, 2, r.CustomersAtStart)
	assert.Equal(t, 2, r.CustomersEnded)
	assert.Equal(t, 2, r.CustomersDeactivated)
	assert.Equal(t, []string{"job"}, r.BatchJobs)
	assert.True(t, r.Completed)
	assert.Equal(t, 0, h.sim.Snapshot().LivePerISV["beta"])
	in, err := h.client.IntegrationInfo(t.Context(), "beta")
	require.NoError(t, err)
	assert.Equal(t, heroku.IntegrationInactive, in.Status)
}

// createAddonFor provisions an ISV add-on directly on the simulator.
func (h *harness) createAddonFor(t *testing.T, slug string) {
	_, err := h.client.CreateAddon(t.Context(), isvApp, heroku.AddonCreate{Plan: "herokuconnect:enterprise", Config: map[string]string{"isv": slug}})
	require.NoError(t, err)
}

// Heroku's deactivate fails (5xx for the whole step): nobody is told, nothing is destroyed
// by the customers, the integration stays active and takes new customers, and a second
// request finishes the job.
func TestFailedDeactivationIsRetryableAndTellsNobody(t *testing.T) {
	h := newHarness(t)
	env := h.env
	found := 0
	env.OnActivity(act.SignalRunningCustomers, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BatchSignalInput) (activities.BatchResult, error) {
		found++
		return activities.BatchResult{JobID: in.JobID}, nil
	})
	noCustomers(env)
	var first, second contract.PartnerInfo
	var firstErr, secondErr error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(contract.UpdatePartnerCreate.Name, "create", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("create rejected: %v", err) }, OnComplete: func(v any, err error) { require.NoError(t, err) },
		}, spec("beta"))
	}, 0)
	env.RegisterDelayedCallback(func() {
		h.createAddonFor(t, "beta")
		h.sim.AddFaults(herokusim.Fault{Route: "partner.deactivate", Status: 500})
		env.UpdateWorkflow(contract.UpdatePartnerDeactivate.Name, "deactivate-1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("rejected: %v", err) }, OnComplete: func(v any, err error) { firstErr = err; decodeInto(t, v, &first) },
		}, contract.Deactivate{Confirm: "beta", Team: isvTeam})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		h.sim.ClearFaults()
		env.UpdateWorkflow(contract.UpdatePartnerDeactivate.Name, "deactivate-2", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("the retry was rejected: %v", err) }, OnComplete: func(v any, err error) { secondErr = err; decodeInto(t, v, &second) },
		}, contract.Deactivate{Confirm: "beta", Team: isvTeam})
	}, 2*time.Hour)
	env.ExecuteWorkflow(workflows.PartnerWorkflow, contract.PartnerInput{Slug: "beta", DeactivateRetryInterval: time.Second})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	require.Error(t, firstErr)
	assert.Equal(t, contract.ErrDeactivationFailed, appErrType(firstErr))
	assert.Equal(t, 1, found, "customers were looked up once: after Heroku deactivated, not after it failed")
	require.NoError(t, secondErr)
	assert.Equal(t, contract.PartnerInactive, second.Stage)
	assert.True(t, second.Report.Completed)
	assert.Equal(t, 0, h.sim.Snapshot().LivePerISV["beta"])
}

// The create's answer is lost although Heroku made the integration: the retry finds the slug
// taken, reads it back (a request of its own, within the budget) and adopts it.
func TestPartnerCreateAdoptsALostCreate(t *testing.T) {
	h := newHarness(t)
	env := h.env
	before := h.sim.Snapshot().Calls["partner.create"]
	h.sim.AddFaults(herokusim.Fault{Route: "partner.create", AfterEffect: true, Status: 500, Count: 1})
	var created contract.PartnerInfo
	var createErr error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(contract.UpdatePartnerCreate.Name, "create", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("create rejected: %v", err) }, OnComplete: func(v any, err error) { createErr = err; decodeInto(t, v, &created) },
		}, spec("beta"))
	}, 0)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(contract.UpdatePartnerDeactivate.Name, "deactivate", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("rejected: %v", err) }, OnComplete: func(any, error) {},
		}, contract.Deactivate{Confirm: "beta", Team: isvTeam})
	}, time.Hour)
	noCustomers(env)
	env.OnActivity(act.SignalRunningCustomers, mock.Anything, mock.Anything).Return(activities.BatchResult{}, nil)
	env.ExecuteWorkflow(workflows.PartnerWorkflow, contract.PartnerInput{Slug: "beta"})
	require.NoError(t, env.GetWorkflowError())
	require.NoError(t, createErr)
	require.NotNil(t, created.Integration)
	assert.Equal(t, "beta", created.Integration.Slug)
	assert.Equal(t, before+2, h.sim.Snapshot().Calls["partner.create"], "the lost create and its retry")
}

// Heroku answers a deactivation 202 and destroys the add-ons later. The cascade does not wait
// for them, nor destroy them itself: it completes on Heroku's acceptance, and Heroku's own
// destruction follows.
func TestDeactivationCompletesWhileHerokuStillDestroys(t *testing.T) {
	h := newHarness(t, func(c *herokusim.Config) { c.DeactivationDelay = 24 * time.Hour })
	env := h.env
	noCustomers(env)
	env.OnActivity(act.SignalRunningCustomers, mock.Anything, mock.Anything).Return(activities.BatchResult{}, nil)
	var deactivated contract.PartnerInfo
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(contract.UpdatePartnerCreate.Name, "create", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("create rejected: %v", err) }, OnComplete: func(any, error) {},
		}, spec("beta"))
	}, 0)
	env.RegisterDelayedCallback(func() {
		h.createAddonFor(t, "beta")
		h.createAddonFor(t, "beta")
		env.UpdateWorkflow(contract.UpdatePartnerDeactivate.Name, "deactivate", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { t.Errorf("deactivate rejected: %v", err) },
			OnComplete: func(v any, err error) { require.NoError(t, err); decodeInto(t, v, &deactivated) },
		}, contract.Deactivate{Confirm: "beta", Team: isvTeam})
	}, time.Minute)
	env.ExecuteWorkflow(workflows.PartnerWorkflow, contract.PartnerInput{Slug: "beta", DeactivateRetryInterval: time.Second})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.NotNil(t, deactivated.Report)
	assert.Equal(t, contract.PartnerInactive, deactivated.Stage)
	assert.True(t, deactivated.Report.Completed, "%+v", deactivated.Report)
	assert.Equal(t, 2, deactivated.Report.Destroyed, "Heroku accepted both")
	snap := h.sim.Snapshot()
	assert.Equal(t, 2, snap.LivePerISV["beta"], "Heroku has not got to them yet")
	assert.Zero(t, snap.Calls["addons.destroy"], "the cascade leaves the destruction to Heroku")
}

// noCustomers answers the cascade's counts for an integration without customers.
func noCustomers(env *testsuite.TestWorkflowEnvironment) {
	env.OnActivity(act.CountCustomers, mock.Anything, mock.Anything).Return(activities.CustomerCounts{}, nil)
}

// deactivate runs a partner workflow to an active integration with one add-on, deactivates
// it, and returns the report.
func deactivateBeta(t *testing.T, h *harness) *contract.DeactivationReport {
	var deactivated contract.PartnerInfo
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(contract.UpdatePartnerCreate.Name, "create", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("create rejected: %v", err) }, OnComplete: func(any, error) {},
		}, spec("beta"))
	}, 0)
	h.env.RegisterDelayedCallback(func() {
		h.createAddonFor(t, "beta")
		h.env.UpdateWorkflow(contract.UpdatePartnerDeactivate.Name, "deactivate", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("deactivate rejected: %v", err) }, OnComplete: func(v any, err error) { decodeInto(t, v, &deactivated) },
		}, contract.Deactivate{Confirm: "beta", Team: isvTeam})
	}, time.Minute)
	h.env.ExecuteWorkflow(workflows.PartnerWorkflow, contract.PartnerInput{Slug: "beta", DeactivateRetryInterval: time.Second})
	require.True(t, h.env.IsWorkflowCompleted())
	require.NotNil(t, deactivated.Report)
	return deactivated.Report
}

// A round that misses customers (they continued as new between the server's listing and its
// signal) is followed by another, each its own batch job, until one reaches everyone.
func TestCascadeSignalsInRoundsUntilEveryoneIsTold(t *testing.T) {
	h := newHarness(t)
	var jobs []string
	h.env.OnActivity(act.SignalRunningCustomers, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BatchSignalInput) (activities.BatchResult, error) {
		jobs = append(jobs, in.JobID)
		if len(jobs) < 3 {
			return activities.BatchResult{JobID: in.JobID, Total: 5000, Signaled: 4990, Failed: 10}, nil
		}
		return activities.BatchResult{JobID: in.JobID, Total: 10, Signaled: 10}, nil
	})
	h.env.OnActivity(act.CountCustomers, mock.Anything, mock.Anything).Return(activities.CustomerCounts{Ended: 5000, Deactivated: 5000}, nil)
	r := deactivateBeta(t, h)
	require.Len(t, jobs, 3)
	assert.Equal(t, jobs, r.BatchJobs)
	assert.NotEqual(t, jobs[0], jobs[1], "each round is its own job")
	assert.Equal(t, 5000, r.CustomersAtStart)
	assert.Equal(t, 5000, r.CustomersDeactivated)
	assert.True(t, r.Completed)
}

// A customer that ended otherwise (offboarded meanwhile) leaves the deactivation incomplete,
// named in the report's sample; a cascade that never reaches everyone is incomplete too.
func TestCascadeReportsWhatDidNotEndDeactivated(t *testing.T) {
	t.Run("a customer ended otherwise", func(t *testing.T) {
		h := newHarness(t)
		h.env.OnActivity(act.SignalRunningCustomers, mock.Anything, mock.Anything).Return(activities.BatchResult{Total: 3, Signaled: 3}, nil)
		h.env.OnActivity(act.CountCustomers, mock.Anything, mock.Anything).Return(activities.CustomerCounts{Ended: 3, Deactivated: 2,
			Others: []contract.CustomerOutcome{{WorkflowID: "connection/beta/c9", CustomerID: "c9", Outcome: "offboarded"}}}, nil)
		r := deactivateBeta(t, h)
		assert.False(t, r.Completed)
		require.Len(t, r.Customers, 1)
		assert.Equal(t, "offboarded", r.Customers[0].Outcome)
	})
}

// A cascade that stops with customers still running (never everyone told, the batch
// operation failing) does not end the run with those customers on destroyed add-ons (issue
// 22 item 5): it says what is left, runs again every cascadeRetryInterval, and a second
// partner.deactivate resumes it at once; once everyone is told and ended, the run completes.
func TestUnfinishedCascadeIsRetriedAndResumable(t *testing.T) {
	h := newHarness(t)
	env := h.env
	failing := true
	var rounds int
	env.OnActivity(act.SignalRunningCustomers, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BatchSignalInput) (activities.BatchResult, error) {
		rounds++
		if failing {
			return activities.BatchResult{JobID: in.JobID, Total: 3, Signaled: 2, Failed: 1}, nil
		}
		return activities.BatchResult{JobID: in.JobID, Total: 1, Signaled: 1}, nil
	})
	env.OnActivity(act.CountCustomers, mock.Anything, mock.Anything).Return(func(context.Context, activities.CountCustomersInput) (activities.CustomerCounts, error) {
		if failing {
			return activities.CustomerCounts{Running: 1, Ended: 2, Deactivated: 2}, nil
		}
		return activities.CustomerCounts{Ended: 3, Deactivated: 3}, nil
	})
	var first, resumed contract.PartnerInfo
	var firstErr, resumedErr error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(contract.UpdatePartnerCreate.Name, "create", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("create rejected: %v", err) }, OnComplete: func(any, error) {},
		}, spec("beta"))
	}, 0)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(contract.UpdatePartnerDeactivate.Name, "deactivate", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("deactivate rejected: %v", err) }, OnComplete: func(v any, err error) { firstErr = err; decodeInto(t, v, &first) },
		}, contract.Deactivate{Confirm: "beta", Team: isvTeam})
	}, time.Minute)
	var retried int
	env.RegisterDelayedCallback(func() {
		retried = rounds
		failing = false
		env.UpdateWorkflow(contract.UpdatePartnerDeactivate.Name, "resume", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("the resume was refused: %v", err) }, OnComplete: func(v any, err error) { resumedErr = err; decodeInto(t, v, &resumed) },
		}, contract.Deactivate{Confirm: "beta", Team: isvTeam})
	}, time.Hour)
	env.ExecuteWorkflow(workflows.PartnerWorkflow, contract.PartnerInput{Slug: "beta", DeactivateRetryInterval: time.Second})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError(), "the resumed cascade completed")
	require.Error(t, firstErr, "the first deactivation says it is unfinished")
	assert.Contains(t, firstErr.Error(), "still running")
	require.NotNil(t, first.Report, "and what is left")
	assert.True(t, first.Report.Unfinished)
	assert.Equal(t, 1, first.Report.StillRunning)
	assert.Greater(t, retried, 10, "retried before the resume")
	require.NoError(t, resumedErr)
	require.NotNil(t, resumed.Report)
	assert.True(t, resumed.Report.Completed, "%+v", resumed.Report)
	assert.False(t, resumed.Report.Unfinished)
	assert.Greater(t, resumed.Report.Resumes, 1, "run again on its own before the resume")
	assert.LessOrEqual(t, len(resumed.Report.BatchJobs), 10, "a report holds its own run's jobs")
}

// A deactivation that arrives while the run waits to continue as new (another update in
// flight) is run, not deadlocked behind its own handler (issue 22 item 3).
func TestDeactivationWhileWaitingToContinueAsNew(t *testing.T) {
	h := newHarness(t)
	env := h.env
	noCustomers(env)
	env.OnActivity(act.SignalRunningCustomers, mock.Anything, mock.Anything).Return(activities.BatchResult{}, nil)
	// The update stays in flight for a while: Heroku answers 503 a few times (retried with backoff).
	fails := 0
	env.OnActivity(act.UpdateIntegration, mock.Anything, mock.Anything).Return(func(context.Context, activities.UpdateIntegrationInput) (contract.Integration, error) {
		if fails++; fails <= 5 {
			return contract.Integration{}, temporal.NewApplicationError("503 from Heroku", contract.ErrHerokuTransient)
		}
		return contract.Integration{Slug: "beta", Status: contract.IntegrationActive}, nil
	})
	var deactivated contract.PartnerInfo
	var deactivateErr error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(contract.UpdatePartnerCreate.Name, "create", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("create rejected: %v", err) }, OnComplete: func(any, error) {},
		}, spec("beta"))
	}, 0)
	env.RegisterDelayedCallback(func() {
		desc := "slow"
		env.UpdateWorkflow(contract.UpdatePartnerUpdate.Name, "slow-update", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("update rejected: %v", err) }, OnComplete: func(any, error) {},
		}, contract.PartnerChanges{Description: &desc})
	}, time.Minute)
	env.RegisterDelayedCallback(func() { env.SetContinueAsNewSuggested(true) }, time.Minute+500*time.Millisecond)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(contract.UpdatePartnerDeactivate.Name, "deactivate", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("deactivate rejected: %v", err) }, OnComplete: func(v any, err error) { deactivateErr = err; decodeInto(t, v, &deactivated) },
		}, contract.Deactivate{Confirm: "beta", Team: isvTeam})
	}, time.Minute+2*time.Second)
	env.SetTestTimeout(time.Minute)
	env.ExecuteWorkflow(workflows.PartnerWorkflow, contract.PartnerInput{Slug: "beta", DeactivateRetryInterval: time.Second})
	require.True(t, env.IsWorkflowCompleted(), "the run ends: no deadlock")
	require.NoError(t, env.GetWorkflowError())
	require.NoError(t, deactivateErr)
	assert.Equal(t, 6, fails, "the update finished too")
	assert.Equal(t, contract.PartnerInactive, deactivated.Stage)
	require.NotNil(t, deactivated.Report)
	assert.True(t, deactivated.Report.Completed)
}
