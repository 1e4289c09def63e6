package heroku

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// CreateAppWebhook subscribes url to app events. The secret Heroku generates (when none was
// given) comes back once, in the Heroku-Webhook-Secret header, and is returned here.
func (c *Client) CreateAppWebhook(ctx context.Context, app string, in WebhookCreate) (*Webhook, string, error) {
	var out Webhook
	r, err := c.sendJSON(ctx, "create app webhook", http.MethodPost, c.platformURL("/apps/%s/webhooks", app), AcceptWebhooks, in, &out)
	if err != nil {
		return nil, "", err
	}
	return &out, r.header.Get("Heroku-Webhook-Secret"), nil
}

// AppWebhooks lists an app's webhook subscriptions (without their secrets).
func (c *Client) AppWebhooks(ctx context.Context, app string) ([]Webhook, error) {
	var out []Webhook
	err := c.getJSON(ctx, "list app webhooks", c.platformURL("/apps/%s/webhooks", app), AcceptWebhooks, &out)
	return out, err
}

// VerifyWebhook checks a delivery's Heroku-Webhook-Hmac-SHA256 header against the raw body,
// in constant time.
func VerifyWebhook(secret string, rawBody []byte, signature string) bool {
	want := SignWebhook(secret, rawBody)
	return hmac.Equal([]byte(want), []byte(signature))
}

// SignWebhook computes base64(HMAC-SHA256(secret, body)), the header value of a delivery.
func SignWebhook(secret string, rawBody []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(rawBody)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
