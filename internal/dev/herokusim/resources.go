package herokusim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/connect-onboarding/worker/internal/heroku"
)

// The Platform API resources the product and an ISV's operator touch, shaped as Heroku's
// published schema defines them (npm @heroku-cli/schema: App, Account, AddOn,
// AddOnAttachment, AddOnService, Plan): every field present, nothing invented. The
// definitions test holds each route's answers to those definitions.

// named is the {id, name} reference Heroku nests in its resources.
type named struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type price struct {
	Cents    int    `json:"cents"`
	Contract bool   `json:"contract"`
	Unit     string `json:"unit"`
}

type billingEntity struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// addonResource is an AddOn. AddonService and Plan are references, or the whole resource
// when the request's Accept-Expansion names them (as the Heroku CLI's list does).
type addonResource struct {
	Actions          []any         `json:"actions"`
	AddonService     any           `json:"addon_service"`
	App              named         `json:"app"`
	BilledPrice      *price        `json:"billed_price"`
	BillingEntity    billingEntity `json:"billing_entity"`
	ConfigVars       []string      `json:"config_vars"`
	CreatedAt        time.Time     `json:"created_at"`
	ID               string        `json:"id"`
	Name             string        `json:"name"`
	Plan             any           `json:"plan"`
	ProviderID       string        `json:"provider_id"`
	ProvisionMessage *string       `json:"provision_message,omitempty"` // on create only, as on Heroku
	State            string        `json:"state"`
	UpdatedAt        time.Time     `json:"updated_at"`
	WebURL           *string       `json:"web_url"`
}

type attachmentAddon struct {
	App  named  `json:"app"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

type attachmentResource struct {
	Addon       attachmentAddon `json:"addon"`
	App         named           `json:"app"`
	CreatedAt   time.Time       `json:"created_at"`
	ID          string          `json:"id"`
	LogInputURL *string         `json:"log_input_url"`
	Name        string          `json:"name"`
	Namespace   *string         `json:"namespace"`
	UpdatedAt   time.Time       `json:"updated_at"`
	WebURL      *string         `json:"web_url"`
}

type serviceResource struct {
	CLIPluginName                 *string   `json:"cli_plugin_name"`
	CreatedAt                     time.Time `json:"created_at"`
	HumanName                     string    `json:"human_name"`
	ID                            string    `json:"id"`
	Name                          string    `json:"name"`
	State                         string    `json:"state"`
	SupportsMultipleInstallations bool      `json:"supports_multiple_installations"`
	SupportsSharing               bool      `json:"supports_sharing"`
	UpdatedAt                     time.Time `json:"updated_at"`
}

type planResource struct {
	AddonService                     named     `json:"addon_service"`
	Compliance                       []string  `json:"compliance"`
	CreatedAt                        time.Time `json:"created_at"`
	Default                          bool      `json:"default"`
	Description                      string    `json:"description"`
	HumanName                        string    `json:"human_name"`
	ID                               string    `json:"id"`
	InstallableInsidePrivateNetwork  bool      `json:"installable_inside_private_network"`
	InstallableOutsidePrivateNetwork bool      `json:"installable_outside_private_network"`
	Name                             string    `json:"name"`
	Price                            price     `json:"price"`
	SpaceDefault                     bool      `json:"space_default"`
	State                            string    `json:"state"`
	UpdatedAt                        time.Time `json:"updated_at"`
	Visible                          bool      `json:"visible"`
}

type appResource struct {
	ACM                          bool      `json:"acm"`
	ArchivedAt                   *string   `json:"archived_at"`
	BuildStack                   named     `json:"build_stack"`
	BuildpackProvidedDescription *string   `json:"buildpack_provided_description"`
	CreatedAt                    time.Time `json:"created_at"`
	GitURL                       string    `json:"git_url"`
	ID                           string    `json:"id"`
	InternalRouting              *bool     `json:"internal_routing"`
	Maintenance                  bool      `json:"maintenance"`
	Name                         string    `json:"name"`
	Organization                 *named    `json:"organization"`
	Owner                        appOwner  `json:"owner"`
	Region                       named     `json:"region"`
	ReleasedAt                   *string   `json:"released_at"`
	RepoSize                     *int      `json:"repo_size"`
	SlugSize                     *int      `json:"slug_size"`
	Space                        *struct{} `json:"space"` // apps here are in no private space
	Stack                        named     `json:"stack"`
	Team                         *named    `json:"team"`
	UpdatedAt                    time.Time `json:"updated_at"`
	WebURL                       *string   `json:"web_url"`
}

type releaseResource struct {
	AddonPlanNames  []string  `json:"addon_plan_names"`
	App             named     `json:"app"`
	CreatedAt       time.Time `json:"created_at"`
	Current         bool      `json:"current"`
	Description     string    `json:"description"`
	ID              string    `json:"id"`
	OutputStreamURL *string   `json:"output_stream_url"`
	Slug            *struct{} `json:"slug"` // nothing is deployed here
	Status          string    `json:"status"`
	UpdatedAt       time.Time `json:"updated_at"`
	User            appOwner  `json:"user"`
	Version         int       `json:"version"`
}

type appOwner struct {
	Email string `json:"email"`
	ID    string `json:"id"`
}

type accountResource struct {
	AllowTracking           bool      `json:"allow_tracking"`
	Beta                    bool      `json:"beta"`
	CountryOfResidence      *string   `json:"country_of_residence"`
	CreatedAt               time.Time `json:"created_at"`
	DefaultOrganization     *named    `json:"default_organization"`
	DefaultTeam             *named    `json:"default_team"`
	DelinquentAt            *string   `json:"delinquent_at"`
	Email                   string    `json:"email"`
	Federated               bool      `json:"federated"`
	ID                      string    `json:"id"`
	IdentityProvider        *struct{} `json:"identity_provider"`
	LastLogin               *string   `json:"last_login"`
	Name                    *string   `json:"name"`
	SMSNumber               *string   `json:"sms_number"`
	SuspendedAt             *string   `json:"suspended_at"`
	TwoFactorAuthentication bool      `json:"two_factor_authentication"`
	UpdatedAt               time.Time `json:"updated_at"`
	Verified                bool      `json:"verified"`
}

// identity is how Heroku's API names a resource in a request body: its ID or name as a
// string, or an object with either ({"name": "hc-1"}), as the Heroku CLI sends.
type identity string

func (i *identity) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*i = identity(s)
		return nil
	}
	var o struct{ ID, Name string }
	if err := json.Unmarshal(b, &o); err != nil {
		return fmt.Errorf("must be an ID or name, or an object with an id or name")
	}
	*i = identity(cmp.Or(o.ID, o.Name))
	return nil
}

// stableID is a fixed UUID for a name: services, plans, regions and stacks keep their IDs
// across restarts, as Heroku's do.
func stableID(kind, name string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("herokusim:"+kind+":"+name)).String()
}

// epoch is when the simulator's catalogue (service, plans, stacks) was published.
var epoch = time.Date(2015, 6, 1, 0, 0, 0, 0, time.UTC)

var connectService = serviceResource{
	CreatedAt: epoch, HumanName: "Heroku Connect", ID: stableID("service", "herokuconnect"), Name: "herokuconnect",
	State: "ga", SupportsMultipleInstallations: true, SupportsSharing: true, UpdatedAt: epoch,
}

// connectPlanList is the catalogue in Heroku's order, cheapest first.
var connectPlanList = []planResource{
	connectPlan("demo", "Demo Edition", 0, true, nil),
	connectPlan("enterprise", "Enterprise Edition", 0, false, nil),
	connectPlan("shield", "Shield", 0, false, []string{"HIPAA", "PCI"}),
}

func connectPlan(tier, human string, cents int, isDefault bool, compliance []string) planResource {
	return planResource{
		AddonService: named{ID: connectService.ID, Name: connectService.Name}, Compliance: compliance, CreatedAt: epoch,
		Default: isDefault, Description: "Heroku Connect " + human, HumanName: human, ID: stableID("plan", tier),
		InstallableInsidePrivateNetwork: tier == "shield", InstallableOutsidePrivateNetwork: tier != "shield",
		Name: "herokuconnect:" + tier, Price: price{Cents: cents, Contract: tier != "demo", Unit: "month"},
		State: "public", UpdatedAt: epoch, Visible: true,
	}
}

func planOf(tier string) planResource {
	for _, p := range connectPlanList {
		if p.Name == "herokuconnect:"+tier {
			return p
		}
	}
	return connectPlanList[0]
}

// expansions reads Accept-Expansion ("addon_service,plan").
func expansions(r *http.Request) map[string]bool {
	out := map[string]bool{}
	for _, f := range strings.Split(r.Header.Get("Accept-Expansion"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			out[f] = true
		}
	}
	return out
}

// addonResource renders a as Heroku does. Caller holds s.mu.
func (s *Sim) addonResource(a *addon, expand map[string]bool) addonResource {
	ap := s.st.Apps[a.App]
	vars := []string{}
	if a.State == heroku.AddonProvisioned {
		vars = []string{"HEROKUCONNECT_URL"}
	}
	p := planOf(a.Plan)
	out := addonResource{
		Actions: []any{}, AddonService: named{ID: connectService.ID, Name: connectService.Name},
		App: named{ID: ap.ID, Name: ap.Name}, BilledPrice: &p.Price, BillingEntity: billingEntity{ID: ap.ID, Name: ap.Name, Type: "app"},
		ConfigVars: vars, CreatedAt: a.CreatedAt, ID: a.ID, Name: a.Name, Plan: named{ID: p.ID, Name: p.Name},
		ProviderID: a.ID, State: a.State, UpdatedAt: a.UpdatedAt, WebURL: ptr(s.pageBase() + "/connect/" + a.ID),
	}
	if expand["addon_service"] {
		out.AddonService = connectService
	}
	if expand["plan"] {
		out.Plan = p
	}
	return out
}

func (s *Sim) attachmentResource(t *attachment) attachmentResource {
	a := s.st.Addons[t.AddonID]
	owner := s.st.Apps[a.App]
	ap := s.st.Apps[t.App]
	return attachmentResource{
		Addon: attachmentAddon{App: named{ID: owner.ID, Name: owner.Name}, ID: a.ID, Name: a.Name},
		App:   named{ID: ap.ID, Name: ap.Name}, CreatedAt: t.CreatedAt, ID: t.ID, Name: t.Name,
		UpdatedAt: t.CreatedAt, WebURL: ptr(s.pageBase() + "/connect/" + a.ID),
	}
}

func (s *Sim) appResource(ap *app) appResource {
	owner := s.accountID(s.teamOwner(ap.Team))
	return appResource{
		BuildStack: named{ID: stableID("stack", "heroku-24"), Name: "heroku-24"}, CreatedAt: ap.CreatedAt,
		GitURL: "https://git.heroku.com/" + ap.Name + ".git", ID: ap.ID, InternalRouting: ptr(false), Name: ap.Name,
		Organization: &named{ID: stableID("team", ap.Team), Name: ap.Team}, Owner: appOwner{Email: s.teamOwner(ap.Team), ID: owner},
		Region: named{ID: stableID("region", "us"), Name: "us"}, Stack: named{ID: stableID("stack", "heroku-24"), Name: "heroku-24"},
		Team: &named{ID: stableID("team", ap.Team), Name: ap.Team}, UpdatedAt: ap.CreatedAt,
		WebURL: ptr("https://" + ap.Name + ".herokuapp.com/"),
	}
}

// teamOwner is the account that owns a team's apps: the first configured account, the ISV.
func (s *Sim) teamOwner(string) string {
	emails := make([]string, 0, len(s.cfg.Tokens))
	for _, e := range s.cfg.Tokens {
		emails = append(emails, e)
	}
	sort.Strings(emails)
	if len(emails) == 0 {
		return "isv@example.com"
	}
	return emails[0]
}

func (s *Sim) accountID(email string) string { return stableID("account", email) }

func ptr[T any](v T) *T { return &v }

// --- account and apps ---

func (s *Sim) accountInfo(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	writeJSON(w, http.StatusOK, accountResource{
		AllowTracking: true, CreatedAt: epoch, Email: rc.user, ID: s.accountID(rc.user), UpdatedAt: epoch, Verified: true,
		Name: ptr(strings.Split(rc.user, "@")[0]),
	})
}

// appByNameOrID finds an app by name or ID. Caller holds s.mu.
func (s *Sim) appByNameOrID(key string) *app {
	if ap := s.st.Apps[key]; ap != nil {
		return ap
	}
	for _, ap := range s.st.Apps {
		if ap.ID == key {
			return ap
		}
	}
	return nil
}

func (s *Sim) appInfo(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ap := s.lookupApp(w, r.PathValue("app")); ap != nil {
		writeJSON(w, http.StatusOK, s.appResource(ap))
	}
}

func (s *Sim) listApps(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]appResource, 0, len(s.st.Apps))
	for _, ap := range s.st.Apps {
		if s.memberOf(rc.user, ap.Team) {
			all = append(all, s.appResource(ap))
		}
	}
	writePage(w, r, all, byIDOrName[appResource])
}

// release records a change to app's add-ons, as Heroku makes a release for every config
// change. Caller holds s.mu.
func (s *Sim) release(appName, description, user string) {
	ap := s.st.Apps[appName]
	if ap == nil {
		return
	}
	plans := []string{}
	for _, t := range s.st.Attachments {
		if a := s.st.Addons[t.AddonID]; t.App == appName && a != nil && a.State != heroku.AddonDeprovisioning && a.State != heroku.AddonDeprovisioned {
			plans = append(plans, "herokuconnect:"+a.Plan)
		}
	}
	sort.Strings(plans)
	s.initialRelease(ap)
	ap.Releases = append(ap.Releases, release{ID: uuid.NewString(), Version: len(ap.Releases) + 1, Description: description,
		Plans: plans, User: user, CreatedAt: s.now()})
	s.dirty = true
}

func (s *Sim) releaseResource(ap *app, r release) releaseResource {
	return releaseResource{
		AddonPlanNames: r.Plans, App: named{ID: ap.ID, Name: ap.Name}, CreatedAt: r.CreatedAt,
		Current: r.Version == len(ap.Releases), Description: r.Description, ID: r.ID, Status: "succeeded",
		UpdatedAt: r.CreatedAt, User: appOwner{Email: r.User, ID: s.accountID(r.User)}, Version: r.Version,
	}
}

// initialRelease gives an app its first release, its creation. Caller holds s.mu.
func (s *Sim) initialRelease(ap *app) {
	if len(ap.Releases) == 0 {
		ap.Releases = []release{{ID: stableID("release", ap.ID), Version: 1, Description: "Initial release", Plans: []string{},
			User: s.teamOwner(ap.Team), CreatedAt: ap.CreatedAt}}
	}
}

// releasesOf lists an app's releases. Caller holds s.mu.
func (s *Sim) releasesOf(ap *app) []releaseResource {
	s.initialRelease(ap)
	out := make([]releaseResource, len(ap.Releases))
	for i, r := range ap.Releases {
		out[i] = s.releaseResource(ap, r)
	}
	return out
}

func (s *Sim) listReleases(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ap := s.lookupApp(w, r.PathValue("app")); ap != nil {
		writePage(w, r, s.releasesOf(ap), func(v releaseResource, field string) string {
			if field == "version" {
				return strconv.Itoa(v.Version)
			}
			return v.ID
		})
	}
}

func (s *Sim) releaseInfo(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ap := s.lookupApp(w, r.PathValue("app"))
	if ap == nil {
		return
	}
	key := strings.TrimPrefix(r.PathValue("release"), "v")
	for _, v := range s.releasesOf(ap) {
		if v.ID == key || strconv.Itoa(v.Version) == key {
			writeJSON(w, http.StatusOK, v)
			return
		}
	}
	writeError(w, http.StatusNotFound, "not_found", "Couldn't find that release.")
}

// --- add-ons beyond create, info, list and destroy ---

// listAllAddons is GET /addons: every add-on of the apps the account can see.
func (s *Sim) listAllAddons(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleAll()
	expand := expansions(r)
	all := make([]addonResource, 0, len(s.st.Addons))
	for _, a := range s.st.Addons {
		if s.memberOf(rc.user, s.st.Apps[a.App].Team) {
			all = append(all, s.addonResource(a, expand))
		}
	}
	writePage(w, r, all, byIDOrName[addonResource])
}

// resolveBody is what both resolve actions take: what a person typed (an add-on's or an
// attachment's name or ID), optionally narrowed to an app and a service.
type resolveBody struct {
	Addon        string   `json:"addon"`
	Attachment   string   `json:"addon_attachment"`
	App          identity `json:"app"`
	AddonService identity `json:"addon_service"`
}

// resolveScope finds a resolve action's app ("" for any) and checks its service; it has
// answered 404 when !ok. Caller holds s.mu.
func (s *Sim) resolveScope(w http.ResponseWriter, body resolveBody) (app string, ok bool) {
	if body.App != "" {
		ap := s.appByNameOrID(string(body.App))
		if ap == nil {
			writeError(w, http.StatusNotFound, "not_found", "Couldn't find that app.")
			return "", false
		}
		app = ap.Name
	}
	if svc := string(body.AddonService); svc != "" && svc != connectService.Name && svc != connectService.ID {
		writeError(w, http.StatusNotFound, "not_found", "Couldn't find that add-on service.")
		return "", false
	}
	return app, true
}

// resolveAddon is POST /actions/addons/resolve: how Heroku's clients find an add-on from
// what a person typed (its name or ID, optionally with the app and the service).
func (s *Sim) resolveAddon(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	var body resolveBody
	if !decodeBody(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	app, ok := s.resolveScope(w, body)
	if !ok {
		return
	}
	a := s.findAddon(app, body.Addon)
	if a == nil {
		// An attachment name on the app resolves to its add-on, as on Heroku.
		if t := s.findAttachment(app, body.Addon); t != nil {
			a = s.findAddon("", t.AddonID)
		}
	}
	if a == nil {
		writeError(w, http.StatusNotFound, "not_found", "Couldn't find that add-on.")
		return
	}
	writeJSON(w, http.StatusOK, []addonResource{s.addonResource(a, expansions(r))})
}

// --- attachments ---

// attachmentName is the default name of an add-on's attachment on app: the service's
// config var prefix, numbered when the app already has one. Caller holds s.mu.
func (s *Sim) attachmentName(app string) string {
	taken := map[string]bool{}
	for _, t := range s.st.Attachments {
		if t.App == app {
			taken[t.Name] = true
		}
	}
	name := "HEROKUCONNECT"
	for n := 2; taken[name]; n++ {
		name = "HEROKUCONNECT_" + strconv.Itoa(n)
	}
	return name
}

// attach records an attachment of a to app. Caller holds s.mu.
func (s *Sim) attach(a *addon, app, name string) *attachment {
	if name == "" {
		name = s.attachmentName(app)
	}
	t := &attachment{ID: uuid.NewString(), AddonID: a.ID, App: app, Name: name, CreatedAt: s.now()}
	s.st.Attachments[t.ID] = t
	s.dirty = true
	return t
}

// findAttachment finds a live add-on's attachment by ID, or by name on app. Caller holds s.mu.
func (s *Sim) findAttachment(app, idOrName string) *attachment {
	for _, t := range s.st.Attachments {
		if _, live := s.st.Addons[t.AddonID]; !live {
			continue
		}
		if t.ID == idOrName || t.Name == idOrName && (app == "" || t.App == app) {
			return t
		}
	}
	return nil
}

// attachmentsWhere lists live attachments that keep says to, sorted by ID. Caller holds s.mu.
func (s *Sim) attachmentsWhere(keep func(*attachment) bool) []attachmentResource {
	s.settleAll()
	out := []attachmentResource{}
	for _, t := range s.st.Attachments {
		if _, live := s.st.Addons[t.AddonID]; live && keep(t) {
			out = append(out, s.attachmentResource(t))
		}
	}
	return out
}

func (s *Sim) listAttachments(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := func(*attachment) bool { return true }
	if key := r.PathValue("app"); key != "" {
		ap := s.lookupApp(w, key)
		if ap == nil {
			return
		}
		keep = func(t *attachment) bool { return t.App == ap.Name }
	}
	if key := r.PathValue("addon"); key != "" {
		a := s.findAddon("", key)
		if a == nil {
			writeError(w, http.StatusNotFound, "not_found", "Couldn't find that add-on.")
			return
		}
		keep = func(t *attachment) bool { return t.AddonID == a.ID }
	}
	writePage(w, r, s.attachmentsWhere(keep), byIDOrName[attachmentResource])
}

func (s *Sim) attachmentInfo(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	app := ""
	if key := r.PathValue("app"); key != "" {
		ap := s.lookupApp(w, key)
		if ap == nil {
			return
		}
		app = ap.Name
	}
	s.settleAll()
	t := s.findAttachment(app, r.PathValue("attachment"))
	if t == nil {
		writeError(w, http.StatusNotFound, "not_found", "Couldn't find that add-on attachment.")
		return
	}
	writeJSON(w, http.StatusOK, s.attachmentResource(t))
}

// resolveAttachment is POST /actions/addon-attachments/resolve.
func (s *Sim) resolveAttachment(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	var body resolveBody
	if !decodeBody(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	app, ok := s.resolveScope(w, body)
	if !ok {
		return
	}
	s.settleAll()
	t := s.findAttachment(app, body.Attachment)
	if t == nil {
		writeError(w, http.StatusNotFound, "not_found", "Couldn't find that add-on attachment.")
		return
	}
	writeJSON(w, http.StatusOK, []attachmentResource{s.attachmentResource(t)})
}

// createAttachment is POST /addon-attachments: share an add-on with another app.
func (s *Sim) createAttachment(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	var body struct {
		Addon   identity `json:"addon"`
		App     identity `json:"app"`
		Name    string   `json:"name"`
		Confirm string   `json:"confirm"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ap := s.lookupApp(w, string(body.App))
	if ap == nil {
		return
	}
	if !s.memberOf(rc.user, ap.Team) {
		writeError(w, http.StatusForbidden, "forbidden", "You do not have access to the app "+ap.Name+".")
		return
	}
	a := s.findAddon("", string(body.Addon))
	if a == nil {
		writeError(w, http.StatusNotFound, "not_found", "Couldn't find that add-on.")
		return
	}
	if body.Name != "" && s.findAttachment(ap.Name, body.Name) != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_params", fmt.Sprintf("Name %s is already used by another attachment on %s.", body.Name, ap.Name))
		return
	}
	t := s.attach(a, ap.Name, strings.ToUpper(body.Name))
	s.release(ap.Name, fmt.Sprintf("Attach %s (@ref:%s)", t.Name, a.Name), rc.user)
	writeJSON(w, http.StatusCreated, s.attachmentResource(t))
}

// deleteAttachment is DELETE /addon-attachments/{id}; the add-on's own attachment on its
// app goes only with the add-on.
func (s *Sim) deleteAttachment(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.findAttachment("", r.PathValue("attachment"))
	if t == nil {
		writeError(w, http.StatusNotFound, "not_found", "Couldn't find that add-on attachment.")
		return
	}
	if a := s.st.Addons[t.AddonID]; a.App == t.App && a.AttachmentID == t.ID {
		writeError(w, http.StatusUnprocessableEntity, "invalid_params", "An add-on's attachment to its own app goes with the add-on: destroy the add-on instead.")
		return
	}
	out := s.attachmentResource(t)
	delete(s.st.Attachments, t.ID)
	s.release(t.App, fmt.Sprintf("Detach %s (@ref:%s)", t.Name, out.Addon.Name), rc.user)
	writeJSON(w, http.StatusOK, out)
}

// --- the catalogue ---

func (s *Sim) listServices(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	writePage(w, r, []serviceResource{connectService}, byIDOrName[serviceResource])
}

// service answers 404 unless key names Heroku Connect, the one service simulated.
func service(w http.ResponseWriter, key string) bool {
	if key != connectService.Name && key != connectService.ID {
		writeError(w, http.StatusNotFound, "not_found", "Couldn't find that add-on service.")
		return false
	}
	return true
}

func (s *Sim) serviceInfo(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	if service(w, r.PathValue("service")) {
		writeJSON(w, http.StatusOK, connectService)
	}
}

func (s *Sim) listPlans(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	if service(w, r.PathValue("service")) {
		writePage(w, r, slices.Clone(connectPlanList), byIDOrName[planResource])
	}
}

func (s *Sim) planInfo(w http.ResponseWriter, r *http.Request, rc reqCtx) {
	if !service(w, r.PathValue("service")) {
		return
	}
	key := r.PathValue("plan")
	for _, p := range connectPlanList {
		if p.ID == key || p.Name == key || strings.TrimPrefix(p.Name, "herokuconnect:") == key {
			writeJSON(w, http.StatusOK, p)
			return
		}
	}
	writeError(w, http.StatusNotFound, "not_found", "Couldn't find that plan.")
}

// writePage answers a list with Heroku's Range paging: "<field> ..", or "<field> ]<last>.."
// for the page after <last>, "; max=N" (default 200, at most 1000), and the order
// (", order=desc"). key gives an item's value of a field ("" when the list cannot be ordered
// by it). A truncated page is 206 with Next-Range.
func writePage[T any](w http.ResponseWriter, r *http.Request, items []T, key func(v T, field string) string) {
	field, start, exclusive, max, desc, ok := parseListRange(r.Header.Get("Range"))
	if !ok || len(items) > 0 && key(items[0], field) == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "Invalid Range header: use \"id ..; max=N\" or another field the list is ordered by.")
		return
	}
	less := less0
	if desc {
		less = func(a, b string) bool { return less0(b, a) }
	}
	sort.SliceStable(items, func(i, j int) bool { return less(key(items[i], field), key(items[j], field)) })
	page := make([]T, 0, min(len(items), max))
	for _, v := range items {
		k := key(v, field)
		if start != "" && (less(k, start) || exclusive && k == start) {
			continue
		}
		page = append(page, v)
	}
	status := http.StatusOK
	if len(page) > max {
		page = page[:max]
		next := fmt.Sprintf("%s ]%s..; max=%d", field, key(page[max-1], field), max)
		if desc {
			next += ", order=desc"
		}
		w.Header().Set("Next-Range", next)
		status = http.StatusPartialContent
	}
	writeJSON(w, status, page)
}

// byIDOrName orders a list by id or name, the fields Heroku's lists take.
func byIDOrName[T interface{ idName() (string, string) }](v T, field string) string {
	id, name := v.idName()
	switch field {
	case "id":
		return id
	case "name":
		return name
	}
	return ""
}

func (a addonResource) idName() (string, string)      { return a.ID, a.Name }
func (a appResource) idName() (string, string)        { return a.ID, a.Name }
func (t attachmentResource) idName() (string, string) { return t.ID, t.Name }
func (v serviceResource) idName() (string, string)    { return v.ID, v.Name }
func (p planResource) idName() (string, string)       { return p.ID, p.Name }

// less0 orders numbers by value (release versions) and the rest as text.
func less0(a, b string) bool {
	x, errx := strconv.Atoi(a)
	y, erry := strconv.Atoi(b)
	if errx == nil && erry == nil {
		return x < y
	}
	return a < b
}

// parseListRange reads "id ..", "name ]x..; max=N, order=desc" and the like.
func parseListRange(h string) (field, start string, exclusive bool, max int, desc, ok bool) {
	field, max = "id", 200
	if h == "" {
		return field, "", false, max, false, true
	}
	spec, params, _ := strings.Cut(h, ";")
	spec = strings.TrimSpace(spec)
	field, rest, found := strings.Cut(spec, " ")
	if !found || field == "" || !strings.HasSuffix(rest, "..") {
		return "", "", false, 0, false, false
	}
	start = strings.TrimSuffix(strings.TrimSpace(rest), "..")
	if strings.HasPrefix(start, "]") {
		exclusive, start = true, start[1:]
	}
	for _, p := range strings.Split(params, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch k {
		case "max":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				return "", "", false, 0, false, false
			}
			max = n
		case "order":
			if v != "asc" && v != "desc" {
				return "", "", false, 0, false, false
			}
			desc = v == "desc"
		}
	}
	return field, start, exclusive, max, desc, true
}
