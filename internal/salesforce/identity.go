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
	"unicode"
)

// OldestAPIVersion is the oldest Salesforce API version the Connect API accepts. There is
// no upper bound here: Salesforce publishes a new version three times a year, and Heroku
// answers for the ones it does not know yet.
const OldestAPIVersion = 31.0

var (
	orgIDPattern = regexp.MustCompile(`^00[dD][a-zA-Z0-9]{12}([a-zA-Z0-5]{3})?$`)
	// usernamePattern is an email address in ASCII: no spaces, controls, quotes or markup.
	usernamePattern = regexp.MustCompile(`^[A-Za-z0-9.!#$%&*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
	apiPattern      = regexp.MustCompile(`^[1-9][0-9]{1,2}\.0$`)
	labelPattern    = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)
)

const suffixAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// NormalizeOrgID returns the 18-character form of a 15- or 18-character org ID. The
// 15-character form is case-sensitive; the 3-character suffix encodes where its upper-case
// letters are, which is what makes the 18-character form safe to compare.
//
// The 18-character form is case-insensitive by design (that is what the suffix is for), so an
// 18-character ID in any case is accepted: the suffix restores the case of the first 15.
// Nothing is trimmed: an ID with surrounding spaces is refused, never sent on as is.
func NormalizeOrgID(id string) (string, error) {
	if !orgIDPattern.MatchString(id) {
		return "", fmt.Errorf("must be a Salesforce org ID: 15 or 18 letters and digits starting with 00D, nothing around it")
	}
	if len(id) == 15 {
		if id[2] != 'D' {
			return "", fmt.Errorf("must start with 00D (a 15-character org ID is case-sensitive)")
		}
		return id + orgSuffix(id), nil
	}
	suffix := strings.ToUpper(id[15:])
	base := []byte(id[:15])
	for chunk := 0; chunk < 3; chunk++ {
		bits := strings.IndexByte(suffixAlphabet, suffix[chunk])
		for i := 0; i < 5; i++ {
			c := &base[chunk*5+i]
			upper := bits&(1<<i) != 0
			isLetter := *c >= 'a' && *c <= 'z' || *c >= 'A' && *c <= 'Z'
			switch {
			case upper && !isLetter:
				return "", fmt.Errorf("is not a valid 18-character org ID: its last 3 characters do not match the first 15")
			case upper:
				*c = byte(unicode.ToUpper(rune(*c)))
			case isLetter:
				*c = byte(unicode.ToLower(rune(*c)))
			}
		}
	}
	if base[2] != 'D' {
		return "", fmt.Errorf("is not a valid 18-character org ID: its last 3 characters do not match the first 15")
	}
	return string(base) + suffix, nil
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
		return fmt.Errorf("must be a Salesforce username shaped like an email address (user@example.com): ASCII, at most 80 characters, no spaces, quotes or markup")
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
	if f < OldestAPIVersion {
		return fmt.Errorf("must be %.1f or newer", OldestAPIVersion)
	}
	return nil
}

// CheckDomain validates a My Domain login URL for the custom environment.
func CheckDomain(d string) error {
	u, err := url.Parse(d)
	if err != nil || u.Scheme != "https" || u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.ForceQuery ||
		u.Fragment != "" || strings.Contains(d, "#") || u.User != nil || u.Port() != "" || u.Opaque != "" || len(d) > 255 {
		return fmt.Errorf("must be an https My Domain login URL such as https://acme.my.salesforce.com (no user, port, query or fragment)")
	}
	host := strings.ToLower(u.Hostname())
	if !strings.HasSuffix(host, ".my.salesforce.com") {
		return fmt.Errorf("must be a My Domain host ending in .my.salesforce.com")
	}
	for _, label := range strings.Split(host, ".") {
		if !labelPattern.MatchString(label) {
			return fmt.Errorf("must be a host name of letters, digits and dashes with no empty label")
		}
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
