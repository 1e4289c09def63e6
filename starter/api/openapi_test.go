package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// documented holds every answer a test gets to the served OpenAPI document with
// kin-openapi's validator (issue 22 item 13: 401, 404 and 409 answers were missing): the
// operation must exist, the status must be one it lists, and the body must match the
// schema it gives, so the document cannot drift from the server again.
type documented struct{ router routers.Router }

func newDocumented(t *testing.T) *documented {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPI)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(t.Context()), "/openapi.json is a valid OpenAPI document")
	r, err := legacy.NewRouter(doc)
	require.NoError(t, err)
	return &documented{router: r}
}

// send makes one request with client (the default one when nil), a bearer token when given
// and a JSON body when given, checks its answer (add) and returns it with its body read.
func (d *documented) send(t *testing.T, client *http.Client, method, url, token string, body []byte) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	d.add(t, req, resp, out)
	return resp, out
}

// jsonBody marshals v, nil for nil.
func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// add checks one answer: resp to req, with its body read into body.
func (d *documented) add(t *testing.T, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	route, params, err := d.router.FindRoute(req)
	if !assert.NoError(t, err, "%s %s: no operation in /openapi.json", req.Method, req.URL.Path) {
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	assert.NoError(t, openapi3filter.ValidateResponse(t.Context(), in),
		"%s %s answered %d, which /openapi.json does not describe", req.Method, req.URL.Path, resp.StatusCode)
}

// The checker catches drift: an answer the document does not list, and a body that does
// not match its schema, each fail it.
func TestDocumentedCatchesDrift(t *testing.T) {
	d := newDocumented(t)
	check := func(status int, body string) error {
		req, _ := http.NewRequest("GET", "http://api.example/v1/partners/acme", nil)
		route, params, err := d.router.FindRoute(req)
		require.NoError(t, err)
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 status, Header: http.Header{"Content-Type": {"application/json"}},
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		in.SetBodyBytes([]byte(body))
		return openapi3filter.ValidateResponse(t.Context(), in)
	}
	assert.NoError(t, check(404, `{"id":"not_found","message":"no such integration"}`))
	assert.Error(t, check(418, `{"id":"teapot","message":"x"}`), "an unlisted status")
	assert.Error(t, check(404, `{"message":"no id"}`), "an error without its id")
}
