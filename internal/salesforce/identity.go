// Package salesforce holds the pure rules of Salesforce identities: org IDs (15 or 18
// characters), usernames, login hosts and API versions. It does no I/O, so workflow code
// may use it.
package salesforce

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// API versions the Connect API accepts.
const (
	OldestAPIVersion = 31.0
	LatestAPIVersion = 67.0
)

var (
	orgIDPattern    = regexp.MustCompile(`^00D[a-zA-Z0-9]{12}([a-zA-Z0-5]{3})?$`)
	usernamePattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	apiPattern      = regexp.MustCompile(`^[0-9]{2}\.0$`)
)

const suffixAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// NormalizeOrgID returns the 18-character form of a 15- or 18-character org ID. The
// 15-character form is case-sensitive; the 3-character suffix encodes where its upper-case
// letters are, which is what makes the 18-character form safe to compare.
func NormalizeOrgID(id string) (string, error) {
	id = strings.TrimSpace(id)
	if !orgIDPattern.MatchString(id) {
		return "", fmt.Errorf("must be a Salesforce org ID: 15 or 18 letters and digits starting with 00D")
	}
	base := id[:15]
	want := base + orgSuffix(base)
	if len(id) == 18 && !strings.EqualFold(id, want) {
		return "", fmt.Errorf("is not a valid 18-character org ID: its last 3 characters do not match the first 15")
	}
	return want, nil
}

func orgSuffix(base string) string {
	var out [3]byte
	for chunk := 0; chunk < 3; chunk++ {
		n := 0
		for i := 0; i < 5; i++ {
			c := base[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				n |= 1 << i
			}
		}
		out[chunk] = suffixAlphabet[n]
	}
	return string(out[:])
}

// SameOrg reports whether two org IDs (15 or 18 characters) name the same org.
func SameOrg(a, b string) bool {
	na, err1 := NormalizeOrgID(a)
	nb, err2 := NormalizeOrgID(b)
	return err1 == nil && err2 == nil && na == nb
}

// CheckUsername validates an email-shaped Salesforce username.
func CheckUsername(u string) error {
	if len(u) > 80 || !usernamePattern.MatchString(u) {
		return fmt.Errorf("must be a Salesforce username shaped like an email address (user@example.com)")
	}
	return nil
}

// SameUser compares usernames case-insensitively, as Salesforce does.
func SameUser(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// CheckAPIVersion validates "NN.0" between the oldest and latest supported versions.
func CheckAPIVersion(v string) error {
	if !apiPattern.MatchString(v) {
		return fmt.Errorf("must look like 66.0")
	}
	f, _ := strconv.ParseFloat(v, 64)
	if f < OldestAPIVersion || f > LatestAPIVersion {
		return fmt.Errorf("must be between %.1f and %.1f", OldestAPIVersion, LatestAPIVersion)
	}
	return nil
}

// CheckDomain validates a My Domain login URL for the custom environment.
func CheckDomain(d string) error {
	u, err := url.Parse(d)
	if err != nil || u.Scheme != "https" || u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return fmt.Errorf("must be an https My Domain login URL such as https://acme.my.salesforce.com")
	}
	host := strings.ToLower(u.Hostname())
	if !strings.HasSuffix(host, ".my.salesforce.com") {
		return fmt.Errorf("must be a My Domain host ending in .my.salesforce.com")
	}
	return nil
}

// LoginHost is where the customer signs in for an environment.
func LoginHost(environment, domain string) string {
	switch environment {
	case "production":
		return "https://login.salesforce.com"
	case "custom":
		return domain
	default:
		return "https://test.salesforce.com"
	}
}
