package workflows

// The integration's event endpoints, kept by its partner workflow: added, changed, given a
// new secret, and marked by delivery when one is gone or failing; and the integration's own
// lifecycle events.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"

	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// endpoint finds an endpoint by ID.
func (p *partner) endpoint(id string) *contract.Endpoint {
	for i := range p.info.Endpoints {
		if p.info.Endpoints[i].ID == id {
			return &p.info.Endpoints[i]
		}
	}
	return nil
}

func (p *partner) endpointsNow() ([]contract.Endpoint, error) {
	if p.info.Endpoints == nil {
		return []contract.Endpoint{}, nil
	}
	return p.info.Endpoints, nil
}

func (p *partner) validateEndpointAdd(_ workflow.Context, spec contract.EndpointSpec) error {
	if len(p.info.Endpoints) >= contract.MaxEndpoints {
		return fmt.Errorf("endpoints: an integration has at most %d", contract.MaxEndpoints)
	}
	return spec.Validate()
}

// onEndpointAdd adds an endpoint, enabled, at secret generation 1. Its ID comes from the
// workflow's chain and a counter: unique, and the same on replay.
func (p *partner) onEndpointAdd(ctx workflow.Context, spec contract.EndpointSpec) (contract.Endpoint, error) {
	p.info.EndpointsMade++
	sum := sha256.Sum256([]byte(p.in.Slug + "\x00" + firstRunID(workflow.GetInfo(ctx)) + "\x00" + strconv.Itoa(p.info.EndpointsMade)))
	now := workflow.Now(ctx)
	ep := contract.Endpoint{ID: "ep_" + hex.EncodeToString(sum[:8]), URL: spec.URL, Description: spec.Description,
		EventTypes: append([]contract.EventType{}, spec.EventTypes...), IncludeSalesforceIdentity: spec.IncludeSalesforceIdentity,
		State: contract.EndpointEnabled, SecretGeneration: 1, CreatedAt: now, UpdatedAt: now}
	p.info.Endpoints = append(p.info.Endpoints, ep)
	return ep, nil
}

func (p *partner) validateEndpointChange(_ workflow.Context, c contract.EndpointChange) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if p.endpoint(c.ID) == nil {
		return fmt.Errorf("id: no endpoint %q in integration %s", c.ID, p.in.Slug)
	}
	return nil
}

// onEndpointChange changes what was given; enabling clears a failing state.
func (p *partner) onEndpointChange(ctx workflow.Context, c contract.EndpointChange) (contract.Endpoint, error) {
	ep := p.endpoint(c.ID)
	if c.URL != nil {
		ep.URL = *c.URL
	}
	if c.Description != nil {
		ep.Description = *c.Description
	}
	if c.EventTypes != nil {
		ep.EventTypes = append([]contract.EventType{}, *c.EventTypes...)
	}
	if c.IncludeSalesforceIdentity != nil {
		ep.IncludeSalesforceIdentity = *c.IncludeSalesforceIdentity
	}
	if c.Enabled != nil {
		ep.State, ep.StateReason = contract.EndpointEnabled, ""
		if !*c.Enabled {
			ep.State, ep.StateReason = contract.EndpointDisabled, "disabled by the ISV"
		}
	}
	ep.UpdatedAt = workflow.Now(ctx)
	return *ep, nil
}

func (p *partner) validateEndpointRotate(_ workflow.Context, r contract.EndpointRotate) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if p.endpoint(r.ID) == nil {
		return fmt.Errorf("id: no endpoint %q in integration %s", r.ID, p.in.Slug)
	}
	return nil
}

// onEndpointRotate moves the endpoint to its next secret generation; the previous secret
// signs too until the grace ends, so receivers can switch without losing an event.
func (p *partner) onEndpointRotate(ctx workflow.Context, r contract.EndpointRotate) (contract.Endpoint, error) {
	ep := p.endpoint(r.ID)
	keep := r.KeepPrevious
	if keep == 0 {
		keep = contract.DefaultKeepPrevious
	}
	now := workflow.Now(ctx)
	ep.SecretGeneration++
	ep.PreviousSecretUntil = now.Add(keep)
	ep.UpdatedAt = now
	return *ep, nil
}

// receiveEndpointHealth applies what delivery found: a 410 disables the endpoint, spent
// retries mark it failing. A report never enables one (anyone with namespace access can
// send it), and a disabled endpoint stays disabled.
func (p *partner) receiveEndpointHealth(ctx workflow.Context) {
	ch := contract.SignalEndpointHealth.Channel(ctx)
	for {
		h := contract.SignalEndpointHealth.Receive(ctx, ch)
		ep := p.endpoint(h.ID)
		if ep == nil || ep.State == contract.EndpointDisabled || !slices.Contains([]contract.EndpointState{contract.EndpointDisabled, contract.EndpointFailing}, h.State) {
			continue
		}
		reason := h.Reason
		if len(reason) > 500 {
			reason = reason[:500]
		}
		ep.State, ep.StateReason, ep.UpdatedAt = h.State, reason, workflow.Now(ctx)
		workflow.GetLogger(ctx).Warn("event endpoint "+string(h.State), "endpoint", ep.ID, "reason", reason)
	}
}

// emit sends one of the integration's own events (partnerEmitsEvents).
func (p *partner) emit(ctx workflow.Context, t contract.EventType) {
	if !p.emits {
		return
	}
	p.info.EventSeq++
	d := contract.EventData{ISVSlug: p.in.Slug, Sequence: p.info.EventSeq, PartnerStage: p.info.Stage, Integration: p.info.Integration}
	if t == contract.EventPartnerDeactivated {
		d.Report = p.info.Report
	}
	ev := contract.LifecycleEvent{ID: eventID("partner/"+firstRunID(workflow.GetInfo(ctx)), p.info.EventSeq), Type: t, Timestamp: workflow.Now(ctx), Data: d}
	emitEvent(ctx, p.settings, ev)
}
