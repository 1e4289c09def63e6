package heroku

import (
	"context"
	"encoding/json"
	"net/http"
)

// CreateAddon creates an add-on on app. Heroku has no idempotency key: a call that timed
// out may still have created it, so callers use a deterministic name and look first.
func (c *Client) CreateAddon(ctx context.Context, app string, in AddonCreate) (*Addon, error) {
	var out Addon
	_, err := c.sendJSON(ctx, "create add-on", http.MethodPost, c.platformURL("/apps/%s/addons", app), AcceptPlatform, in, &out)
	return &out, err
}

// AddonInfo reads an add-on by ID or name; app may be empty.
func (c *Client) AddonInfo(ctx context.Context, app, idOrName string) (*Addon, error) {
	u := c.platformURL("/addons/%s", idOrName)
	if app != "" {
		u = c.platformURL("/apps/%s/addons/%s", app, idOrName)
	}
	var out Addon
	return &out, c.getJSON(ctx, "read add-on", u, AcceptPlatform, &out)
}

// ListAddons lists every add-on of app, following pagination to the end.
func (c *Client) ListAddons(ctx context.Context, app string) ([]Addon, error) {
	var all []Addon
	err := c.getAllPages(ctx, "list add-ons", c.platformURL("/apps/%s/addons", app), AcceptPlatform, func(b []byte) error {
		var page []Addon
		if err := json.Unmarshal(b, &page); err != nil {
			return err
		}
		all = append(all, page...)
		return nil
	})
	return all, err
}

// DestroyAddon deletes an add-on. The answer's state is deprovisioning or deprovisioned;
// the add-on then disappears (404).
func (c *Client) DestroyAddon(ctx context.Context, app, idOrName string) (*Addon, error) {
	const op = "destroy add-on"
	r, err := c.do(ctx, call{op: op, method: http.MethodDelete, url: c.platformURL("/apps/%s/addons/%s", app, idOrName), accept: AcceptPlatform})
	if err != nil {
		return nil, err
	}
	var out Addon
	return &out, decode(op, r, &out)
}

// AddonsPage is one page of the account's add-ons and the Range of the next ("" at the end).
type AddonsPage struct {
	Addons    []Addon
	NextRange string
}

// AccountAddonsPage reads one page of every add-on the account can see (GET /addons): one
// request, so a caller under a per-request budget pages itself. rng is "" for the first page,
// then the previous page's NextRange.
func (c *Client) AccountAddonsPage(ctx context.Context, rng string) (*AddonsPage, error) {
	const op = "list account add-ons"
	if rng == "" {
		rng = "id ..; max=1000"
	}
	r, err := c.do(ctx, call{op: op, method: http.MethodGet, url: c.platformURL("/addons"), accept: AcceptPlatform, header: http.Header{"Range": {rng}}})
	if err != nil {
		return nil, err
	}
	out := &AddonsPage{}
	if err := json.Unmarshal(r.body, &out.Addons); err != nil {
		return nil, &Error{Kind: KindOther, Op: op, StatusCode: r.status, Message: "undecodable response: " + err.Error()}
	}
	if r.status == http.StatusPartialContent {
		out.NextRange = r.header.Get("Next-Range")
	}
	return out, nil
}
