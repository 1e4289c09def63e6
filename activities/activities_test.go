package activities

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Heroku's answers become the Temporal errors the retry policies rely on.
func TestFromHeroku(t *testing.T) {
	cases := []struct {
		in        error
		typ       string
		retryable bool
		delay     time.Duration
	}{
		{&heroku.Error{Kind: heroku.KindNotFound, StatusCode: 404}, contract.ErrHerokuFinal, false, 0},
		{&heroku.Error{Kind: heroku.KindInvalid, StatusCode: 422}, contract.ErrHerokuFinal, false, 0},
		{&heroku.Error{Kind: heroku.KindForbidden, StatusCode: 403}, contract.ErrHerokuFinal, false, 0},
		{&heroku.Error{Kind: heroku.KindRateLimited, StatusCode: 429, RetryAfter: 7 * time.Second}, contract.ErrHerokuRateLimited, true, 7 * time.Second},
		{&heroku.Error{Kind: heroku.KindTransient, StatusCode: 503}, contract.ErrHerokuTransient, true, 0},
		{&heroku.Error{Kind: heroku.KindTransient, Message: "timeout"}, contract.ErrHerokuTransient, true, 0},
		{errors.New("something odd"), contract.ErrHerokuTransient, true, 0},
	}
	for _, tc := range cases {
		err := fromHeroku(tc.in)
		var ae *temporal.ApplicationError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, tc.typ, ae.Type(), "%v", tc.in)
		assert.Equal(t, !tc.retryable, ae.NonRetryable(), "%v", tc.in)
		assert.Equal(t, tc.delay, ae.NextRetryDelay(), "%v", tc.in)
	}
	assert.NoError(t, fromHeroku(nil))
}

// The constants this package repeats from workflows are checked in workflows' tests; here,
// the not-yet error is benign so waiting does not log as failure.
func TestNotYetIsBenign(t *testing.T) {
	var ae *temporal.ApplicationError
	require.ErrorAs(t, notYet("x"), &ae)
	assert.Equal(t, contract.ErrNotYet, ae.Type())
	assert.Equal(t, temporal.ApplicationErrorCategoryBenign, ae.Category())
	assert.False(t, ae.NonRetryable())
}

// A taken add-on name is told by Heroku's error id, not by the words of its message.
func TestNameTakenByErrorID(t *testing.T) {
	for _, tc := range []struct {
		err   error
		taken bool
	}{
		{&heroku.Error{Kind: heroku.KindInvalid, StatusCode: 422, ID: "invalid_params", Message: "Name hc-x is already taken."}, true},
		{&heroku.Error{Kind: heroku.KindInvalid, StatusCode: 422, ID: "invalid_params", Message: "Le nom est déjà utilisé."}, true},
		{&heroku.Error{Kind: heroku.KindInvalid, StatusCode: 400, ID: "validation_error", Message: "name is already taken"}, false},
		{&heroku.Error{Kind: heroku.KindConflict, StatusCode: 409, ID: "conflict", Message: "taken"}, false},
		{errors.New("name taken"), false},
		{nil, false},
	} {
		assert.Equal(t, tc.taken, nameTaken(tc.err), "%v", tc.err)
	}
}
