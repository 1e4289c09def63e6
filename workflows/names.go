package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Names derived from business keys: slugs, default schemas and add-on names.

// ValidSlug reports whether s is a partner integration slug: 3-30 lower-case letters,
// digits and single dashes, starting with a letter and not ending with a dash.
func ValidSlug(s string) bool { return len(s) >= 3 && len(s) <= 30 && SlugPattern.MatchString(s) }

// DefaultSchema derives a Postgres schema name of the customer's own from its ID:
// "customer_", the ID lower-cased with every other character an underscore, and always a
// hash of the exact ID, so IDs that differ only in case or in dropped characters (cust1,
// Cust1, CUST1) never share a schema. At most 63 characters.
func DefaultSchema(customerID string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(customerID) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	sum := sha256.Sum256([]byte(customerID))
	suffix := "_" + hex.EncodeToString(sum[:])[:8]
	name := "customer_" + b.String()
	if max := 63 - len(suffix); len(name) > max {
		name = name[:max]
	}
	return name + suffix
}

// legacyDefaultSchema is DefaultSchema before trust-guarantees: it dropped the hash when
// the ID was already lower-case, so IDs differing only in case shared a schema. Runs
// recorded before that change keep it.
func legacyDefaultSchema(customerID string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(customerID) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	clean := b.String()
	sum := sha256.Sum256([]byte(customerID))
	suffix := "_" + hex.EncodeToString(sum[:])[:6]
	if clean == strings.ToLower(customerID) {
		suffix = "" // nothing was lost: keep the name readable
	}
	name := "customer_" + clean
	if max := 63 - len(suffix); len(name) > max {
		name = name[:max]
		if suffix == "" {
			suffix = "_" + hex.EncodeToString(sum[:])[:6]
			name = name[:63-len(suffix)]
		}
	}
	return name + suffix
}

// AddonName is the deterministic name of the add-on onboarding creates for a customer. Add-on
// names are global on Heroku, so a retry after a lost response finds its own add-on by name
// instead of creating a second one.
func AddonName(isvSlug, customerID string) string {
	sum := sha256.Sum256([]byte(isvSlug + "\x00" + customerID))
	return "hc-" + isvSlug + "-" + hex.EncodeToString(sum[:])[:12]
}
