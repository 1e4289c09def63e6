package heroku

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder answers every request with an empty JSON object and remembers where the token
// went.
type recorder struct {
	mu   sync.Mutex
	sent []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.sent = append(r.sent, req.URL.Scheme+"://"+req.URL.Host+" "+req.Header.Get("Authorization"))
	r.mu.Unlock()
	body := `{"count":0,"next":"https://evil.example/connections?page=2","results":[{"id":"x"}]}`
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

func newRecorded(t *testing.T, platform, connect string) (*Client, *recorder) {
	rec := &recorder{}
	c, err := New(Options{PlatformURL: platform, ConnectURL: connect, Token: "secret-token", HTTPClient: &http.Client{Transport: rec}})
	require.NoError(t, err)
	return c, rec
}

// The token goes only to the configured hosts and to https regional hosts under the
// Connect domain; region URLs and next links come from state anyone can write.
func TestTokenGoesOnlyToHerokuHosts(t *testing.T) {
	c, rec := newRecorded(t, DefaultPlatformURL, DefaultConnectURL)
	ctx := context.Background()
	for _, region := range []string{"https://evil.example", "http://hc-virginia.heroku.com", "https://heroku.com.evil.example",
		"https://hc-virginia.heroku.com:8443", "https://user@hc-virginia.heroku.com", "https://herokucom"} {
		_, err := c.Connection(ctx, region, "c1")
		require.Error(t, err, region)
		assert.Contains(t, err.Error(), "refusing to send the Heroku token", region)
		assert.NotContains(t, err.Error(), "secret-token")
	}
	assert.Empty(t, rec.sent, "no request left for a foreign host")

	_, err := c.Connection(ctx, "https://hc-virginia.heroku.com", "c1")
	require.NoError(t, err)
	// Discovery's next link points elsewhere: the second page is never fetched.
	_, err = c.DiscoverConnections(ctx, "acme-app", "")
	require.Error(t, err)
	for _, s := range rec.sent {
		assert.True(t, strings.HasPrefix(s, "https://hc-virginia.heroku.com ") || strings.HasPrefix(s, "https://hc-central.heroku.com "), s)
	}
}

// In development the simulator's own address is the only one allowed, http included.
func TestTokenStaysOnTheSimulator(t *testing.T) {
	c, rec := newRecorded(t, "http://127.0.0.1:5100", "http://127.0.0.1:5100")
	_, err := c.Connection(context.Background(), "http://127.0.0.1:5100", "c1")
	require.NoError(t, err)
	_, err = c.Connection(context.Background(), "http://127.0.0.1:6666", "c1")
	require.Error(t, err)
	assert.Len(t, rec.sent, 1)
}

// A dispatch with a budget of one request cannot make a second.
func TestCallBudgetRefusesASecondRequest(t *testing.T) {
	c, rec := newRecorded(t, DefaultPlatformURL, DefaultConnectURL)
	ctx := WithCallBudget(context.Background(), 1)
	require.NoError(t, c.ConnectAuth(ctx, "acme-app"))
	err := c.ConnectAuth(ctx, "acme-app")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "budget")
	assert.Len(t, rec.sent, 1)
	assert.NoError(t, c.ConnectAuth(context.Background(), "acme-app"), "no budget, no limit")
}
