package workflows_test

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/connect-onboarding/worker/workflows"
)

// The replay fixtures were recorded from the dev server by `make fixtures` at the commit
// their manifest names. Replaying them against today's code proves a change did not break
// running workflows; a workflow.GetVersion change without a fixture recorded at its version
// fails here.

type manifest struct {
	Commit   string         `json:"commit"`
	Versions map[string]int `json:"versions"`
	Fixtures []struct {
		File, Workflow, Scenario string
	} `json:"fixtures"`
}

func readManifest(t *testing.T) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "replay", "manifest.json"))
	require.NoError(t, err, "no replay fixtures: run `make fixtures`")
	var m manifest
	require.NoError(t, json.Unmarshal(b, &m))
	require.NotEmpty(t, m.Fixtures)
	require.Regexp(t, `^[0-9a-f]{40}$`, m.Commit, "fixtures name the commit they come from")
	return m
}

func TestReplayRecordedHistories(t *testing.T) {
	m := readManifest(t)
	for _, f := range m.Fixtures {
		t.Run(f.Scenario, func(t *testing.T) {
			fh, err := os.Open(filepath.Join("testdata", "replay", f.File))
			require.NoError(t, err)
			defer fh.Close()
			zr, err := gzip.NewReader(fh)
			require.NoError(t, err)
			hist, err := client.HistoryFromJSON(zr, client.HistoryJSONOptions{})
			require.NoError(t, err)
			require.NotEmpty(t, hist.Events)
			r := worker.NewWorkflowReplayer()
			workflows.Register(r)
			require.NoError(t, r.ReplayWorkflowHistory(nil, hist), "replaying %s", f.File)
		})
	}
}

// Every fixture file is in the manifest, and every manifest entry has its file.
func TestReplayFixturesAreComplete(t *testing.T) {
	m := readManifest(t)
	listed := map[string]bool{}
	for _, f := range m.Fixtures {
		listed[f.File] = true
		_, err := os.Stat(filepath.Join("testdata", "replay", f.File))
		assert.NoError(t, err)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "replay", "*.json.gz"))
	for _, f := range files {
		assert.True(t, listed[filepath.Base(f)], "%s is not in the manifest", f)
	}
	workflowsSeen := map[string]bool{}
	for _, f := range m.Fixtures {
		workflowsSeen[f.Workflow] = true
	}
	assert.True(t, workflowsSeen[workflows.ConnectionWorkflowName])
	assert.True(t, workflowsSeen[workflows.WatcherWorkflowName])
}

var getVersionCall = regexp.MustCompile(`workflow\.GetVersion\([^,]+,\s*"([^"]+)"\s*,\s*[^,]+,\s*([0-9]+)\)`)

// A versioned change needs fixtures recorded at its newest version.
func TestEveryVersionedChangeHasFixtures(t *testing.T) {
	m := readManifest(t)
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, match := range getVersionCall.FindAllStringSubmatch(string(b), -1) {
			found++
			v, _ := strconv.Atoi(match[2])
			assert.GreaterOrEqual(t, m.Versions[match[1]], v,
				"%s: change %q is at version %d but no fixture was recorded at it: run `make fixtures` after committing", f, match[1], v)
		}
	}
	t.Logf("%d versioned changes checked", found)
}
