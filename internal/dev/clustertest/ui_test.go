//go:build cluster

package clustertest

import (
	"context"
	"encoding/base64"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/internal/dev/demo"
	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/dev/privacy"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/payloadcrypt"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// chromium is Debian's Chromium (`apt-get install chromium`; .ci/run installs it).
const chromium = "/usr/bin/chromium"

// Issue 15: the operator's view. On `make cluster`'s topology, the Temporal UI server shows a
// customer's workflow input decoded through the codec server once the browser has signed in
// to the codec server; without the sign-in the codec server refuses and the UI shows no
// identity.
func TestUIShowsDecodedPayloadsThroughTheCodecServer(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	co := devstack.ClusterOptions{Root: testenv.Root(t), DataDir: t.TempDir(), Out: io.Discard, SimEnv: []string{"SIM_PROVISION_DELAY=300ms"}}
	co.FreshPorts(2)
	c, err := devstack.StartCluster(ctx, co)
	require.NoError(t, err)
	defer c.Stop()
	tc, err := client.Dial(c.ClientOptions())
	require.NoError(t, err)
	defer tc.Close()
	var out strings.Builder
	require.NoError(t, demo.Run(ctx, demo.Config{Temporal: tc, SimURL: c.SimURL, App: "acme-isv-app", Team: "acme-team", Patience: 3 * time.Minute, Out: &out, Slug: "ui-check"}), out.String())
	token, err := c.CodecToken()
	require.NoError(t, err)
	id := contract.ConnectionWorkflowID("ui-check", "globex")
	page := c.UIURL + "/namespaces/default/workflows/" + url.PathEscape(id)

	// The CLI decodes through the same codec server with the bearer token, and not without.
	show := func(auth ...string) ([]byte, error) {
		args := append([]string{"workflow", "show", "--address", c.TemporalAddress, "--workflow-id", id, "--output", "json", "--codec-endpoint", c.CodecURL}, auth...)
		return exec.CommandContext(ctx, testenv.TemporalCLI(t), args...).Output()
	}
	hist, err := show("--codec-auth", "Bearer "+token)
	require.NoError(t, err)
	found, err := privacy.ScanJSON(hist, demo.User)
	require.NoError(t, err)
	assert.NotEmpty(t, found, "temporal --codec-endpoint --codec-auth shows the decoded input")
	hist, err = show("--codec-auth", "Bearer wrong-token")
	found, _ = privacy.ScanJSON(hist, demo.User)
	assert.True(t, err != nil || len(found) == 0, "a wrong token decodes nothing")

	decoded := browse(ctx, t, page, c.CodecURL, token)
	assert.Contains(t, decoded, demo.User, "the UI shows the Salesforce username, decoded by the codec server")
	assert.Contains(t, decoded, demo.Org)

	refused := browse(ctx, t, page, "", "")
	assert.Contains(t, refused, "Codec Server could not connect", "without a session the codec server refuses the UI")
	assert.Contains(t, refused, base64.StdEncoding.EncodeToString([]byte(payloadcrypt.Encoding)), "and the UI shows the ciphertext")
	assert.NotContains(t, refused, demo.User, "without a codec session the UI shows no identity")
	if t.Failed() {
		t.Logf("signed in:\n%.3000s\n\nnot signed in:\n%.3000s", decoded, refused)
	}
}

// `make run`'s embedded UI is pointed at its codec server (loopback, no token): an operator
// sees the payloads decoded without signing in.
func TestMakeRunUIShowsDecodedPayloads(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := devstack.StartFresh(ctx, devstack.Options{Root: testenv.Root(t), DataDir: t.TempDir(), Out: io.Discard, SimEnv: []string{"SIM_PROVISION_DELAY=300ms"}})
	require.NoError(t, err)
	defer s.Stop()
	tc, err := client.Dial(s.ClientOptions())
	require.NoError(t, err)
	defer tc.Close()
	var out strings.Builder
	require.NoError(t, demo.Run(ctx, demo.Config{Temporal: tc, SimURL: s.SimURL, App: "acme-isv-app", Team: "acme-team", Patience: 3 * time.Minute, Out: &out, Slug: "ui-run"}), out.String())
	text := browse(ctx, t, s.UIURL+"/namespaces/default/workflows/"+url.PathEscape(contract.ConnectionWorkflowID("ui-run", "globex")), "", "")
	assert.Contains(t, text, demo.User, "make run's UI shows the input decoded")
	if t.Failed() {
		t.Logf("page:\n%.3000s", text)
	}
}

func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("%s is missing: `apt-get install -y chromium` (Debian's package; .ci/run installs it)", chromium)
	}
}

// browse opens page in a fresh headless Chromium, first signing in to the codec server at
// codecURL with token when one is given, and returns the page's text once the workflow's
// input shows decoded (or the UI says the codec server refused).
func browse(ctx context.Context, t *testing.T, page, codecURL, token string) string {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	actx, stop := chromedp.NewExecAllocator(ctx, opts...)
	defer stop()
	bctx, stopBrowser := chromedp.NewContext(actx)
	defer stopBrowser()
	if token != "" {
		require.NoError(t, chromedp.Do(bctx,
			chromedp.Navigate(codecURL+"/login"),
			chromedp.SendKeys(chromedp.CSS("#token"), token),
			chromedp.Click(chromedp.CSS("#signin"))))
		signed, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#signed-in")))
		require.NoError(t, err)
		require.Equal(t, "Signed in", signed)
	}
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(page)))
	// The UI renders the input once it has the history and the codec's answer; refused, it
	// shows the banner first and the ciphertext a moment later, so wait for the payload.
	cipher := base64.StdEncoding.EncodeToString([]byte(payloadcrypt.Encoding))
	var text string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var err error
		text, err = chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText`))
		require.NoError(t, err)
		if strings.Contains(text, demo.User) || strings.Contains(text, "Codec Server could not connect") && strings.Contains(text, cipher) {
			break
		}
		time.Sleep(time.Second)
	}
	return text
}
