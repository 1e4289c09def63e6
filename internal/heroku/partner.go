package heroku

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
)

// CreateIntegration registers a partner integration (multipart, with the logo file).
func (c *Client) CreateIntegration(ctx context.Context, in IntegrationCreate) (*Integration, error) {
	fields := [][2]string{{"slug", in.Slug}, {"name", in.Name}, {"team", in.Team},
		{"contact_email", in.ContactEmail}, {"description", in.Description}, {"docs_url", in.DocsURL}}
	logo := &in.Logo
	if len(logo.Data) == 0 {
		logo = nil
	}
	return c.sendIntegration(ctx, "create partner integration", http.MethodPost, c.platformURL("/partner/connect"), fields, logo)
}

// UpdateIntegration changes only the fields set in in.
func (c *Client) UpdateIntegration(ctx context.Context, slugOrID string, in IntegrationUpdate) (*Integration, error) {
	var fields [][2]string
	for _, f := range []struct {
		name string
		val  *string
	}{{"description", in.Description}, {"docs_url", in.DocsURL}, {"contact_email", in.ContactEmail}} {
		if f.val != nil {
			fields = append(fields, [2]string{f.name, *f.val})
		}
	}
	return c.sendIntegration(ctx, "update partner integration", http.MethodPatch, c.platformURL("/partner/connect/%s", slugOrID), fields, in.Logo)
}

func (c *Client) sendIntegration(ctx context.Context, op, method, url string, fields [][2]string, logo *Logo) (*Integration, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return nil, &Error{Kind: KindOther, Op: op, Message: err.Error()}
		}
	}
	if logo != nil {
		fw, err := mw.CreateFormFile("logo_image", logo.Filename)
		if err == nil {
			_, err = io.Copy(fw, bytes.NewReader(logo.Data))
		}
		if err != nil {
			return nil, &Error{Kind: KindOther, Op: op, Message: err.Error()}
		}
	}
	if err := mw.Close(); err != nil {
		return nil, &Error{Kind: KindOther, Op: op, Message: err.Error()}
	}
	r, err := c.do(ctx, call{op: op, method: method, url: url, accept: AcceptPartner, body: &buf, contentType: mw.FormDataContentType()})
	if err != nil {
		return nil, err
	}
	var out Integration
	return &out, decode(op, r, &out)
}

// IntegrationInfo reads a partner integration by slug or ID.
func (c *Client) IntegrationInfo(ctx context.Context, slugOrID string) (*Integration, error) {
	var out Integration
	return &out, c.getJSON(ctx, "read partner integration", c.platformURL("/partner/connect/%s", slugOrID), AcceptPartner, &out)
}

// Enroll associates an existing Connect add-on with the integration.
func (c *Client) Enroll(ctx context.Context, slugOrID, addonIDOrName string) (*Enrollment, error) {
	var out Enrollment
	_, err := c.sendJSON(ctx, "enroll add-on", http.MethodPost, c.platformURL("/partner/connect/%s/addon/%s/enroll", slugOrID, addonIDOrName), AcceptPartner, struct{}{}, &out)
	return &out, err
}

// Authorize asks for a customer authorization URL bound to an org and user. Each call
// invalidates the previous URL of that add-on.
func (c *Client) Authorize(ctx context.Context, slugOrID, addonID string, in AuthorizeRequest) (*Authorization, error) {
	var out Authorization
	_, err := c.sendJSON(ctx, "request authorization URL", http.MethodPost, c.platformURL("/partner/connect/%s/addon/%s/authorize", slugOrID, addonID), AcceptPartner, in, &out)
	return &out, err
}

// Deactivate deactivates the integration, which destroys every add-on associated with it.
// A 207 partial failure is returned as a result with Partial set (call again to finish); an
// integration that is already inactive comes back with AlreadyInactive set.
func (c *Client) Deactivate(ctx context.Context, slugOrID string) (*Deactivation, error) {
	const op = "deactivate partner integration"
	r, err := c.do(ctx, call{op: op, method: http.MethodDelete, url: c.platformURL("/partner/connect/%s", slugOrID), accept: AcceptPartner,
		want: []int{http.StatusOK, http.StatusAccepted, http.StatusMultiStatus}})
	if err != nil {
		return nil, err
	}
	var out Deactivation
	if err := decode(op, r, &out); err != nil {
		return nil, err
	}
	if r.status == http.StatusOK {
		var already struct {
			ID      string `json:"id"`
			Message string `json:"message"`
		}
		_ = decode(op, r, &already)
		if already.ID == IntegrationInactive {
			out.AlreadyInactive, out.ISVStatus, out.Message = true, IntegrationInactive, already.Message
		}
	}
	out.Partial = r.status == http.StatusMultiStatus || out.Summary.Failed > 0
	return &out, nil
}
