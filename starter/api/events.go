package api

// The integration's event endpoints over HTTP, and customers' connect links.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/connect-onboarding/worker/internal/returnstate"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// linkMargin is how long the URL a connect link redirects to must stay valid: a customer
// needs a few minutes to sign in.
const linkMargin = 10 * time.Minute

func (s *API) routeEvents(m *http.ServeMux) {
	m.Handle("POST /v1/partners/{slug}/endpoints", s.auth(s.addEndpoint))
	m.Handle("GET /v1/partners/{slug}/endpoints", s.auth(s.listEndpoints))
	m.Handle("PATCH /v1/partners/{slug}/endpoints/{id}", s.auth(s.changeEndpoint))
	m.Handle("POST /v1/partners/{slug}/endpoints/{id}/rotate-secret", s.auth(s.rotateEndpoint))
	m.Handle("GET /v1/partners/{slug}/endpoints/{id}/secret", s.auth(s.endpointSecret))
	m.Handle("POST /v1/partners/{slug}/endpoints/{id}/test", s.auth(s.testEndpoint))
	m.Handle("GET /v1/partners/{slug}/endpoints/{id}/deliveries", s.auth(s.endpointDeliveries))
	m.Handle("POST /v1/partners/{slug}/endpoints/{id}/redeliver", s.auth(s.redeliver))
	m.HandleFunc("GET /connect/{link}", s.connect)
}

// endpointWithSecret is an endpoint and its current secret (when added or rotated).
type endpointWithSecret struct {
	contract.Endpoint
	Secret string `json:"secret"`
}

func (s *API) addEndpoint(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	// An endpoint receives every customer's events: what the read scope guards too.
	if !s.permit(w, r, ScopeWrite, slug) || !s.permit(w, r, ScopeRead, slug) {
		return
	}
	var spec contract.EndpointSpec
	if !decode(w, r, maxBody, &spec) {
		return
	}
	ep, secret, err := s.c.AddEndpoint(r.Context(), slug, spec)
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, endpointWithSecret{ep, secret})
}

func (s *API) listEndpoints(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !s.permit(w, r, ScopeRead, slug) {
		return
	}
	eps, err := s.c.Endpoints(r.Context(), slug)
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, eps)
}

func (s *API) changeEndpoint(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !s.permit(w, r, ScopeWrite, slug) || !s.permit(w, r, ScopeRead, slug) {
		return
	}
	var body struct {
		URL                       *string               `json:"url"`
		Description               *string               `json:"description"`
		EventTypes                *[]contract.EventType `json:"event_types"`
		IncludeSalesforceIdentity *bool                 `json:"include_salesforce_identity"`
		Enabled                   *bool                 `json:"enabled"`
	}
	if !decode(w, r, maxBody, &body) {
		return
	}
	ep, err := s.c.ChangeEndpoint(r.Context(), slug, contract.EndpointChange{ID: r.PathValue("id"), URL: body.URL, Description: body.Description,
		EventTypes: body.EventTypes, IncludeSalesforceIdentity: body.IncludeSalesforceIdentity, Enabled: body.Enabled})
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ep)
}

func (s *API) rotateEndpoint(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !s.permit(w, r, ScopeWrite, slug) {
		return
	}
	var body struct {
		KeepPreviousSeconds int64 `json:"keep_previous_seconds"`
	}
	if !decode(w, r, maxBody, &body) {
		return
	}
	rot := contract.EndpointRotate{ID: r.PathValue("id"), KeepPrevious: time.Duration(body.KeepPreviousSeconds) * time.Second}
	if body.KeepPreviousSeconds < 0 || body.KeepPreviousSeconds > int64(contract.MaxKeepPrevious/time.Second) {
		writeError(w, http.StatusBadRequest, "invalid_input", "keep_previous_seconds: must be between 0 and 604800 (7 days)",
			[]contract.FieldError{{Field: "keep_previous_seconds", Rule: "must be between 0 and 604800 (7 days)"}})
		return
	}
	ep, secret, err := s.c.RotateEndpointSecret(r.Context(), slug, rot)
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, endpointWithSecret{ep, secret})
}

// endpointSecret reveals the secret: it needs the write scope, as adding one does.
func (s *API) endpointSecret(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !s.permit(w, r, ScopeWrite, slug) {
		return
	}
	ep, err := s.c.Endpoint(r.Context(), slug, r.PathValue("id"))
	if err == nil {
		var secret string
		if secret, err = s.c.EndpointSecret(slug, ep); err == nil {
			w.Header().Set("Cache-Control", "no-store")
			writeJSON(w, http.StatusOK, map[string]string{"secret": secret})
			return
		}
	}
	s.writeFailure(w, err)
}

func (s *API) testEndpoint(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !s.permit(w, r, ScopeWrite, slug) {
		return
	}
	d, err := s.c.TestEndpoint(r.Context(), slug, r.PathValue("id"))
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *API) endpointDeliveries(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !s.permit(w, r, ScopeRead, slug) {
		return
	}
	log, err := s.c.Deliveries(r.Context(), slug, r.PathValue("id"))
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, log)
}

func (s *API) redeliver(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !s.permit(w, r, ScopeWrite, slug) {
		return
	}
	var body struct {
		EventID string `json:"event_id"`
	}
	if !decode(w, r, maxBody, &body) {
		return
	}
	if body.EventID == "" {
		writeError(w, http.StatusBadRequest, "invalid_input", "event_id: is required", []contract.FieldError{{Field: "event_id", Rule: "is required"}})
		return
	}
	if err := s.c.Redeliver(r.Context(), slug, r.PathValue("id"), body.EventID); err != nil {
		s.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"event_id": body.EventID, "endpoint_id": r.PathValue("id")})
}

// connect answers a customer's connect link: while the onboarding waits for the customer, a
// redirect to its current authorization URL (a fresh one only when the current one expires
// within linkMargin: no Heroku call otherwise, however often the link is opened); once
// connected, a page saying so; once the onboarding ended, a page saying that, and no
// redirect. The link is bound to one onboarding: a later onboarding of the same customer
// does not answer an old link.
func (s *API) connect(w http.ResponseWriter, r *http.Request) {
	page := func(status int, title, msg string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.WriteHeader(status)
		_ = returnPage.Execute(w, map[string]string{"Title": title, "Message": msg})
	}
	link, err := returnstate.VerifyLink(s.key, r.PathValue("link"))
	if err != nil {
		s.log.Warn().Str("remote", r.RemoteAddr).Str("reason", err.Error()).Msg("connect link refused")
		page(http.StatusNotFound, "This link cannot be used", "The link you followed is not valid. Go back to the application that sent it for a new one.")
		return
	}
	isv, customer, err := contract.ParseConnectionWorkflowID(link.WorkflowID)
	if err != nil {
		page(http.StatusNotFound, "This link cannot be used", "The link does not name a customer connection.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), returnTimeout)
	defer cancel()
	st, err := s.c.Status(ctx, isv, customer)
	switch {
	case errors.Is(err, onboarding.ErrNotFound) || (err == nil && st.OnboardingID != link.OnboardingID):
		page(http.StatusGone, "This link has ended", "The connection this link was for has ended. Go back to the application that sent it for a new one.")
		return
	case err != nil:
		s.log.Error().Err(err).Str("workflow_id", link.WorkflowID).Msg("connect link")
		page(http.StatusBadGateway, "Please try again", "We could not look up your connection just now. Reload this page in a moment.")
		return
	case st.Stage.Terminal():
		page(http.StatusGone, "This connection has ended", "This connection was "+string(st.Stage)+". Go back to the application that sent the link if you want to connect again.")
		return
	case st.Stage == contract.StageActive:
		page(http.StatusOK, "You're connected", "Your Salesforce org is connected. You can close this page.")
		return
	case st.Stage != contract.StageAwaitingAuthorization && st.Stage != contract.StageReauthorizing && st.Stage != contract.StageVerifying:
		w.Header().Set("Refresh", "5")
		page(http.StatusOK, "Getting your connection ready", "Your connection is being prepared. This page reloads by itself.")
		return
	}
	target, expires := st.AuthorizationURL, st.URLExpiresAt
	if target == "" || !expires.After(s.now().Add(linkMargin)) {
		res, err := s.c.CurrentURL(ctx, isv, customer, s.now().Add(linkMargin))
		if err != nil || res.AuthorizationURL == "" {
			s.log.Warn().Err(err).Str("workflow_id", link.WorkflowID).Msg("connect link: no fresh URL")
			w.Header().Set("Refresh", "5")
			page(http.StatusOK, "Getting your connection ready", "A new sign-in link is on its way. This page reloads by itself.")
			return
		}
		target = res.AuthorizationURL
	}
	// The URL comes from the workflow's state, which anyone with namespace access can
	// write: redirect only to https (http only on loopback, the simulator).
	if u, err := url.Parse(target); err != nil || !(u.Scheme == "https" || (u.Scheme == "http" && contract.LoopbackHost(u.Hostname()))) {
		s.log.Error().Str("workflow_id", link.WorkflowID).Msg("connect link: the authorization URL in state is not https; not redirecting")
		page(http.StatusBadGateway, "Please try again", "We could not prepare your sign-in link. Contact the application that sent it.")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, target, http.StatusSeeOther)
}
