package onboarding

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// Issue 10 item 12: a start that reaches an onboarding that ended never looks like success.
func TestStartResultOfAnEndedRunIsAnError(t *testing.T) {
	assert.NoError(t, resultError(contract.StartResult{Stage: contract.StageAwaitingAuthorization, AuthorizationURL: "https://x"}))
	assert.NoError(t, resultError(contract.StartResult{Stage: contract.StageActive}))
	for _, st := range []contract.Stage{contract.StageOffboarded, contract.StageCancelled, contract.StageFailed} {
		var ended *EndedError
		err := resultError(contract.StartResult{Stage: st, Error: "why", ErrorType: "X"})
		if assert.ErrorAs(t, err, &ended, st) {
			assert.Equal(t, st, ended.Stage)
		}
	}
	assert.True(t, errors.Is(resultError(contract.StartResult{Stage: contract.StageDeactivated}), ErrIntegrationInactive))
	assert.True(t, errors.Is(resultError(contract.StartResult{Stage: contract.StageFailed, ErrorType: contract.ErrIntegrationInactive}), ErrIntegrationInactive))
	var bad *InvalidInputError
	if assert.ErrorAs(t, resultError(contract.StartResult{Stage: contract.StageFailed, ErrorType: contract.ErrInvalidInput,
		Error: "invalid input: return_url: must be on a return host the worker allows (WORKER_RETURN_HOSTS)"}), &bad) {
		assert.Equal(t, "return_url", bad.Fields[0].Field)
	}
}

// A second start with other identity values is a conflict naming them; the same values are
// not.
func TestIdentityConflictNamesTheFields(t *testing.T) {
	in := contract.ConnectionInput{ISVSlug: "acme", CustomerID: "c1", Mode: contract.ModeProvision, App: "acme-app",
		Salesforce: contract.Salesforce{OrgID: "00D000000000062", Username: "int@c1.example"}}
	res := contract.StartResult{WorkflowID: "connection/acme/c1", Identity: in.WithDefaults().IdentityHashes()}
	assert.NoError(t, identityConflict(in, res))
	same := in
	same.Salesforce.Username = "INT@c1.example" // usernames compare case-insensitively
	assert.NoError(t, identityConflict(same, res))
	other := in
	other.Salesforce.OrgID, other.App = "00D000000000063", "other-app"
	var c *ConflictError
	if assert.ErrorAs(t, identityConflict(other, res), &c) {
		assert.Equal(t, []string{"app", "salesforce.sf_org_id"}, c.Fields)
	}
	assert.NoError(t, identityConflict(other, contract.StartResult{}), "a run from before identities were recorded")
}

// A deactivation needs the slug and the team: the slug alone is public (it is in every
// add-on's name), so `{"confirm": "acme"}` is refused naming team, before Temporal is asked.
func TestDeactivationNeedsTheTeam(t *testing.T) {
	c := New(nil, "", "")
	for _, team := range []string{"", "  "} {
		_, err := c.DeactivatePartner(context.Background(), "acme", team, "acme")
		var inv *InvalidInputError
		require.ErrorAs(t, err, &inv)
		require.Len(t, inv.Fields, 1)
		assert.Equal(t, "team", inv.Fields[0].Field)
	}
}
