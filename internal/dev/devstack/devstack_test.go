package devstack_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
)

// `make run`'s stack on other ports: the dev server with the UI, herokusim and the worker
// come up, answer, keep state in the data folder, and stop together.
func TestStackStartsAnswersAndStops(t *testing.T) {
	testenv.TemporalCLI(t)
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := devstack.Start(ctx, devstack.Options{
		Root: testenv.Root(t), DataDir: data, Out: io.Discard,
		TemporalPort: testenv.FreePort(t), UIPort: testenv.FreePort(t),
		SimAddr: "127.0.0.1:" + itoa(testenv.FreePort(t)), WorkerHTTP: "127.0.0.1:" + itoa(testenv.FreePort(t)),
	})
	require.NoError(t, err)
	defer s.Stop()

	for _, u := range []string{s.UIURL, s.SimURL + "/_sim/healthz", s.WorkerURL + "/healthz", s.WorkerURL + "/metrics"} {
		resp, err := http.Get(u)
		require.NoError(t, err, u)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, u)
		if strings.HasSuffix(u, "/metrics") {
			assert.Contains(t, string(body), "temporal_", "SDK metrics are exported")
		}
	}
	_, err = os.Stat(filepath.Join(data, "temporal.db"))
	assert.NoError(t, err, "the dev server keeps its state in the data folder")

	// The worker killed and restarted, and the Temporal server restarted, while the rest
	// keeps running and serving.
	workerPID, simPID := s.PID("worker"), s.PID("herokusim")
	require.NoError(t, s.Restart(ctx, "worker", true))
	assert.NotEqual(t, workerPID, s.PID("worker"), "a new worker process")
	require.NoError(t, s.Restart(ctx, "temporal", false))
	assert.Equal(t, simPID, s.PID("herokusim"), "the simulator kept running")
	for _, u := range []string{s.SimURL + "/_sim/healthz", s.WorkerURL + "/healthz"} {
		testenv.Eventually(t, time.Minute, u+" healthy again", func() bool { // the worker reconnects to the restarted server
			resp, err := http.Get(u)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	select {
	case name := <-s.Exited():
		t.Fatalf("a restart reported %s as exited", name)
	default:
	}

	// A second stack on the same ports is refused with a clear message.
	_, err = devstack.Start(ctx, devstack.Options{Root: testenv.Root(t), Out: io.Discard,
		TemporalPort: portOf(s.TemporalAddress), UIPort: testenv.FreePort(t), SimAddr: "127.0.0.1:" + itoa(testenv.FreePort(t)),
		WorkerHTTP: "127.0.0.1:" + itoa(testenv.FreePort(t))})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is busy")

	s.Stop()
	_, err = http.Get(s.SimURL + "/_sim/healthz")
	assert.Error(t, err, "stopped processes no longer answer")
}

func TestMissingToolIsNamed(t *testing.T) {
	_, err := devstack.Start(context.Background(), devstack.Options{Root: t.TempDir(), Out: io.Discard})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "make tools")
}

func itoa(n int) string { return strconv.Itoa(n) }

func portOf(addr string) int {
	_, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	return n
}

// Issue 11: `bin/devstack -h` prints help instead of starting the stack.
func TestDevstackHelpStartsNothing(t *testing.T) {
	bin := filepath.Join(testenv.Root(t), "bin", "devstack")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-h").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "make run")
	assert.NotContains(t, string(out), "The stack is up")
	out, err = exec.CommandContext(ctx, bin, "--bogus").CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "unexpected argument")
}

// make cluster without its tools says which target builds them.
func TestClusterNamesMissingTools(t *testing.T) {
	_, err := devstack.StartCluster(context.Background(), devstack.ClusterOptions{Root: t.TempDir(), Out: io.Discard})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bin/"+devstack.TemporalServerBin+" is missing: run `make cluster-tools`")
}
