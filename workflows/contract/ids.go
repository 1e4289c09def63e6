package contract

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Workflow IDs come from business keys, so starting twice reaches the same workflow. Each
// format has its parser; a parser refuses what its format cannot produce.

// ConnectionWorkflowID is the business key of a customer connection: connection/<slug>/<customer>.
func ConnectionWorkflowID(isvSlug, customerID string) string {
	return "connection/" + isvSlug + "/" + customerID
}

// ParseConnectionWorkflowID is ConnectionWorkflowID's inverse.
func ParseConnectionWorkflowID(id string) (isvSlug, customerID string, err error) {
	rest, ok := strings.CutPrefix(id, "connection/")
	if ok {
		isvSlug, customerID, ok = strings.Cut(rest, "/")
	}
	if !ok || !ValidSlug(isvSlug) || customerID == "" {
		return "", "", fmt.Errorf("workflow ID %q is not connection/<isv slug>/<customer ID>", id)
	}
	return isvSlug, customerID, nil
}

// PartnerWorkflowID is the business key of an ISV's integration: partner/<slug>.
func PartnerWorkflowID(slug string) string { return "partner/" + slug }

// ParsePartnerWorkflowID is PartnerWorkflowID's inverse.
func ParsePartnerWorkflowID(id string) (slug string, err error) {
	slug, ok := strings.CutPrefix(id, "partner/")
	if !ok || !ValidSlug(slug) {
		return "", fmt.Errorf("workflow ID %q is not partner/<isv slug>", id)
	}
	return slug, nil
}

// WatcherWorkflowID is the business key of the one watcher of an ISV app: watch/<app>.
func WatcherWorkflowID(app string) string { return "watch/" + app }

// ParseWatcherWorkflowID is WatcherWorkflowID's inverse.
func ParseWatcherWorkflowID(id string) (app string, err error) {
	app, ok := strings.CutPrefix(id, "watch/")
	if !ok || app == "" || strings.Contains(app, "/") {
		return "", fmt.Errorf("workflow ID %q is not watch/<app>", id)
	}
	return app, nil
}

// SlugPattern is a partner integration slug: lower-case letters, digits and single dashes,
// starting with a letter (the length, 3-30, is checked apart: see ValidSlug).
var SlugPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$`)

// ValidSlug reports whether s is a partner integration slug: 3-30 lower-case letters,
// digits and single dashes, starting with a letter and not ending with a dash.
func ValidSlug(s string) bool { return len(s) >= 3 && len(s) <= 30 && SlugPattern.MatchString(s) }

// DefaultSchema derives a Postgres schema name of the customer's own from its ID:
// "customer_", the ID lower-cased with every other character an underscore, and always a
// hash of the exact ID, so IDs that differ only in case or in dropped characters (cust1,
// Cust1, CUST1) never share a schema. At most 63 characters.
func DefaultSchema(customerID string) string {
	sum := sha256.Sum256([]byte(customerID))
	suffix := "_" + hex.EncodeToString(sum[:])[:8]
	name := "customer_" + SchemaSafe(customerID)
	if max := 63 - len(suffix); len(name) > max {
		name = name[:max]
	}
	return name + suffix
}

// SchemaSafe lower-cases s and turns every character but a-z and 0-9 into an underscore.
func SchemaSafe(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// AddonName is the deterministic name of the add-on onboarding creates for a customer. Add-on
// names are global on Heroku, so a retry after a lost response finds its own add-on by name
// instead of creating a second one.
func AddonName(isvSlug, customerID string) string {
	sum := sha256.Sum256([]byte(isvSlug + "\x00" + customerID))
	return "hc-" + isvSlug + "-" + hex.EncodeToString(sum[:])[:12]
}
