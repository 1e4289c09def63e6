package repotest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/workflows"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// docs/architecture.md is drawn from the code: every package, every workflow and its change
// ID, every workflow source file and every task queue is in it.
func TestArchitectureNamesEverything(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	require.NoError(t, err)
	doc := string(b)

	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}", "github.com/connect-onboarding/worker/...").Output()
	require.NoError(t, err, "go list")
	for _, pkg := range strings.Fields(string(out)) {
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, "github.com/connect-onboarding/worker"), "/")
		if rel == "" {
			continue
		}
		assert.True(t, strings.Contains(doc, "`"+rel), "docs/architecture.md does not name package %s", rel)
	}
	for _, l := range workflows.Versions() {
		assert.True(t, strings.Contains(doc, "`"+l.Workflow+"`"), "workflow %s", l.Workflow)
		assert.True(t, strings.Contains(doc, "`"+l.ChangeID+"`"), "change ID %s of %s", l.ChangeID, l.Workflow)
	}
	files, err := filepath.Glob(filepath.Join(root, "workflows", "*.go"))
	require.NoError(t, err)
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			assert.True(t, strings.Contains(doc, "`"+filepath.Base(f)+"`"), "workflow source file %s", filepath.Base(f))
		}
	}
	for _, q := range []string{contract.OnboardingTaskQueue, contract.HerokuTaskQueue, contract.EventsTaskQueue} {
		assert.True(t, strings.Contains(doc, "`"+q+"`"), "task queue %s", q)
	}
}
