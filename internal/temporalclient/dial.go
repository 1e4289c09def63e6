// Package temporalclient turns the Temporal settings into client options: the same code
// dials the dev server, a self-hosted cluster (mTLS) and Temporal Cloud (API key or mTLS).
package temporalclient

import (
	"fmt"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/client"
	temporalenv "go.temporal.io/sdk/contrib/envconfig"

	"github.com/connect-onboarding/worker/internal/config"
	"github.com/connect-onboarding/worker/internal/logging"
	"github.com/connect-onboarding/worker/internal/payloadcrypt"
	"github.com/connect-onboarding/worker/internal/tracing"
)

// Options builds client.Options from cfg: the connection from Temporal's environment
// configuration (as the temporal CLI reads it), the logger, the metrics (may be nil) and the
// payload codec.
func Options(cfg config.Temporal, zl zerolog.Logger, metrics client.MetricsHandler) (client.Options, error) {
	ring, err := cfg.PayloadRing()
	if err != nil {
		return client.Options{}, err
	}
	conn := cfg.Connection
	if conn.Address() == "" { // not read by config.Load
		if conn, err = config.LoadTemporalConnection(); err != nil {
			return client.Options{}, err
		}
	}
	opts, err := conn.Profile.ToClientOptions(temporalenv.ToClientOptionsRequest{})
	if err != nil {
		return client.Options{}, fmt.Errorf("the Temporal connection: %w", err)
	}
	opts.Logger = logging.NewTemporal(zl)
	opts.MetricsHandler = metrics
	// Payloads and failure messages are encrypted when keys are configured: workers,
	// starters and tools must share the ring to read each other's payloads.
	opts.DataConverter = payloadcrypt.DataConverter(ring)
	opts.FailureConverter = payloadcrypt.FailureConverter(ring)
	if tracing.Enabled() {
		// Starts, updates, signals and queries carry the caller's trace in their headers;
		// a worker's workflows and activities continue it.
		ic, err := tracing.Interceptor()
		if err != nil {
			return client.Options{}, fmt.Errorf("tracing: %w", err)
		}
		opts.Interceptors = append(opts.Interceptors, ic)
	}
	return opts, nil
}

// Dial connects with the options above. The error names the address, never the API key.
func Dial(cfg config.Temporal, zl zerolog.Logger, metrics client.MetricsHandler) (client.Client, error) {
	opts, err := Options(cfg, zl, metrics)
	if err != nil {
		return nil, err
	}
	return DialOptions(opts)
}

// DialOptions connects with options built by Options (the worker keeps them for their
// data converter).
func DialOptions(opts client.Options) (client.Client, error) {
	c, err := client.Dial(opts)
	if err != nil {
		return nil, fmt.Errorf("dial Temporal at %s (namespace %s): %w", opts.HostPort, opts.Namespace, err)
	}
	return c, nil
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
