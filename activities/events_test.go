package activities

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An endpoint's URL is anyone's with namespace access or a write key: the address it
// resolves to decides, when the connection is made, whether the worker sends to it.
func TestEndpointAddressRule(t *testing.T) {
	for _, c := range []struct {
		ip                string
		loopback, private bool
		ok                bool
	}{
		{"203.0.113.7", false, false, true},
		{"2001:db8::1", false, false, true},
		{"127.0.0.1", false, false, false},
		{"127.0.0.1", true, false, true},
		{"::1", false, false, false},
		{"10.1.2.3", false, false, false},
		{"10.1.2.3", false, true, true},
		{"192.168.0.9", false, false, false},
		{"fd00::1", false, false, false},
		{"169.254.169.254", true, true, false}, // cloud metadata: never
		{"fe80::1", true, true, false},
		{"0.0.0.0", true, true, false},
		{"224.0.0.1", true, true, false},
	} {
		err := Events{AllowLoopback: c.loopback, AllowPrivate: c.private}.addressAllowed(net.ParseIP(c.ip))
		assert.Equal(t, c.ok, err == nil, "%s (loopback %v, private %v): %v", c.ip, c.loopback, c.private, err)
		if err != nil {
			assert.ErrorIs(t, err, errAddressRefused)
		}
	}
}

// The rule holds at dial time, after DNS: "localhost" (or any name that resolves to a
// loopback address) is refused like 127.0.0.1, and nothing reaches the server.
func TestDeliveriesDialOnlyAllowedAddresses(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	a := &Activities{}
	for _, u := range []string{srv.URL, "http://localhost:" + port} {
		_, err := a.eventsHTTP().Get(u)
		require.Error(t, err, u)
		assert.True(t, errors.Is(err, errAddressRefused), "%s: %v", u, err)
	}
	assert.Zero(t, hits)
	a.Events.AllowLoopback = true
	resp, err := a.eventsHTTP().Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 1, hits)
}
