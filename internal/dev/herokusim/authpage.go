package herokusim

import (
	"errors"
	"html/template"
	"net/http"
	"time"

	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/internal/salesforce"
)

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;color:#1d1d1f}
.card{border:1px solid #ddd;border-radius:10px;padding:1.5rem}img{max-width:96px;max-height:96px}
button{background:#79589f;color:#fff;border:0;border-radius:6px;padding:.6rem 1.2rem;font-size:1rem;cursor:pointer}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;box-sizing:border-box;padding:.4rem;font-size:1rem}
.err{color:#b00020}.muted{color:#666;font-size:.9rem}</style></head><body><div class="card">{{end}}
{{define "foot"}}</div><p class="muted">herokusim: a local stand-in for Heroku and Salesforce.</p></body></html>{{end}}

{{define "authorize"}}{{template "head" .}}
{{if .LogoURL}}<img src="{{.LogoURL}}" alt="{{.ISVName}} logo">{{end}}
<h1>Connect {{.ISVName}} to Salesforce</h1>
<p><strong>{{.ISVName}}</strong> uses Heroku Connect to sync data with your Salesforce org.
Sign in as the integration user <strong>{{.Username}}</strong> of org <strong>{{.OrgID}}</strong>.</p>
<p class="muted">Login host: {{.LoginHost}}. This link expires at {{.Expires}}.</p>
<form method="get" action="/authorize/{{.Token}}/login"><button id="authorize" type="submit">Authorize</button></form>
{{template "foot" .}}{{end}}

{{define "login"}}{{template "head" .}}
<h1>Salesforce</h1><p class="muted">{{.LoginHost}}</p>
<form method="post" action="/authorize/{{.Token}}/login">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required>
<label for="org_id">Organization ID</label><input id="org_id" name="org_id" required>
<p><button id="login" type="submit">Log In and Allow</button></p></form>
{{template "foot" .}}{{end}}

{{define "result"}}{{template "head" .}}
<h1 class="{{if .Error}}err{{end}}">{{.Title}}</h1><p>{{.Message}}</p>
{{template "foot" .}}{{end}}
`))

type pageData struct {
	Title, Message, Token, ISVName, LogoURL, Username, OrgID, LoginHost, Expires string
	Error                                                                        bool
}

func renderPage(w http.ResponseWriter, status int, name string, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, name, d)
}

func resultPage(w http.ResponseWriter, status int, title, msg string) {
	renderPage(w, status, "result", pageData{Title: title, Message: msg, Error: status >= 400})
}

var (
	errLinkUnknown    = errors.New("this authorization link is not valid")
	errLinkExpired    = errors.New("this authorization link has expired; ask for a new one")
	errLinkSuperseded = errors.New("this authorization link was replaced by a newer one; use the latest link you received")
	errLinkUsed       = errors.New("this authorization link was already used")
	errAddonGone      = errors.New("the Heroku Connect add-on of this link no longer exists")
)

// liveSession returns the session of token if it can still be used. Caller holds s.mu.
func (s *Sim) liveSession(token string) (*authSession, *addon, error) {
	sess := s.st.Sessions[token]
	switch {
	case sess == nil:
		return nil, nil, errLinkUnknown
	case sess.Superseded:
		return nil, nil, errLinkSuperseded
	case sess.Used:
		return nil, nil, errLinkUsed
	case !s.now().Before(sess.ExpiresAt):
		return nil, nil, errLinkExpired
	}
	a := s.findAddon("", sess.AddonID)
	if a == nil || a.ConnectionID == "" {
		return nil, nil, errAddonGone
	}
	return sess, a, nil
}

func (s *Sim) sessionPage(w http.ResponseWriter, r *http.Request, name string) {
	s.mu.Lock()
	sess, _, err := s.liveSession(r.PathValue("token"))
	var d pageData
	if err == nil {
		name, logo := "Heroku Connect", ""
		if in := s.integrationBySlug(sess.ISV); in != nil {
			name, logo = in.Name, s.integrationJSON(in).LogoURL
		}
		d = pageData{Title: "Authorize " + name, Token: sess.Token, ISVName: name, LogoURL: logo,
			Username: sess.Request.SFUsername, OrgID: sess.Request.SFOrgID,
			LoginHost: salesforce.LoginHost(sess.Request.Environment, sess.Request.Domain), Expires: sess.ExpiresAt.Format(time.RFC1123)}
	}
	s.mu.Unlock()
	if err != nil {
		resultPage(w, http.StatusGone, "This link cannot be used", err.Error()+".")
		return
	}
	renderPage(w, http.StatusOK, name, d)
}

func (s *Sim) authorizePage(w http.ResponseWriter, r *http.Request) { s.sessionPage(w, r, "authorize") }

func (s *Sim) loginPage(w http.ResponseWriter, r *http.Request) { s.sessionPage(w, r, "login") }

func (s *Sim) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		resultPage(w, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	out := s.completeAuthorization(r.PathValue("token"), r.PostForm.Get("org_id"), r.PostForm.Get("username"))
	switch {
	case out.err != nil:
		resultPage(w, out.status, out.title, out.err.Error()+".")
	case out.next != "":
		http.Redirect(w, r, out.next, http.StatusSeeOther)
	default:
		resultPage(w, http.StatusOK, "Authorized", "Heroku Connect can now reach your Salesforce org. You can close this page.")
	}
}

type authOutcome struct {
	status   int
	title    string
	err      error
	next     string
	accepted bool
	mismatch bool
}

// completeAuthorization is the customer signing in as (org, user) on the page of token. A
// sign-in as anyone but the bound org and user is refused, or in lenient mode accepted and
// recorded.
func (s *Sim) completeAuthorization(token, org, user string) authOutcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, a, err := s.liveSession(token)
	if err != nil {
		return authOutcome{status: http.StatusGone, title: "This link cannot be used", err: err}
	}
	orgN, err := salesforce.NormalizeOrgID(org)
	if err != nil {
		return authOutcome{status: http.StatusBadRequest, title: "Login failed", err: errors.New("the organization ID " + err.Error())}
	}
	c := s.st.Connections[a.ConnectionID]
	if c.State == heroku.StateNew {
		return authOutcome{status: http.StatusConflict, title: "Not ready", err: errors.New("the connection has no database and schema yet")}
	}
	// A URL from the Connect API (connect:sf:auth) is bound to nobody: whoever signs in
	// authorizes. The partner API's are bound to an org and user.
	unbound := sess.Request.SFOrgID == ""
	match := unbound || (salesforce.SameOrg(orgN, sess.Request.SFOrgID) && salesforce.SameUser(user, sess.Request.SFUsername))
	if !match {
		s.st.Mismatches = append(s.st.Mismatches, AuthorizationMismatch{AddonID: a.ID, WantOrg: sess.Request.SFOrgID,
			WantUsername: sess.Request.SFUsername, GotOrg: org, GotUsername: user, Accepted: s.cfg.Lenient, At: s.now()})
		s.dirty = true
		if !s.cfg.Lenient {
			return authOutcome{status: http.StatusForbidden, title: "Wrong Salesforce user", mismatch: true,
				err: errors.New("you signed in as " + user + " of org " + org + ", but this link is for the integration user " +
					sess.Request.SFUsername + " of org " + sess.Request.SFOrgID + ". Sign in as that user")}
		}
	}
	now := s.now()
	orgCopy := orgN
	c.State, c.OrgID, c.AuthUpdated = heroku.StateIdle, &orgCopy, &now
	c.SF = &heroku.SFInfo{Username: user, OrganizationID: orgN, Environment: sess.Request.Environment,
		Domain: sess.Request.Domain, APIVersion: orDefault(sess.Request.APIVersion, "67.0")}
	sess.Used = true
	s.st.Counters.Authorizations++
	s.dirty = true
	return authOutcome{status: http.StatusOK, next: sess.Request.Next, accepted: true, mismatch: !match}
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
