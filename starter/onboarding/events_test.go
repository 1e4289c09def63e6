package onboarding_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/connect-onboarding/worker/internal/dev/eventsink"
	"github.com/connect-onboarding/worker/internal/dev/testenv"
	"github.com/connect-onboarding/worker/internal/eventsign"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// A receiver verifying with the Standard Webhooks library gets every event of a full
// onboarding, once each, in order, each signature valid; a tampered body, an old timestamp
// and a wrong secret fail verification; the delivery log, a ping, a redelivery, a secret
// rotation and a 410 work as documented (issue 23).
func TestLifecycleEventsReachTheReceiver(t *testing.T) {
	s := startStack(t)
	c := ctx(t)
	key, err := eventsign.ParseKey(testenv.EventsKey)
	require.NoError(t, err)
	s.c.Events.Key = key

	sink := eventsink.New("")
	srv := httptest.NewServer(sink)
	t.Cleanup(srv.Close)
	personal := eventsink.New("")
	psrv := httptest.NewServer(personal)
	t.Cleanup(psrv.Close)

	// Bad input names the field; nothing is added.
	_, _, err = s.c.AddEndpoint(c, testenv.ISV, contract.EndpointSpec{URL: "http://receiver.example/hooks", EventTypes: []contract.EventType{"nope"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "url: must be https")
	assert.Contains(t, err.Error(), "event_types[0]")
	ep, secret, err := s.c.AddEndpoint(c, testenv.ISV, contract.EndpointSpec{URL: srv.URL + "/hooks"})
	require.NoError(t, err)
	require.Regexp(t, `^whsec_`, secret)
	sink.SetSecrets(secret)
	_, psecret, err := s.c.AddEndpoint(c, testenv.ISV, contract.EndpointSpec{URL: psrv.URL, IncludeSalesforceIdentity: true,
		EventTypes: []contract.EventType{contract.EventURLIssued, contract.EventActive}})
	require.NoError(t, err)
	personal.SetSecrets(psecret)
	eps, err := s.c.Endpoints(c, testenv.ISV)
	require.NoError(t, err)
	assert.Len(t, eps, 2)

	// A full onboarding: start, authorize (the watcher notices), offboard.
	res, err := s.c.Start(c, fastInput("c1"))
	require.NoError(t, err)
	require.NotEmpty(t, res.OnboardingID)
	signInAsCustomer(t, res.AuthorizationURL, org, user)
	testenv.Eventually(t, 30*time.Second, "c1 active", func() bool {
		st, err := s.c.Status(c, testenv.ISV, "c1")
		return err == nil && st.Stage == contract.StageActive
	})
	_, err = s.c.Offboard(c, testenv.ISV, "c1")
	require.NoError(t, err)

	want := []contract.EventType{contract.EventOnboardingStarted, contract.EventURLIssued, contract.EventAuthorized,
		contract.EventActive, contract.EventOffboarded}
	testenv.Eventually(t, 30*time.Second, "every event of c1 at the receiver", func() bool {
		return len(sink.Customer("c1")) == len(want)
	})
	got := sink.Customer("c1")
	assert.Equal(t, want, eventsink.Types(got))
	for i, r := range got {
		assert.True(t, r.Verified, r.Error)
		assert.Equal(t, i+1, r.Data.Sequence, "in order, none overtaking an earlier one")
		assert.Equal(t, res.OnboardingID, r.Data.OnboardingID)
		assert.Equal(t, testenv.ISV, r.Data.ISVSlug)
		assert.Nil(t, r.Data.Salesforce, "no identity to an endpoint that did not opt in")
		assert.NotContains(t, string(r.Body), user)
		assert.NotContains(t, string(r.Body), org)
	}
	for _, r := range sink.Received() {
		assert.True(t, r.Verified, "nothing unverifiable arrived: %s", r.Error)
	}
	issued := got[1].Data
	assert.Equal(t, res.AuthorizationURL, issued.AuthorizationURL)
	assert.Equal(t, 1, issued.Attempt)
	assert.False(t, issued.ExpiresAt.IsZero())
	assert.NotEmpty(t, got[1].Data.AddonID)

	// The opted-in endpoint gets only its types, with the identity.
	testenv.Eventually(t, 30*time.Second, "the opted-in endpoint's events", func() bool { return len(personal.Customer("c1")) == 2 })
	p := personal.Customer("c1")
	assert.Equal(t, []contract.EventType{contract.EventURLIssued, contract.EventActive}, eventsink.Types(p))
	require.NotNil(t, p[0].Data.Salesforce)
	assert.Equal(t, user, p[0].Data.Salesforce.Username)

	// What a receiver's library refuses.
	first := got[0]
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	require.NoError(t, wh.VerifyIgnoringTimestamp(first.Body, first.Header), "the delivery as sent verifies")
	tampered := slices.Clone(first.Body)
	tampered[len(tampered)-2] ^= 1
	assert.ErrorIs(t, wh.VerifyIgnoringTimestamp(tampered, first.Header), standardwebhooks.ErrNoMatchingSignature, "a tampered body")
	old := time.Now().Add(-10 * time.Minute)
	sig, err := eventsign.Signature([]string{secret}, first.ID, old, first.Body)
	require.NoError(t, err)
	stale := first.Header.Clone()
	stale.Set("webhook-timestamp", strconv.FormatInt(old.Unix(), 10))
	stale.Set("webhook-signature", sig)
	assert.ErrorIs(t, wh.Verify(first.Body, stale), standardwebhooks.ErrMessageTooOld, "a timestamp beyond the tolerance")
	other, err := key.Secret(testenv.ISV, "ep_someone_else", 1)
	require.NoError(t, err)
	wrong, err := standardwebhooks.NewWebhook(other)
	require.NoError(t, err)
	assert.ErrorIs(t, wrong.VerifyIgnoringTimestamp(first.Body, first.Header), standardwebhooks.ErrNoMatchingSignature, "a wrong secret")

	// The delivery log holds every event, delivered at the first attempt.
	log, err := s.c.Deliveries(c, testenv.ISV, ep.ID)
	require.NoError(t, err)
	var logged []string
	for _, d := range log {
		if d.CustomerID == "c1" {
			logged = append(logged, d.EventID)
			assert.Equal(t, contract.DeliveryDelivered, d.Outcome)
			require.NotEmpty(t, d.Attempts)
			assert.Equal(t, 204, d.Attempts[len(d.Attempts)-1].StatusCode)
		}
	}
	assert.Len(t, logged, len(want))

	// A ping goes through the same path and is logged.
	ping, err := s.c.TestEndpoint(c, testenv.ISV, ep.ID)
	require.NoError(t, err)
	assert.Equal(t, contract.DeliveryDelivered, ping.Outcome)

	// A redelivery arrives with the same webhook-id.
	before := len(sink.Received())
	require.NoError(t, s.c.Redeliver(c, testenv.ISV, ep.ID, first.ID))
	testenv.Eventually(t, 30*time.Second, "the redelivery", func() bool { return len(sink.Received()) > before })
	again := sink.Received()[before]
	assert.Equal(t, first.ID, again.ID)
	assert.True(t, again.Verified)

	// A rotation: the old secret still verifies (a second signature), and so does the new.
	rotated, newSecret, err := s.c.RotateEndpointSecret(c, testenv.ISV, contract.EndpointRotate{ID: ep.ID})
	require.NoError(t, err)
	assert.Equal(t, 2, rotated.SecretGeneration)
	assert.NotEqual(t, secret, newSecret)
	before = len(sink.Received())
	_, err = s.c.Start(c, fastInput("c2"))
	require.NoError(t, err)
	testenv.Eventually(t, 30*time.Second, "c2's first events", func() bool { return len(sink.Customer("c2")) >= 2 })
	for _, r := range sink.Received()[before:] {
		assert.True(t, r.Verified, "the old secret verifies during the grace: %s", r.Error)
		nw, err := standardwebhooks.NewWebhook(newSecret)
		require.NoError(t, err)
		assert.NoError(t, nw.Verify(r.Body, r.Header), "the new secret verifies")
	}

	// A receiver that answers 410 disables its endpoint; nothing more is sent to it.
	sink.Answer(http.StatusGone)
	_, err = s.c.Offboard(c, testenv.ISV, "c2")
	require.NoError(t, err)
	testenv.Eventually(t, 30*time.Second, "the endpoint disabled by its 410", func() bool {
		e, err := s.c.Endpoint(c, testenv.ISV, ep.ID)
		return err == nil && e.State == contract.EndpointDisabled
	})
	attempts := sink.Attempts()
	_, err = s.c.Start(c, fastInput("c3"))
	require.NoError(t, err)
	testenv.Eventually(t, 30*time.Second, "the other endpoint still receives", func() bool { return len(personal.Customer("c3")) >= 1 })
	assert.Equal(t, attempts, sink.Attempts(), "a disabled endpoint is sent nothing")
}

// The worker SIGKILLed while deliveries are in flight: after a restart every event of every
// customer arrives, in order; a delivery repeated after the crash carries the same
// webhook-id (issue 23).
func TestEventsSurviveAWorkerKill(t *testing.T) {
	s := startStack(t)
	c := ctx(t)
	key, err := eventsign.ParseKey(testenv.EventsKey)
	require.NoError(t, err)
	s.c.Events.Key = key
	sink := eventsink.New("")
	sink.Delay(300 * time.Millisecond) // a slow receiver: deliveries are in flight when the worker dies
	srv := httptest.NewServer(sink)
	t.Cleanup(srv.Close)
	_, secret, err := s.c.AddEndpoint(c, testenv.ISV, contract.EndpointSpec{URL: srv.URL})
	require.NoError(t, err)
	sink.SetSecrets(secret)

	customers := []string{"k1", "k2", "k3"}
	for _, cu := range customers {
		_, err := s.c.Start(c, fastInput(cu))
		require.NoError(t, err)
	}
	s.worker.Kill()
	s.worker.Restart()
	for _, cu := range customers {
		_, err := s.c.Offboard(c, testenv.ISV, cu)
		require.NoError(t, err)
	}
	want := []contract.EventType{contract.EventOnboardingStarted, contract.EventURLIssued, contract.EventOffboarded}
	testenv.Eventually(t, 2*time.Minute, "every customer's events after the crash", func() bool {
		for _, cu := range customers {
			if len(sink.Customer(cu)) < len(want) {
				return false
			}
		}
		return true
	})
	for _, cu := range customers {
		got := sink.Customer(cu)
		assert.Equal(t, want, eventsink.Types(got), cu)
		for i, r := range got {
			assert.Equal(t, i+1, r.Data.Sequence, "%s: in order", cu)
		}
	}
	// Every arrival, duplicates included, is an event of the stream: the same IDs, in order.
	last := map[string]int{}
	for _, r := range sink.Received() {
		require.True(t, r.Verified, r.Error)
		if r.Data.CustomerID == "" {
			continue
		}
		assert.GreaterOrEqual(t, r.Data.Sequence, last[r.Data.CustomerID], "%s: an event arrived after a later one", r.Data.CustomerID)
		last[r.Data.CustomerID] = r.Data.Sequence
	}
}
