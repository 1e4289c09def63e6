package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWorkerDefaults(t *testing.T) {
	var c Worker
	require.NoError(t, Load(&c))
	assert.Equal(t, "localhost:7233", c.Address)
	assert.Equal(t, "default", c.Namespace)
	assert.Equal(t, "onboarding", c.OnboardingQueue)
	assert.Equal(t, "heroku", c.HerokuQueue)
	assert.Equal(t, 30*time.Second, c.StopTimeout)
	assert.Equal(t, 4500, c.CallsPerHour)
}

func TestBadValuesNameTheVariable(t *testing.T) {
	cases := []struct {
		env, value, want string
	}{
		{"WORKER_STOP_TIMEOUT", "soon", "WORKER_STOP_TIMEOUT"},
		{"HEROKU_CALLS_PER_HOUR", "many", "HEROKU_CALLS_PER_HOUR"},
		{"HEROKU_CALLS_PER_HOUR", "0", "HEROKU_CALLS_PER_HOUR must be positive"},
		{"LOG_LEVEL", "loud", "LOG_LEVEL"},
		{"LOG_FORMAT", "xml", "LOG_FORMAT"},
		{"TEMPORAL_ADDRESS", "localhost", "TEMPORAL_ADDRESS"},
		{"HEROKU_API_URL", "ftp://x", "HEROKU_API_URL"},
		{"TEMPORAL_TLS_CERT", "/nonexistent.pem", "TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together"},
	}
	for _, tc := range cases {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			var c Worker
			err := Load(&c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	t.Setenv("HEROKU_API_TOKEN", "hrku-abcdef")
	t.Setenv("TEMPORAL_API_KEY", "cloud-key-123")
	var c Worker
	require.NoError(t, Load(&c))
	assert.Equal(t, "hrku-abcdef", c.Token.Reveal())
	var buf bytes.Buffer
	buf.WriteString(c.Token.String())
	b, _ := c.APIKey.MarshalText()
	buf.Write(b)
	assert.NotContains(t, buf.String(), "abcdef")
	assert.NotContains(t, buf.String(), "cloud-key")
}

func TestUsageListsEveryVariable(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Usage(&buf, &Worker{}))
	for _, v := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_TLS_CERT",
		"TEMPORAL_TASK_QUEUE", "TEMPORAL_HEROKU_TASK_QUEUE", "HEROKU_API_URL", "HEROKU_CONNECT_URL", "HEROKU_API_TOKEN",
		"LOG_LEVEL", "LOG_FORMAT", "WORKER_HTTP_ADDR", "WORKER_STOP_TIMEOUT"} {
		assert.Contains(t, buf.String(), v)
	}
	assert.Contains(t, buf.String(), "localhost:7233")
}

// The README's configuration table names every variable of the worker and the starter.
func TestReadmeListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	for _, spec := range []any{&Worker{}, &Starter{}, &CodecServer{}} {
		var buf bytes.Buffer
		require.NoError(t, Usage(&buf, spec))
		for _, line := range strings.Split(buf.String(), "\n")[1:] {
			if f := strings.Fields(line); len(f) > 0 {
				assert.Contains(t, string(readme), "`"+f[0], "README misses %s", f[0])
			}
		}
	}
}
