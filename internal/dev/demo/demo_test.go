package demo_test

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/internal/dev/demo"
	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
)

// `make demo` inside `make test`: the real stack (dev server, herokusim, worker processes)
// started as `make run` starts it, and the demo run against it.
func TestDemoAgainstTheStack(t *testing.T) {
	testenv.TemporalCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	s, err := devstack.Start(ctx, devstack.Options{Root: testenv.Root(t), Out: io.Discard,
		TemporalPort: testenv.FreePort(t), UIPort: testenv.FreePort(t),
		SimAddr: "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)), WorkerHTTP: "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)),
		SimEnv: []string{"SIM_PROVISION_DELAY=500ms"}})
	require.NoError(t, err)
	defer s.Stop()
	tc, err := client.Dial(s.ClientOptions())
	require.NoError(t, err)
	defer tc.Close()

	var out bytes.Buffer
	err = demo.Run(ctx, demo.Config{Temporal: tc, SimURL: s.SimURL, App: "acme-isv-app", Team: "acme-team", UIURL: s.UIURL, Patience: 3 * time.Minute, Out: &out})
	require.NoError(t, err, out.String())
	assert.Contains(t, out.String(), "The demo completed every step.")
	assert.Contains(t, out.String(), "destroyed add-on hc-demo-")

	// Running it again works: each run uses its own integration.
	out.Reset()
	require.NoError(t, demo.Run(ctx, demo.Config{Temporal: tc, SimURL: s.SimURL, App: "acme-isv-app", Team: "acme-team", Patience: 3 * time.Minute, Out: &out}), out.String())
}
