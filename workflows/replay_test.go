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
)

// The replay fixtures were recorded from the dev server by `make fixtures`, one set per
// release, each at the commit its manifest names. Replaying every one of them against
// today's code proves a change did not break workflows already running.

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
				// Recorded encrypted: the input is ciphertext under the named test key.
				in := hist.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
				require.NotEmpty(t, in)
				assert.Equal(t, payloadcrypt.Encoding, string(in[0].GetMetadata()["encoding"]))
				assert.Equal(t, rec.PayloadKeyID, string(in[0].GetMetadata()[payloadcrypt.MetadataKeyID]))
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

// Every history file in the tree is in a manifest (a file no manifest names would never be
// replayed) and every manifest entry has its file; each recording is named for its release,
// names its commit and key, and covers every workflow of its release (the change IDs its
// manifest records: a workflow added later has none in older recordings).
func TestReplayFixturesAreComplete(t *testing.T) {
	listed := map[string]bool{}
	for _, rec := range recordings(t) {
		assert.Equal(t, filepath.Base(rec.Dir), rec.Release, "%s is named for its release", rec.Dir)
		assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{40}$`), rec.Commit, "%s names the commit it was recorded at", rec.Dir)
		assert.NotEmpty(t, rec.PayloadKeyID, "%s names its payload key", rec.Dir)
		seen := map[string]bool{}
		for _, f := range rec.Fixtures {
			listed[filepath.Join(rec.Dir, f.File)] = true
			seen[f.Workflow] = true
			_, err := os.Stat(filepath.Join(rec.Dir, f.File))
			assert.NoError(t, err)
		}
		for _, l := range workflows.Versions() {
			if _, existed := rec.Versions[l.ChangeID]; existed {
				assert.True(t, seen[l.Workflow], "%s has no history of %s", rec.Dir, l.Workflow)
			}
		}
	}
	files, err := replay.Files(replayRoot)
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		assert.True(t, listed[f], "%s is in no manifest, so it never replays", f)
	}
}

// Every version of every workflow's version list has a recording made at it.
func TestEveryVersionHasFixtures(t *testing.T) {
	recs := recordings(t)
	lists := workflows.Versions()
	reg := &registered{}
	workflows.Register(reg)
	var listed []string
	for _, l := range lists {
		listed = append(listed, l.Workflow)
	}
	require.ElementsMatch(t, reg.names, listed, "one version list per registered workflow")
	for _, l := range lists {
		require.NotEmpty(t, l.Versions, l.Workflow)
		assert.Equal(t, int(workflow.DefaultVersion), l.Versions[0], "%s's list starts at its first release's shape", l.Workflow)
		for _, v := range l.Versions {
			found := false
			for _, rec := range recs {
				got, ok := rec.Versions[l.ChangeID]
				for _, f := range rec.Fixtures {
					found = found || ok && got == v && f.Workflow == l.Workflow
				}
			}
			assert.True(t, found, "%s (change ID %q) version %d has no fixtures: commit, add a CHANGELOG release, then run `make fixtures`", l.Workflow, l.ChangeID, v)
		}
	}
}

// workflow.GetVersion is called in one place, the version lists' hasMinVersion: a change ID
// anywhere else would be a version outside the lists.
func TestGetVersionOnlyThroughTheVersionLists(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "versions.go" {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.NotContains(t, string(b), "GetVersion(", "%s calls workflow.GetVersion: branch with a version list's hasMinVersion (versions.go)", f)
	}
}

// registered keeps the names workflows.Register registers.
type registered struct{ names []string }

func (r *registered) RegisterWorkflow(any) {
	panic("every workflow is registered under its contract name")
}
func (r *registered) RegisterWorkflowWithOptions(_ any, o workflow.RegisterOptions) {
	r.names = append(r.names, o.Name)
}
func (r *registered) RegisterDynamicWorkflow(any, workflow.DynamicRegisterOptions) {
	panic("no dynamic workflow")
}
