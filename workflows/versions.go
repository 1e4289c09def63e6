package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// Versions of the workflows, kept as Temporal's own scheduler keeps them: one change ID per
// workflow with one ordered list of versions, and hasMinVersion to branch on. 1.0.0 is the
// first release, and its shape is workflow.DefaultVersion of every list: a run on it records
// no marker.
//
// A change that could alter a recorded history (a command added, removed or reordered, an
// activity's name or a timer changed) is released like this:
//
//  1. Add the next version to the workflow's list below, with a comment saying what it
//     changes, and make it the list's latest.
//  2. Branch with hasMinVersion(ctx, theVersion): the new code when true, the released code
//     when false. Code only an older version needs lives in a file named for it
//     (<workflow>_before_<version>.go).
//  3. Commit, run `make fixtures`, commit the new fixture set and a CHANGELOG entry.
//     TestEveryVersionHasFixtures fails until every version of every list has a recording.
//
// Retiring a version: its branch goes when visibility shows no open run of the workflow
// that needs it. GetVersion records the version a run took in the TemporalChangeVersion
// search attribute as "<change ID>-<version>" (a run on DefaultVersion records none), so the
// runs still on a version below N of the connection workflow's list are counted by
//
//	temporal workflow count --query "WorkflowType = 'ConnectionWorkflow' AND ExecutionStatus = 'Running' AND
//	  (TemporalChangeVersion IS NULL OR TemporalChangeVersion NOT IN ('connection-N', …, 'connection-<latest>'))"
//
// When it answers 0 (and no run can be reset to before the change), delete the branch, the
// file named for the old version and its fixture set, and note the retirement in the
// CHANGELOG. Continue-as-new moves a long-lived run to the latest version at its next
// continuation.

// versionList is one workflow's change ID and its newest version.
type versionList struct {
	workflow string
	changeID string
	latest   workflow.Version
}

// release1_0 is 1.0.0's shape, the first release, in every list.
const release1_0 = workflow.DefaultVersion

// The version list of each workflow. A released change adds a constant below its list.
var (
	connectionVersions = versionList{workflow: contract.ConnectionWorkflowName, changeID: "connection", latest: release1_0}
	watcherVersions    = versionList{workflow: contract.WatcherWorkflowName, changeID: "watcher", latest: release1_0}
	partnerVersions    = versionList{workflow: contract.PartnerWorkflowName, changeID: "partner", latest: release1_0}
	reconcileVersions  = versionList{workflow: contract.ReconcileWorkflowName, changeID: "reconcile", latest: release1_0}
)

// hasMinVersion reports whether this run is on min or a later version of l. The first call
// in a run decides (and records) its version; every later call answers the same.
func (l versionList) hasMinVersion(ctx workflow.Context, min workflow.Version) bool {
	if min <= release1_0 {
		return true
	}
	return workflow.GetVersion(ctx, l.changeID, release1_0, l.latest) >= min
}

// VersionList describes one workflow's versions, for the fixture recorder and its tests.
type VersionList struct {
	Workflow string `json:"workflow"`
	ChangeID string `json:"change_id"`
	// Latest is the newest version; every version from 0 (1.0.0) to Latest is live.
	Latest int `json:"latest"`
}

// Versions lists the version list of every workflow.
func Versions() []VersionList {
	out := []VersionList{}
	for _, l := range []versionList{connectionVersions, watcherVersions, partnerVersions, reconcileVersions} {
		out = append(out, VersionList{Workflow: l.workflow, ChangeID: l.changeID, Latest: int(l.latest)})
	}
	return out
}
