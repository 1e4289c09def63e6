package workflows

// SetAccessRunSignals lets a test continue the coordinator as new after n requests; it
// returns the restore.
func SetAccessRunSignals(n int) func() {
	old := accessRunSignals
	accessRunSignals = n
	return func() { accessRunSignals = old }
}
