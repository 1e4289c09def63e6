// Package heroku is the HTTP client of the Heroku APIs the onboarding worker uses: the
// Platform API (add-ons, webhooks, rate limits), the partner API (Connect integrations) and
// the Heroku Connect API (discovery and regional). It follows docs/heroku-api.md and
// knows nothing of Temporal: failures come back as *Error values whose Kind says whether a
// retry can help.
package heroku

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Accept headers of the call families.
const (
	AcceptPlatform = "application/vnd.heroku+json; version=3"
	AcceptPartner  = "application/vnd.heroku+json; version=3.partner"
	AcceptWebhooks = "application/vnd.heroku+json; version=3.webhooks"
	AcceptConnect  = "application/json"
)

// Default base URLs of the real Heroku.
const (
	DefaultPlatformURL = "https://api.heroku.com"
	DefaultConnectURL  = "https://hc-central.heroku.com"
)

// UserAgent identifies this client to Heroku.
const UserAgent = "connect-onboarding-worker/1.0 (+https://github.com/connect-onboarding/worker)"

// Options configure a Client.
type Options struct {
	PlatformURL string // Platform and partner API; DefaultPlatformURL when empty
	ConnectURL  string // Connect discovery (hc-central); DefaultConnectURL when empty
	Token       string // Heroku API token
	HTTPClient  *http.Client
	Timeout     time.Duration // per request, when HTTPClient is nil; 30s by default
	// Observe, when set, is told of every request once it ends, with the request's context
	// (metrics, traces). It must not block.
	Observe func(context.Context, Exchange)
}

// Exchange is what Observe learns of one request: never its URL, body or token.
type Exchange struct {
	Op        string // the client's name for the call ("create add-on"), a small fixed set
	Method    string
	Status    int // 0 when no answer came
	Remaining int // RateLimit-Remaining of the answer; -1 when it carried none
	Start     time.Time
	Duration  time.Duration
}

// Client calls Heroku. It is safe for concurrent use.
type Client struct {
	platform     *url.URL
	connect      *url.URL
	regionDomain string // regional Connect hosts are https hosts under it
	token        string
	hc           *http.Client
	observe      func(context.Context, Exchange)
}

// New checks opts and returns a Client.
func New(opts Options) (*Client, error) {
	if opts.PlatformURL == "" {
		opts.PlatformURL = DefaultPlatformURL
	}
	if opts.ConnectURL == "" {
		opts.ConnectURL = DefaultConnectURL
	}
	platform, err := parseBase(opts.PlatformURL)
	if err != nil {
		return nil, fmt.Errorf("heroku: platform URL: %w", err)
	}
	connect, err := parseBase(opts.ConnectURL)
	if err != nil {
		return nil, fmt.Errorf("heroku: connect URL: %w", err)
	}
	if opts.Token == "" {
		return nil, errors.New("heroku: an API token is required (HEROKU_API_TOKEN)")
	}
	hc := opts.HTTPClient
	if hc == nil {
		if opts.Timeout <= 0 {
			opts.Timeout = 30 * time.Second
		}
		hc = &http.Client{Timeout: opts.Timeout}
	}
	c := &Client{platform: platform, connect: connect, token: opts.Token, hc: hc, observe: opts.Observe}
	if connect.Scheme == "https" {
		c.regionDomain = parentDomain(connect.Hostname())
	}
	return c, nil
}

func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL", raw)
	}
	return u, nil
}

// call is one HTTP exchange.
type call struct {
	op          string
	method      string
	url         string
	accept      string
	body        io.Reader
	contentType string
	header      http.Header // extra request headers (Range)
	want        []int       // accepted statuses; 200/201/202/206 when empty
}

// response is what a call returns on success.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (c *Client) do(ctx context.Context, cl call) (*response, error) {
	if err := c.checkURL(cl.url); err != nil {
		return nil, &Error{Kind: KindBadRequest, Op: cl.op, Message: err.Error()}
	}
	if err := spend(ctx); err != nil {
		return nil, &Error{Kind: KindBadRequest, Op: cl.op, Message: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, cl.url, cl.body)
	if err != nil {
		return nil, &Error{Kind: KindOther, Op: cl.op, Message: err.Error()}
	}
	reqID := uuid.NewString()
	req.Header.Set("Accept", cl.accept)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Request-Id", reqID)
	if cl.contentType != "" {
		req.Header.Set("Content-Type", cl.contentType)
	}
	for k, vs := range cl.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	started := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.observed(ctx, cl, started, nil)
		return nil, transportError(cl.op, reqID, err)
	}
	defer resp.Body.Close()
	defer c.observed(ctx, cl, started, resp)
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, transportError(cl.op, reqID, err)
	}
	if id := resp.Header.Get("Request-Id"); id != "" {
		reqID = id
	}
	want := cl.want
	if len(want) == 0 {
		want = []int{200, 201, 202, 206}
	}
	for _, s := range want {
		if resp.StatusCode == s {
			return &response{status: resp.StatusCode, header: resp.Header, body: body}, nil
		}
	}
	return nil, decodeError(cl.op, reqID, resp, body)
}

// observed tells Observe of a request that ended (resp nil: no answer).
func (c *Client) observed(ctx context.Context, cl call, started time.Time, resp *http.Response) {
	if c.observe == nil {
		return
	}
	e := Exchange{Op: cl.op, Method: cl.method, Remaining: -1, Start: started, Duration: time.Since(started)}
	if resp != nil {
		e.Status = resp.StatusCode
		if n, err := strconv.Atoi(resp.Header.Get("RateLimit-Remaining")); err == nil && n >= 0 {
			e.Remaining = n
		}
	}
	c.observe(ctx, e)
}

// transportError turns a failure without a response into a transient error, unless the
// caller's context ended (then the caller's error is what matters).
func transportError(op, reqID string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // drop the URL: it is ours, and keeps messages short
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("heroku: %s: %w", op, err)
	}
	msg := err.Error()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		msg = "timeout: " + msg
	}
	return &Error{Kind: KindTransient, Op: op, Message: msg, RequestID: reqID}
}

func decodeError(op, reqID string, resp *http.Response, body []byte) error {
	e := &Error{Kind: kindOf(resp.StatusCode), Op: op, StatusCode: resp.StatusCode, RequestID: reqID}
	var shape struct {
		ID      string              `json:"id"`
		Message string              `json:"message"`
		URL     string              `json:"url"`
		Errors  map[string][]string `json:"errors"`
	}
	if json.Unmarshal(body, &shape) == nil && (shape.ID != "" || shape.Message != "") {
		e.ID, e.Message, e.URL, e.Fields = shape.ID, shape.Message, shape.URL, shape.Errors
	} else {
		e.Message = http.StatusText(resp.StatusCode)
	}
	// Field errors make a 400 or 422 a validation failure; the status decides the rest, so a
	// 429 or a 5xx that carries field errors stays retryable (found by fuzzing: a 429 with an
	// "errors" member had become final).
	if (resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnprocessableEntity) && (e.ID == "validation_error" || len(e.Fields) > 0) {
		e.Kind = KindInvalid
	}
	if e.Kind == KindRateLimited {
		e.RetryAfter = retryDelay(resp.Header)
	}
	return e
}

// maxRetryAfter is the longest wait a 429 may ask: a whole budget (4,500 requests at 75 a
// minute) refills in an hour.
const maxRetryAfter = time.Hour

// retryDelay honours Retry-After (seconds or an HTTP date) and otherwise estimates from
// RateLimit-Remaining: Heroku refills about 75 tokens a minute, so an empty bucket has a
// token again in under a second; we ask for a few to leave room for other callers.
//
// A Retry-After is an answer like any other: a huge one (which would overflow, or park the
// caller for years) is held to maxRetryAfter, the time an empty bucket takes to fill again.
func retryDelay(h http.Header) time.Duration {
	if ra := h.Get("Retry-After"); ra != "" {
		if s, err := strconv.ParseInt(strings.TrimSpace(ra), 10, 64); err == nil && s >= 0 {
			return min(time.Duration(min(s, int64(maxRetryAfter/time.Second)))*time.Second, maxRetryAfter)
		}
		if t, err := http.ParseTime(ra); err == nil {
			if d := time.Until(t); d > 0 {
				return min(d, maxRetryAfter)
			}
			return time.Second
		}
	}
	const perToken = time.Minute / 75
	remaining, err := strconv.Atoi(h.Get("RateLimit-Remaining"))
	if err != nil || remaining <= 0 {
		return 5 * perToken
	}
	return perToken
}

func (c *Client) platformURL(format string, args ...any) string {
	return c.platform.String() + pathf(format, args...)
}

// pathf escapes every argument as one path segment.
func pathf(format string, args ...any) string {
	esc := make([]any, len(args))
	for i, a := range args {
		esc[i] = url.PathEscape(fmt.Sprint(a))
	}
	return fmt.Sprintf(format, esc...)
}

func jsonBody(v any) (io.Reader, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

func decode(op string, r *response, dst any) error {
	if err := json.Unmarshal(r.body, dst); err != nil {
		return &Error{Kind: KindOther, Op: op, StatusCode: r.status, Message: "undecodable response: " + err.Error(), RequestID: r.header.Get("Request-Id")}
	}
	return nil
}

// getJSON is a GET whose body decodes into dst.
func (c *Client) getJSON(ctx context.Context, op, url, accept string, dst any) error {
	r, err := c.do(ctx, call{op: op, method: http.MethodGet, url: url, accept: accept})
	if err != nil {
		return err
	}
	return decode(op, r, dst)
}

// sendJSON sends body as JSON and decodes the answer into dst (when dst is not nil).
func (c *Client) sendJSON(ctx context.Context, op, method, url, accept string, body, dst any) (*response, error) {
	rd, err := jsonBody(body)
	if err != nil {
		return nil, &Error{Kind: KindOther, Op: op, Message: err.Error()}
	}
	r, err := c.do(ctx, call{op: op, method: method, url: url, accept: accept, body: rd, contentType: "application/json"})
	if err != nil {
		return nil, err
	}
	if dst != nil {
		return r, decode(op, r, dst)
	}
	return r, nil
}

// getAllPages follows Range pagination (206 + Next-Range) to the end, decoding each page's
// JSON array with add.
func (c *Client) getAllPages(ctx context.Context, op, url, accept string, add func([]byte) error) error {
	rng := "id ..; max=1000"
	for {
		r, err := c.do(ctx, call{op: op, method: http.MethodGet, url: url, accept: accept, header: http.Header{"Range": {rng}}})
		if err != nil {
			return err
		}
		if err := add(r.body); err != nil {
			return &Error{Kind: KindOther, Op: op, StatusCode: r.status, Message: "undecodable response: " + err.Error()}
		}
		next := r.header.Get("Next-Range")
		if r.status != http.StatusPartialContent || next == "" {
			return nil
		}
		rng = next
	}
}

// RateLimitRemaining reads the account's remaining API budget. It costs nothing.
func (c *Client) RateLimitRemaining(ctx context.Context) (int, error) {
	var out struct {
		Remaining int `json:"remaining"`
	}
	err := c.getJSON(ctx, "read rate limit", c.platformURL("/account/rate-limits"), AcceptPlatform, &out)
	return out.Remaining, err
}

// checkURL keeps the token on Heroku: a request goes only to the configured Platform and
// Connect bases (scheme and host exactly, which is how the simulator is reached in
// development) or over https to a host under the Connect base's parent domain (regional
// Connect hosts of hc-central.heroku.com are *.heroku.com). Region URLs and discovery's
// next links come from Heroku's answers and from workflow state, which anyone with namespace
// access can write: a host outside these never sees the token.
func (c *Client) checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil {
		return fmt.Errorf("refusing to send the Heroku token to a malformed URL")
	}
	host := strings.ToLower(u.Host)
	for _, base := range []*url.URL{c.platform, c.connect} {
		if u.Scheme == base.Scheme && host == strings.ToLower(base.Host) {
			return nil
		}
	}
	if u.Scheme == "https" && u.Port() == "" && c.regionDomain != "" && strings.HasSuffix(strings.ToLower(u.Hostname()), "."+c.regionDomain) {
		return nil
	}
	return fmt.Errorf("refusing to send the Heroku token to %s://%s: not a Heroku host this client is configured for", u.Scheme, u.Host)
}

// parentDomain is host without its first label, when that leaves at least two labels
// (hc-central.heroku.com → heroku.com); empty for IP addresses and short hosts.
func parentDomain(host string) string {
	if net.ParseIP(host) != nil {
		return ""
	}
	_, rest, ok := strings.Cut(strings.ToLower(host), ".")
	if !ok || !strings.Contains(rest, ".") {
		return ""
	}
	return rest
}

type budgetKey struct{}

// WithCallBudget allows at most n Heroku requests under ctx. The worker gives every
// activity dispatch on the heroku task queue a budget of one: the queue's server-side rate
// limit counts dispatches, and this makes each dispatch exactly one request, so the limit is
// the account's budget in Heroku's own unit, across every worker process.
func WithCallBudget(ctx context.Context, n int) context.Context {
	left := new(atomic.Int32)
	left.Store(int32(n))
	return context.WithValue(ctx, budgetKey{}, left)
}

func spend(ctx context.Context) error {
	left, ok := ctx.Value(budgetKey{}).(*atomic.Int32)
	if !ok {
		return nil
	}
	if left.Add(-1) < 0 {
		return fmt.Errorf("more Heroku requests in one activity dispatch than its budget allows (the rate limit counts one per dispatch)")
	}
	return nil
}
