package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/connect-onboarding/worker/starter/api"
)

func (a *cli) serve(ctx context.Context, args []string) error {
	fs := a.flags("serve")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	var tokens [][]byte
	for _, t := range a.cfg.APITokens.List() {
		tokens = append(tokens, []byte(t))
	}
	if len(tokens) == 0 {
		return usagef("STARTER_API_TOKENS is empty: the HTTP API needs at least one bearer token")
	}
	if a.cfg.StateKey == "" {
		return usagef("RETURN_STATE_KEY is empty: the return endpoint cannot check states without the worker's key")
	}
	ln, err := net.Listen("tcp", a.cfg.ServeAddr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (STARTER_ADDR): %w", a.cfg.ServeAddr, err)
	}
	h := api.New(a.c, tokens, []byte(a.cfg.StateKey.Reveal()), strings.TrimRight(a.cfg.PublicURL, "/")+"/return", a.log)
	srv := api.NewServer(h)
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	a.log.Info().Str("addr", ln.Addr().String()).Str("return_url", h.ReturnURL()).Msg("starter serve listening")
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
