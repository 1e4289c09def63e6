package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
)

// printRoutes writes one row per Heroku route, by name.
func printRoutes(w io.Writer, perRoute map[string]float64) {
	routes := make([]string, 0, len(perRoute))
	for route := range perRoute {
		routes = append(routes, route)
	}
	sort.Strings(routes)
	for _, route := range routes {
		fmt.Fprintf(w, "  %s\t%.2f\t\n", route, perRoute[route])
	}
}

// PrintTable writes the human summary.
func PrintTable(w io.Writer, r *Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	tp := r.Throughput
	fmt.Fprintf(w, "\nMachine: %s\n\n", r.Machine)
	fmt.Fprintln(w, "1. Throughput and latency")
	fmt.Fprintf(tw, "onboardings\t%d\t\n", tp.N)
	fmt.Fprintf(tw, "onboardings/s\t%.2f\t\n", tp.PerSecond)
	fmt.Fprintf(tw, "start → URL p50 / p95 / p99 (ms)\t%.0f / %.0f / %.0f\t\n", tp.StartToURL.P50, tp.StartToURL.P95, tp.StartToURL.P99)
	fmt.Fprintf(tw, "authorization → active p50 / p95 / p99 (ms)\t%.0f / %.0f / %.0f\t\n", tp.AuthToActive.P50, tp.AuthToActive.P95, tp.AuthToActive.P99)
	fmt.Fprintf(tw, "Heroku calls per onboarding to authorized (target ≤ 5.0)\t%.2f\t\n", tp.HerokuCallsPer)
	printRoutes(tw, tp.CallsPerRoute)
	fmt.Fprintf(tw, "baseline, %d no-op activities (wf/s)\t%.2f\t\n", tp.ActivitiesPer, tp.BaselineSame)
	fmt.Fprintf(tw, "baseline, 4 no-op activities (wf/s)\t%.2f\t\n", tp.BaselineFour)
	fmt.Fprintf(tw, "ours ÷ same-shape baseline\t%.2f\t\n", tp.RatioSame)
	fmt.Fprintf(tw, "ours ÷ 4-activity baseline\t%.2f\t\n", tp.RatioFour)
	_ = tw.Flush()
	fmt.Fprintln(w, "\n2. Heroku budget while customers wait (per ISV account; budget 4,500 calls/hour)")
	fmt.Fprintf(tw, "waiting\tcalls/sim. hour\tof budget\twatcher reads/h\tverification reads/h\tdetection p50/p95 (sim. s)\tper-workflow pollers\tratio\t\n")
	for _, b := range r.Budget {
		fmt.Fprintf(tw, "%d\t%.0f\t%.1f%%\t%.0f\t%.0f\t%.0f / %.0f\t%.0f\t%.0fx\t\n", b.Waiting, b.CallsPerHour, 100*b.BudgetShare,
			b.WatcherPerHour, b.VerifyPerHour, b.DetectionSimSeconds.P50, b.DetectionSimSeconds.P95, b.BaselinePerHour, b.Ratio)
	}
	_ = tw.Flush()
	for _, b := range r.Budget {
		c := b.Cascade
		fmt.Fprintf(w, "\n2b. Deactivating the integration of the %d waiting customers (and %d mid-onboarding)\n", b.Waiting, c.MidOnboarding)
		fmt.Fprintf(tw, "seconds until the report\t%.0f\t\n", c.Seconds)
		fmt.Fprintf(tw, "customers ended deactivated / ended\t%d / %d\t\n", c.Deactivated, c.Ended)
		fmt.Fprintf(tw, "batch signal jobs\t%d\t\n", c.BatchJobs)
		fmt.Fprintf(tw, "completed\t%v\t\n", c.Completed)
		fmt.Fprintf(tw, "live add-ons after Heroku's delay\t%d\t\n", c.LiveAddonsAfter)
		fmt.Fprintf(tw, "Heroku calls per customer beyond the deactivate (target ≤ 0.01)\t%.4f\t\n", c.CallsPerCustomer)
		fmt.Fprintf(tw, "  the add-on list's pages / customers' add-on reads / destroys\t%d / %d / %d\t\n", c.ConfirmReads, c.CustomerReads, c.CustomerDestroys)
		fmt.Fprintf(tw, "watcher interval (simulated s)\t%.0f\t\n", b.IntervalSimSeconds)
		_ = tw.Flush()
	}
	fmt.Fprintln(w, "\n3. Cost of a waiting customer")
	fmt.Fprintf(tw, "worker RSS idle (MB)\t%.0f\t\n", r.Cost.WorkerRSSIdleMB)
	fmt.Fprintf(tw, "worker RSS with the largest waiting set (MB)\t%.0f\t\n", r.Cost.WorkerRSSLargeMB)
	for _, b := range r.Budget {
		fmt.Fprintf(tw, "worker RSS with %d waiting (MB)\t%.0f\t\n", b.Waiting, b.WorkerRSSMB)
		fmt.Fprintf(tw, "  workflow tasks / cache misses / time replaying (s), %d waiting\t%.0f / %.0f / %.2f\t\n", b.Waiting, b.Replay.Tasks, b.Replay.CacheMisses, b.Replay.ReplaySeconds)
	}
	for _, b := range r.Budget {
		fmt.Fprintf(tw, "worker RSS growth per waiting customer, %d waiting (KB)\t%.1f\t\n", b.Waiting, b.RSSPerWaitingKB)
	}
	fmt.Fprintf(tw, "history events per completed onboarding\t%d\t\n", r.Cost.HistoryEvents)
	fmt.Fprintf(tw, "history bytes per completed onboarding\t%d\t\n", r.Cost.HistoryBytes)
	_ = tw.Flush()
	if b := r.Burst; b.Customers > 0 {
		fmt.Fprintf(w, "\n4. A burst of %d customers at the real budget (4,500 calls/hour), each signing in at once\n", b.Customers)
		fmt.Fprintf(tw, "\tbudget-aware ordering, webhooks\tdefault matcher, polls (baseline)\t\n")
		row := func(name, format string, f func(BurstRun) float64) {
			fmt.Fprintf(tw, "%s\t"+format+"\t"+format+"\t\n", name, f(b.Ordered), f(b.Baseline))
		}
		row("first authorization URL (s)", "%.0f", func(x BurstRun) float64 { return x.FirstURLSeconds })
		row("median authorization URL (s)", "%.0f", func(x BurstRun) float64 { return x.MedianURLSeconds })
		row("last authorization URL (s)", "%.0f", func(x BurstRun) float64 { return x.LastURLSeconds })
		row("URL order ~ start order (Spearman)", "%.2f", func(x BurstRun) float64 { return x.RankCorrelation })
		row("authorization → active p50 (s)", "%.1f", func(x BurstRun) float64 { return x.AuthToActive.P50 / 1000 })
		row("authorization → active p95 (s)", "%.1f", func(x BurstRun) float64 { return x.AuthToActive.P95 / 1000 })
		row("Heroku calls per onboarding", "%.2f", func(x BurstRun) float64 { return x.HerokuCallsPer })
		row("Heroku calls per second", "%.2f", func(x BurstRun) float64 { return x.CallsPerSecond })
		row("last URL's floor: calls until then ÷ budget (s)", "%.0f", func(x BurstRun) float64 { return x.FloorSeconds })
		row("last URL ÷ its floor (target ≤ 1.2)", "%.2f", func(x BurstRun) float64 { return x.FloorRatio })
		_ = tw.Flush()
		fmt.Fprintln(w, "   Heroku calls per onboarding by route, budget-aware ordering:")
		printRoutes(tw, b.Ordered.CallsPerRoute)
		_ = tw.Flush()
	}
	if e := r.Events; e.N > 0 {
		fmt.Fprintf(w, "\n5. Lifecycle events: %d onboardings per integration (the same stack, one after the other)\n", e.N)
		fmt.Fprintf(tw, "onboardings/s, no endpoint\t%.2f\t\n", e.PerSecondNone)
		fmt.Fprintf(tw, "onboardings/s, a receiver that never answers\t%.2f\t\n", e.PerSecondDead)
		fmt.Fprintf(tw, "  ÷ no endpoint (target ≥ 0.95)\t%.2f\t\n", e.DeadRatio)
		fmt.Fprintf(tw, "onboardings/s, a live receiver\t%.2f\t\n", e.PerSecondLive)
		fmt.Fprintf(tw, "event delay p50 / p95 / p99 (ms)\t%.0f / %.0f / %.0f\t\n", e.DelayMS.P50, e.DelayMS.P95, e.DelayMS.P99)
		fmt.Fprintf(tw, "events received / lost\t%d / %d\t\n", e.Received, e.Lost)
		_ = tw.Flush()
	}
	if s := r.Sync; s.N > 0 {
		fmt.Fprintf(w, "\n6. Data flowing: %d customers onboarded with a mapping template (simulator sync %.0f s), then a new template\n", s.N, s.SimSyncSeconds)
		fmt.Fprintf(tw, "Heroku calls per onboarding to synced (target ≤ 8)\t%.2f\t\n", s.CallsPerOnboarding)
		fmt.Fprintf(tw, "  + the app watcher's reads, shared\t%.2f\t\n", s.WatcherPerOnboarding)
		printRoutes(tw, s.CallsPerRoute)
		fmt.Fprintf(tw, "authorization → synced beyond the sync, p50 / p95 (ms)\t%.0f / %.0f\t\n", s.BeyondSyncMS.P50, s.BeyondSyncMS.P95)
		fmt.Fprintf(tw, "rollout: seconds until every customer reported\t%.0f\t\n", s.RolloutSeconds)
		fmt.Fprintf(tw, "rollout: Heroku calls (per customer)\t%d (%.2f)\t\n", s.RolloutCalls, s.RolloutCallsPer)
		fmt.Fprintf(tw, "rollout: minutes of a 4,500-an-hour budget\t%.1f\t\n", s.RolloutBudgetMinutes)
		fmt.Fprintf(tw, "rollout: updated / failed\t%d / %d\t\n", s.RolloutUpdated, s.RolloutFailed)
		_ = tw.Flush()
	}
	fmt.Fprintf(w, "\nStarts retried after ErrUnavailable (the worker too busy to answer in time): %d\n", r.StartRetries)
	if len(r.Failures) > 0 {
		fmt.Fprintf(w, "\nFAILURES (%d):\n  %s\n", len(r.Failures), strings.Join(r.Failures, "\n  "))
	} else {
		fmt.Fprintln(w, "\nCorrectness: every onboarding succeeded; no duplicate or orphaned add-on.")
	}
}

// Write saves report.json and latency.svg under dir.
func Write(dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	svg := cdfSVG("Latency distributions (CDF)", []series{
		{"start → authorization URL", r.Throughput.startToURL, "#79589f"},
		{"authorization → active", r.Throughput.authToA, "#2a9d8f"},
	})
	return os.WriteFile(filepath.Join(dir, "latency.svg"), []byte(svg), 0o644)
}

type series struct {
	name   string
	values []float64 // ms
	color  string
}

// cdfSVG draws the cumulative distributions on a log-scaled millisecond axis.
func cdfSVG(title string, ss []series) string {
	const w, h, left, right, top, bottom = 720, 400, 60, 20, 40, 50
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, v := range s.values {
			if v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1, 10
	}
	lo, hi = math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
	x := func(v float64) float64 {
		return left + (math.Log10(math.Max(v, lo))-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))*(w-left-right)
	}
	y := func(p float64) float64 { return top + (1-p)*(h-top-bottom) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`, w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="24" font-size="15">%s</text>`, left, title)
	for d := lo; d <= hi*1.0001; d *= 10 {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/><text x="%.1f" y="%d" text-anchor="middle">%g ms</text>`,
			x(d), top, x(d), h-bottom, x(d), h-bottom+18, d)
	}
	for _, p := range []float64{0, 0.5, 0.95, 1} {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">p%g</text>`,
			left, y(p), w-right, y(p), left-6, y(p)+4, p*100)
	}
	for i, s := range ss {
		v := append([]float64(nil), s.values...)
		sort.Float64s(v)
		var pts []string
		for k, val := range v {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(val), y(float64(k+1)/float64(len(v)))))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, s.color, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s (n=%d)</text>`,
			w-260, top+8+i*18, s.color, w-242, top+18+i*18, s.name, len(v))
	}
	b.WriteString(`</svg>`)
	return b.String()
}
