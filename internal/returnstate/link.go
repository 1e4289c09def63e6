package returnstate

// Link is what a customer's connect link names: one onboarding of one customer. It does not
// expire; starter serve honours it while that onboarding lives (its workflow's onboarding ID
// is the link's), so the link an ISV emailed never goes stale, and one from an onboarding
// that ended opens nothing of a later one.
type Link struct {
	WorkflowID   string `json:"w"`
	OnboardingID string `json:"o"`
}

// SignLink returns the link's token (URL-safe, unguessable without the key).
func SignLink(key []byte, l Link) string { return sign(key, linkLabel, l) }

// VerifyLink checks a link token's signature in constant time.
func VerifyLink(key []byte, token string) (Link, error) {
	var l Link
	if err := verify(key, linkLabel, token, &l); err != nil {
		return Link{}, err
	}
	if l.WorkflowID == "" || l.OnboardingID == "" {
		return Link{}, ErrMalformed
	}
	return l, nil
}
