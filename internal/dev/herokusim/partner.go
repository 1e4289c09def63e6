package herokusim

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/logo"
	"github.com/connect-onboarding/worker/internal/salesforce"
)

// slugPattern: lower-case letters, digits and single dashes, starting with a letter; the
// length (3-30) is checked apart.
var slugPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$`)

// integrationBySlug finds an integration by slug or ID. Caller holds s.mu.
func (s *Sim) integrationBySlug(slugOrID string) *integration {
	if in, ok := s.st.Integrations[slugOrID]; ok {
		return in
	}
	for _, in := range s.st.Integrations {
		if in.Slug == slugOrID {
			return in
		}
	}
	return nil
}

// partnerForm reads the multipart body of create/update. The logo is checked by decoding.
type partnerForm struct {
	values   map[string]string
	logo     []byte
	logoType string
	hasLogo  bool
}

func readPartnerForm(w http.ResponseWriter, r *http.Request) (*partnerForm, map[string][]string, bool) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		writeError(w, http.StatusBadRequest, "bad_request", "Request body must be multipart/form-data.")
		return nil, nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, logo.MaxBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "Malformed multipart body: "+err.Error())
		return nil, nil, false
	}
	f := &partnerForm{values: map[string]string{}}
	fields := map[string][]string{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				fields["logo_image"] = append(fields["logo_image"], "must be at most 5 MB")
				return f, fields, true
			}
			writeError(w, http.StatusBadRequest, "bad_request", "Malformed multipart body: "+err.Error())
			return nil, nil, false
		}
		data, err := io.ReadAll(io.LimitReader(part, logo.MaxBytes+1))
		if err != nil {
			fields["logo_image"] = append(fields["logo_image"], "must be at most 5 MB")
			return f, fields, true
		}
		if part.FormName() == "logo_image" {
			f.hasLogo = true
			info, err := logo.Check(part.FileName(), data)
			if err != nil {
				fields["logo_image"] = append(fields["logo_image"], err.Error())
				continue
			}
			f.logo, f.logoType = data, info.ContentType
			continue
		}
		f.values[part.FormName()] = string(data)
	}
	return f, fields, true
}

// checkIntegrationFields applies the seed's rules to the fields present in v.
func checkIntegrationFields(v map[string]string, fields map[string][]string) {
	add := func(k, msg string) { fields[k] = append(fields[k], msg) }
	if s, ok := v["slug"]; ok && (len(s) < 3 || len(s) > 30 || !slugPattern.MatchString(s)) {
		add("slug", "must be 3-30 lower-case letters, digits and single dashes, starting with a letter")
	}
	if d, ok := v["description"]; ok && utf8.RuneCountInString(d) > 500 {
		add("description", "must be at most 500 characters")
	}
	if u, ok := v["docs_url"]; ok {
		p, err := url.Parse(u)
		if err != nil || p.Scheme != "https" || p.Host == "" {
			add("docs_url", "must be an https URL")
		}
	}
	if e, ok := v["contact_email"]; ok {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			add("contact_email", "must be an email address")
		}
	}
}

func (s *Sim) integrationJSON(in *integration) heroku.Integration {
	out := in.Integration
	if len(in.Logo) > 0 {
		out.LogoURL = s.pageBase() + "/_sim/logos/" + in.ID
	}
	return out
}

func (s *Sim) createIntegration(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	form, fields, ok := readPartnerForm(w, r)
	if !ok {
		return
	}
	for _, k := range []string{"slug", "name", "team", "contact_email", "description", "docs_url"} {
		if strings.TrimSpace(form.values[k]) == "" {
			fields[k] = append(fields[k], "is required")
		}
	}
	if !form.hasLogo {
		fields["logo_image"] = append(fields["logo_image"], "is required")
	}
	checkIntegrationFields(form.values, fields)
	s.mu.Lock()
	defer s.mu.Unlock()
	if slug := form.values["slug"]; slug != "" && s.integrationBySlug(slug) != nil {
		fields["slug"] = append(fields["slug"], "is already taken")
	}
	if len(fields) > 0 {
		writeFieldErrors(w, fields)
		return
	}
	now := s.now()
	team := form.values["team"]
	in := &integration{Integration: heroku.Integration{
		ID: uuid.NewString(), Slug: form.values["slug"], Name: form.values["name"], Status: heroku.IntegrationActive,
		Team: heroku.Ref{ID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(team)).String(), Name: team}, TeamName: team,
		Description: form.values["description"], DocsURL: form.values["docs_url"], ContactEmail: form.values["contact_email"],
		CreatedAt: now, UpdatedAt: now,
	}, Logo: form.logo, LogoType: form.logoType}
	s.st.Integrations[in.ID] = in
	s.dirty = true
	writeJSON(w, http.StatusCreated, s.integrationJSON(in))
}

func (s *Sim) integrationInfo(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.integrationBySlug(r.PathValue("slug"))
	if in == nil {
		writeError(w, http.StatusNotFound, "record_not_found", "Couldn't find that partner integration.")
		return
	}
	writeJSON(w, http.StatusOK, s.integrationJSON(in))
}

func (s *Sim) updateIntegration(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	form, fields, ok := readPartnerForm(w, r)
	if !ok {
		return
	}
	for k := range form.values {
		switch k {
		case "description", "docs_url", "contact_email":
		default:
			fields[k] = append(fields[k], "cannot be changed")
		}
	}
	checkIntegrationFields(form.values, fields)
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.integrationBySlug(r.PathValue("slug"))
	if in == nil {
		writeError(w, http.StatusNotFound, "record_not_found", "Couldn't find that partner integration.")
		return
	}
	if len(fields) > 0 {
		writeFieldErrors(w, fields)
		return
	}
	if v, ok := form.values["description"]; ok {
		in.Description = v
	}
	if v, ok := form.values["docs_url"]; ok {
		in.DocsURL = v
	}
	if v, ok := form.values["contact_email"]; ok {
		in.ContactEmail = v
	}
	if form.logo != nil {
		in.Logo, in.LogoType = form.logo, form.logoType
	}
	in.UpdatedAt = s.now()
	s.dirty = true
	writeJSON(w, http.StatusOK, s.integrationJSON(in))
}

func (s *Sim) enroll(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	var body map[string]any
	if !decodeBody(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.integrationBySlug(r.PathValue("slug"))
	if in == nil {
		writeError(w, http.StatusNotFound, "not_found", "Couldn't find that partner integration.")
		return
	}
	a := s.findAddon("", r.PathValue("addon"))
	if a == nil {
		writeError(w, http.StatusNotFound, "not_found", "Couldn't find that add-on.")
		return
	}
	switch {
	case in.Status != heroku.IntegrationActive:
		writeError(w, http.StatusForbidden, "forbidden", "The partner integration is inactive.")
	case a.ISV != "" && a.ISV != in.Slug:
		writeError(w, http.StatusConflict, "conflict", "This add-on is already associated with an ISV.")
	case s.st.Apps[a.App].Team != in.TeamName:
		writeError(w, http.StatusForbidden, "forbidden", "The add-on's app is not in the partner's team.")
	default:
		a.ISV = in.Slug
		s.dirty = true
		writeJSON(w, http.StatusOK, heroku.Enrollment{AddonUUID: a.ID, ISVGUID: in.ID, ISVSlug: in.Slug,
			Message: fmt.Sprintf("Add-on %s enrolled in %s.", a.Name, in.Slug)})
	}
}

func (s *Sim) authorize(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	var req heroku.AuthorizeRequest
	if !decodeBody(w, r, &req) {
		return
	}
	fields := map[string][]string{}
	add := func(k, msg string) { fields[k] = append(fields[k], msg) }
	if _, err := salesforce.NormalizeOrgID(req.SFOrgID); err != nil {
		add("sf_org_id", err.Error())
	}
	if err := salesforce.CheckUsername(req.SFUsername); err != nil {
		add("sf_username", err.Error())
	}
	if req.Environment == "" {
		req.Environment = heroku.EnvSandbox
	}
	switch req.Environment {
	case heroku.EnvProduction, heroku.EnvSandbox:
	case heroku.EnvCustom:
		if err := salesforce.CheckDomain(req.Domain); err != nil {
			add("domain", err.Error())
		}
	default:
		add("environment", "must be production, sandbox or custom")
	}
	if req.APIVersion != "" {
		if err := salesforce.CheckAPIVersion(req.APIVersion); err != nil {
			add("api_version", err.Error())
		}
	}
	if req.Next != "" {
		if u, err := url.Parse(req.Next); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("next", "must be an absolute http(s) URL")
		}
	}
	if len(fields) > 0 {
		writeFieldErrors(w, fields)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.integrationBySlug(r.PathValue("slug"))
	if in == nil {
		writeError(w, http.StatusNotFound, "record_not_found", "Couldn't find that partner integration.")
		return
	}
	if in.Status != heroku.IntegrationActive {
		writeError(w, http.StatusForbidden, "forbidden", "The partner integration is inactive.")
		return
	}
	a := s.findAddon("", r.PathValue("addon"))
	if a == nil {
		writeError(w, http.StatusNotFound, "not_found", "Couldn't find that add-on.")
		return
	}
	if a.ISV != in.Slug {
		writeError(w, http.StatusForbidden, "forbidden", "This add-on is not associated with the partner integration.")
		return
	}
	if a.State != heroku.AddonProvisioned {
		writeError(w, http.StatusUnprocessableEntity, "invalid_params", "The add-on is "+a.State+"; wait until it is provisioned.")
		return
	}
	for _, old := range s.st.Sessions {
		if old.AddonID == a.ID && !old.Superseded {
			old.Superseded = true
		}
	}
	sess := &authSession{Token: randomWords() + randomWords() + randomWords() + randomWords(), AddonID: a.ID, ISV: in.Slug,
		Request: req, ExpiresAt: s.now().Add(s.cfg.AuthURLTTL).Truncate(1e9)}
	s.st.Sessions[sess.Token] = sess
	s.st.Counters.URLsIssued++
	s.dirty = true
	writeJSON(w, http.StatusCreated, heroku.Authorization{Redirect: s.pageBase() + "/authorize/" + sess.Token, ExpiresAt: sess.ExpiresAt})
}

func (s *Sim) deactivate(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.integrationBySlug(r.PathValue("slug"))
	if in == nil {
		writeError(w, http.StatusNotFound, "record_not_found", "Couldn't find that partner integration.")
		return
	}
	if in.Status == heroku.IntegrationInactive {
		writeJSON(w, http.StatusOK, map[string]string{"id": "inactive", "message": "The partner integration is already inactive."})
		return
	}
	out := heroku.Deactivation{ISVGUID: in.ID, Responses: []heroku.DeactivationAddonResult{}}
	s.settleAll()
	for _, a := range s.st.Addons {
		if a.ISV != in.Slug || a.State == heroku.AddonDeprovisioning || a.State == heroku.AddonDeprovisioned || !a.DestroyAt.IsZero() {
			continue
		}
		out.Summary.Total++
		if s.takeDeactivateFailure() {
			out.Summary.Failed++
			out.Responses = append(out.Responses, heroku.DeactivationAddonResult{AddonGUID: a.ID, Status: "failed", Error: "internal_error", Message: "Could not destroy the add-on; try again."})
			continue
		}
		// Accepted now, destroyed a while later, as on Heroku.
		a.DestroyAt = s.now().Add(s.cfg.DeactivationDelay)
		s.settle(a)
		out.Summary.Succeeded++
		out.Responses = append(out.Responses, heroku.DeactivationAddonResult{AddonGUID: a.ID, Status: "succeeded", Message: "Add-on destroyed."})
	}
	status := http.StatusAccepted
	if out.Summary.Failed > 0 {
		status = http.StatusMultiStatus
		out.ISVStatus = heroku.IntegrationActive
		out.Message = fmt.Sprintf("%d of %d add-ons could not be destroyed; call again to finish.", out.Summary.Failed, out.Summary.Total)
	} else {
		in.Status = heroku.IntegrationInactive
		in.UpdatedAt = s.now()
		out.ISVStatus = heroku.IntegrationInactive
		out.Message = "The partner integration is deactivated."
		for _, sess := range s.st.Sessions {
			if sess.ISV == in.Slug {
				sess.Superseded = true
			}
		}
	}
	s.dirty = true
	writeJSON(w, status, out)
}
