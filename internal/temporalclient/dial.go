// Package temporalclient turns the Temporal settings into client options: the same code
// dials the dev server, a self-hosted cluster (mTLS) and Temporal Cloud (API key or mTLS).
package temporalclient

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/internal/config"
	"github.com/connect-onboarding/worker/internal/logging"
	"github.com/connect-onboarding/worker/internal/payloadcrypt"
)

// Options builds client.Options from cfg. metrics may be nil.
func Options(cfg config.Temporal, zl zerolog.Logger, metrics client.MetricsHandler) (client.Options, error) {
	ring, err := cfg.PayloadRing()
	if err != nil {
		return client.Options{}, err
	}
	opts := client.Options{
		HostPort:       cfg.Address,
		Namespace:      cfg.Namespace,
		Logger:         logging.NewTemporal(zl),
		MetricsHandler: metrics,
		// Payloads and failure messages are encrypted when keys are configured: workers,
		// starters and tools must share the ring to read each other's payloads.
		DataConverter:    payloadcrypt.DataConverter(ring),
		FailureConverter: payloadcrypt.FailureConverter(ring),
	}
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return client.Options{}, err
	}
	if tlsCfg != nil {
		opts.ConnectionOptions.TLS = tlsCfg
	}
	if cfg.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.APIKey.Reveal())
	}
	return opts, nil
}

// Dial connects with the options above. The error names the address, never the API key.
func Dial(cfg config.Temporal, zl zerolog.Logger, metrics client.MetricsHandler) (client.Client, error) {
	opts, err := Options(cfg, zl, metrics)
	if err != nil {
		return nil, err
	}
	return DialOptions(cfg, opts)
}

// DialOptions connects with options built by Options (the worker keeps them for their
// data converter).
func DialOptions(cfg config.Temporal, opts client.Options) (client.Client, error) {
	c, err := client.Dial(opts)
	if err != nil {
		return nil, fmt.Errorf("dial Temporal at %s (namespace %s): %w", cfg.Address, cfg.Namespace, err)
	}
	return c, nil
}

func tlsConfig(cfg config.Temporal) (*tls.Config, error) {
	if cfg.TLSCert == "" && cfg.TLSCA == "" && cfg.TLSServer == "" {
		return nil, nil // plain, or TLS implied by the API key
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLSServer}
	if cfg.TLSCert != "" {
		pair, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	if cfg.TLSCA != "" {
		pem, err := os.ReadFile(cfg.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA=%q holds no PEM certificate", cfg.TLSCA)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// Lazy builds a client that connects on its first call: a command line can print help and
// check its input without a server, and says "connection refused" only when it needs one.
func Lazy(cfg config.Temporal, zl zerolog.Logger, metrics client.MetricsHandler) (client.Client, error) {
	opts, err := Options(cfg, zl, metrics)
	if err != nil {
		return nil, err
	}
	return client.NewLazyClient(opts)
}
