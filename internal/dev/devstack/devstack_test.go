package devstack_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/workflows/contract"
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

// The compose file describes the production-shaped stack the README promises.
func TestComposeFileHasTheStack(t *testing.T) {
	root := testenv.Root(t)
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	require.NoError(t, err)
	var compose struct {
		Services map[string]struct {
			Image       string                   `yaml:"image"`
			Build       *struct{ Target string } `yaml:"build"`
			Ports       []string                 `yaml:"ports"`
			Environment map[string]string        `yaml:"environment"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &compose))
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	require.NoError(t, err)
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^FROM\s+\S+\s+AS\s+(\S+)`).FindAllStringSubmatch(string(dockerfile), -1) {
		targets[m[1]] = true
	}

	want := map[string]struct {
		image, target, port string
		env                 []string
	}{
		"postgresql":     {image: "postgres:"},
		"temporal":       {image: "temporalio/auto-setup:", port: "7233:7233", env: []string{"DB", "POSTGRES_SEEDS"}},
		"temporal-setup": {image: "temporalio/admin-tools:", env: []string{"TEMPORAL_ADDRESS"}},
		"temporal-ui":    {image: "temporalio/ui:", port: "8233:8233", env: []string{"TEMPORAL_ADDRESS"}},
		"herokusim":      {target: "herokusim", port: "5100:5100", env: []string{"SIM_ADDR", "SIM_PAGE_URL", "SIM_TOKENS"}},
		"worker": {target: "worker", port: "9090:9090", env: []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_TASK_QUEUE",
			"TEMPORAL_HEROKU_TASK_QUEUE", "HEROKU_API_URL", "HEROKU_CONNECT_URL", "HEROKU_API_TOKEN", "WORKER_HTTP_ADDR", "WORKER_STOP_TIMEOUT"}},
	}
	for name, w := range want {
		svc, ok := compose.Services[name]
		if !assert.True(t, ok, "service %s", name) {
			continue
		}
		if w.image != "" {
			assert.True(t, strings.HasPrefix(svc.Image, w.image), "%s image %q", name, svc.Image)
		}
		if w.target != "" {
			require.NotNil(t, svc.Build, "%s is built", name)
			assert.Equal(t, w.target, svc.Build.Target)
			assert.True(t, targets[w.target], "Dockerfile has a stage %s", w.target)
		}
		if w.port != "" {
			assert.Contains(t, svc.Ports, w.port, name)
		}
		for _, e := range w.env {
			assert.Contains(t, svc.Environment, e, "%s sets %s", name, e)
		}
	}
	// Every search attribute is registered by the setup service.
	for _, sa := range contract.SearchAttributes() {
		assert.Contains(t, string(raw), sa)
	}
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
