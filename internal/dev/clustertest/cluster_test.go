//go:build cluster

package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/dev/chaos"
	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
)

// Issue 15: on the production topology (PostgreSQL, the Temporal server on it, two workers
// sharing the task queues), onboardings through SIGKILLs of one worker and a restart of the
// Temporal server: every customer reaches active, none is duplicated or lost, no add-on is
// orphaned, and the Heroku calls of both workers together stay within the budget.
func TestClusterSurvivesWorkerKillsAndServerRestart(t *testing.T) {
	const n = 40
	r := clusterScenario(t, "crashes", n, 3)
	assert.Equal(t, n, r.Active, "every customer reached active")
	assert.Zero(t, r.Duplicates)
	assert.Zero(t, r.Orphans)
	assert.Zero(t, r.Stuck)
	assert.Equal(t, 3, r.Kills, "one of the two workers was killed three times")
	assert.Equal(t, 1, r.Restarts, "the Temporal server was restarted once")
	assert.Equal(t, n, r.Created, "one add-on per customer")
	assert.LessOrEqual(t, float64(r.WorstMinute), float64(r.BudgetMinute)*1.05, "both workers together within the budget")
}

// Issue 26: the upgrade drill. Customers onboard on build A; build B starts beside it and
// takes no work until the Temporal CLI ramps it and makes it current; every customer then
// reaches active on B (each long-lived workflow moves at its next task), a rollback to A
// runs the offboardings on A, no workflow task fails, and nothing is duplicated, orphaned or
// lost.
func TestClusterUpgradeDrill(t *testing.T) {
	const n = 30
	r := clusterScenario(t, "upgrade", n, 0)
	assert.Equal(t, n, r.Active, "every customer reached active")
	assert.Equal(t, n, r.OnNext, "every customer reached active on the new build")
	assert.Equal(t, r.Offboarded, r.BackOnFirst, "after the rollback, every offboarding ran on the first build")
	assert.Positive(t, r.Offboarded)
	assert.Zero(t, r.TaskFailures)
	assert.Zero(t, r.Duplicates)
	assert.Zero(t, r.Orphans)
	assert.Zero(t, r.Stuck)
	assert.Equal(t, n, r.Created, "one add-on per customer")
}

// clusterScenario runs one chaos scenario of n customers on the cluster, at 9,000 Heroku
// calls an hour, and fails the test on any broken guarantee (chaos.Result.Problems).
func clusterScenario(t *testing.T, scenario string, n, kills int) chaos.Result {
	testenv.TemporalCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	results, err := chaos.Run(ctx, chaos.Options{Root: testenv.Root(t), N: n, Kills: kills, Scenarios: []string{scenario},
		Out: io.Discard, Deadline: 8 * time.Minute, TerminateEach: 8, Cluster: true, CallsPerHour: 9000})
	require.NoError(t, err)
	require.Len(t, results, 1)
	r := results[0]
	t.Logf("%+v", r)
	assert.False(t, r.Broken(), "%v", r.Problems)
	return r
}

// make cluster names a busy port and what uses it, before starting anything.
func TestClusterNamesABusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	co := devstack.ClusterOptions{Root: testenv.Root(t), DataDir: t.TempDir(), Out: io.Discard}
	co.FreshPorts(2)
	co.UIPort = ln.Addr().(*net.TCPAddr).Port
	_, err = devstack.StartCluster(context.Background(), co)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("port 127.0.0.1:%d (Temporal UI) is busy", co.UIPort))
	_, statErr := os.Stat(filepath.Join(co.DataDir, "postgres"))
	assert.True(t, os.IsNotExist(statErr), "nothing was started")
}

// The cluster's Prometheus scrapes the Temporal server and both workers and has the
// repository's rules loaded; Ctrl-C (Stop) ends every process of the cluster, PostgreSQL and
// Prometheus included.
func TestClusterRunsPrometheusAndStopsEverything(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	co := devstack.ClusterOptions{Root: testenv.Root(t), DataDir: t.TempDir(), Out: io.Discard}
	co.FreshPorts(2)
	c, err := devstack.StartCluster(ctx, co)
	require.NoError(t, err)
	names := c.Names()
	assert.Equal(t, []string{"postgres", "temporal", "codec", "ui", "herokusim", "worker-1", "worker-2", "prometheus"}, names)

	var targets struct {
		Data struct {
			ActiveTargets []struct {
				Labels map[string]string `json:"labels"`
				Health string            `json:"health"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	up := map[string]int{}
	testenv.Eventually(t, 90*time.Second, "Prometheus scrapes the server and both workers", func() bool {
		if !getJSON(ctx, c.PrometheusURL+"/api/v1/targets", &targets) {
			return false
		}
		up = map[string]int{}
		for _, tg := range targets.Data.ActiveTargets {
			if tg.Health == "up" {
				up[tg.Labels["job"]]++
			}
		}
		return up["temporal"] == 1 && up["worker"] == 2
	})
	var rules struct {
		Data struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Type string `json:"type"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	require.True(t, getJSON(ctx, c.PrometheusURL+"/api/v1/rules", &rules))
	alerts := 0
	for _, g := range rules.Data.Groups {
		for _, r := range g.Rules {
			if r.Type == "alerting" {
				alerts++
			}
		}
	}
	assert.Equal(t, 13, alerts, "docker/prometheus/rules.yml's alerts are loaded")
	// Both workers' metrics reach it.
	var q struct {
		Data struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	testenv.Eventually(t, 60*time.Second, "a worker's metric in Prometheus", func() bool {
		return getJSON(ctx, c.PrometheusURL+"/api/v1/query?query=count+by+(instance)+(temporal_worker_start_total)", &q) && len(q.Data.Result) == 2
	})

	pids := map[string]int{}
	for _, n := range names {
		pids[n] = c.PID(n)
		require.NotZero(t, pids[n], n)
	}
	c.Stop()
	for n, pid := range pids {
		assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "%s (pid %d) still runs", n, pid)
	}
	// A second start on the same data directory reuses PostgreSQL's files and the schema.
	c, err = devstack.StartCluster(ctx, co)
	require.NoError(t, err)
	c.Stop()
}

// getJSON decodes a 200 answer of url into v.
func getJSON(ctx context.Context, url string, v any) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(v) == nil
}
