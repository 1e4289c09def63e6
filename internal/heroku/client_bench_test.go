package heroku

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// roundTripper answers every request with a fixed body, so the benchmarks measure the
// client's request building and decoding, not a network.
type roundTripper struct {
	status int
	body   []byte
	header http.Header
}

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	h := rt.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: rt.status, Header: h, Body: io.NopCloser(strings.NewReader(string(rt.body))), Request: r}, nil
}

func benchClient(b *testing.B, rt roundTripper) *Client {
	c, err := New(Options{PlatformURL: "https://api.example", ConnectURL: "https://hc.example", Token: "t", HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkAppConnections1000(b *testing.B) {
	now := time.Now()
	org := "00D000000000062EAA"
	results := make([]Connection, 1000)
	for i := range results {
		results[i] = Connection{ID: fmt.Sprintf("c%04d", i), Name: "hc", State: StateIdle, OrganizationID: &org, AuthUpdated: &now,
			SFInfo: &SFInfo{Username: "u@x.example", OrganizationID: org}, Mappings: []Mapping{}}
	}
	body, _ := json.Marshal(map[string]any{"count": len(results), "results": results})
	c := benchClient(b, roundTripper{status: 200, body: body})
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		got, err := c.AppConnections(context.Background(), "https://region.example", "acme-app")
		if err != nil || len(got) != 1000 {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreateAddonRequest(b *testing.B) {
	body, _ := json.Marshal(Addon{ID: "a", Name: "hc-acme-x", State: AddonProvisioning})
	c := benchClient(b, roundTripper{status: 201, body: body})
	for b.Loop() {
		if _, err := c.CreateAddon(context.Background(), "acme-app", AddonCreate{Plan: "herokuconnect:enterprise", Name: "hc-acme-x", Config: map[string]string{"isv": "acme"}}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeError(b *testing.B) {
	body := []byte(`{"id":"validation_error","message":"Validation failed","errors":{"slug":["is already taken"]}}`)
	c := benchClient(b, roundTripper{status: 400, body: body, header: http.Header{"Request-Id": {"r"}}})
	for b.Loop() {
		if _, err := c.IntegrationInfo(context.Background(), "acme"); err == nil {
			b.Fatal("want an error")
		}
	}
}
