package demo_test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/internal/dev/demo"
	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/dev/privacy"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Issue 15: a full run (a partner integration, an onboarding where the wrong user signs in
// first, the right one, offboarding, deactivation) on the stack `make run` starts, with its
// development payload key. Exported without the key, the histories, the visibility listing
// and every process's log hold no Salesforce username, org ID or contact email; exported
// through the codec server they do (so the scan is not blind).
func TestNoPersonalDataOutsidePayloads(t *testing.T) {
	cli := testenv.TemporalCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	logs := &testenv.Buffer{}
	s, err := devstack.StartFresh(ctx, devstack.Options{Root: testenv.Root(t), Out: logs, DataDir: t.TempDir(),
		SimEnv: []string{"SIM_PROVISION_DELAY=500ms", "SIM_LENIENT=true"}, WorkerEnv: []string{"LOG_LEVEL=debug", "LOG_FORMAT=json"}})
	require.NoError(t, err)
	defer s.Stop()
	tc, err := client.Dial(s.ClientOptions())
	require.NoError(t, err)
	defer tc.Close()

	const slug, wrongUser = "privacy-demo", "intruder@globex.example"
	var out bytes.Buffer
	defer func() {
		if t.Failed() { // what the processes said, to tell a slow machine from a stuck workflow
			t.Logf("the stack's log, last lines:\n%s", tail(logs.Bytes(), 60))
		}
	}()
	require.NoError(t, demo.Run(ctx, demo.Config{Temporal: tc, SimURL: s.SimURL, App: "acme-isv-app", Team: "acme-team", Patience: 3 * time.Minute, Out: &out,
		Slug: slug, WrongUser: wrongUser}), out.String())
	require.Contains(t, out.String(), "a fresh authorization URL #2 was issued")
	needles := []string{demo.User, demo.Org, wrongUser, demo.ContactEmail}

	export := func(id string, codec bool) []byte {
		args := []string{"workflow", "show", "--address", s.TemporalAddress, "--workflow-id", id, "--output", "json"}
		if codec {
			args = append(args, "--codec-endpoint", s.CodecURL)
		}
		b, err := exec.CommandContext(ctx, cli, args...).Output()
		require.NoError(t, err, "temporal %v", args)
		return b
	}
	for _, id := range []string{contract.ConnectionWorkflowID(slug, "globex"), contract.PartnerWorkflowID(slug)} {
		found, err := privacy.ScanJSON(export(id, false), needles...)
		require.NoError(t, err)
		assert.Empty(t, found, "%s exported without the key", id)
	}
	decoded, err := privacy.ScanJSON(export(contract.ConnectionWorkflowID(slug, "globex"), true), needles...)
	require.NoError(t, err)
	var got []string
	for _, f := range decoded {
		got = append(got, f.Needle)
	}
	assert.Subset(t, got, []string{demo.User, demo.Org, wrongUser}, "decoded through the codec server, the history holds the identities")

	list, err := exec.CommandContext(ctx, cli, "workflow", "list", "--address", s.TemporalAddress, "--output", "json").Output()
	require.NoError(t, err)
	found, err := privacy.ScanJSON(list, needles...)
	require.NoError(t, err)
	assert.Empty(t, found, "workflow IDs and search attributes")

	// Give the processes a moment to flush, then read every log line of the run.
	time.Sleep(500 * time.Millisecond)
	all := logs.Bytes()
	require.NotEmpty(t, all)
	assert.Empty(t, privacy.ScanLines(all, needles...), "logs of the run (%s)", filepath.Base(t.TempDir()))
}

// tail is the last n lines of b.
func tail(b []byte, n int) []byte {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, []byte("\n"))
}
