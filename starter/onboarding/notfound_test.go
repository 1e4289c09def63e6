package onboarding

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.temporal.io/api/serviceerror"
)

// A missing partner integration is named as one, not as a missing onboarding (issue 22
// item 13); both are ErrNotFound.
func TestNotFoundSaysWhatIsMissing(t *testing.T) {
	missing := serviceerror.NewNotFound("workflow not found")
	p := partnerNotFound(missing, "beta")
	assert.ErrorIs(t, p, ErrNotFound)
	assert.Equal(t, "partner integration beta: not found", p.Error())
	o := notFound(missing, "acme", "c1")
	assert.ErrorIs(t, o, ErrNotFound)
	assert.Equal(t, "onboarding acme/c1: not found", o.Error())
}
