package workflows_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// Issue 15: a customer ID lands unencrypted in the workflow ID and the CustomerId search
// attribute, so one that is an email address or the customer's org ID is refused before
// anything is created, by the front door and by the workflow (anyone may start one).
func TestCustomerIDsMustBeOpaque(t *testing.T) {
	for name, id := range map[string]string{
		"email":              "jane.doe@customer.example",
		"username-like":      "int@acme",
		"the org ID":         orgID,
		"the 18-char org ID": orgID + "EAA",
	} {
		t.Run(name, func(t *testing.T) {
			in := input(id)
			err := in.ValidateRequest()
			var ve *contract.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "customer_id", ve.Fields[0].Field)
			assert.Contains(t, ve.Fields[0].Rule, "opaque")

			h := newHarness(t)
			st, err := h.run(in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "customer_id")
			assert.Equal(t, contract.StageFailed, st.Stage)
			assert.Equal(t, contract.ErrInvalidInput, st.ErrorType)
			assert.Zero(t, h.live(), "nothing is created")
			assert.Empty(t, h.started(), "no activity ran")
		})
	}
	ok := input("cust-7f3a9")
	assert.NoError(t, ok.ValidateRequest())
}
