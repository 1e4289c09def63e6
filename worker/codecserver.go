package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/connect-onboarding/worker/internal/codecserver"
	"github.com/connect-onboarding/worker/internal/config"
	"github.com/connect-onboarding/worker/internal/logging"
	"github.com/connect-onboarding/worker/internal/payloadcrypt"
)

// codecServer is `worker codec-server`: Temporal's remote codec over the worker's key ring,
// for the Web UI and the CLI. It ships in the worker's binary and image because it needs
// exactly the worker's PAYLOAD_KEYS, and nothing else of it.
func codecServer(ctx context.Context, args []string) int {
	if len(args) > 0 {
		fmt.Println("worker codec-server: serves Temporal's remote codec (/encode, /decode) so the Web UI and\n`temporal --codec-endpoint` show payloads decrypted.\n\nSettings, from the environment:")
		_ = config.Usage(os.Stdout, &config.CodecServer{})
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			return 0
		}
		return 2
	}
	var cfg config.CodecServer
	if err := config.Load(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, "worker codec-server: configuration:", err)
		return 2
	}
	log := logging.New(os.Stderr, cfg.Level, cfg.Format).With().Str("component", "codec-server").Logger()
	if err := serveCodec(ctx, cfg, log); err != nil {
		log.Error().Err(err).Msg("codec server stopped with an error")
		return 1
	}
	return 0
}

func serveCodec(ctx context.Context, cfg config.CodecServer, log zerolog.Logger) error {
	ring, err := cfg.PayloadRing()
	if err != nil {
		return err
	}
	tokens := cfg.Tokens.List()
	h := codecserver.Handler(codecserver.Options{Codec: payloadcrypt.NewCodec(ring), Tokens: tokens, Open: cfg.Open(), Origins: cfg.CORSOrigins, Log: log})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (CODEC_ADDR): %w", cfg.Addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, MaxHeaderBytes: 16 << 10}
	log.Info().Str("addr", ln.Addr().String()).Strs("keys", ring.IDs()).Bool("token_required", len(tokens) > 0).
		Strs("cors_origins", cfg.CORSOrigins).Msg("codec server started")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newPayloadKey is `worker new-payload-key ID`: prints "ID:base64key" of 32 random bytes, an
// entry for PAYLOAD_KEYS (put it first to rotate; keep the old entries after it).
func newPayloadKey(args []string) int {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(os.Stderr, "usage: worker new-payload-key ID   (ID: 1-64 letters, digits, '.', '_' or '-', e.g. 2026-11)")
		return 2
	}
	entry, err := payloadcrypt.NewKey(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker new-payload-key:", err)
		return 2
	}
	fmt.Println(entry)
	return 0
}
