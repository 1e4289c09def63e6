package bench

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// ServerOp is one kind of the dev server's work over a stretch of the bench, per unit of the
// bench's work (a start): how many times it ran and its time, from the server's own metrics.
type ServerOp struct {
	Op      string  `json:"op"` // family/service/operation, e.g. service_latency/frontend/ListWorkflowExecutions
	PerUnit float64 `json:"count_per_start"`
	MsPer   float64 `json:"ms_per_start"`
}

// serverFamilies are the server's histograms of time spent: requests served (frontend,
// history and matching), persistence and visibility calls, and history's queue tasks.
var serverFamilies = map[string]bool{"service_latency": true, "persistence_latency": true,
	"visibility_persistence_latency": true, "task_latency": true}

// serverSnapshot is the dev server's count and time in seconds, by family/service/operation, of its
// latency histograms (requests served, persistence and visibility calls).
type serverSnapshot map[string][2]float64

// serverMetrics reads the dev server's histograms; empty when the stack serves none.
func (r *runner) serverMetrics(ctx context.Context) serverSnapshot {
	out := serverSnapshot{}
	if r.stack == nil || r.stack.ServerMetricsURL == "" {
		return out
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.stack.ServerMetricsURL, nil)
	if err != nil {
		return out
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return out
	}
	for name, f := range fams {
		if !serverFamilies[name] || f.GetType() != dto.MetricType_HISTOGRAM {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			op := labels["operation"]
			// Long polls are workers waiting for work, not work; the system namespace's
			// requests are the server's own.
			if op == "" || strings.HasPrefix(op, "Poll") || labels["namespace"] == "temporal_system" {
				continue
			}
			k := name + "/" + labels["service_name"] + "/" + op
			v := out[k]
			v[0] += float64(m.GetHistogram().GetSampleCount())
			v[1] += m.GetHistogram().GetSampleSum()
			out[k] = v
		}
	}
	return out
}

// serverOps is the top of the server's work between two snapshots, per unit, by time.
func serverOps(before, after serverSnapshot, units, top int) []ServerOp {
	if units <= 0 {
		return nil
	}
	var ops []ServerOp
	for k, a := range after {
		b := before[k]
		n, sec := a[0]-b[0], a[1]-b[1]
		if n < 0.01*float64(units) {
			continue // not per start: the server's own long polls and housekeeping
		}
		ops = append(ops, ServerOp{Op: k, PerUnit: n / float64(units), MsPer: sec * 1000 / float64(units)})
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].MsPer > ops[j].MsPer })
	return ops[:min(top, len(ops))]
}

// topOps says the first k ops in a line.
func topOps(ops []ServerOp, k int) string {
	var parts []string
	for _, o := range ops[:min(k, len(ops))] {
		parts = append(parts, fmt.Sprintf("%s %.1f× %.1f ms", o.Op, o.PerUnit, o.MsPer))
	}
	if len(parts) == 0 {
		return "(no server metrics)"
	}
	return strings.Join(parts, ", ")
}
