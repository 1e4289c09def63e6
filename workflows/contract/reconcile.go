package contract

import (
	"regexp"
	"strings"
	"time"
)

// The reconciler: a per-integration sweep, run by a Temporal Schedule, that finds what no
// workflow cleans up (a customer terminated by an operator, a run deleted by retention, an
// add-on made by hand under our names) and destroys the add-ons this product created that no
// live customer owns.

// ReconcileWorkflowName is the reconciler's registered name.
const ReconcileWorkflowName = "ReconcileWorkflow"

// ReconcileScheduleID is the Schedule of an integration's reconciler; its runs' workflow
// IDs start with it.
func ReconcileScheduleID(slug string) string { return "reconcile/" + slug }

// ReconcileInput starts one sweep. Its pace and grace period are the worker's settings.
type ReconcileInput struct {
	Slug string `json:"slug"`
	// DryRun lists what the sweep would do without doing it.
	DryRun bool `json:"dry_run,omitempty"`
}

// Finding is one add-on or customer the sweep looked at, and why it did what it did.
type Finding struct {
	AddonID    string `json:"addon_id,omitempty"`
	AddonName  string `json:"addon_name,omitempty"`
	App        string `json:"app,omitempty"`
	WorkflowID string `json:"workflow_id,omitempty"`
	Why        string `json:"why"`
	Error      string `json:"error,omitempty"`
}

// ReconcileReport is what a sweep found and did.
type ReconcileReport struct {
	Slug   string    `json:"slug"`
	DryRun bool      `json:"dry_run"`
	At     time.Time `json:"at"`
	// AddonsSeen is every add-on of the account listed; Ours those named by this product for
	// this integration.
	AddonsSeen int `json:"addons_seen"`
	Ours       int `json:"ours"`
	// LiveCustomers are the running customer workflows of the integration.
	LiveCustomers int `json:"live_customers"`
	// Destroyed (or, in a dry run, would be destroyed): ours, older than the grace period,
	// owned by no live customer.
	Destroyed []Finding `json:"destroyed"`
	// Young are such add-ons still inside the grace period: a customer may be about to adopt
	// one (a create whose answer was lost).
	Young []Finding `json:"young"`
	// Enrolled are add-ons live customers enrolled: never destroyed here.
	Enrolled []Finding `json:"enrolled"`
	// Gone are live customers whose add-on Heroku no longer lists; each was told.
	Gone []Finding `json:"gone"`
	// Owned are orphans of the listing that a live customer owned at the moment of their
	// destroy (adopted or re-enrolled since): kept.
	Owned []Finding `json:"owned,omitempty"`
	// Foreign are orphans of the listing that no customer run of this namespace ever made
	// or recorded: another deployment's (two namespaces sharing an account and a slug), or
	// older than visibility's retention. Kept: an operator decides.
	Foreign []Finding `json:"foreign,omitempty"`
	// Failed are destructions that did not go through; the next sweep tries again.
	Failed []Finding `json:"failed"`
	Pages  int       `json:"pages"` // Heroku list requests made
	// WatchersWoken are the apps whose watcher the sweep woke (or started again): every app
	// a live customer's add-on is on keeps one running, whatever ended the last.
	WatchersWoken []string `json:"watchers_woken,omitempty"`
}

// QueryReconcileReport answers the sweep's report so far.
var QueryReconcileReport = Query[ReconcileReport]{"reconcile.report",
	"What this sweep found and did: add-ons destroyed (or, dry, that would be), young, enrolled, customers whose add-on is gone."}

var productAddonName = regexp.MustCompile(`^hc-([a-z][a-z0-9-]{1,28}[a-z0-9])-[0-9a-f]{12}$`)

// IsProductAddonName reports whether name is one AddonName makes for integration slug.
func IsProductAddonName(slug, name string) bool {
	m := productAddonName.FindStringSubmatch(name)
	return m != nil && m[1] == slug && strings.HasPrefix(name, "hc-"+slug+"-")
}
