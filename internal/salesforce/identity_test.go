package salesforce

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizeOrgID(t *testing.T) {
	// 00D000000000062 is Salesforce's documented example; its 18-char form ends in EAA.
	n, err := NormalizeOrgID("00D000000000062")
	require.NoError(t, err)
	assert.Equal(t, "00D000000000062EAA", n)
	n, err = NormalizeOrgID("00D5g000004ABcD")
	require.NoError(t, err)
	assert.Len(t, n, 18)
	again, err := NormalizeOrgID(n)
	require.NoError(t, err)
	assert.Equal(t, n, again)
	lower, err := NormalizeOrgID(n[:15] + "aaa")
	if n[15:] != "AAA" {
		assert.Error(t, err, "a wrong suffix must be refused")
	} else {
		require.NoError(t, err)
		assert.Equal(t, n, lower)
	}
	for _, bad := range []string{"", "001000000000062", "00D00000000006", "00D000000000062EA", "00D00000000006!"} {
		_, err := NormalizeOrgID(bad)
		assert.Error(t, err, bad)
	}
}

func TestSameOrg(t *testing.T) {
	assert.True(t, SameOrg("00D000000000062", "00D000000000062EAA"))
	assert.True(t, SameOrg("00D000000000062eaa", "00D000000000062"), "the suffix is case-insensitive")
	assert.False(t, SameOrg("00D5g000004ABcD", "00D5g000004abcd"), "the 15-char form is case-sensitive")
	assert.False(t, SameOrg("00D000000000062", "bogus"))
}

func TestUserAndVersion(t *testing.T) {
	assert.True(t, SameUser("Integration@Acme.com", "integration@acme.com "))
	assert.NoError(t, CheckUsername("int.user@acme.com.sandbox"))
	assert.Error(t, CheckUsername("not-an-email"))
	assert.NoError(t, CheckAPIVersion("66.0"))
	assert.Error(t, CheckAPIVersion("30.0"))
	assert.NoError(t, CheckAPIVersion("68.0"), "newer versions than we know are Heroku's to judge")
	assert.NoError(t, CheckAPIVersion("100.0"))
	assert.Error(t, CheckAPIVersion("v66"))
	assert.NoError(t, CheckDomain("https://acme.my.salesforce.com"))
	assert.NoError(t, CheckDomain("https://acme--uat.sandbox.my.salesforce.com"))
	assert.Error(t, CheckDomain("http://acme.my.salesforce.com"))
	assert.Error(t, CheckDomain("https://evil.example.com"))
	assert.Equal(t, "https://login.salesforce.com", LoginHost("production", ""))
	assert.Equal(t, "https://test.salesforce.com", LoginHost("sandbox", ""))
}

// Issue 10 item 13: valid values that were refused, invalid ones that were accepted.
func TestIdentityRulesFromReview(t *testing.T) {
	base := "00D5g000004aBcD"
	full := base + orgSuffix(base)
	for _, ok := range []string{full, strings.ToUpper(full), strings.ToLower(full), "00D000000000062EAA"} {
		n, err := NormalizeOrgID(ok)
		if assert.NoError(t, err, ok) && ok != "00D000000000062EAA" {
			assert.Equal(t, full, n, "the suffix restores the case of %s", ok)
		}
	}
	_, err := NormalizeOrgID(base[:14] + "1" + "ZZZ") // the suffix marks a digit upper-case
	assert.Error(t, err)
	for _, bad := range []string{" 00D000000000062", "00D000000000062 ", "00D000000000062\n", "001000000000062"} {
		_, err := NormalizeOrgID(bad)
		assert.Error(t, err, "%q", bad)
	}
	for _, bad := range []string{"int\x00@acme.com", "<b>x</b>@acme.com", "ünï@acme.com", "a b@acme.com", "x@acme", "x@-acme.com", "\"x\"@acme.com"} {
		assert.Error(t, CheckUsername(bad), "%q", bad)
	}
	for _, bad := range []string{"https://.my.salesforce.com", "https://u:p@acme.my.salesforce.com", "https://acme.my.salesforce.com:8443",
		"https://acme.my.salesforce.com/#x", "https://acme.my.salesforce.com#", "https://acme..my.salesforce.com", "https://-acme.my.salesforce.com",
		"https://acme.my.salesforce.com?"} {
		assert.Error(t, CheckDomain(bad), "%q", bad)
	}
}
