package main

// starter endpoints: the integration's event endpoints.

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/connect-onboarding/worker/workflows/contract"
)

const endpointsUsage = `starter endpoints: where the integration's lifecycle events go (Standard Webhooks).

  endpoints add SLUG --url URL [--types T1,T2] [--description D] [--include-salesforce-identity]
  endpoints list SLUG
  endpoints update SLUG ID [--url URL] [--types T1,T2] [--description D] [--include-salesforce-identity=BOOL] [--enable|--disable]
  endpoints rotate-secret SLUG ID [--keep-previous 24h]
  endpoints secret SLUG ID          print the endpoint's current signing secret
  endpoints test SLUG ID            send a signed endpoint.ping and show how it went
  endpoints deliveries SLUG ID      the delivery log, newest first
  endpoints redeliver SLUG ID EVENT_ID

Event types: %s
`

func eventTypeNames() string {
	var out []string
	for _, e := range contract.EventTypes {
		out = append(out, string(e.Type))
	}
	return strings.Join(out, ", ")
}

func (a *cli) endpoints(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("endpoints needs a subcommand: add, list, update, rotate-secret, secret, test, deliveries or redeliver")
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintf(a.out, endpointsUsage, eventTypeNames())
		return errHelp
	case "add":
		return a.endpointAdd(ctx, args[1:])
	case "list":
		return a.endpointList(ctx, args[1:])
	case "update":
		return a.endpointUpdate(ctx, args[1:])
	case "rotate-secret":
		return a.endpointRotate(ctx, args[1:])
	case "secret", "test", "deliveries", "redeliver":
		return a.endpointRead(ctx, args[0], args[1:])
	}
	return usagef("unknown endpoints subcommand %q", args[0])
}

func typesFlag(fs *flag.FlagSet, dst *[]contract.EventType, set *bool) {
	fs.Func("types", "event types, comma-separated (all when not given)", func(v string) error {
		*dst = []contract.EventType{}
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				*dst = append(*dst, contract.EventType(t))
			}
		}
		if set != nil {
			*set = true
		}
		return nil
	})
}

func (a *cli) endpointAdd(ctx context.Context, args []string) error {
	fs := a.flags("endpoints add")
	var spec contract.EndpointSpec
	fs.StringVar(&spec.URL, "url", "", "https URL of the receiver (http only on loopback, for development)")
	fs.StringVar(&spec.Description, "description", "", "what the endpoint is for")
	fs.BoolVar(&spec.IncludeSalesforceIdentity, "include-salesforce-identity", false, "send the Salesforce username and org ID in events")
	typesFlag(fs, &spec.EventTypes, nil)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	slug, err := oneSlug(pos, "endpoints add")
	if err != nil {
		return err
	}
	ep, secret, err := a.c.AddEndpoint(ctx, slug, spec)
	if err != nil {
		return err
	}
	return a.printEndpoint("Added endpoint "+ep.ID+" to "+slug, ep, secret)
}

func (a *cli) endpointList(ctx context.Context, args []string) error {
	fs := a.flags("endpoints list")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	slug, err := oneSlug(pos, "endpoints list")
	if err != nil {
		return err
	}
	eps, err := a.c.Endpoints(ctx, slug)
	if err != nil {
		return err
	}
	if a.json {
		return a.print(eps, "", nil)
	}
	if len(eps) == 0 {
		fmt.Fprintf(a.out, "%s has no endpoints (starter endpoints add %s --url URL)\n", slug, slug)
		return nil
	}
	for _, e := range eps {
		types := "all"
		if len(e.EventTypes) > 0 {
			var ts []string
			for _, t := range e.EventTypes {
				ts = append(ts, string(t))
			}
			types = strings.Join(ts, ",")
		}
		fmt.Fprintf(a.out, "%s  %-8s  %s  [%s]  %s\n", e.ID, e.State, e.URL, types, e.StateReason)
	}
	return nil
}

func twoArgs(pos []string, cmd string) (string, string, error) {
	if len(pos) != 2 {
		return "", "", usagef("%s needs SLUG and ENDPOINT_ID", cmd)
	}
	return pos[0], pos[1], nil
}

func (a *cli) endpointUpdate(ctx context.Context, args []string) error {
	fs := a.flags("endpoints update")
	url := fs.String("url", "", "new URL")
	desc := fs.String("description", "", "new description")
	identity := fs.Bool("include-salesforce-identity", false, "send the Salesforce identity")
	enable := fs.Bool("enable", false, "deliver to it again (also after failing)")
	disable := fs.Bool("disable", false, "stop delivering to it")
	var types []contract.EventType
	var typesSet bool
	typesFlag(fs, &types, &typesSet)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	slug, id, err := twoArgs(pos, "endpoints update")
	if err != nil {
		return err
	}
	if *enable && *disable {
		return usagef("--enable and --disable exclude each other")
	}
	ch := contract.EndpointChange{ID: id}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "url":
			ch.URL = url
		case "description":
			ch.Description = desc
		case "include-salesforce-identity":
			ch.IncludeSalesforceIdentity = identity
		case "enable":
			ch.Enabled = enable
		case "disable":
			off := !*disable
			ch.Enabled = &off
		}
	})
	if typesSet {
		ch.EventTypes = &types
	}
	ep, err := a.c.ChangeEndpoint(ctx, slug, ch)
	if err != nil {
		return err
	}
	return a.printEndpoint("Updated endpoint "+ep.ID, ep, "")
}

func (a *cli) endpointRotate(ctx context.Context, args []string) error {
	fs := a.flags("endpoints rotate-secret")
	keep := fs.Duration("keep-previous", contract.DefaultKeepPrevious, "how long the previous secret signs too (at most 168h)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	slug, id, err := twoArgs(pos, "endpoints rotate-secret")
	if err != nil {
		return err
	}
	ep, secret, err := a.c.RotateEndpointSecret(ctx, slug, contract.EndpointRotate{ID: id, KeepPrevious: *keep})
	if err != nil {
		return err
	}
	return a.printEndpoint(fmt.Sprintf("New secret for %s (the previous one signs too until %s)", ep.ID, fmtTime(ep.PreviousSecretUntil)), ep, secret)
}

func (a *cli) endpointRead(ctx context.Context, cmd string, args []string) error {
	fs := a.flags("endpoints " + cmd)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	var eventID string
	if cmd == "redeliver" {
		if len(pos) != 3 {
			return usagef("endpoints redeliver needs SLUG, ENDPOINT_ID and EVENT_ID")
		}
		eventID, pos = pos[2], pos[:2]
	}
	slug, id, err := twoArgs(pos, "endpoints "+cmd)
	if err != nil {
		return err
	}
	switch cmd {
	case "secret":
		ep, err := a.c.Endpoint(ctx, slug, id)
		if err != nil {
			return err
		}
		secret, err := a.c.EndpointSecret(slug, ep)
		if err != nil {
			return err
		}
		if a.json {
			return a.print(map[string]string{"secret": secret}, "", nil)
		}
		fmt.Fprintln(a.out, secret)
		return nil
	case "test":
		d, err := a.c.TestEndpoint(ctx, slug, id)
		if err != nil {
			return err
		}
		return a.printDeliveries([]contract.Delivery{d})
	case "deliveries":
		log, err := a.c.Deliveries(ctx, slug, id)
		if err != nil {
			return err
		}
		return a.printDeliveries(log)
	}
	if err := a.c.Redeliver(ctx, slug, id, eventID); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "✓ %s queued for %s again\n", eventID, id)
	return nil
}

func (a *cli) printEndpoint(headline string, ep contract.Endpoint, secret string) error {
	if a.json {
		return a.print(struct {
			contract.Endpoint
			Secret string `json:"secret,omitempty"`
		}{ep, secret}, "", nil)
	}
	types := "all"
	if len(ep.EventTypes) > 0 {
		var ts []string
		for _, t := range ep.EventTypes {
			ts = append(ts, string(t))
		}
		types = strings.Join(ts, ", ")
	}
	rows := [][2]string{{"ID", ep.ID}, {"URL", ep.URL}, {"State", string(ep.State)}, {"Reason", ep.StateReason}, {"Event Types", types},
		{"Salesforce Identity", fmt.Sprint(ep.IncludeSalesforceIdentity)}, {"Secret Generation", fmt.Sprint(ep.SecretGeneration)}, {"Secret", secret}}
	return a.print(ep, headline, rows)
}

func (a *cli) printDeliveries(log []contract.Delivery) error {
	if a.json {
		return a.print(log, "", nil)
	}
	if len(log) == 0 {
		fmt.Fprintln(a.out, "no deliveries yet")
		return nil
	}
	for _, d := range log {
		fmt.Fprintf(a.out, "%s  %-32s  %-10s  customer %s #%d\n", d.EventID, d.Type, d.Outcome, cmpOr(d.CustomerID, "-"), d.Sequence)
		for _, at := range d.Attempts {
			fmt.Fprintf(a.out, "    attempt %d  %s  %-9s  HTTP %d  %d ms  %s\n", at.Attempt, at.At.UTC().Format(time.RFC3339), at.Outcome, at.StatusCode, at.LatencyMS, at.Error)
		}
	}
	return nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
