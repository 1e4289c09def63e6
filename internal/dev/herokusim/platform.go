package herokusim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/connect-onboarding/worker/internal/heroku"
)

var (
	addonNamePattern = regexp.MustCompile(`^[a-zA-Z][A-Za-z0-9_-]+$`)
	appNamePattern   = regexp.MustCompile(`^[a-z][a-z0-9-]{1,28}[a-z0-9]$`)
	connectPlans     = map[string]bool{"demo": true, "enterprise": true, "shield": true}
)

func (s *Sim) rateLimits(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	remaining, _, _ := s.take(rc.user, true)
	writeJSON(w, http.StatusOK, map[string]int{"remaining": remaining})
}

// settle moves an add-on along its state machine as time passes. Caller holds s.mu.
func (s *Sim) settle(a *addon) {
	now := s.now()
	if !a.DestroyAt.IsZero() && !now.Before(a.DestroyAt) && a.State != heroku.AddonDeprovisioning && a.State != heroku.AddonDeprovisioned {
		a.DestroyAt = time.Time{}
		s.destroy(a) // settles it again
		return
	}
	switch a.State {
	case heroku.AddonProvisioning:
		if now.Before(a.ReadyAt) {
			return
		}
		a.UpdatedAt = now
		if a.FailProvision {
			a.State = heroku.AddonDeprovisioned
			a.GoneAt = now.Add(s.cfg.DeprovisionDelay)
			return
		}
		a.State = heroku.AddonProvisioned
		c := &connection{ID: uuid.NewString(), AddonID: a.ID, State: heroku.StateNew, CreatedAt: now}
		s.st.Connections[c.ID] = c
		a.ConnectionID = c.ID
		s.notify(a, "update")
	case heroku.AddonDeprovisioning, heroku.AddonDeprovisioned:
		if now.Before(a.GoneAt) {
			return
		}
		delete(s.st.Addons, a.ID)
		delete(s.st.Connections, a.ConnectionID)
		for id, t := range s.st.Attachments {
			if t.AddonID == a.ID {
				delete(s.st.Attachments, id)
			}
		}
		s.st.Destroyed = append(s.st.Destroyed, a)
		s.dirty = true
	}
}

func (s *Sim) settleAll() {
	for _, a := range s.st.Addons {
		s.settle(a)
	}
}

// findAddon looks an add-on up by ID or name (optionally on app), settled. Caller holds s.mu.
func (s *Sim) findAddon(app, idOrName string) *addon {
	var found *addon
	for _, a := range s.st.Addons {
		if a.ID == idOrName || a.Name == idOrName {
			found = a
			break
		}
	}
	if found == nil {
		return nil
	}
	s.settle(found)
	if _, live := s.st.Addons[found.ID]; !live || (app != "" && found.App != app) {
		return nil
	}
	return found
}

func (s *Sim) addonJSON(a *addon) heroku.Addon {
	ap := s.st.Apps[a.App]
	var vars []string
	if a.State == heroku.AddonProvisioned {
		vars = []string{"HEROKUCONNECT_URL"}
	}
	return heroku.Addon{
		ID: a.ID, Name: a.Name, State: a.State, ConfigVars: vars, Actions: []any{},
		AddonService:  heroku.Ref{ID: "herokuconnect-service", Name: "herokuconnect"},
		Plan:          heroku.Ref{ID: "herokuconnect-" + a.Plan, Name: "herokuconnect:" + a.Plan},
		App:           heroku.Ref{ID: ap.ID, Name: ap.Name},
		BillingEntity: heroku.BillingEntity{ID: ap.ID, Name: ap.Name, Type: "app"},
		WebURL:        s.pageBase() + "/connect/" + a.ID, ProviderID: a.ID,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
	}
}

// lookupApp finds an app by name or ID, answering 404 when it is unknown. Caller holds s.mu.
func (s *Sim) lookupApp(w http.ResponseWriter, nameOrID string) *app {
	a := s.appByNameOrID(nameOrID)
	if a == nil {
		writeError(w, http.StatusNotFound, "not_found", "Couldn't find that app.")
	}
	return a
}

func (s *Sim) createAddon(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	var body struct {
		Plan       json.RawMessage   `json:"plan"`
		Config     map[string]string `json:"config"`
		Name       string            `json:"name"`
		Attachment *heroku.Ref       `json:"attachment"`
		Confirm    string            `json:"confirm"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	plan, err := planName(body.Plan)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_params", err.Error())
		return
	}
	service, tier, _ := strings.Cut(plan, ":")
	if service != "herokuconnect" || !connectPlans[tier] {
		writeError(w, http.StatusUnprocessableEntity, "invalid_params", fmt.Sprintf("Couldn't find either the add-on service or the add-on plan of %q.", plan))
		return
	}
	if body.Name != "" && !addonNamePattern.MatchString(body.Name) {
		writeError(w, http.StatusUnprocessableEntity, "invalid_params", "Name must start with a letter and can only contain letters, numbers, underscores, and dashes.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ap := s.lookupApp(w, r.PathValue("app"))
	if ap == nil {
		return
	}
	isv := body.Config["isv"]
	if isv != "" {
		in := s.integrationBySlug(isv)
		if in == nil || in.Status != heroku.IntegrationActive {
			writeError(w, http.StatusUnprocessableEntity, "invalid_params", fmt.Sprintf("No active Heroku Connect partner integration %q.", isv))
			return
		}
	}
	if body.Name != "" {
		for _, a := range s.st.Addons {
			if a.Name == body.Name {
				s.st.Counters.DuplicateCreates++
				writeError(w, http.StatusUnprocessableEntity, "invalid_params", fmt.Sprintf("Name %s is already taken.", body.Name))
				return
			}
		}
	} else {
		body.Name = "herokuconnect-" + randomWords()
	}
	now := s.now()
	a := &addon{
		ID: uuid.NewString(), Name: body.Name, App: ap.Name, Plan: tier, ISV: isv, State: heroku.AddonProvisioning,
		ReadyAt: now.Add(s.cfg.ProvisionDelay), AccessList: map[string]bool{}, CreatedAt: now, UpdatedAt: now,
	}
	if s.takeProvisionFailure(ap.Name) {
		a.FailProvision = true
	}
	s.st.Addons[a.ID] = a
	attachName := ""
	if body.Attachment != nil {
		attachName = strings.ToUpper(body.Attachment.Name)
	}
	a.AttachmentID = s.attach(a, ap.Name, attachName).ID
	s.release(ap.Name, fmt.Sprintf("Attach %s (@ref:%s)", s.st.Attachments[a.AttachmentID].Name, a.Name), rc.user)
	s.st.Counters.AddonsCreated++
	s.st.Counters.CreatedPerApp[ap.Name]++
	if isv != "" {
		s.st.Counters.CreatedPerISV[isv]++
	}
	s.dirty = true
	s.settle(a) // a zero delay provisions at once
	s.notify(a, "create")
	out := s.addonResource(a, expansions(r))
	out.ProvisionMessage = ptr("Heroku Connect is being provisioned; it is ready in a few seconds.")
	writeJSON(w, http.StatusCreated, out)
}

// planName accepts "herokuconnect:enterprise" or {"name": "herokuconnect:enterprise"}.
func planName(raw json.RawMessage) (string, error) {
	var name string
	if json.Unmarshal(raw, &name) == nil && name != "" {
		return name, nil
	}
	var obj struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Name != "" {
		return obj.Name, nil
	}
	return "", fmt.Errorf("plan is required: a plan name string or an object with a name")
}

func randomWords() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Sim) addonInfo(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	appName := ""
	if key := r.PathValue("app"); key != "" {
		ap := s.lookupApp(w, key)
		if ap == nil {
			return
		}
		appName = ap.Name
	}
	a := s.findAddon(appName, r.PathValue("addon"))
	if a == nil {
		writeError(w, http.StatusNotFound, "not_found", "Couldn't find that add-on.")
		return
	}
	if !s.memberOf(rc.user, s.st.Apps[a.App].Team) {
		writeError(w, http.StatusForbidden, "forbidden", "You do not have access to the add-on "+a.Name+".")
		return
	}
	if a.State == heroku.AddonDeprovisioning {
		s.st.Counters.ReadsOfGoing++
		s.dirty = true
	}
	writeJSON(w, http.StatusOK, s.addonResource(a, expansions(r)))
}

// listAddons is GET /apps/{app}/addons, paged by Range.
func (s *Sim) listAddons(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ap := s.lookupApp(w, r.PathValue("app"))
	if ap == nil {
		return
	}
	s.settleAll()
	expand := expansions(r)
	all := []addonResource{}
	for _, a := range s.st.Addons {
		if a.App == ap.Name {
			all = append(all, s.addonResource(a, expand))
		}
	}
	writePage(w, r, all, byIDOrName[addonResource])
}

func (s *Sim) destroyAddon(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ap := s.lookupApp(w, r.PathValue("app"))
	if ap == nil {
		return
	}
	a := s.findAddon(ap.Name, r.PathValue("addon"))
	if a == nil {
		writeError(w, http.StatusNotFound, "not_found", "Couldn't find that add-on.")
		return
	}
	s.destroy(a)
	if t := s.st.Attachments[a.AttachmentID]; t != nil {
		s.release(ap.Name, fmt.Sprintf("Detach %s (@ref:%s)", t.Name, a.Name), rc.user)
	}
	writeJSON(w, http.StatusOK, s.addonResource(a, expansions(r)))
}

// destroy starts deprovisioning. Caller holds s.mu.
func (s *Sim) destroy(a *addon) {
	if a.State == heroku.AddonDeprovisioning || a.State == heroku.AddonDeprovisioned {
		return
	}
	now := s.now()
	a.State, a.GoneAt, a.UpdatedAt = heroku.AddonDeprovisioning, now.Add(s.cfg.DeprovisionDelay), now
	s.st.Counters.AddonsDestroyed++
	s.dirty = true
	s.notify(a, "destroy")
	s.settle(a)
}

// --- webhooks ---

type delivery struct {
	url, secret, auth string
	body              []byte
}

func (s *Sim) createWebhook(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	var in heroku.WebhookCreate
	if !decodeBody(w, r, &in) {
		return
	}
	fields := map[string][]string{}
	if len(in.Include) == 0 {
		fields["include"] = append(fields["include"], "must list at least one entity, e.g. api:addon")
	}
	if in.Level != "notify" && in.Level != "sync" {
		fields["level"] = append(fields["level"], "must be notify or sync")
	}
	if !strings.HasPrefix(in.URL, "http://") && !strings.HasPrefix(in.URL, "https://") {
		fields["url"] = append(fields["url"], "must be an http(s) URL")
	}
	if len(fields) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{ID: "invalid_params", Message: "Invalid webhook parameters.", Errors: fields})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ap := s.lookupApp(w, r.PathValue("app"))
	if ap == nil {
		return
	}
	secret := in.Secret
	if secret == "" {
		secret = randomWords() + randomWords() + randomWords()
		w.Header().Set("Heroku-Webhook-Secret", secret)
	}
	now := s.now()
	hook := &webhook{Webhook: heroku.Webhook{ID: uuid.NewString(), App: heroku.Ref{ID: ap.ID, Name: ap.Name},
		Include: in.Include, Level: in.Level, URL: in.URL, CreatedAt: now, UpdatedAt: now}, Secret: secret, Authorization: in.Authorization}
	s.st.Webhooks[hook.ID] = hook
	s.dirty = true
	writeJSON(w, http.StatusCreated, hook.Webhook)
}

// listWebhooks answers an app's webhooks, oldest first (secrets are never shown again).
func (s *Sim) listWebhooks(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ap := s.lookupApp(w, r.PathValue("app"))
	if ap == nil {
		return
	}
	out := []heroku.Webhook{}
	for _, h := range s.st.Webhooks {
		if h.App.Name == ap.Name {
			out = append(out, h.Webhook)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].CreatedAt.Before(out[j].CreatedAt) || out[i].CreatedAt.Equal(out[j].CreatedAt) && out[i].ID < out[j].ID
	})
	writeJSON(w, http.StatusOK, out)
}

// notify queues api:addon deliveries for a's app. Caller holds s.mu.
func (s *Sim) notify(a *addon, action string) {
	for _, h := range s.st.Webhooks {
		if h.App.Name != a.App || !contains(h.Include, "api:addon") {
			continue
		}
		body, _ := json.Marshal(map[string]any{
			"id": uuid.NewString(), "action": action, "resource": "addon", "data": s.addonResource(a, nil),
			"previous_data": map[string]any{}, "actor": map[string]string{"email": "isv@example.com"},
			"webhook_metadata": map[string]any{"attempt": map[string]string{"id": uuid.NewString()}, "webhook": map[string]string{"id": h.ID}},
			"created_at":       s.now(),
		})
		select {
		case s.hooks <- delivery{url: h.URL, secret: h.Secret, auth: h.Authorization, body: body}:
		default: // a full queue drops the delivery, as a notify-level webhook may
		}
	}
}

func (s *Sim) deliverWebhooks() {
	hc := &http.Client{Timeout: 5 * time.Second}
	for d := range s.hooks {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, d.url, bytes.NewReader(d.body))
		if err != nil {
			continue
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Heroku-Webhook-Hmac-SHA256", heroku.SignWebhook(d.secret, d.body))
		if d.auth != "" {
			req.Header.Set("Authorization", d.auth)
		}
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
		}
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
