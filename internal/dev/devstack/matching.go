package devstack

// MatchingConfig is the dev server's dynamic configuration for budget-aware ordering: the
// priority matcher with fairness (tasks dispatch by priority key, then by fairness key in
// proportion, then in arrival order) and one partition per task queue, so the order is exact
// rather than per partition. The heroku queue's rate limit (the Heroku budget, a few calls a
// second) is far below what one partition serves. A production cluster sets the same keys
// in its dynamic config, scoped to the heroku task queue if it likes.
var MatchingConfig = map[string]string{
	"matching.enableFairness":              "true",
	"matching.useNewMatcher":               "true",
	"matching.numTaskqueueReadPartitions":  "1",
	"matching.numTaskqueueWritePartitions": "1",
}

// MatchingArgs are MatchingConfig as `temporal server start-dev` flags, in a stable order.
func MatchingArgs() []string {
	keys := []string{"matching.enableFairness", "matching.useNewMatcher", "matching.numTaskqueueReadPartitions", "matching.numTaskqueueWritePartitions"}
	var args []string
	for _, k := range keys {
		args = append(args, "--dynamic-config-value", k+"="+MatchingConfig[k])
	}
	return args
}
