package onboarding_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A backend service that imports this package gets the contract and the Temporal client,
// nothing of the worker: no workflow code, no activities, no Heroku client, no image decoder.
func TestBackendsGetNothingOfTheWorker(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	assert.Contains(t, deps, "github.com/connect-onboarding/worker/workflows/contract")
	for _, d := range deps {
		for _, banned := range []string{"/worker/workflows", "/worker/activities", "/worker/internal/heroku", "/worker/internal/logo",
			"/worker/internal/runworker", "golang.org/x/image"} {
			if strings.HasSuffix(d, banned) || strings.Contains(d, banned+"/") && !strings.HasSuffix(d, "/workflows/contract") {
				t.Errorf("starter/onboarding depends on %s", d)
			}
		}
	}
}
