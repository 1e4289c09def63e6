package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// The watcher reads its app a page at a time, one request per activity like every Heroku
// call, and keeps nothing per customer: what a page holds that a customer must hear of
// (a new authorization, a connection that needs the customer again) is found by the page's
// reader, and the customer workflow that owns the connection is found in Temporal's
// visibility by its add-on.

// WatchPageInput is one page of one app's connections.
type WatchPageInput struct {
	App       string `json:"app"`
	RegionURL string `json:"region_url"`
	Offset    int    `json:"offset"`
	Limit     int    `json:"limit"`
	// AuthAfter: a healthy connection authorized after this is news; zero reports every
	// authorized connection (a watcher that starts afresh learns everything once).
	AuthAfter time.Time `json:"auth_after,omitzero"`
	// Unhealthy are connections the watcher told of a state that needs someone: one found
	// healthy again is news even without a new authorization.
	Unhealthy []string `json:"unhealthy,omitempty"`
}

// WatchPage is what one page says.
type WatchPage struct {
	Count   int  `json:"count"`   // connections of the app
	Read    int  `json:"read"`    // connections on this page
	Waiting int  `json:"waiting"` // of them, waiting for a customer (NEED_AUTHENTICATION, UNAUTHORIZED)
	More    bool `json:"more"`
	// News are the connections a customer must hear of; everything else on the page is left
	// out, so the watcher's history does not grow with the app.
	News []ConnectionNews `json:"news,omitempty"`
	// Unhealthy are the IDs of every connection on the page in a state that needs someone,
	// so the watcher can forget those that recovered or went away.
	Unhealthy []string `json:"unhealthy,omitempty"`
}

// ConnectionNews is one connection's state, with its add-on (the way to its customer).
type ConnectionNews struct {
	ConnectionID string    `json:"connection_id"`
	AddonID      string    `json:"addon_id"`
	State        string    `json:"state"`
	AuthUpdated  time.Time `json:"auth_updated,omitzero"`
}

// ReadConnectionsPage reads one page of an app's connections and keeps what is news.
func (a *Activities) ReadConnectionsPage(ctx context.Context, in WatchPageInput) (WatchPage, error) {
	if in.Limit < 1 || in.Limit > heroku.AppConnectionsPage {
		in.Limit = heroku.AppConnectionsPage
	}
	page, err := a.Heroku.AppConnectionsAt(ctx, in.RegionURL, in.App, in.Offset, in.Limit)
	if err != nil {
		return WatchPage{}, fromHeroku(err)
	}
	out := WatchPage{Count: page.Count, Read: len(page.Results), More: page.More}
	told := make(map[string]bool, len(in.Unhealthy))
	for _, id := range in.Unhealthy {
		told[id] = true
	}
	for _, c := range page.Results {
		n := ConnectionNews{ConnectionID: c.ID, AddonID: c.AddonID, State: c.State}
		if c.AuthUpdated != nil {
			n.AuthUpdated = *c.AuthUpdated
		}
		switch {
		case c.State == heroku.StateNew:
			// being configured by its onboarding: nobody to tell yet
		case c.State == heroku.StateNeedAuthentication && n.AuthUpdated.IsZero():
			out.Waiting++ // waiting for its first authorization: its customer knows
		case heroku.Healthy(c.State):
			if n.AuthUpdated.After(in.AuthAfter) || told[c.ID] {
				out.News = append(out.News, n) // authorized since the last look, or recovered
			}
		default:
			// UNAUTHORIZED, a re-authorization pending, or a fault: needs someone
			if c.State == heroku.StateUnauthorized || c.State == heroku.StateNeedAuthentication {
				out.Waiting++
			}
			out.News = append(out.News, n)
			out.Unhealthy = append(out.Unhealthy, c.ID)
		}
	}
	return out, nil
}

// DiscoverRegion finds where an app's connections live (their region URL), for a watcher
// started without one (by the reconciler); "" when the app has none this account sees.
func (a *Activities) DiscoverRegion(ctx context.Context, app string) (string, error) {
	refs, err := a.Heroku.DiscoverConnections(ctx, app, "")
	if err != nil {
		return "", fromHeroku(err)
	}
	for _, r := range refs {
		if r.RegionURL != "" {
			return r.RegionURL, nil
		}
	}
	return "", nil
}

// FindConnectionOwners maps add-on IDs to the running customer workflows that own them,
// through the HerokuAddonId search attribute. Add-ons nobody owns are left out.
func (a *Activities) FindConnectionOwners(ctx context.Context, addonIDs []string) (map[string]string, error) {
	out := map[string]string{}
	const chunk = 100
	for start := 0; start < len(addonIDs); start += chunk {
		ids := addonIDs[start:min(start+chunk, len(addonIDs))]
		safe := make([]string, 0, len(ids))
		for _, id := range ids {
			if contract.CheckQueryValue("addon_id", id) == nil {
				safe = append(safe, id) // a Heroku answer is not trusted into a query
			}
		}
		if len(safe) == 0 {
			continue
		}
		q, err := contract.Customers().Running().In(contract.SAHerokuAddonID, safe...).Build()
		if err != nil {
			return nil, final(contract.ErrInvalidInput, "%v", err)
		}
		var token []byte
		for {
			resp, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, NextPageToken: token, PageSize: 1000})
			if err != nil {
				return nil, fmt.Errorf("find the owners of %d add-ons: %w", len(safe), err)
			}
			for _, e := range resp.Executions {
				if id := contract.Keyword(e.SearchAttributes, contract.SAHerokuAddonID); id != "" {
					out[id] = e.Execution.WorkflowId
				}
			}
			if token = resp.NextPageToken; len(token) == 0 {
				break
			}
		}
	}
	return out, nil
}
