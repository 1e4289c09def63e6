// Command herokusim serves the local Heroku simulator (see package herokusim).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/connect-onboarding/worker/internal/config"
	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/logging"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-h" || os.Args[1] == "--help") {
		fmt.Println("herokusim: a local Heroku (Platform, partner and Connect APIs, authorization page).\n\nSettings, from the environment:")
		_ = config.Usage(os.Stdout, &config.Simulator{})
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "herokusim:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg config.Simulator
	if err := config.Load(&cfg); err != nil {
		return err
	}
	log := logging.New(os.Stderr, cfg.Level, cfg.Format).With().Str("component", "herokusim").Logger()
	tokens, _ := config.ParsePairs(cfg.Tokens)
	apps, _ := config.ParsePairs(cfg.Apps)
	pairs, _ := config.ParsePairs(cfg.Members)
	members := map[string][]string{}
	for account, teams := range pairs {
		members[account] = strings.Split(teams, "|")
	}
	var faults []herokusim.Fault
	if cfg.Faults != "" {
		if err := json.Unmarshal([]byte(cfg.Faults), &faults); err != nil {
			return fmt.Errorf("SIM_FAULTS is not a JSON array of faults: %w", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (SIM_ADDR): %w; is another simulator running?", cfg.Addr, err)
	}
	public, page := cfg.PublicURL, cfg.PageURL
	if page == "" && public == "" {
		page = "http://" + ln.Addr().String()
	}
	sim, err := herokusim.New(herokusim.Config{
		PublicURL: public, PageURL: page, Tokens: tokens, Apps: apps, ProvisionDelay: cfg.ProvisionDelay, DeprovisionDelay: cfg.DeprovisionDelay,
		AuthURLTTL: cfg.AuthURLTTL, SyncDelay: cfg.SyncDelay, RateCapacity: cfg.RateCapacity, RatePerMinute: cfg.RatePerMinute,
		RetryAfter: cfg.RetryAfter, Members: members, DeactivationDelay: cfg.DeactivationDelay, Lenient: cfg.Lenient,
		StateFile: cfg.StateFile, Faults: faults,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Info().Str("addr", ln.Addr().String()).Str("page_url", page).Str("state_file", cfg.StateFile).Msg("herokusim listening")
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info().Msg("herokusim stopped")
	return sim.Close()
}
