package onboarding_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/dev/herokusim"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/herokuhooks"
	"github.com/connect-onboarding/worker/starter/onboarding"
)

// Heroku's app webhook (api:addon), subscribed as an operator does, reaches the worker's
// receiver, which tells the customer's workflow: provisioning costs no Heroku call. A
// delivery signed with another secret is refused and changes nothing.
func TestProvisioningLearnedFromWebhooks(t *testing.T) {
	const secret = "the-isv-webhook-secret"
	dev := testenv.StartDevServer(t)
	sim := testenv.StartSim(t, func(c *herokusim.Config) { c.ProvisionDelay = 2 * time.Second })
	sim.CreateIntegration(t, testenv.ISV)
	port := testenv.FreePort(t)
	testenv.StartWorkerProcess(t, dev.Address, sim.URL, "WORKER_HTTP_ADDR=127.0.0.1:"+strconv.Itoa(port),
		"HEROKU_WEBHOOK_SECRET="+secret, "WORKER_WEBHOOK_WAIT=5m")
	hookURL := "http://127.0.0.1:" + strconv.Itoa(port) + herokuhooks.Path
	_, _, err := sim.Heroku.CreateAppWebhook(context.Background(), testenv.ISVApp, heroku.WebhookCreate{
		Include: []string{"api:addon"}, Level: "notify", URL: hookURL, Secret: secret})
	require.NoError(t, err)

	c := onboarding.New(dev.Client, "", "")
	cx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err = c.AdoptPartner(cx, testenv.ISV)
	require.NoError(t, err)
	res, err := c.Start(cx, fastInput("hooked"))
	require.NoError(t, err, "the URL came without waiting out WORKER_WEBHOOK_WAIT (5 minutes)")
	require.NotEmpty(t, res.AuthorizationURL)
	assert.Zero(t, sim.Snapshot().Calls["addons.info"], "provisioning was not polled")
	st, err := c.Status(cx, testenv.ISV, "hooked")
	require.NoError(t, err)
	found := false
	for _, e := range st.Events {
		found = found || strings.HasPrefix(e.What, "Heroku's webhook")
	}
	assert.True(t, found, "the status tells where provisioning was learned: %+v", st.Events)

	// A forged delivery: refused with 401 before anything is read.
	resp, err := testenv.PostSigned(hookURL, `{"resource":"addon","action":"update","data":{"id":"x","state":"provisioned"}}`, "another-secret")
	require.NoError(t, err)
	assert.Equal(t, 401, resp)
}
