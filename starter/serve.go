package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/connect-onboarding/worker/internal/tracing"
	"github.com/connect-onboarding/worker/starter/api"
)

func (a *cli) serve(ctx context.Context, args []string) error {
	fs := a.flags("serve")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	keys, err := a.apiKeys()
	if err != nil {
		return err
	}
	if a.cfg.StateKey == "" {
		return usagef("RETURN_STATE_KEY is empty: the return endpoint cannot check states without the worker's key")
	}
	ln, err := net.Listen("tcp", a.cfg.ServeAddr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (STARTER_ADDR): %w", a.cfg.ServeAddr, err)
	}
	h := api.New(a.c, keys, []byte(a.cfg.StateKey.Reveal()), strings.TrimRight(a.cfg.PublicURL, "/")+"/return", a.log)
	srv := api.NewServer(tracing.Handler(h)) // server spans when OTEL_* asks for traces (a no-op tracer otherwise)
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

// apiKeys are the keys of STARTER_API_KEYS_FILE and, of full access, STARTER_API_TOKENS.
func (a *cli) apiKeys() (*api.Keys, error) {
	keys := &api.Keys{}
	if a.cfg.APIKeysFile != "" {
		f, err := os.Open(a.cfg.APIKeysFile)
		if err != nil {
			return nil, fmt.Errorf("STARTER_API_KEYS_FILE: %w", err)
		}
		defer f.Close()
		if keys, err = api.ParseKeys(f); err != nil {
			return nil, fmt.Errorf("STARTER_API_KEYS_FILE %s: %w", a.cfg.APIKeysFile, err)
		}
	}
	for i, t := range a.cfg.APITokens.List() {
		keys.FullAccess(fmt.Sprintf("api-token-%d", i+1), t)
	}
	if keys.Len() == 0 {
		return nil, usagef("the HTTP API needs at least one key: STARTER_API_KEYS_FILE (scoped keys, starter keys new makes one) or STARTER_API_TOKENS")
	}
	return keys, nil
}

// keysNew makes a scoped API key: the token on stdout, once, and the key file's line.
func (a *cli) keysNew(args []string) error {
	fs := a.flags("keys new")
	name := fs.String("name", "", "the key's name, shown in logs and GET /v1/keys (lowercase, digits, dashes)")
	var scopes []string
	fs.Func("scope", "a scope, repeatable: read:SLUG, write:SLUG or deactivate:SLUG (SLUG * for every integration)", func(v string) error {
		scopes = append(scopes, v)
		return nil
	})
	if _, err := parse(fs, args); err != nil {
		return err
	}
	token, line, err := api.NewKey(*name, scopes)
	if err != nil {
		return usagef("%v", err)
	}
	if a.json {
		return json.NewEncoder(a.out).Encode(map[string]string{"token": token, "key_file_line": line})
	}
	fmt.Fprintf(a.out, "token (give it to the caller; it is shown only now):\n  %s\nline for STARTER_API_KEYS_FILE:\n  %s\n", token, line)
	return nil
}
