package devstack

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// make cluster on a machine without PostgreSQL names the package to install.
func TestClusterNamesMissingPostgres(t *testing.T) {
	glob, cfg := pgBinGlob, pgConfig
	t.Cleanup(func() { pgBinGlob, pgConfig = glob, cfg })
	pgBinGlob, pgConfig = filepath.Join(t.TempDir(), "*", "bin"), filepath.Join(t.TempDir(), "no-pg_config")
	_, err := postgresBinDir()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "apt-get install -y postgresql")
}

// The generated configs carry the pinned plugin, databases and ports.
func TestClusterConfigs(t *testing.T) {
	o := ClusterOptions{Root: "/repo", PostgresPort: 55432, TemporalPort: 7233, UIPort: 8233, ServerMetricsPort: 9093,
		WorkerHTTP: []string{"127.0.0.1:9090", "127.0.0.1:9091"}}
	cfg := temporalConfig(o, []int{1, 2, 3, 4, 5, 6, 7, 8}, "/x/dc.yaml")
	for _, want := range []string{`pluginName: "postgres12"`, `databaseName: "temporal"`, `databaseName: "temporal_visibility"`,
		`connectAddr: "127.0.0.1:55432"`, "grpcPort: 7233", `filepath: "/x/dc.yaml"`, `listenAddress: "127.0.0.1:9093"`} {
		assert.Contains(t, cfg, want)
	}
	prom := prometheusConfig(o)
	for _, want := range []string{`"/repo/docker/prometheus/rules.yml"`, `targets: ["127.0.0.1:9093"]`, `targets: ["127.0.0.1:9090", "127.0.0.1:9091"]`} {
		assert.Contains(t, prom, want)
	}
	ui := uiConfig(o, "http://localhost:8081")
	assert.Contains(t, ui, "endpoint: http://localhost:8081")
	assert.Contains(t, ui, "includeCredentials: true")
	assert.Contains(t, dynamicConfigYAML(map[string]string{"a.b": "true"}), "a.b:\n  - value: true\n")
}
