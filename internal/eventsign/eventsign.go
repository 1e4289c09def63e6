// Package eventsign holds the secrets of the ISV's event endpoints and signs deliveries as
// Standard Webhooks (https://www.standardwebhooks.com) do, with the specification's own Go
// library.
//
// An endpoint's secret is never stored anywhere: it is derived from one key the worker and
// the starter hold (EVENTS_SECRET_KEY), the integration, the endpoint and the secret's
// generation. Workflow histories, logs and search attributes hold only the generation, so
// none of them can leak a secret, and rotating one is a new generation.
package eventsign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// MinKeyLen is the shortest EVENTS_SECRET_KEY accepted, in bytes.
const MinKeyLen = 32

// ErrNoKey says the process has no EVENTS_SECRET_KEY.
var ErrNoKey = errors.New("no events secret key: set EVENTS_SECRET_KEY (base64 of 32 random bytes) for the worker and the starter")

// Key is the events secret key.
type Key []byte

// ParseKey reads the base64 form of EVENTS_SECRET_KEY; empty is no key (nil).
func ParseKey(b64 string) (Key, error) {
	if b64 == "" {
		return nil, nil
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, fmt.Errorf("EVENTS_SECRET_KEY: must be base64: %w", err)
	}
	if len(k) < MinKeyLen {
		return nil, fmt.Errorf("EVENTS_SECRET_KEY: must be at least %d bytes, got %d", MinKeyLen, len(k))
	}
	return k, nil
}

// Secret is the endpoint's secret of a generation, in the whsec_ form receivers' libraries
// take: 32 bytes, an HMAC of the endpoint's name and generation under the key.
func (k Key) Secret(isvSlug, endpointID string, generation int) (string, error) {
	if len(k) == 0 {
		return "", ErrNoKey
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte("connect-onboarding endpoint secret\x00" + isvSlug + "\x00" + endpointID + "\x00" + strconv.Itoa(generation)))
	return "whsec_" + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// Signature is the webhook-signature header of one message: a v1 signature under each
// secret, space-separated (during a rotation the previous secret signs too, so a receiver
// verifies with either).
func Signature(secrets []string, msgID string, at time.Time, body []byte) (string, error) {
	var sigs []string
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			return "", fmt.Errorf("endpoint secret: %w", err)
		}
		sig, err := wh.Sign(msgID, at, body)
		if err != nil {
			return "", fmt.Errorf("sign: %w", err)
		}
		sigs = append(sigs, sig)
	}
	if len(sigs) == 0 {
		return "", errors.New("sign: no secret")
	}
	return strings.Join(sigs, " "), nil
}
