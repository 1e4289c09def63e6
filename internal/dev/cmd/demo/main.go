// Command demo is `make demo`: it runs the demo against the stack of `make run`.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/connect-onboarding/worker/internal/config"
	"github.com/connect-onboarding/worker/internal/dev/demo"
	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/temporalclient"
)

func main() {
	var cfg config.Starter
	if os.Getenv("PAYLOAD_KEYS") == "" && os.Getenv("PAYLOAD_KEYS_FILE") == "" {
		// make run and make cluster encrypt with the development key they keep under data/.
		if root, err := devstack.FindRoot(); err == nil {
			if _, err := os.Stat(filepath.Join(root, devstack.DevKeysFile)); err == nil {
				os.Setenv("PAYLOAD_KEYS_FILE", filepath.Join(root, devstack.DevKeysFile))
			}
		}
	}
	if err := config.Load(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(2)
	}
	sim := os.Getenv("SIM_URL")
	if sim == "" {
		sim = "http://127.0.0.1:5100"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tc, err := temporalclient.Dial(cfg.Temporal, zerolog.Nop(), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo: is `make run` up in another terminal?", err)
		os.Exit(1)
	}
	defer tc.Close()
	err = demo.Run(ctx, demo.Config{Temporal: tc, SimURL: sim, App: "acme-isv-app", Team: "acme-team", UIURL: "http://localhost:8233", Out: os.Stdout})
	if err != nil {
		fmt.Fprintln(os.Stderr, "\ndemo failed:", err)
		os.Exit(1)
	}
}
