package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// Register registers every workflow under its stable name. The worker, the tests and the
// replayer all use it, so recorded histories replay against the same names.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(ConnectionWorkflow, workflow.RegisterOptions{Name: contract.ConnectionWorkflowName})
	r.RegisterWorkflowWithOptions(WatcherWorkflow, workflow.RegisterOptions{Name: contract.WatcherWorkflowName})
	r.RegisterWorkflowWithOptions(PartnerWorkflow, workflow.RegisterOptions{Name: contract.PartnerWorkflowName})
	r.RegisterWorkflowWithOptions(ReconcileWorkflow, workflow.RegisterOptions{Name: contract.ReconcileWorkflowName})
	r.RegisterWorkflowWithOptions(EventsWorkflow, workflow.RegisterOptions{Name: contract.EventsWorkflowName})
	r.RegisterWorkflowWithOptions(DeliveryLogWorkflow, workflow.RegisterOptions{Name: contract.DeliveryLogWorkflowName})
	r.RegisterWorkflowWithOptions(AccessWorkflow, workflow.RegisterOptions{Name: contract.AccessWorkflowName})
}
