// Package workflows holds the onboarding worker's workflow code: the customer connection
// workflow, the per-app connection watcher and the partner integration workflow. Their
// names, IDs, messages and payload types are the contract package's; this package is the
// behaviour behind them. It does no I/O: everything that touches Heroku or Temporal's client
// runs as an activity.
package workflows
