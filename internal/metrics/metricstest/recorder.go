// Package metricstest records what code emits on a metrics handler, for tests.
package metricstest

import (
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/internal/metrics"
)

// Recorder is a client.MetricsHandler that keeps every counter's total and every gauge's last
// value by name and labels. Safe for concurrent use.
type Recorder struct {
	tags map[string]string
	s    *store
}

type store struct {
	mu       sync.Mutex
	counters map[string]int64
	gauges   map[string]float64
}

// New is an empty Recorder.
func New() *Recorder {
	return &Recorder{tags: map[string]string{}, s: &store{counters: map[string]int64{}, gauges: map[string]float64{}}}
}

// WithTags implements client.MetricsHandler.
func (r *Recorder) WithTags(tags map[string]string) client.MetricsHandler {
	t := maps.Clone(r.tags)
	maps.Copy(t, tags)
	return &Recorder{tags: t, s: r.s}
}

// Counter implements client.MetricsHandler.
func (r *Recorder) Counter(name string) client.MetricsCounter {
	return counter(func(n int64) { r.s.mu.Lock(); r.s.counters[key(name, r.tags)] += n; r.s.mu.Unlock() })
}

// Gauge implements client.MetricsHandler.
func (r *Recorder) Gauge(name string) client.MetricsGauge {
	return gauge(func(v float64) { r.s.mu.Lock(); r.s.gauges[key(name, r.tags)] = v; r.s.mu.Unlock() })
}

// Timer implements client.MetricsHandler; timings are not kept.
func (r *Recorder) Timer(string) client.MetricsTimer { return timer{} }

// Count is the total counted on m with labels that include the given name, value pairs
// (summed over the rest, such as the SDK's own tags).
func (r *Recorder) Count(m metrics.Metric, labels ...string) int64 {
	name := m.EmitName()
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	var n int64
	for k, v := range r.s.counters {
		if matches(k, name, labels) {
			n += v
		}
	}
	return n
}

// GaugeValue is the last value of the gauge m with labels that include the given pairs, and
// whether it was set.
func (r *Recorder) GaugeValue(m metrics.Metric, labels ...string) (float64, bool) {
	name := m.EmitName()
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	for k, v := range r.s.gauges {
		if matches(k, name, labels) {
			return v, true
		}
	}
	return 0, false
}

func key(name string, tags map[string]string) string {
	parts := make([]string, 0, len(tags))
	for k, v := range tags {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

func matches(k, name string, labels []string) bool {
	n, rest, _ := strings.Cut(k, "{")
	if n != name {
		return false
	}
	have := map[string]bool{}
	for _, p := range strings.Split(strings.TrimSuffix(rest, "}"), ",") {
		have[p] = true
	}
	for i := 0; i+1 < len(labels); i += 2 {
		if !have[labels[i]+"="+labels[i+1]] {
			return false
		}
	}
	return true
}

type counter func(int64)

func (c counter) Inc(n int64) { c(n) }

type gauge func(float64)

func (g gauge) Update(v float64) { g(v) }

type timer struct{}

func (timer) Record(time.Duration) {}
