package config

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"

	"github.com/connect-onboarding/worker/internal/payloadcrypt"
)

func TestWorkerDefaults(t *testing.T) {
	var c Worker
	require.NoError(t, Load(&c))
	assert.Equal(t, "localhost:7233", c.Connection.Address())
	assert.Equal(t, "default", c.Connection.Namespace())
	assert.Equal(t, "onboarding", c.OnboardingQueue)
	assert.Equal(t, "heroku", c.HerokuQueue)
	assert.Equal(t, 30*time.Second, c.StopTimeout)
	assert.Equal(t, 4500, c.CallsPerHour)
	assert.Equal(t, Deployment{Versioning: true, Name: "connect-onboarding", BecomeCurrent: BecomeCurrentWhenNone}, c.Deployment)
}

// An unversioned worker's deployment names are not checked (they are not used).
func TestUnversionedIgnoresDeploymentNames(t *testing.T) {
	t.Setenv("WORKER_VERSIONING", "false")
	t.Setenv("WORKER_DEPLOYMENT_NAME", "a.b")
	var c Worker
	require.NoError(t, Load(&c))
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
		{"TEMPORAL_TLS_CLIENT_CERT_PATH", "/nonexistent.pem", "Temporal connection"},
		{"TEMPORAL_PROFILE", "nobody", "TEMPORAL_PROFILE"},
		// The names of before 1.0 are refused with the name Temporal reads.
		{"TEMPORAL_TLS_CERT", "client.pem", "set TEMPORAL_TLS_CLIENT_CERT_PATH"},
		{"TEMPORAL_TLS_KEY", "client.key", "set TEMPORAL_TLS_CLIENT_KEY_PATH"},
		{"TEMPORAL_TLS_CA", "ca.pem", "set TEMPORAL_TLS_SERVER_CA_CERT_PATH"},
		// Names Temporal refuses at every poll are refused at start.
		{"WORKER_DEPLOYMENT_NAME", "connect.onboarding", "WORKER_DEPLOYMENT_NAME=\"connect.onboarding\" must be 1 to 100 letters"},
		{"WORKER_DEPLOYMENT_NAME", "a:b", "Temporal refuses '.' and ':'"},
		{"WORKER_BUILD_ID", "v1 2", "WORKER_BUILD_ID=\"v1 2\" must be"},
		{"WORKER_BUILD_ID", "__unversioned__", "WORKER_BUILD_ID"},
		{"WORKER_BECOME_CURRENT", "sometimes", "WORKER_BECOME_CURRENT=\"sometimes\" must be when-none, always or never"},
		{"WORKER_VERSIONING", "maybe", "WORKER_VERSIONING"},
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
	b, _ := c.Connection.MarshalText()
	buf.Write(b)
	buf.WriteString(fmt.Sprintf("%v %+v", c.Connection, c.Temporal))
	assert.NotContains(t, buf.String(), "abcdef")
	assert.NotContains(t, buf.String(), "cloud-key")
}

func TestUsageListsEveryVariable(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Usage(&buf, &Worker{}))
	for _, v := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_PROFILE",
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

// A profile written by the temporal CLI (`temporal config set`) is what the worker connects
// with: address, namespace and API key from TEMPORAL_PROFILE in TEMPORAL_CONFIG_FILE, and the
// environment over the file, as the CLI reads them.
func TestTemporalCLIProfileConfiguresTheConnection(t *testing.T) {
	cli, err := filepath.Abs(filepath.Join("..", "..", "bin", "temporal"))
	require.NoError(t, err)
	require.FileExists(t, cli, "run make tools")
	file := filepath.Join(t.TempDir(), "temporal.toml")
	for prop, value := range map[string]string{"address": "prod.example:7233", "namespace": "onboarding-prod", "api_key": "cloud-key-123"} {
		cmd := exec.Command(cli, "config", "set", "--profile", "prod", "--prop", prop, "--value", value)
		cmd.Env = append(os.Environ(), "TEMPORAL_CONFIG_FILE="+file)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "temporal config set: %s", out)
	}
	t.Setenv("TEMPORAL_CONFIG_FILE", file)
	t.Setenv("TEMPORAL_PROFILE", "prod")
	var c Worker
	require.NoError(t, Load(&c))
	assert.Equal(t, "prod.example:7233", c.Connection.Address())
	assert.Equal(t, "onboarding-prod", c.Connection.Namespace())
	assert.Equal(t, "cloud-key-123", c.Connection.Profile.APIKey)
	assert.NotContains(t, fmt.Sprintf("%v %+v", c.Connection, c), "cloud-key", "the API key never prints")

	t.Setenv("TEMPORAL_NAMESPACE", "from-env")
	require.NoError(t, Load(&c))
	assert.Equal(t, "from-env", c.Connection.Namespace(), "the environment over the file, as the CLI")
}

// A token list that holds no token (",", " ", a rotation template with both variables
// unset) is no token: the codec server then refuses to listen beyond loopback.
func TestCodecServerTokensMustHoldAToken(t *testing.T) {
	t.Setenv("PAYLOAD_KEYS", "k:"+strings.Repeat("A", 43)+"=")
	t.Setenv("CODEC_ADDR", "0.0.0.0:8081")
	for _, tokens := range []string{"", ",", " ", " , ,"} {
		t.Setenv("CODEC_TOKENS", tokens)
		var c CodecServer
		err := Load(&c)
		require.Error(t, err, "CODEC_TOKENS=%q", tokens)
		assert.Contains(t, err.Error(), "CODEC_TOKENS must be set")
	}
	t.Setenv("CODEC_TOKENS", " , real-token ,")
	var c CodecServer
	require.NoError(t, Load(&c))
	assert.Equal(t, []string{"real-token"}, c.Tokens.List())
	assert.False(t, c.Open(), "a server with a token is never open")
	t.Setenv("CODEC_ADDR", "127.0.0.1:8081")
	t.Setenv("CODEC_TOKENS", ",")
	require.NoError(t, Load(&c))
	assert.True(t, c.Open(), "loopback without a token: open, as make run serves it")
}

// With keys, plaintext payloads are refused unless PAYLOAD_ALLOW_PLAINTEXT says a namespace
// written before its keys is being migrated (off by default).
func TestPlaintextPayloadsNeedTheMigrationSetting(t *testing.T) {
	t.Setenv("PAYLOAD_KEYS", "k:"+strings.Repeat("A", 43)+"=")
	plain, err := converter.GetDefaultDataConverter().ToPayload("written in clear")
	require.NoError(t, err)
	for _, tc := range []struct {
		setting string
		reads   bool
	}{{"", false}, {"false", false}, {"true", true}} {
		t.Setenv("PAYLOAD_ALLOW_PLAINTEXT", tc.setting)
		if tc.setting == "" {
			require.NoError(t, os.Unsetenv("PAYLOAD_ALLOW_PLAINTEXT"))
		}
		var p Payloads
		require.NoError(t, Load(&p))
		r, err := p.PayloadRing()
		require.NoError(t, err)
		var s string
		err = payloadcrypt.DataConverter(r).FromPayload(plain, &s)
		assert.Equal(t, tc.reads, err == nil, "PAYLOAD_ALLOW_PLAINTEXT=%q: %v", tc.setting, err)
	}
}
