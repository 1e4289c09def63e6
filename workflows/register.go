package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// Register registers every workflow under its stable name. The worker, the tests and the
// replayer all use it, so recorded histories replay against the same names.
//
// Each workflow's versioning behavior says what a versioned worker's new build does to its
// open runs (unversioned workers ignore it). The long-lived ones (a customer, its app's
// watcher and access coordinator, the partner, the event stream and delivery log) live for
// months: pinned, they would hold every old build forever, so they move to the current
// build at their next workflow task, and the version lists (versions.go) with their replay
// fixtures keep the move safe. The reconciler's sweep lasts minutes: it stays on the build
// that started it, which drains once its sweeps end.
func Register(r worker.WorkflowRegistry) {
	auto, pinned := workflow.VersioningBehaviorAutoUpgrade, workflow.VersioningBehaviorPinned
	r.RegisterWorkflowWithOptions(ConnectionWorkflow, workflow.RegisterOptions{Name: contract.ConnectionWorkflowName, VersioningBehavior: auto})
	r.RegisterWorkflowWithOptions(WatcherWorkflow, workflow.RegisterOptions{Name: contract.WatcherWorkflowName, VersioningBehavior: auto})
	r.RegisterWorkflowWithOptions(PartnerWorkflow, workflow.RegisterOptions{Name: contract.PartnerWorkflowName, VersioningBehavior: auto})
	r.RegisterWorkflowWithOptions(ReconcileWorkflow, workflow.RegisterOptions{Name: contract.ReconcileWorkflowName, VersioningBehavior: pinned})
	r.RegisterWorkflowWithOptions(EventsWorkflow, workflow.RegisterOptions{Name: contract.EventsWorkflowName, VersioningBehavior: auto})
	r.RegisterWorkflowWithOptions(DeliveryLogWorkflow, workflow.RegisterOptions{Name: contract.DeliveryLogWorkflowName, VersioningBehavior: auto})
	r.RegisterWorkflowWithOptions(AccessWorkflow, workflow.RegisterOptions{Name: contract.AccessWorkflowName, VersioningBehavior: auto})
}
