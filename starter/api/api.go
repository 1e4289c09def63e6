// Package api is the onboarding HTTP API as a library: bearer-authenticated JSON endpoints
// over the onboarding package, the OpenAPI document, and the customer return endpoint given
// to Heroku. `starter serve` runs it; a backend may mount it in its own server.
package api

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/connect-onboarding/worker/internal/eventsign"
	"github.com/connect-onboarding/worker/internal/returnstate"
	"github.com/connect-onboarding/worker/internal/strictjson"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

//go:embed openapi.json
var openAPI []byte

// Limits of the HTTP server: a slow or idle client holds no connection for long, and no
// header is larger than any real client sends.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	// writeTimeout outlasts startTimeout: a start may wait for its URL under a saturated
	// Heroku budget, and is answered 503 (retry, it is idempotent) before the write deadline.
	writeTimeout   = 2 * time.Minute
	startTimeout   = 90 * time.Second
	idleTimeout    = 60 * time.Second
	maxHeaderBytes = 16 << 10
	// returnTimeout bounds how long the customer's return page waits for the verification.
	returnTimeout = 20 * time.Second
)

// NewServer is an http.Server with those limits.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes}
}

// API is the HTTP face of the onboarding package: an http.Handler for any server or
// router. Single use of a customer return is the workflow's (durable, shared by every
// replica), so the handler keeps no state of its own.
type API struct {
	c         *onboarding.Client
	keys      *Keys
	key       []byte
	returnURL string
	log       zerolog.Logger
	mux       *http.ServeMux
	now       func() time.Time
}

// New builds the API on c: keys are the accepted API keys, key the worker's
// RETURN_STATE_KEY, returnURL the address given to Heroku for the customer's return.
func New(c *onboarding.Client, keys *Keys, key []byte, returnURL string, log zerolog.Logger) *API {
	s := &API{c: c, keys: keys, key: key, returnURL: returnURL, log: log, now: time.Now}
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	m.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	m.HandleFunc("GET /return", s.customerReturn)
	m.Handle("POST /v1/onboardings", s.auth(s.startOnboarding))
	m.Handle("POST /v1/onboardings/", s.auth(notFoundAction))
	m.Handle("GET /v1/onboardings", s.auth(s.listOnboardings))
	m.Handle("GET /v1/onboardings/{isv}/{customer}", s.auth(s.onboardingStatus))
	m.Handle("POST /v1/onboardings/{isv}/{customer}/{action}", s.auth(s.onboardingAction))
	m.Handle("GET /v1/onboardings/{isv}/{customer}/health", s.auth(s.onboardingHealth))
	m.Handle("GET /v1/partners/{slug}/health", s.auth(s.integrationHealth))
	m.Handle("POST /v1/partners", s.auth(s.createPartner))
	m.Handle("GET /v1/partners/{slug}", s.auth(s.partnerInfo))
	m.Handle("PATCH /v1/partners/{slug}", s.auth(s.updatePartner))
	m.Handle("POST /v1/partners/{slug}/deactivate", s.auth(s.deactivatePartner))
	m.Handle("GET /v1/keys", s.auth(s.listKeys))
	s.routeEvents(m)
	s.mux = m
	return s
}

func (s *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type keyContext struct{}

// auth finds the request's API key (its bearer token's hash, compared in constant time) and
// hands the request on with it; each handler then asks permit for the scope it needs, once
// it knows the integration the request is about.
func (s *API) auth(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		var k *Key
		if ok {
			k = s.keys.authenticate(got, s.now())
		}
		if k == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="connect-onboarding"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "a valid bearer token is required", nil)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), keyContext{}, k)))
	})
}

// permit answers 403, naming the missing scope, unless the request's key holds action on
// isv.
func (s *API) permit(w http.ResponseWriter, r *http.Request, action, isv string) bool {
	k, _ := r.Context().Value(keyContext{}).(*Key)
	if k != nil && k.Allows(action, isv) {
		return true
	}
	scope := action + ":" + isv
	if k != nil {
		s.log.Warn().Str("key", k.Name).Str("missing_scope", scope).Msg("API request refused: scope missing")
	}
	writeError(w, http.StatusForbidden, "forbidden", "this API key lacks the scope "+scope,
		[]contract.FieldError{{Field: "scope", Rule: "requires " + scope}})
	return false
}

// listKeys tells every key's name, scopes and last use on this replica (never a token or a
// hash), to a key that reads every integration.
func (s *API) listKeys(w http.ResponseWriter, r *http.Request) {
	if !s.permit(w, r, ScopeRead, AnyISV) {
		return
	}
	writeJSON(w, http.StatusOK, s.keys.Info())
}

type apiError struct {
	ID      string                `json:"id"`
	Message string                `json:"message"`
	Fields  []contract.FieldError `json:"fields,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, id, msg string, fields []contract.FieldError) {
	writeJSON(w, status, apiError{ID: id, Message: msg, Fields: fields})
}

// errorID names one logged failure, so an answer can point at its log line.
func errorID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func notFoundAction(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "not_found", "no such endpoint", nil)
}

// writeFailure maps the package's errors to statuses. An error it does not know (Temporal's
// own, a network fault) is logged with an ID and answered with the ID only: its text may name
// hosts, namespaces and internals a caller has no business reading.
func (s *API) writeFailure(w http.ResponseWriter, err error) {
	var inv *onboarding.InvalidInputError
	var conflict *onboarding.ConflictError
	var ended *onboarding.EndedError
	switch {
	case errors.As(err, &inv):
		writeError(w, http.StatusBadRequest, "invalid_input", err.Error(), inv.Fields)
	case errors.As(err, &conflict):
		fields := make([]contract.FieldError, len(conflict.Fields))
		for i, f := range conflict.Fields {
			fields[i] = contract.FieldError{Field: f, Rule: "differs from the running onboarding of this customer"}
		}
		writeError(w, http.StatusConflict, "conflict", err.Error(), fields)
	case errors.As(err, &ended):
		writeError(w, http.StatusConflict, "ended", err.Error(), nil)
	case errors.Is(err, onboarding.ErrDeactivationFailed):
		writeError(w, http.StatusBadGateway, "deactivation_failed", err.Error(), nil)
	case errors.Is(err, onboarding.ErrUnavailable):
		id := errorID()
		s.log.Warn().Str("error_id", id).Err(err).Msg("the onboarding service did not answer in time")
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "no worker answered in time; retrying is safe (error "+id+" in the server's log)", nil)
	case errors.Is(err, eventsign.ErrNoKey):
		writeError(w, http.StatusServiceUnavailable, "not_configured", "events are not configured: set EVENTS_SECRET_KEY for starter serve and the worker", nil)
	case errors.Is(err, onboarding.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error(), nil)
	case errors.Is(err, onboarding.ErrIntegrationInactive):
		writeError(w, http.StatusConflict, "integration_inactive", err.Error(), nil)
	case errors.Is(err, onboarding.ErrRejected):
		writeError(w, http.StatusConflict, "rejected", err.Error(), nil)
	default:
		id := errorID()
		s.log.Error().Str("error_id", id).Err(err).Msg("upstream error")
		writeError(w, http.StatusBadGateway, "upstream_error", "the onboarding service failed; the server's log has error "+id, nil)
	}
}

// Body limits: an onboarding request is small, unless it carries its own mapping template;
// a partner request carries a logo of up to 5 MB in base64 and a template.
const (
	maxBody        = 64 << 10
	maxStartBody   = maxBody + contract.MaxMappingTemplateBytes
	maxPartnerBody = 8 << 20
)

// decode reads a JSON body strictly (see strictjson): application/json only, within limit
// bytes, one object whose keys are exactly the documented ones, each once.
func decode(w http.ResponseWriter, r *http.Request, limit int64, dst any) bool {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "the body must be application/json", nil)
		return false
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body must be at most %d bytes", limit), nil)
		return false
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_json", "the body could not be read", nil)
		return false
	}
	if err := strictjson.Decode(data, dst); err != nil {
		var se *strictjson.Error
		var fields []contract.FieldError
		if errors.As(err, &se) {
			for _, f := range se.Fields {
				fields = append(fields, contract.FieldError{Field: f.Field, Rule: f.Rule})
			}
		}
		writeError(w, http.StatusBadRequest, "bad_json", err.Error(), fields)
		return false
	}
	return true
}

func (s *API) startOnboarding(w http.ResponseWriter, r *http.Request) {
	var in contract.ConnectionInput
	if !decode(w, r, maxStartBody, &in) {
		return
	}
	if !s.permit(w, r, ScopeWrite, in.ISVSlug) {
		return
	}
	if in.Carry != nil {
		writeError(w, http.StatusBadRequest, "invalid_input", "carry is internal", []contract.FieldError{{Field: "carry", Rule: "must not be set"}})
		return
	}
	if in.ReturnURL == "" {
		in.ReturnURL = s.returnURL // the customer comes back here, with a signed state
	}
	ctx, cancel := context.WithTimeout(r.Context(), startTimeout)
	defer cancel()
	res, err := s.c.Start(ctx, in)
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *API) listOnboardings(w http.ResponseWriter, r *http.Request) {
	isv := r.URL.Query().Get("isv")
	if isv == "" {
		writeError(w, http.StatusBadRequest, "invalid_input", "the isv query parameter is required", []contract.FieldError{{Field: "isv", Rule: "is required"}})
		return
	}
	if !s.permit(w, r, ScopeRead, isv) {
		return
	}
	items, err := s.c.List(r.Context(), isv, r.URL.Query().Get("stage"))
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	if items == nil {
		items = []onboarding.Summary{}
	}
	writeJSON(w, http.StatusOK, items)
}

func (s *API) onboardingStatus(w http.ResponseWriter, r *http.Request) {
	if !s.permit(w, r, ScopeRead, r.PathValue("isv")) {
		return
	}
	st, err := s.c.Status(r.Context(), r.PathValue("isv"), r.PathValue("customer"))
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// onboardingHealth reads a customer's connection health from Heroku now (three calls).
func (s *API) onboardingHealth(w http.ResponseWriter, r *http.Request) {
	if !s.permit(w, r, ScopeRead, r.PathValue("isv")) {
		return
	}
	h, err := s.c.RefreshHealth(r.Context(), r.PathValue("isv"), r.PathValue("customer"))
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

// integrationHealth counts an integration's onboardings by stage and names who needs
// attention.
func (s *API) integrationHealth(w http.ResponseWriter, r *http.Request) {
	if !s.permit(w, r, ScopeRead, r.PathValue("slug")) {
		return
	}
	h, err := s.c.IntegrationHealth(r.Context(), r.PathValue("slug"))
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *API) onboardingAction(w http.ResponseWriter, r *http.Request) {
	isv, customer := r.PathValue("isv"), r.PathValue("customer")
	if !s.permit(w, r, ScopeWrite, isv) {
		return
	}
	var v any
	var err error
	switch r.PathValue("action") {
	case "reauthorize":
		v, err = s.c.Reauthorize(r.Context(), isv, customer)
	case "reissue":
		v, err = s.c.ReissueURL(r.Context(), isv, customer)
	case "offboard":
		v, err = s.c.Offboard(r.Context(), isv, customer)
	case "returned":
		// The attempt of the URL the customer came back from: the workflow accepts it once,
		// for its current URL only, and only then spends a Heroku read on a verification.
		var body struct {
			Attempt int `json:"attempt"`
		}
		if !decode(w, r, maxBody, &body) {
			return
		}
		if body.Attempt < 1 {
			writeError(w, http.StatusBadRequest, "invalid_input", "attempt: must be the attempt of the authorization URL the customer came back from (1 or more)",
				[]contract.FieldError{{Field: "attempt", Rule: "must be the attempt of the authorization URL the customer came back from (1 or more)"}})
			return
		}
		v, err = s.c.ConfirmReturn(r.Context(), isv, customer, body.Attempt)
	default:
		writeError(w, http.StatusNotFound, "not_found", "unknown action "+r.PathValue("action"), nil)
		return
	}
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *API) createPartner(w http.ResponseWriter, r *http.Request) {
	var spec contract.PartnerSpec
	if !decode(w, r, maxPartnerBody, &spec) {
		return
	}
	if !s.permit(w, r, ScopeWrite, spec.Slug) {
		return
	}
	info, err := s.c.CreatePartner(r.Context(), spec)
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *API) partnerInfo(w http.ResponseWriter, r *http.Request) {
	if !s.permit(w, r, ScopeRead, r.PathValue("slug")) {
		return
	}
	info, err := s.c.Partner(r.Context(), r.PathValue("slug"), r.URL.Query().Get("refresh") == "true")
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *API) updatePartner(w http.ResponseWriter, r *http.Request) {
	if !s.permit(w, r, ScopeWrite, r.PathValue("slug")) {
		return
	}
	var ch contract.PartnerChanges
	if !decode(w, r, maxPartnerBody, &ch) {
		return
	}
	info, err := s.c.UpdatePartner(r.Context(), r.PathValue("slug"), ch)
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *API) deactivatePartner(w http.ResponseWriter, r *http.Request) {
	if !s.permit(w, r, ScopeDeactivate, r.PathValue("slug")) {
		return
	}
	var body struct {
		Confirm string `json:"confirm"`
		Team    string `json:"team"`
	}
	if !decode(w, r, maxBody, &body) {
		return
	}
	info, err := s.c.DeactivatePartner(r.Context(), r.PathValue("slug"), body.Team, body.Confirm)
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

var returnPage = template.Must(template.New("r").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;color:#1d1d1f}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p></body></html>`))

// customerReturn is the return address given to Heroku: it accepts only a state signed by
// the worker and unexpired, and hands its attempt to the customer's workflow, which accepts
// each attempt once and only for the URL it issued last (single use is durable and shared
// by every replica of this endpoint). The page then says what the verification found.
func (s *API) customerReturn(w http.ResponseWriter, r *http.Request) {
	page := func(status int, title, msg string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.WriteHeader(status)
		_ = returnPage.Execute(w, map[string]string{"Title": title, "Message": msg})
	}
	st, err := returnstate.Verify(s.key, r.URL.Query().Get("state"), s.now())
	if err != nil {
		s.log.Warn().Str("remote", r.RemoteAddr).Str("reason", err.Error()).Msg("customer return refused")
		page(http.StatusBadRequest, "This link cannot be used", "The link you followed is not valid or has expired. Go back to the application that sent you and start again.")
		return
	}
	isv, customer, err := contract.ParseConnectionWorkflowID(st.WorkflowID)
	if err != nil {
		page(http.StatusBadRequest, "This link cannot be used", "The link does not name a customer connection.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), returnTimeout)
	defer cancel()
	res, err := s.c.ConfirmReturn(ctx, isv, customer, st.Attempt)
	switch {
	case errors.Is(err, onboarding.ErrRejected) || errors.Is(err, onboarding.ErrNotFound):
		s.log.Warn().Str("workflow_id", st.WorkflowID).Int("attempt", st.Attempt).Msg("customer return refused: used, outdated or not waiting")
		page(http.StatusConflict, "This link was already used", "This return was already received, or a newer link was sent. You can close this page.")
		return
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, onboarding.ErrUnavailable):
		s.log.Info().Str("workflow_id", st.WorkflowID).Int("attempt", st.Attempt).Msg("customer returned; verification still running")
		page(http.StatusAccepted, "We are checking your authorization", "Your return was received and we are confirming it with Heroku. You can close this page; the application will show the result.")
		return
	case err != nil:
		s.log.Error().Err(err).Str("workflow_id", st.WorkflowID).Msg("customer return")
		page(http.StatusBadGateway, "Please try again", "We could not record your return just now. Reload this page in a moment.")
		return
	}
	s.log.Info().Str("workflow_id", st.WorkflowID).Int("attempt", st.Attempt).Bool("verified", res.Verified).Msg("customer returned")
	if res.Verified {
		page(http.StatusOK, "You're all set", "Your Salesforce org is connected. You can close this page.")
		return
	}
	page(http.StatusOK, "Not connected yet", "We could not see a completed authorization of the expected Salesforce org and user. If you did not finish signing in, go back to the application that sent you for a new link.")
}

// ReturnURL is the return address the API gives Heroku.
func (s *API) ReturnURL() string { return s.returnURL }
