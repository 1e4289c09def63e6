package devstack_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/workflows/contract"
)

type composeService struct {
	Image       string                   `yaml:"image"`
	Build       *struct{ Target string } `yaml:"build"`
	Command     any                      `yaml:"command"`
	Ports       []string                 `yaml:"ports"`
	Environment map[string]string        `yaml:"environment"`
	Volumes     []string                 `yaml:"volumes"`
}

// Issue 15: docker-compose.yml describes the topology `make cluster` runs, with the same
// versions and settings: no Docker engine runs here, so this test is what keeps the file true.
func TestComposeFileIsTheClusterTopology(t *testing.T) {
	root := testenv.Root(t)
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	require.NoError(t, err)
	var compose struct {
		Services map[string]composeService `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &compose))
	svc := func(name string) composeService {
		s, ok := compose.Services[name]
		require.True(t, ok, "docker-compose.yml has a service %s", name)
		return s
	}
	server := strings.TrimPrefix(devstack.TemporalServerVersion, "v")

	assert.Equal(t, "postgres:"+strconv.Itoa(devstack.PostgresMajor), svc("postgresql").Image, "the PostgreSQL make cluster runs (Debian's)")
	assert.Equal(t, devstack.ClusterDBUser, svc("postgresql").Environment["POSTGRES_USER"])
	assert.Equal(t, devstack.ClusterDBPassword, svc("postgresql").Environment["POSTGRES_PASSWORD"])

	schema := svc("temporal-schema")
	assert.Equal(t, "temporalio/admin-tools:"+server, schema.Image)
	script := strings.Join(strings.Fields(commandText(schema.Command)), " ")
	for _, want := range []string{"--plugin " + devstack.PostgresPlugin, devstack.ClusterDB + ":postgresql/v12/temporal",
		devstack.ClusterVisibilityDB + ":postgresql/v12/visibility", "setup-schema -v 0.0", "update-schema --schema-name"} {
		assert.Contains(t, script, want, "the schema is set up as make cluster sets it up")
	}

	temporal := svc("temporal")
	assert.Equal(t, "temporalio/server:"+server, temporal.Image)
	for k, v := range map[string]string{"DB": devstack.PostgresPlugin, "DBNAME": devstack.ClusterDB, "VISIBILITY_DBNAME": devstack.ClusterVisibilityDB} {
		assert.Equal(t, v, temporal.Environment[k], "temporal %s", k)
	}
	assert.Contains(t, temporal.Ports, "7233:7233")
	// The dynamic config mounted into the server is make cluster's.
	require.NotEmpty(t, temporal.Volumes)
	host, inContainer, _ := strings.Cut(temporal.Volumes[0], ":")
	assert.Equal(t, temporal.Environment["DYNAMIC_CONFIG_FILE_PATH"], strings.TrimSuffix(inContainer, ":ro"))
	dc, err := os.ReadFile(filepath.Join(root, host))
	require.NoError(t, err)
	var settings map[string][]struct {
		Value any `yaml:"value"`
	}
	require.NoError(t, yaml.Unmarshal(dc, &settings))
	got := map[string]string{}
	for k, v := range settings {
		require.Len(t, v, 1, k)
		got[k] = strings.TrimSpace(strings.Trim(strings.TrimSpace(toString(v[0].Value)), `"`))
	}
	assert.Equal(t, devstack.ClusterDynamicConfig(), got, "docker/dynamicconfig.yaml is make cluster's dynamic config")

	setup := commandText(svc("temporal-setup").Command)
	assert.Contains(t, setup, "--retention "+strconv.Itoa(int(devstack.ClusterNamespaceRetention.Hours()))+"h")
	for _, sa := range contract.SearchAttributes() {
		assert.Contains(t, setup, sa, "the setup registers %s", sa)
	}

	codec := svc("codec-server")
	assert.Equal(t, "worker", codec.Build.Target)
	assert.Equal(t, "codec-server", commandText(codec.Command))
	assert.NotEmpty(t, codec.Environment["CODEC_TOKENS"], "the codec server checks a token")
	assert.NotEmpty(t, codec.Environment["PAYLOAD_KEYS"])

	ui := svc("temporal-ui")
	assert.Equal(t, "temporalio/ui:"+strings.TrimPrefix(devstack.TemporalUIVersion, "v"), ui.Image)
	_, codecPort, _ := strings.Cut(codec.Ports[0], ":")
	assert.Equal(t, "http://localhost:"+codecPort, ui.Environment["TEMPORAL_CODEC_ENDPOINT"], "the UI decodes through the codec server")
	assert.Equal(t, "true", ui.Environment["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"], "with the browser's codec session, as make cluster's UI")
	assert.Contains(t, codec.Environment["CODEC_CORS_ORIGINS"], "http://localhost:8233")

	assert.Equal(t, "herokusim", svc("herokusim").Build.Target)
	var workers []string
	for name, s := range compose.Services {
		if s.Build != nil && s.Build.Target == "worker" && name != "codec-server" {
			workers = append(workers, name)
			for _, e := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_TASK_QUEUE", "TEMPORAL_HEROKU_TASK_QUEUE", "HEROKU_API_TOKEN", "HEROKU_CALLS_PER_HOUR", "PAYLOAD_KEYS", "WORKER_STOP_TIMEOUT"} {
				assert.NotEmpty(t, s.Environment[e], "%s sets %s", name, e)
			}
			assert.Equal(t, codec.Environment["PAYLOAD_KEYS"], s.Environment["PAYLOAD_KEYS"], "%s encrypts with the codec server's keys", name)
		}
	}
	assert.Len(t, workers, 2, "two workers, as make cluster runs")

	// Prometheus scrapes the server and both workers with the repository's rules, as make
	// cluster's does.
	prom := svc("prometheus")
	assert.Contains(t, prom.Volumes, "./docker/prometheus:/etc/prometheus/connect:ro")
	assert.Contains(t, commandText(prom.Command), "--config.file=/etc/prometheus/connect/prometheus.yml")
	assert.Equal(t, "0.0.0.0:8000", temporal.Environment["PROMETHEUS_ENDPOINT"], "the server serves its metrics")
	pc, err := os.ReadFile(filepath.Join(root, "docker", "prometheus", "prometheus.yml"))
	require.NoError(t, err)
	var promCfg struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			Job     string `yaml:"job_name"`
			Targets []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	require.NoError(t, yaml.Unmarshal(pc, &promCfg))
	assert.Equal(t, []string{"rules.yml"}, promCfg.RuleFiles)
	jobs := map[string][]string{}
	for _, sc := range promCfg.ScrapeConfigs {
		for _, st := range sc.Targets {
			jobs[sc.Job] = append(jobs[sc.Job], st.Targets...)
		}
	}
	sort.Strings(workers)
	assert.Equal(t, map[string][]string{"temporal": {"temporal:8000"}, "worker": {workers[0] + ":9090", workers[1] + ":9090"}}, jobs)

	// The Makefile builds the versions make cluster looks for.
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`(?m)^TEMPORAL_SERVER_VERSION := `+regexp.QuoteMeta(devstack.TemporalServerVersion)+`$`), string(mk))
	assert.Regexp(t, regexp.MustCompile(`(?m)^TEMPORAL_UI_VERSION := `+regexp.QuoteMeta(devstack.TemporalUIVersion)+`$`), string(mk))
}

func commandText(c any) string {
	switch v := c.(type) {
	case string:
		return v
	case []any:
		var parts []string
		for _, p := range v {
			parts = append(parts, toString(p))
		}
		return strings.Join(parts, " ")
	}
	return ""
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	}
	return ""
}
