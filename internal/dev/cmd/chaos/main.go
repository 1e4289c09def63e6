// Command chaos runs the fault scenarios of internal/dev/chaos and exits non-zero when a
// guarantee is broken (a duplicate add-on, an orphan, a lost customer, the budget exceeded).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/connect-onboarding/worker/internal/dev/chaos"
)

func main() {
	var o chaos.Options
	scenarios := flag.String("scenarios", "baseline,crashes,storm", "which scenarios to run, comma-separated (and upgrade, with -cluster)")
	flag.BoolVar(&o.Cluster, "cluster", false, "run each scenario on make cluster's topology (make cluster-tools first)")
	flag.IntVar(&o.N, "n", 200, "onboardings per scenario")
	flag.IntVar(&o.Kills, "kills", 10, "worker SIGKILLs in the crash scenario (the Temporal server also restarts once)")
	flag.IntVar(&o.CallsPerHour, "calls-per-hour", 36000, "the Heroku budget the worker holds to")
	flag.DurationVar(&o.Deadline, "deadline", 10*time.Minute, "per scenario, for every customer to settle")
	out := flag.String("json", "", "also write the results to this file")
	flag.Parse()
	o.Scenarios = strings.Split(*scenarios, ",")
	root, err := chaos.Root()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
	o.Root = root
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	results, err := chaos.Run(ctx, o)
	if *out != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		_ = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
	fmt.Printf("\n%d scenarios in %s\n", len(results), time.Since(start).Round(time.Second))
	broken := false
	for _, r := range results {
		if r.Broken() {
			broken = true
			fmt.Printf("BROKEN %s: %s\n", r.Scenario, strings.Join(r.Problems, "; "))
		}
	}
	if broken {
		os.Exit(1)
	}
	fmt.Println("every guarantee held: no duplicate add-on, no orphan, no lost customer, the budget held")
}
