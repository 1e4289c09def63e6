package workflows_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/internal/dev/replay"
	"github.com/connect-onboarding/worker/internal/payloadcrypt"
	"github.com/connect-onboarding/worker/workflows"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// The replay fixtures were recorded from the dev server by `make fixtures`, each recording
// at the commit its manifest names. Replaying every one of them against today's code proves
// a change did not break workflows already running; a workflow.GetVersion change without a
// recording made at its newest version fails here.

var replayRoot = filepath.Join("testdata", "replay")

func recordings(t *testing.T) []replay.Recording {
	t.Helper()
	recs, err := replay.Load(replayRoot)
	require.NoError(t, err)
	require.NotEmpty(t, recs, "no replay fixtures: run `make fixtures`")
	return recs
}

func TestReplayRecordedHistories(t *testing.T) {
	ring, err := replay.Ring("..")
	require.NoError(t, err)
	for _, rec := range recordings(t) {
		for _, f := range rec.Fixtures {
			t.Run(filepath.Base(rec.Dir)+"/"+f.Scenario, func(t *testing.T) {
				hist, err := replay.History(filepath.Join(rec.Dir, f.File))
				require.NoError(t, err)
				require.NotEmpty(t, hist.Events)
				if rec.PayloadKeyID != "" {
					// Recorded encrypted: the input is ciphertext under the named test key.
					in := hist.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
					require.NotEmpty(t, in)
					assert.Equal(t, payloadcrypt.Encoding, string(in[0].GetMetadata()["encoding"]))
					assert.Equal(t, rec.PayloadKeyID, string(in[0].GetMetadata()[payloadcrypt.MetadataKeyID]))
				}
				r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
					DataConverter: payloadcrypt.DataConverter(ring), FailureConverter: payloadcrypt.FailureConverter(ring)})
				require.NoError(t, err)
				workflows.Register(r)
				opts := worker.ReplayWorkflowHistoryOptions{}
				if f.WorkflowID != "" {
					opts.OriginalExecution = workflow.Execution{ID: f.WorkflowID}
				}
				require.NoError(t, r.ReplayWorkflowHistoryWithOptions(nil, hist, opts), "replaying %s", f.File)
			})
		}
	}
}

// Every fixture file is in its manifest and every manifest entry has its file; each
// recording names its commit and covers the customer and watcher workflows.
func TestReplayFixturesAreComplete(t *testing.T) {
	for _, rec := range recordings(t) {
		assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{40}$`), rec.Commit, "%s names the commit it was recorded at", rec.Dir)
		listed := map[string]bool{}
		seen := map[string]bool{}
		for _, f := range rec.Fixtures {
			listed[f.File] = true
			seen[f.Workflow] = true
			_, err := os.Stat(filepath.Join(rec.Dir, f.File))
			assert.NoError(t, err)
		}
		files, _ := filepath.Glob(filepath.Join(rec.Dir, "*.json.gz"))
		for _, f := range files {
			assert.True(t, listed[filepath.Base(f)], "%s is not in the manifest", f)
		}
		assert.True(t, seen[contract.ConnectionWorkflowName], rec.Dir)
		assert.True(t, seen[contract.WatcherWorkflowName], rec.Dir)
		if !strings.HasPrefix(filepath.Base(rec.Dir), "54c5f95") { // recorded before the partner workflow existed
			assert.True(t, seen[contract.PartnerWorkflowName], rec.Dir)
		}
	}
}

// A versioned change needs a recording made at its newest version.
func TestEveryVersionedChangeHasFixtures(t *testing.T) {
	want, err := replay.VersionsInSource(".")
	require.NoError(t, err)
	have := map[string]int{}
	for _, rec := range recordings(t) {
		for id, v := range rec.Versions {
			if v > have[id] {
				have[id] = v
			}
		}
	}
	for id, v := range want {
		assert.GreaterOrEqual(t, have[id], v, "change %q is at version %d but no fixtures were recorded at it: commit, then run `make fixtures`", id, v)
	}
	t.Logf("versioned changes: %v", want)
}
