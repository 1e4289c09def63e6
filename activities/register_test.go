package activities

import (
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// Workflows call activities by method value, so the SDK names each call after its method;
// the worker registers them under the contract's names. The two must agree, and every name
// the contract lists must be registered on its queue.
func TestActivityNamesAreTheirMethods(t *testing.T) {
	a := &Activities{}
	for queue, c := range map[string]struct {
		registered map[string]any
		listed     []string
	}{
		contract.HerokuTaskQueue:     {a.herokuActivities(), contract.HerokuActivities},
		contract.OnboardingTaskQueue: {a.onboardingActivities(), contract.OnboardingActivities},
	} {
		var names []string
		for name, fn := range c.registered {
			names = append(names, name)
			method := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name() // ...(*Activities).Name-fm
			method = strings.TrimSuffix(method[strings.LastIndex(method, ".")+1:], "-fm")
			assert.Equal(t, name, method, "activity %s is registered on %s under another method's name", name, queue)
		}
		slices.Sort(names)
		listed := slices.Clone(c.listed)
		slices.Sort(listed)
		assert.Equal(t, listed, names, "the contract's list of %s activities", queue)
	}
}
