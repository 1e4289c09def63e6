package metrics_test

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/metrics"
	"github.com/connect-onboarding/worker/internal/metrics/metricstest"
)

var update = flag.Bool("update", false, "rewrite docs/metrics.md's table from metrics.All")

const (
	docPath   = "../../docs/metrics.md"
	rulesPath = "../../docker/prometheus/rules.yml"
	begin     = "<!-- metrics table: generated from internal/metrics (go test ./internal/metrics -update) -->"
	end       = "<!-- end of the metrics table -->"
)

// table renders metrics.All as docs/metrics.md shows it.
func table() string {
	var b strings.Builder
	b.WriteString(begin + "\n\n| Metric | Type | Labels | Meaning | Emitted by |\n|---|---|---|---|---|\n")
	for _, m := range metrics.All {
		labels := "—"
		if len(m.Labels) > 0 {
			labels = "`" + strings.Join(m.Labels, "`, `") + "`"
		}
		b.WriteString("| `" + m.Name + "` | " + string(m.Kind) + " | " + labels + " | " + m.Help + " | " + m.From + " |\n")
	}
	b.WriteString("\n" + end)
	return b.String()
}

// docs/metrics.md lists every metric as internal/metrics names it: the table is generated.
func TestDocsListEveryMetric(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	require.NoError(t, err)
	text := string(doc)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	require.True(t, i >= 0 && j > i, "docs/metrics.md has the generated table's markers")
	if *update {
		text = text[:i] + table() + text[j+len(end):]
		require.NoError(t, os.WriteFile(docPath, []byte(text), 0o644))
		j = strings.Index(text, end)
	}
	assert.Equal(t, table(), text[i:j+len(end)], "docs/metrics.md is out of date: go test ./internal/metrics -update")
}

type rules struct {
	Groups []struct {
		Rules []struct {
			Record string `yaml:"record"`
			Alert  string `yaml:"alert"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// The rules use only metrics the worker exports (or Temporal's SDK exports), and the
// README's alert table names every alert they define, and no other.
func TestRulesUseKnownMetricsAndREADMENamesEveryAlert(t *testing.T) {
	raw, err := os.ReadFile(rulesPath)
	require.NoError(t, err)
	var r rules
	require.NoError(t, yaml.Unmarshal(raw, &r))
	known := map[string]bool{}
	for _, m := range metrics.All {
		known[m.Name] = true
	}
	recorded := map[string]bool{}
	var alerts []string
	name := regexp.MustCompile(`\b(connect_[a-z_]+|temporal_[a-z_]+)\b`)
	for _, g := range r.Groups {
		for _, rule := range g.Rules {
			if rule.Record != "" {
				recorded[rule.Record] = true
			}
			if rule.Alert != "" {
				alerts = append(alerts, rule.Alert)
			}
			for _, n := range name.FindAllString(rule.Expr, -1) {
				if strings.HasPrefix(n, "connect_") {
					assert.True(t, known[n], "%s uses %s, which the worker does not export", rule.Record+rule.Alert, n)
				}
			}
		}
	}
	require.NotEmpty(t, alerts)
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	row := regexp.MustCompile("(?m)^\\| `([A-Za-z]+)` \\| (critical|warning|info) \\|")
	var inReadme []string
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		inReadme = append(inReadme, m[1])
	}
	sort.Strings(alerts)
	sort.Strings(inReadme)
	assert.Equal(t, alerts, inReadme, "the README's alert table names every alert of docker/prometheus/rules.yml")
}

// The Heroku client's exchanges become the request counter, by operation and status
// ("error" without an answer), and the budget gauge; an answer without the header leaves
// the gauge alone.
func TestHerokuObserver(t *testing.T) {
	rec := metricstest.New()
	observe := metrics.HerokuObserver(rec)
	observe(context.Background(), heroku.Exchange{Op: "create add-on", Method: "POST", Status: 201, Remaining: 4400, Duration: time.Millisecond})
	observe(context.Background(), heroku.Exchange{Op: "create add-on", Method: "POST", Status: 429, Remaining: 0})
	observe(context.Background(), heroku.Exchange{Op: "read connection", Method: "GET", Remaining: -1})
	observe(context.Background(), heroku.Exchange{Op: "read connection", Method: "GET", Status: 200, Remaining: -1})
	assert.Equal(t, int64(1), rec.Count(metrics.HerokuRequests, "op", "create add-on", "status", "201"))
	assert.Equal(t, int64(1), rec.Count(metrics.HerokuRequests, "op", "create add-on", "status", "429"))
	assert.Equal(t, int64(1), rec.Count(metrics.HerokuRequests, "op", "read connection", "status", "error"))
	left, ok := rec.GaugeValue(metrics.HerokuRateLimitRemaining)
	assert.True(t, ok)
	assert.Equal(t, 0.0, left, "the last answer that said")
}

// Counters are named as Prometheus shows them (_total), the rest not; labels are unique.
func TestNames(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range metrics.All {
		assert.False(t, seen[m.Name], m.Name)
		seen[m.Name] = true
		assert.True(t, strings.HasPrefix(m.Name, "connect_"), m.Name)
		assert.Equal(t, m.Kind == metrics.KindCounter, strings.HasSuffix(m.Name, "_total"), m.Name)
		assert.NotEmpty(t, m.Help, m.Name)
		assert.NotEmpty(t, m.From, m.Name)
	}
}

// The worker's /metrics shows label values as written: an integration's slug and a Heroku
// operation can be pasted from an alert into a command.
func TestPrometheusKeepsLabelValues(t *testing.T) {
	h, handler, closer := metrics.NewPrometheus()
	metrics.HerokuRequests.Add(h, 2, "op", "create add-on", "status", "201")
	metrics.OrphanedAddons.Add(h, 1, "isv", "acme-crm")
	metrics.Customers.Set(h, 3, "isv", "acme-crm", "stage", "awaiting_authorization")
	require.NoError(t, closer.Close()) // flushes
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	assert.Contains(t, body, `connect_heroku_requests_total{op="create add-on",status="201"} 2`)
	assert.Contains(t, body, `connect_orphaned_addons_total{isv="acme-crm"} 1`)
	assert.Contains(t, body, `connect_customers{isv="acme-crm",stage="awaiting_authorization"} 3`)
}
