package devstack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/internal/payloadcrypt"
)

// DevKeysFile is where the development payload key ring lives, under the repository root.
const DevKeysFile = "data/payload-keys"

// EnsureKeyFile creates path with one fresh payload key unless it exists, readable by its
// owner only. Concurrent callers all end up with the one file that won.
func EnsureKeyFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { // the file itself is 0600
		return err
	}
	entry, err := payloadcrypt.NewKey("dev-" + time.Now().UTC().Format("20060102"))
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	text := "# Development payload keys of `make run` and `make cluster` (id:base64-key, the first encrypts).\n" +
		"# Generated; never use it in production. Delete data/ to start over.\n" + entry + "\n"
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// payloadKeys decides the stack's key ring: the environment's when it sets one, else the
// development ring under data/ (made on first use). It returns what the children need in
// their environment.
func (s *Stack) payloadKeys(o Options) ([]string, error) {
	if os.Getenv("PAYLOAD_KEYS") != "" || os.Getenv("PAYLOAD_KEYS_FILE") != "" {
		r, err := payloadcrypt.Load(os.Getenv("PAYLOAD_KEYS"), os.Getenv("PAYLOAD_KEYS_FILE"))
		if err != nil {
			return nil, err
		}
		s.PayloadRing = r
		return nil, nil // the children inherit the environment
	}
	path := filepath.Join(o.Root, DevKeysFile)
	if err := EnsureKeyFile(path); err != nil {
		return nil, fmt.Errorf("development payload key %s: %w", path, err)
	}
	r, err := payloadcrypt.Load("", path)
	if err != nil {
		return nil, err
	}
	s.PayloadKeysFile, s.PayloadRing = path, r
	return []string{"PAYLOAD_KEYS_FILE=" + path}, nil
}

// ClientOptions dial the stack's Temporal with its payload encryption.
func (s *Stack) ClientOptions() client.Options {
	return client.Options{HostPort: s.TemporalAddress, Logger: quiet{},
		DataConverter: payloadcrypt.DataConverter(s.PayloadRing), FailureConverter: payloadcrypt.FailureConverter(s.PayloadRing)}
}
