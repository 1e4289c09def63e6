package heroku

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ConnectAuth puts the token's user on the access list of every Connect add-on of app.
// Without it, discovery shows nothing.
func (c *Client) ConnectAuth(ctx context.Context, app string) error {
	_, err := c.do(ctx, call{op: "join Connect access list", method: http.MethodPost,
		url: c.connect.String() + pathf("/auth/%s", app), accept: AcceptConnect})
	return err
}

// DiscoverConnections finds the connections of app (of one add-on when resourceName is set)
// and where each lives. Regional URLs come from here and nowhere else.
func (c *Client) DiscoverConnections(ctx context.Context, app, resourceName string) ([]ConnectionRef, error) {
	q := url.Values{"app": {app}}
	if resourceName != "" {
		q.Set("resource_name", resourceName)
	}
	next := c.connect.String() + "/connections?" + q.Encode()
	var all []ConnectionRef
	for next != "" {
		var page struct {
			Count   int             `json:"count"`
			Next    *string         `json:"next"`
			Results []ConnectionRef `json:"results"`
		}
		if err := c.getJSON(ctx, "discover connections", next, AcceptConnect, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Results...)
		next = ""
		if page.Next != nil && len(page.Results) > 0 { // an empty page ends a list whatever it links
			next = *page.Next
		}
	}
	return all, nil
}

// DiscoveryPage is one page of an app's connections as discovery lists them.
type DiscoveryPage struct {
	Count   int             // every connection of the app the user may see
	Results []ConnectionRef // this page
	More    bool            // another page follows
}

// DiscoverConnectionsAt reads one page of discovery: limit (at most AppConnectionsPage) of
// app's connections from offset, or only the connection of add-on resourceName when it is
// set. One request: a caller under a per-request budget pages itself.
func (c *Client) DiscoverConnectionsAt(ctx context.Context, app, resourceName string, offset, limit int) (*DiscoveryPage, error) {
	if offset < 0 || limit < 1 || limit > AppConnectionsPage {
		return nil, &Error{Kind: KindInvalid, Message: fmt.Sprintf("offset %d and limit %d: offset must not be negative, limit 1 to %d", offset, limit, AppConnectionsPage)}
	}
	q := url.Values{"app": {app}, "offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(limit)}}
	if resourceName != "" {
		q.Set("resource_name", resourceName)
	}
	var page struct {
		Count   int             `json:"count"`
		Next    *string         `json:"next"`
		Results []ConnectionRef `json:"results"`
	}
	if err := c.getJSON(ctx, "discover connections", c.connect.String()+"/connections?"+q.Encode(), AcceptConnect, &page); err != nil {
		return nil, err
	}
	return &DiscoveryPage{Count: page.Count, Results: page.Results, More: page.Next != nil && len(page.Results) > 0}, nil
}

// regional joins a region URL from discovery with an /api/v3 path.
func regional(regionURL, format string, args ...any) (string, error) {
	base, err := parseBase(regionURL)
	if err != nil {
		return "", &Error{Kind: KindOther, Message: fmt.Sprintf("region URL from discovery: %v", err)}
	}
	return strings.TrimRight(base.String(), "/") + "/api/v3" + pathf(format, args...), nil
}

// Connection reads one connection's detail from its region.
func (c *Client) Connection(ctx context.Context, regionURL, id string) (*Connection, error) {
	u, err := regional(regionURL, "/connections/%s", id)
	if err != nil {
		return nil, err
	}
	var out Connection
	return &out, c.getJSON(ctx, "read connection", u+"?deep=true", AcceptConnect, &out)
}

// AppConnectionsPage is the page size AppConnections asks for, the Connect API's largest: an
// app with up to this many connections is read in one request.
const AppConnectionsPage = 1000

// AppConnections reads every connection of app, a page of AppConnectionsPage at a time
// following the answers' next links: the cheap way to watch many.
func (c *Client) AppConnections(ctx context.Context, regionURL, app string) ([]Connection, error) {
	u, err := regional(regionURL, "/connections")
	if err != nil {
		return nil, err
	}
	q := url.Values{"app": {app}, "deep": {"true"}, "limit": {strconv.Itoa(AppConnectionsPage)}}
	next := u + "?" + q.Encode()
	var all []Connection
	for next != "" {
		var page struct {
			Count   int          `json:"count"`
			Next    *string      `json:"next"`
			Results []Connection `json:"results"`
		}
		if err := c.getJSON(ctx, "list app connections", next, AcceptConnect, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Results...)
		next = ""
		if page.Next != nil && len(page.Results) > 0 {
			next = *page.Next
		}
	}
	return all, nil
}

// ConnectionsPage is one page of an app's connections.
type ConnectionsPage struct {
	Count   int          // every connection of the app
	Results []Connection // this page
	More    bool         // another page follows
}

// AppConnectionsAt reads one page of an app's connections: limit (at most
// AppConnectionsPage) from offset, in Heroku's order. One request: a reader that must stay
// within a budget per round pages with it.
func (c *Client) AppConnectionsAt(ctx context.Context, regionURL, app string, offset, limit int) (*ConnectionsPage, error) {
	u, err := regional(regionURL, "/connections")
	if err != nil {
		return nil, err
	}
	if offset < 0 || limit < 1 || limit > AppConnectionsPage {
		return nil, &Error{Kind: KindInvalid, Message: fmt.Sprintf("offset %d and limit %d: offset must not be negative, limit 1 to %d", offset, limit, AppConnectionsPage)}
	}
	q := url.Values{"app": {app}, "deep": {"true"}, "offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(limit)}}
	var page struct {
		Count   int          `json:"count"`
		Next    *string      `json:"next"`
		Results []Connection `json:"results"`
	}
	if err := c.getJSON(ctx, "list app connections", u+"?"+q.Encode(), AcceptConnect, &page); err != nil {
		return nil, err
	}
	return &ConnectionsPage{Count: page.Count, Results: page.Results, More: page.Next != nil && len(page.Results) > 0}, nil
}

// SetConnectionSchema sets where the connection writes in the ISV's Postgres. Heroku allows
// it while the state is NEW.
func (c *Client) SetConnectionSchema(ctx context.Context, regionURL, id, dbKey, schema string) (*Connection, error) {
	u, err := regional(regionURL, "/connections/%s", id)
	if err != nil {
		return nil, err
	}
	var out Connection
	_, err = c.sendJSON(ctx, "set connection schema", http.MethodPatch, u, AcceptConnect,
		map[string]string{"db_key": dbKey, "schema_name": schema}, &out)
	return &out, err
}

// ImportMappings imports a mapping configuration (Connect's export format) into a
// connection. Heroku treats it like a PATCH: mappings it names are created or changed, the
// others are left alone.
func (c *Client) ImportMappings(ctx context.Context, regionURL, id string, config json.RawMessage) error {
	u, err := regional(regionURL, "/connections/%s/actions/import", id)
	if err != nil {
		return err
	}
	_, err = c.sendJSON(ctx, "import mappings", http.MethodPost, u, AcceptConnect, config, nil)
	return err
}

// WriteErrors reads the connection's write errors of the last 24 hours: how many, and the
// first page of them.
func (c *Client) WriteErrors(ctx context.Context, regionURL, id string) (int, []WriteError, error) {
	u, err := regional(regionURL, "/connections/%s/errors", id)
	if err != nil {
		return 0, nil, err
	}
	var page struct {
		Count   int          `json:"count"`
		Results []WriteError `json:"results"`
	}
	if err := c.getJSON(ctx, "read write errors", u, AcceptConnect, &page); err != nil {
		return 0, nil, err
	}
	return page.Count, page.Results, nil
}

// Notifications reads the connection's unacknowledged notifications (up to 1,000).
func (c *Client) Notifications(ctx context.Context, regionURL, id string) ([]Notification, error) {
	u, err := regional(regionURL, "/connections/%s/notifications", id)
	if err != nil {
		return nil, err
	}
	var page struct {
		Results []Notification `json:"results"`
	}
	if err := c.getJSON(ctx, "read notifications", u+"?page_size=1000", AcceptConnect, &page); err != nil {
		return nil, err
	}
	return page.Results, nil
}
