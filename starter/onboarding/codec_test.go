package onboarding_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/connect-onboarding/worker/internal/codecserver"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/payloadcrypt"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// With payload keys, a workflow started without them (plaintext input, as a
// `temporal workflow start` without --codec-endpoint writes) is not fed to the workers: its
// task fails naming the setting, and nothing is created. Through the codec server (what the
// CLI's --codec-endpoint and the Web UI use) with its token it runs; without the token the
// start is refused before anything reaches Temporal (issue 22 item 12).
func TestPlaintextStartsAreRefusedAndTheCodecServerWorks(t *testing.T) {
	s := startStack(t)
	ctx := ctx(t)
	const token = "codec-token-of-the-test"
	codec := httptest.NewServer(codecserver.Handler(codecserver.Options{Codec: payloadcrypt.NewCodec(testenv.PayloadRing()),
		Tokens: []string{token}, Log: zerolog.Nop()}))
	t.Cleanup(codec.Close)
	dial := func(dc converter.DataConverter) client.Client {
		c, err := client.Dial(client.Options{HostPort: s.dev.Address, DataConverter: dc, Logger: testenv.ClientOptions("").Logger})
		require.NoError(t, err)
		t.Cleanup(c.Close)
		return c
	}
	remote := func(tok string) converter.DataConverter {
		return converter.NewRemoteDataConverter(converter.GetDefaultDataConverter(), converter.RemoteDataConverterOptions{
			Endpoint: codec.URL, ModifyRequest: func(r *http.Request) error {
				if tok != "" {
					r.Header.Set("Authorization", "Bearer "+tok)
				}
				return nil
			}})
	}
	start := func(c client.Client, customer string) error {
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: contract.ConnectionWorkflowID(testenv.ISV, customer),
			TaskQueue: contract.OnboardingTaskQueue}, contract.ConnectionWorkflowName, fastInput(customer))
		return err
	}

	// In clear: the workflow task fails, naming the setting; nothing is created.
	require.NoError(t, start(dial(converter.GetDefaultDataConverter()), "plain"))
	testenv.Eventually(t, 30*time.Second, "the plaintext start's task to fail", func() bool {
		h := s.dev.Client.GetWorkflowHistory(ctx, contract.ConnectionWorkflowID(testenv.ISV, "plain"), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for h.HasNext() {
			ev, err := h.Next()
			if err != nil {
				return false
			}
			// Failure messages are encrypted too: read it with the keys.
			if f := ev.GetWorkflowTaskFailedEventAttributes(); f != nil && f.GetFailure() != nil &&
				strings.Contains(payloadcrypt.FailureConverter(testenv.PayloadRing()).FailureToError(f.GetFailure()).Error(), "PAYLOAD_ALLOW_PLAINTEXT") {
				return true
			}
		}
		return false
	})
	assert.Zero(t, s.sim.Snapshot().AddonsCreated, "a plaintext input created nothing")

	// Without the codec server's token: refused before Temporal sees it.
	assert.Error(t, start(dial(remote("")), "no-token"))
	_, err := s.dev.Client.DescribeWorkflow(ctx, contract.ConnectionWorkflowID(testenv.ISV, "no-token"), "")
	assert.Error(t, err, "no workflow was started")

	// Through the codec server with its token: encrypted, run, and readable back the same way.
	viaCodec := dial(remote(token))
	require.NoError(t, start(viaCodec, "via-codec"))
	var st contract.Status
	testenv.Eventually(t, 60*time.Second, "the codec-started onboarding to wait for its customer", func() bool {
		var err error
		st, err = onboarding.New(viaCodec, "", "").Status(ctx, testenv.ISV, "via-codec")
		return err == nil && st.Stage == contract.StageAwaitingAuthorization && st.AuthorizationURL != ""
	})
	assert.Contains(t, st.AuthorizationURL, s.sim.URL, "queried through the codec server")
}
