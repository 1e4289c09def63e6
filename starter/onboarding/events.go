package onboarding

// The integration's event endpoints (Standard Webhooks), their delivery logs, redelivery,
// and customers' connect links.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/internal/eventsign"
	"github.com/connect-onboarding/worker/internal/returnstate"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// Events configures what a client needs for events beyond Temporal: the events secret key
// (to reveal endpoint secrets; the worker holds the same), and the connect links' key and
// base (RETURN_STATE_KEY and starter serve's STARTER_PUBLIC_URL/connect/).
type Events struct {
	Key       eventsign.Key
	TaskQueue string // contract.EventsTaskQueue when empty
	LinkKey   []byte
	LinkBase  string
}

func (c *Client) eventsQueue() string {
	if c.Events.TaskQueue == "" {
		return contract.EventsTaskQueue
	}
	return c.Events.TaskQueue
}

// AddEndpoint adds an endpoint that receives the integration's lifecycle events and returns
// it with its signing secret (EndpointSecret reveals it again).
func (c *Client) AddEndpoint(ctx context.Context, slug string, spec contract.EndpointSpec) (contract.Endpoint, string, error) {
	if err := checkSlug(slug); err != nil {
		return contract.Endpoint{}, "", err
	}
	if err := spec.Validate(); err != nil {
		return contract.Endpoint{}, "", invalid(err)
	}
	if len(c.Events.Key) == 0 {
		return contract.Endpoint{}, "", eventsign.ErrNoKey
	}
	ep, err := contract.UpdateEndpointAdd.Call(ctx, c.temporal, contract.PartnerWorkflowID(slug), spec)
	if err != nil {
		return contract.Endpoint{}, "", partnerNotFound(partnerError(err), slug)
	}
	secret, err := c.EndpointSecret(slug, ep)
	return ep, secret, err
}

// Endpoints lists the integration's endpoints (without secrets).
func (c *Client) Endpoints(ctx context.Context, slug string) ([]contract.Endpoint, error) {
	if err := checkSlug(slug); err != nil {
		return nil, err
	}
	eps, err := contract.QueryEndpoints.Ask(ctx, c.temporal, contract.PartnerWorkflowID(slug))
	return eps, partnerNotFound(err, slug)
}

// Endpoint is one endpoint of the integration.
func (c *Client) Endpoint(ctx context.Context, slug, id string) (contract.Endpoint, error) {
	eps, err := c.Endpoints(ctx, slug)
	if err != nil {
		return contract.Endpoint{}, err
	}
	for _, e := range eps {
		if e.ID == id {
			return e, nil
		}
	}
	return contract.Endpoint{}, fmt.Errorf("endpoint %s of %s: %w", id, slug, ErrNotFound)
}

// ChangeEndpoint changes the fields given (URL, types, identity opt-in, enabled).
func (c *Client) ChangeEndpoint(ctx context.Context, slug string, ch contract.EndpointChange) (contract.Endpoint, error) {
	if err := checkSlug(slug); err != nil {
		return contract.Endpoint{}, err
	}
	if err := ch.Validate(); err != nil {
		return contract.Endpoint{}, invalid(err)
	}
	if _, err := c.Endpoint(ctx, slug, ch.ID); err != nil {
		return contract.Endpoint{}, err
	}
	ep, err := contract.UpdateEndpointChange.Call(ctx, c.temporal, contract.PartnerWorkflowID(slug), ch)
	return ep, partnerNotFound(partnerError(err), slug)
}

// RotateEndpointSecret gives the endpoint a new secret and returns it; the previous secret
// signs too (a second signature) for r.KeepPrevious, 24 hours by default.
func (c *Client) RotateEndpointSecret(ctx context.Context, slug string, r contract.EndpointRotate) (contract.Endpoint, string, error) {
	if err := checkSlug(slug); err != nil {
		return contract.Endpoint{}, "", err
	}
	if err := r.Validate(); err != nil {
		return contract.Endpoint{}, "", invalid(err)
	}
	if len(c.Events.Key) == 0 {
		return contract.Endpoint{}, "", eventsign.ErrNoKey
	}
	if _, err := c.Endpoint(ctx, slug, r.ID); err != nil {
		return contract.Endpoint{}, "", err
	}
	ep, err := contract.UpdateEndpointRotate.Call(ctx, c.temporal, contract.PartnerWorkflowID(slug), r)
	if err != nil {
		return contract.Endpoint{}, "", partnerNotFound(partnerError(err), slug)
	}
	secret, err := c.EndpointSecret(slug, ep)
	return ep, secret, err
}

// EndpointSecret is the endpoint's current signing secret (whsec_…), derived from the
// events key: it is stored nowhere.
func (c *Client) EndpointSecret(slug string, ep contract.Endpoint) (string, error) {
	return c.Events.Key.Secret(slug, ep.ID, ep.SecretGeneration)
}

// Deliveries is the endpoint's delivery log, newest first: each event's outcome and its
// last attempts (status, latency, error).
func (c *Client) Deliveries(ctx context.Context, slug, endpointID string) ([]contract.Delivery, error) {
	if _, err := c.Endpoint(ctx, slug, endpointID); err != nil {
		return nil, err
	}
	log, err := contract.QueryDeliveries.Ask(ctx, c.temporal, contract.DeliveryLogWorkflowID(slug, endpointID))
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return []contract.Delivery{}, nil // nothing sent to it yet
	}
	return log, err
}

// TestEndpoint sends the endpoint a signed endpoint.ping through the same path as every
// event (and its log), and returns the ping's delivery as the log shows it once an attempt
// was made (or what it shows after 30 s).
func (c *Client) TestEndpoint(ctx context.Context, slug, endpointID string) (contract.Delivery, error) {
	if _, err := c.Endpoint(ctx, slug, endpointID); err != nil {
		return contract.Delivery{}, err
	}
	ev := contract.LifecycleEvent{ID: "evt_ping_" + uuid.NewString(), Type: contract.EventPing, Timestamp: time.Now().UTC(),
		Data: contract.EventData{ISVSlug: slug}, Only: endpointID}
	opts := client.StartWorkflowOptions{ID: contract.EventsWorkflowID(slug, ""), TaskQueue: c.eventsQueue()}
	if _, err := contract.SignalEventEmit.SignalWithStart(ctx, c.temporal, ev, opts, contract.EventsWorkflowName, contract.EventsInput{ISVSlug: slug}); err != nil {
		return contract.Delivery{}, unavailable(fmt.Errorf("send a ping to %s: %w", endpointID, err))
	}
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		log, err := contract.QueryDeliveries.Ask(wait, c.temporal, contract.DeliveryLogWorkflowID(slug, endpointID))
		if err == nil {
			for _, d := range log {
				if d.EventID == ev.ID {
					return d, nil
				}
			}
		}
		select {
		case <-wait.Done():
			return contract.Delivery{EventID: ev.ID, Type: ev.Type, Outcome: "pending"}, nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Redeliver sends an event the endpoint's log holds to the endpoint again (same webhook-id,
// a new signature). The event must still be kept by its customer's stream: its last 50
// events, until a week after its last one.
func (c *Client) Redeliver(ctx context.Context, slug, endpointID, eventID string) error {
	log, err := c.Deliveries(ctx, slug, endpointID)
	if err != nil {
		return err
	}
	for _, d := range log {
		if d.EventID != eventID {
			continue
		}
		stream := contract.EventsWorkflowID(slug, d.CustomerID)
		kept, err := contract.QueryEvents.Ask(ctx, c.temporal, stream)
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) || err == nil && !slices.ContainsFunc(kept.Recent, func(e contract.LifecycleEvent) bool { return e.ID == eventID }) {
			return fmt.Errorf("event %s is no longer kept (a customer's last 50 events are, for a week): %w", eventID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		err = contract.SignalRedeliver.Send(ctx, c.temporal, contract.EventsWorkflowID(slug, d.CustomerID),
			contract.Redeliver{EventID: eventID, EndpointID: endpointID})
		if errors.As(err, &nf) {
			return fmt.Errorf("event %s is no longer kept: %w", eventID, ErrNotFound)
		}
		return err
	}
	return fmt.Errorf("event %s in the delivery log of %s: %w", eventID, endpointID, ErrNotFound)
}

// ConnectLink is the customer's link that never goes stale, bound to one onboarding
// (Status.OnboardingID): starter serve's GET /connect/{link}. "" without the link's key and
// base, or before the onboarding has an ID.
func (c *Client) ConnectLink(slug, customerID, onboardingID string) string {
	if len(c.Events.LinkKey) == 0 || c.Events.LinkBase == "" || onboardingID == "" {
		return ""
	}
	return c.Events.LinkBase + returnstate.SignLink(c.Events.LinkKey,
		returnstate.Link{WorkflowID: contract.ConnectionWorkflowID(slug, customerID), OnboardingID: onboardingID})
}

func checkSlug(slug string) error {
	if !contract.ValidSlug(slug) {
		return &InvalidInputError{Fields: []contract.FieldError{{Field: "slug", Rule: "must be 3-30 lower-case letters, digits and single dashes, starting with a letter"}}}
	}
	return nil
}
