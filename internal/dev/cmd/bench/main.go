// Command bench is `make bench`: see package bench. Sizes, rates and delays are flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/connect-onboarding/worker/internal/dev/bench"
	"github.com/connect-onboarding/worker/internal/dev/devstack"
)

func main() {
	var o bench.Options
	var sizes, out string
	flag.IntVar(&o.Onboardings, "n", 500, "scenario 1: onboardings")
	flag.IntVar(&o.Concurrency, "concurrency", 32, "clients starting onboardings at once")
	flag.StringVar(&sizes, "waiting", "500", "scenario 2: numbers of waiting customers, comma-separated (10000 takes about 20 minutes on 2 cores)")
	flag.Float64Var(&o.SilentShare, "silent", 0.05, "scenario 2: share of waiting customers who authorize silently")
	flag.Float64Var(&o.TimeScale, "scale", 100, "scenario 2: simulated seconds per real second (30s watcher interval / scale)")
	flag.DurationVar(&o.Window, "window", 40*time.Second, "scenario 2: real measuring window")
	flag.IntVar(&o.BaselineLimit, "baseline-pollers", 500, "scenario 2: per-workflow pollers actually run (extrapolated to all)")
	flag.IntVar(&o.BurstCustomers, "burst", 20, "customers of the saturated burst at the real budget, run with budget-aware ordering and on the default matcher (0: skip)")
	flag.IntVar(&o.EventsOnboardings, "events", 50, "scenario 5 (lifecycle events): onboardings per integration, with no receiver, a dead one and a live one (0: skip)")
	flag.IntVar(&o.SyncCustomers, "sync", 500, "scenario 6 (data flowing): customers onboarded with a mapping template, then given a new one (0: skip; 500 keeps the defaults under 10 minutes)")
	flag.StringVar(&out, "out", ".bench", "folder of report.json and latency.svg")
	flag.Parse()
	for _, s := range strings.Split(sizes, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "bench: -waiting must be positive numbers")
			os.Exit(2)
		}
		o.WaitingSizes = append(o.WaitingSizes, n)
	}
	root, err := devstack.FindRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	o.Root, o.Out = root, os.Stdout
	dir := filepath.Join(root, out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	logFile, err := os.Create(filepath.Join(dir, "stack.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	defer logFile.Close()
	o.StackLog = logFile
	// The 10,000-customer run takes most of an hour on 2 cores.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Hour)
	defer cancel()
	rep, err := bench.Run(ctx, o)
	if rep != nil {
		bench.PrintTable(os.Stdout, rep)
		if werr := bench.Write(dir, rep); werr != nil {
			fmt.Fprintln(os.Stderr, "bench: write report:", werr)
		} else {
			fmt.Printf("\nReport: %s/report.json, chart: %s/latency.svg, the stacks' output: %s/stack.log\n", dir, dir, dir)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
