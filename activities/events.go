package activities

// Lifecycle events: emitting one into its customer's event stream, finding the endpoints
// that take it, delivering it to one endpoint as a Standard Webhook, and recording every
// attempt in the endpoint's delivery log. Delivery runs on the events task queue, never on
// the heroku queue: a slow receiver spends no Heroku budget and holds up no onboarding.

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
	"syscall"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/connect-onboarding/worker/internal/eventsign"
	"github.com/connect-onboarding/worker/internal/metrics"
	"github.com/connect-onboarding/worker/internal/returnstate"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Events are the activities' event settings, from the worker's configuration.
type Events struct {
	// Key derives every endpoint's secret (EVENTS_SECRET_KEY); deliveries wait for it.
	Key eventsign.Key
	// ConnectLinkBase is where starter serve answers connect links (".../connect/"); events
	// carry no link when empty.
	ConnectLinkBase string
	// AllowLoopback lets endpoints on a loopback address receive (development);
	// AllowPrivate lets endpoints on private networks (RFC 1918, fc00::/7) receive.
	// Link-local (cloud metadata), unspecified and multicast addresses never do.
	AllowLoopback, AllowPrivate bool
	// HTTP sends deliveries; nil: 15 s per attempt, redirects not followed.
	HTTP *http.Client
}

// EmitInput is an event and the task queue of its stream.
type EmitInput struct {
	Event     contract.LifecycleEvent `json:"event"`
	TaskQueue string                  `json:"task_queue"`
}

// EmitEvent hands an event to its stream (signal-with-start of events/<slug>/<customer>)
// when an endpoint of the integration takes it:
// a workflow runs it as a local activity, so an event costs its emitter one marker. A retry
// sends the same event ID, which the stream drops as a duplicate.
func (a *Activities) EmitEvent(ctx context.Context, in EmitInput) error {
	d := in.Event.Data
	if in.Event.Only == "" {
		// No endpoint takes it now: the stream would deliver it nowhere and keep it for no
		// one (a redelivery is to an endpoint it was sent to), so it is not started: an
		// integration without endpoints costs Temporal nothing per event. Unread endpoints
		// (an error) count as some.
		if eps, err := a.endpoints(ctx, d.ISVSlug); err == nil && !anyWants(eps, in.Event.Type) {
			return nil
		}
	}
	id := contract.EventsWorkflowID(d.ISVSlug, d.CustomerID)
	opts := client.StartWorkflowOptions{ID: id, TaskQueue: in.TaskQueue}
	_, err := contract.SignalEventEmit.SignalWithStart(ctx, a.Temporal, in.Event, opts, contract.EventsWorkflowName,
		contract.EventsInput{ISVSlug: d.ISVSlug, CustomerID: d.CustomerID})
	if err != nil {
		return fmt.Errorf("emit %s to %s: %w", in.Event.Type, id, err)
	}
	return nil
}

// anyWants reports whether an endpoint takes events of type t now.
func anyWants(eps []contract.Endpoint, t contract.EventType) bool {
	for _, e := range eps {
		if e.Wants(t) {
			return true
		}
	}
	return false
}

// TargetsInput asks which endpoints take an event.
type TargetsInput struct {
	ISVSlug string             `json:"isv_slug"`
	Type    contract.EventType `json:"type"`
	// Only names the one endpoint a ping is for.
	Only string `json:"only,omitempty"`
}

// EventTargets lists the endpoints that take an event of the type now (enabled or failing:
// a failing one logs the event as skipped, to be redelivered once it is enabled again).
func (a *Activities) EventTargets(ctx context.Context, in TargetsInput) ([]string, error) {
	eps, err := a.endpoints(ctx, in.ISVSlug)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, e := range eps {
		if (in.Only == "" && e.Wants(in.Type)) || (in.Only != "" && e.ID == in.Only) {
			out = append(out, e.ID)
		}
	}
	return out, nil
}

// endpoints reads the integration's endpoints from the partner workflow's memo (a query
// to runs that publish none); none when it has never run.
func (a *Activities) endpoints(ctx context.Context, slug string) ([]contract.Endpoint, error) {
	m, found, published, err := a.partnerMemo(ctx, slug)
	if err != nil || !found {
		return nil, err
	}
	if published {
		return m.Endpoints, nil
	}
	// A partner run of a release before 1.4.0 publishes nothing: ask it.
	eps, err := contract.QueryEndpoints.Ask(ctx, a.Temporal, contract.PartnerWorkflowID(slug))
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the endpoints of %s: %w", slug, err)
	}
	return eps, nil
}

// DeliverInput is one event to one endpoint.
type DeliverInput struct {
	ISVSlug    string                  `json:"isv_slug"`
	EndpointID string                  `json:"endpoint_id"`
	Event      contract.LifecycleEvent `json:"event"`
}

// DeliverOutcome is how a delivery ended: delivered, gone (410), skipped (the endpoint is
// failing, disabled or removed) or refused (the worker does not send to its URL).
type DeliverOutcome struct {
	Outcome    string `json:"outcome"`
	StatusCode int    `json:"status_code,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// DeliverEvent makes one attempt to deliver an event to an endpoint and records it in the
// endpoint's delivery log. The endpoint is read at every attempt, so a rotation, a change
// of URL or a disable takes effect on the next one. A failed attempt is a retryable error:
// the workflow's retry policy backs off, with no history per attempt.
func (a *Activities) DeliverEvent(ctx context.Context, in DeliverInput) (DeliverOutcome, error) {
	rec := contract.DeliveryAttempt{EventID: in.Event.ID, Type: in.Event.Type, CustomerID: in.Event.Data.CustomerID,
		Sequence: in.Event.Data.Sequence, Attempt: int(activity.GetInfo(ctx).Attempt), At: time.Now().UTC()}
	eps, err := a.endpoints(ctx, in.ISVSlug)
	if err != nil {
		return DeliverOutcome{}, err
	}
	var ep *contract.Endpoint
	for i := range eps {
		if eps[i].ID == in.EndpointID {
			ep = &eps[i]
		}
	}
	switch {
	case ep == nil:
		rec.Outcome, rec.Error = contract.DeliverySkipped, "the endpoint no longer exists"
	case in.Event.Only == "" && ep.State != contract.EndpointEnabled:
		rec.Outcome, rec.Error = contract.DeliverySkipped, "the endpoint is "+string(ep.State)+": redeliver once it is enabled again"
	case !a.urlAllowed(ep.URL):
		rec.Outcome, rec.Error = contract.DeliveryRefused, "this worker does not send to loopback endpoints (EVENTS_ALLOW_LOOPBACK)"
	case len(a.Events.Key) == 0:
		rec.Outcome, rec.Error = contract.DeliveryRetrying, "this worker has no EVENTS_SECRET_KEY to sign with: the delivery waits for it"
		countDelivery(ctx, rec.Outcome)
		a.logAttempt(ctx, in.ISVSlug, in.EndpointID, rec)
		return DeliverOutcome{}, temporal.NewNonRetryableApplicationError(rec.Error, contract.ErrEventsNotConfigured, nil)
	}
	if rec.Outcome != "" {
		countDelivery(ctx, rec.Outcome)
		a.logAttempt(ctx, in.ISVSlug, in.EndpointID, rec)
		return DeliverOutcome{Outcome: rec.Outcome, Reason: rec.Error}, nil
	}
	code, err := a.post(ctx, in, *ep)
	rec.LatencyMS = time.Since(rec.At).Milliseconds()
	rec.StatusCode = code
	switch {
	case errors.Is(err, errAddressRefused):
		rec.Outcome, rec.Error = contract.DeliveryRefused, err.Error()
	case err != nil:
		rec.Outcome, rec.Error = contract.DeliveryRetrying, err.Error()
	case code >= 200 && code < 300:
		rec.Outcome = contract.DeliveryDelivered
	case code == http.StatusGone:
		rec.Outcome, rec.Error = contract.DeliveryGone, "the receiver answered 410 Gone: the endpoint is disabled"
	default:
		rec.Outcome, rec.Error = contract.DeliveryRetrying, fmt.Sprintf("the receiver answered HTTP %d", code)
	}
	countDelivery(ctx, rec.Outcome)
	a.logAttempt(ctx, in.ISVSlug, in.EndpointID, rec)
	if rec.Outcome == contract.DeliveryRetrying {
		return DeliverOutcome{}, temporal.NewApplicationError(rec.Error, contract.ErrDeliveryFailed)
	}
	return DeliverOutcome{Outcome: rec.Outcome, StatusCode: code, Reason: rec.Error}, nil
}

// urlAllowed applies the worker's rule to an endpoint URL read from state (anyone with
// namespace access can write state): the contract's rule, and loopback only when allowed.
func (a *Activities) urlAllowed(raw string) bool {
	if contract.EndpointURLProblem(raw) != "" {
		return false
	}
	u, _ := url.Parse(raw)
	return a.Events.AllowLoopback || !contract.LoopbackHost(u.Hostname())
}

// post sends the signed event once and answers the status code. An error never carries
// the URL (which may hold a token of the ISV's) or a secret.
func (a *Activities) post(ctx context.Context, in DeliverInput, ep contract.Endpoint) (int, error) {
	body, err := json.Marshal(a.eventBody(in.Event, ep))
	if err != nil {
		return 0, fmt.Errorf("encode the event: %w", err)
	}
	now := time.Now()
	var secrets []string
	for _, gen := range secretGenerations(ep, now) {
		s, err := a.Events.Key.Secret(in.ISVSlug, ep.ID, gen)
		if err != nil {
			return 0, err
		}
		secrets = append(secrets, s)
	}
	sig, err := eventsign.Signature(secrets, in.Event.ID, now, body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("the endpoint URL cannot be requested")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "connect-onboarding-events/1")
	req.Header.Set("webhook-id", in.Event.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := a.eventsHTTP().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		var oe *net.OpError
		if errors.As(err, &oe) && errors.Is(oe.Err, errAddressRefused) {
			err = oe.Err
		}
		if errors.Is(err, errAddressRefused) {
			return 0, err
		}
		return 0, fmt.Errorf("no answer from the endpoint: %s", contract.Truncate(err.Error(), 200))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// secretGenerations are the generations whose secrets sign now: the current one, and the
// previous one while its rotation's grace lasts.
func secretGenerations(ep contract.Endpoint, now time.Time) []int {
	gens := []int{ep.SecretGeneration}
	if ep.SecretGeneration > 1 && now.Before(ep.PreviousSecretUntil) {
		gens = append(gens, ep.SecretGeneration-1)
	}
	return gens
}

// eventBody is what the endpoint receives: without the Salesforce identity unless it opted
// in, and with the customer's connect link on a URL event when starter serve's address is
// known.
func (a *Activities) eventBody(e contract.LifecycleEvent, ep contract.Endpoint) contract.EventBody {
	d := e.Data
	if !ep.IncludeSalesforceIdentity {
		d.Salesforce = nil
	}
	if e.Type == contract.EventURLIssued && d.OnboardingID != "" {
		d.ConnectLink = a.connectLink(d.ISVSlug, d.CustomerID, d.OnboardingID)
	}
	return contract.EventBody{Type: e.Type, Timestamp: e.Timestamp, Data: d}
}

// connectLink is the customer's link that never goes stale, or "" when starter serve's
// address or the state key is not configured.
func (a *Activities) connectLink(slug, customerID, onboardingID string) string {
	if a.Events.ConnectLinkBase == "" || len(a.StateKey) == 0 {
		return ""
	}
	return a.Events.ConnectLinkBase + returnstate.SignLink(a.StateKey,
		returnstate.Link{WorkflowID: contract.ConnectionWorkflowID(slug, customerID), OnboardingID: onboardingID})
}

func (a *Activities) eventsHTTP() *http.Client {
	if a.Events.HTTP != nil {
		return a.Events.HTTP
	}
	// The address is checked when the connection is made, after DNS: a name that resolves
	// to an internal address (or is rebound to one) is refused like the address itself. No
	// proxy from the environment: it would dial for us, unchecked.
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		return a.Events.addressAllowed(net.ParseIP(host))
	}}
	return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: 10 * time.Second,
		ResponseHeaderTimeout: 15 * time.Second, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// errAddressRefused: the endpoint's address is one the worker does not send to.
var errAddressRefused = errors.New("refused")

// addressAllowed is the rule for the address an endpoint resolves to.
func (e Events) addressAllowed(ip net.IP) error {
	switch {
	case ip == nil:
		return fmt.Errorf("%w: not an IP address", errAddressRefused)
	case ip.IsLoopback() && !e.AllowLoopback:
		return fmt.Errorf("%w: the endpoint's address %s is loopback (EVENTS_ALLOW_LOOPBACK)", errAddressRefused, ip)
	case ip.IsPrivate() && !e.AllowPrivate:
		return fmt.Errorf("%w: the endpoint's address %s is on a private network (EVENTS_ALLOW_PRIVATE_NETWORKS)", errAddressRefused, ip)
	case ip.IsUnspecified() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast():
		return fmt.Errorf("%w: the endpoint's address %s is never sent to", errAddressRefused, ip)
	}
	return nil
}

// countDelivery counts a delivery attempt's outcome (metrics.EventDeliveries).
func countDelivery(ctx context.Context, outcome string) {
	metrics.EventDeliveries.Add(activity.GetMetricsHandler(ctx), 1, "outcome", outcome)
}

// logAttempt records an attempt in the endpoint's delivery log (signal-with-start of
// deliveries/<slug>/<endpoint>). The log is for reading: a failure to record is logged,
// and does not fail (and so repeat) the delivery.
func (a *Activities) logAttempt(ctx context.Context, slug, endpointID string, rec contract.DeliveryAttempt) {
	id := contract.DeliveryLogWorkflowID(slug, endpointID)
	opts := client.StartWorkflowOptions{ID: id, TaskQueue: a.Settings.Events()}
	_, err := contract.SignalDeliveryAttempt.SignalWithStart(ctx, a.Temporal, rec, opts, contract.DeliveryLogWorkflowName,
		contract.DeliveryLogInput{ISVSlug: slug, EndpointID: endpointID})
	if err != nil {
		activity.GetLogger(ctx).Warn("could not record a delivery attempt", "endpoint", endpointID, "event", rec.EventID, "error", err)
	}
}

// MarkInput is what a delivery's end says of its endpoint.
type MarkInput struct {
	ISVSlug string                   `json:"isv_slug"`
	Health  contract.EndpointHealth  `json:"health"`
	Record  contract.DeliveryAttempt `json:"record"`
}

// MarkEndpoint tells the partner workflow an endpoint is gone or failing, and logs the
// delivery's end. An integration whose workflow is gone has nobody to tell.
func (a *Activities) MarkEndpoint(ctx context.Context, in MarkInput) error {
	err := contract.SignalEndpointHealth.Send(ctx, a.Temporal, contract.PartnerWorkflowID(in.ISVSlug), in.Health)
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("tell %s that endpoint %s is %s: %w", in.ISVSlug, in.Health.ID, in.Health.State, err)
	}
	in.Record.At = time.Now().UTC()
	if in.Record.Outcome == contract.DeliveryFailed {
		countDelivery(ctx, in.Record.Outcome) // a gone endpoint was counted by its attempt
	}
	a.logAttempt(ctx, in.ISVSlug, in.Health.ID, in.Record)
	return nil
}
