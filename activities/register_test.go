package activities

import (
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.temporal.io/sdk/worker"
)

// methodName is the name the SDK gives an activity registered by method value.
func methodName(fn any) string {
	name := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name() // ...(*Activities).Name-fm
	return strings.TrimSuffix(name[strings.LastIndex(name, ".")+1:], "-fm")
}

// Every exported method of Activities is an activity registered on exactly one queue: a
// method added but not registered (or registered twice) fails here, before a workflow
// calling it waits for a worker that never comes.
func TestEveryActivityIsRegisteredOnce(t *testing.T) {
	a := &Activities{}
	seen := map[string]int{}
	for _, fns := range [][]any{a.herokuActivities(), a.onboardingActivities(), a.eventsActivities()} {
		for _, fn := range fns {
			seen[methodName(fn)]++
		}
	}
	typ := reflect.TypeOf(a)
	for i := 0; i < typ.NumMethod(); i++ {
		m := typ.Method(i).Name
		assert.Equal(t, 1, seen[m], "activity %s must be registered on exactly one queue", m)
		delete(seen, m)
	}
	assert.Empty(t, seen, "registered functions that are not methods of Activities")
}

// The SDK's registry names each activity after its method: the name workflows use.
func TestRegisteredNamesAreMethodNames(t *testing.T) {
	a := &Activities{}
	r := &recordingRegistry{}
	RegisterHeroku(r, a)
	RegisterOnboarding(r, a)
	RegisterEvents(r, a)
	assert.Len(t, r.fns, len(a.herokuActivities())+len(a.onboardingActivities())+len(a.eventsActivities()))
	for _, fn := range r.fns {
		assert.NotContains(t, methodName(fn), "func", "an anonymous function registered as an activity")
	}
}

type recordingRegistry struct {
	worker.ActivityRegistry
	fns []any
}

func (r *recordingRegistry) RegisterActivity(fn any) { r.fns = append(r.fns, fn) }
