package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/logo/logotest"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

const (
	apiToken = "api-token-1"
	org      = "00D000000000062"
	user     = "integration@customer.example"
	stateKey = testenv.StateKey
)

type env struct {
	dev *testenv.DevServer
	sim *testenv.Sim
	c   *onboarding.Client
}

func setup(t *testing.T) *env {
	t.Helper()
	s := testenv.StartStack(t)
	t.Setenv("TEMPORAL_ADDRESS", s.Dev.Address) // the starter command dials it
	t.Setenv("RETURN_STATE_KEY", testenv.StateKey)
	t.Setenv("PAYLOAD_KEYS", testenv.PayloadKeys)
	t.Setenv("LOG_LEVEL", "error")
	return &env{dev: s.Dev, sim: s.Sim, c: onboarding.New(s.Dev.Client, "", "")}
}

// cli runs the starter command as a user would, returning exit code, stdout and stderr.
func cliRun(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCLIPartnerAndOnboarding(t *testing.T) {
	e := setup(t)
	logo := filepath.Join(t.TempDir(), "logo.webp")
	require.NoError(t, os.WriteFile(logo, logotest.WebP(300, 300), 0o644))
	tiny := filepath.Join(t.TempDir(), "tiny.png")
	require.NoError(t, os.WriteFile(tiny, logotest.PNG(20, 20), 0o644))

	code, _, errOut := cliRun(t, "", "partner", "create", "acme", "--team", testenv.ISVTeam, "--isv-name", "Acme Sync", "--description", "Syncs",
		"--docs-url", "http://acme.example", "--contact-email", "dev@acme.example", "--logo-file", tiny)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "docs_url: must be an https URL")
	assert.Contains(t, errOut, "logo: is 20x20 pixels")

	code, out, errOut := cliRun(t, "", "partner", "create", "acme", "--team", testenv.ISVTeam, "--isv-name", "Acme Sync", "--description", "Syncs",
		"--docs-url", "https://acme.example", "--contact-email", "dev@acme.example", "--logo-file", logo)
	require.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(out, "✓ Created partner integration acme\n"), out)
	assert.Contains(t, out, "Status:        active")

	code, out, _ = cliRun(t, "", "partner", "update", "acme", "--description", "Syncs better", "--json")
	require.Equal(t, 0, code)
	var info contract.PartnerInfo
	require.NoError(t, json.Unmarshal([]byte(out), &info))
	assert.Equal(t, "Syncs better", info.Integration.Description)

	code, out, _ = cliRun(t, "", "partner", "info", "acme", "--refresh")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Description:   Syncs better")

	// Bad onboarding input: field errors, nothing created.
	code, _, errOut = cliRun(t, "", "onboard", "--isv", "acme", "--customer", "c1", "--app", testenv.ISVApp, "--org-id", "001", "--username", user)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "salesforce.sf_org_id")
	assert.Zero(t, e.sim.Snapshot().AddonsCreated)

	code, out, errOut = cliRun(t, "", "onboard", "--isv", "acme", "--customer", "c1", "--app", testenv.ISVApp, "--org-id", org, "--username", user, "--json")
	require.Equal(t, 0, code, errOut)
	var res contract.StartResult
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.NotEmpty(t, res.AuthorizationURL)

	testenv.SignIn(t, res.AuthorizationURL, org, user)
	require.NoError(t, e.c.CustomerReturned(context.Background(), "acme", "c1", 1))
	testenv.Eventually(t, 30*time.Second, "active", func() bool {
		code, out, _ := cliRun(t, "", "status", "--isv", "acme", "--customer", "c1")
		return code == 0 && strings.Contains(out, "Stage:            active")
	})
	code, out, _ = cliRun(t, "", "offboard", "--isv", "acme", "--customer", "c1")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "✓ Offboarded c1")
	assert.Contains(t, out, "Cleaned Up:")

	// Deactivation refuses without confirmation off a terminal, and with the wrong one.
	code, _, errOut = cliRun(t, "", "partner", "deactivate", "acme", "--team", testenv.ISVTeam)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--confirm acme")
	code, out, _ = cliRun(t, "", "partner", "deactivate", "acme", "--team", testenv.ISVTeam, "--confirm", "acme")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "✓ Deactivated partner integration acme")
	assert.Contains(t, out, "Complete:          true")

	code, _, errOut = cliRun(t, "", "frobnicate")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "unknown command")
}

// Issue 11: help and input checks need no Temporal server.
func TestHelpAndInputChecksWithoutAServer(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1") // nothing listens there
	for _, args := range [][]string{{"-h"}, {"partner", "--help"}, {"partner", "create", "-h"}, {"onboard", "-h"}, {"status", "--help"}, {"partner", "reconcile", "-h"}} {
		code, out, errOut := cliRun(t, "", args...)
		assert.Equal(t, 0, code, "%v: %s%s", args, out, errOut)
		assert.NotContains(t, out+errOut, "dial", "%v", args)
		assert.NotContains(t, out+errOut, "connection refused", "%v", args)
	}
	bad := filepath.Join(t.TempDir(), "logo.png")
	require.NoError(t, os.WriteFile(bad, []byte("not an image"), 0o644))
	code, out, errOut := cliRun(t, "", "partner", "create", "acme", "--team", "t", "--isv-name", "Acme", "--description", "d",
		"--docs-url", "https://acme.example", "--contact-email", "dev@acme.example", "--logo-file", bad)
	assert.NotEqual(t, 0, code)
	assert.Contains(t, out+errOut, "logo")
	assert.NotContains(t, out+errOut, "connection refused", "the logo is checked before dialing")
}

// `starter keys new` prints a token once and a key file line holding its hash, which
// `starter serve` reads from STARTER_API_KEYS_FILE; a bad file or no key at all stops serve
// before it listens, naming the line.
func TestKeysNewAndTheKeyFile(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
	t.Setenv("RETURN_STATE_KEY", strings.Repeat("k", 32))
	code, out, errOut := cliRun(t, "", "keys", "new", "--name", "billing", "--scope", "read:acme", "--scope", "write:acme", "--json")
	require.Equal(t, 0, code, errOut)
	var k struct {
		Token string `json:"token"`
		Line  string `json:"key_file_line"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &k))
	assert.True(t, strings.HasPrefix(k.Token, "cok_"), k.Token)
	assert.NotContains(t, k.Line, k.Token)
	assert.Regexp(t, `^billing sha256:[0-9a-f]{64} read:acme,write:acme$`, k.Line)

	code, _, errOut = cliRun(t, "", "keys", "new", "--name", "billing", "--scope", "everything")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `scope "everything"`)

	file := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(file, []byte(k.Line+"\nbroken-line\n"), 0o600))
	t.Setenv("STARTER_API_KEYS_FILE", file)
	code, out, errOut = cliRun(t, "", "serve")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, out+errOut, "line 2: want NAME sha256:HEX SCOPES")

	t.Setenv("STARTER_API_KEYS_FILE", "")
	t.Setenv("STARTER_API_TOKENS", " , ")
	code, out, errOut = cliRun(t, "", "serve")
	assert.Equal(t, 2, code)
	assert.Contains(t, out+errOut, "needs at least one key")
}
