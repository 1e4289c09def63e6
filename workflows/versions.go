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

// versionList is one workflow's change ID and its versions, oldest first; the last is the
// one new runs take.
type versionList struct {
	workflow string
	changeID string
	versions []workflow.Version
}

// release1_0 is 1.0.0's shape, the first release, first in every list. A run on it records
// no marker (it is workflow.DefaultVersion); the next version of a list is 1.
const release1_0 = workflow.DefaultVersion

// The version list of each workflow. A released change appends a named constant (with a
// comment saying what it changes) to its workflow's list.
var (
	connectionVersions = versionList{workflow: contract.ConnectionWorkflowName, changeID: "connection", versions: []workflow.Version{release1_0, connectionEmitsEvents, connectionSyncsMappings, connectionSharesAccess}}
	watcherVersions    = versionList{workflow: contract.WatcherWorkflowName, changeID: "watcher", versions: []workflow.Version{release1_0, watcherTellsUntilFound, watcherKeepsPace}}
	partnerVersions    = versionList{workflow: contract.PartnerWorkflowName, changeID: "partner", versions: []workflow.Version{release1_0, partnerCascadeFinishes, partnerEmitsEvents, partnerPublishes}}
	reconcileVersions  = versionList{workflow: contract.ReconcileWorkflowName, changeID: "reconcile", versions: []workflow.Version{release1_0, reconcileDecidesAtDestroy}}
	// The event stream and the delivery log are new in 1.2.0: their first shape is
	// DefaultVersion, like every workflow's first release.
	eventsVersions      = versionList{workflow: contract.EventsWorkflowName, changeID: "events", versions: []workflow.Version{workflow.DefaultVersion}}
	deliveryLogVersions = versionList{workflow: contract.DeliveryLogWorkflowName, changeID: "delivery-log", versions: []workflow.Version{workflow.DefaultVersion}}
	// The Connect access coordinator is new in 1.4.0.
	accessVersions = versionList{workflow: contract.AccessWorkflowName, changeID: "access", versions: []workflow.Version{workflow.DefaultVersion, accessTakesSignals}}
)

// The connection workflow's versions after 1.0.0.
const (
	// connectionEmitsEvents (1.2.0): the customer's lifecycle events are emitted to its
	// event stream (a local activity each), and the status names the onboarding; and a wrong
	// authorization is counted once (a late report of the same one, by the watcher after the
	// customer's return, counted a second mismatch and issued another URL).
	connectionEmitsEvents workflow.Version = 1
	// connectionSyncsMappings (1.3.0): after the identity is verified, the mapping template
	// (the integration's or the onboarding's own) is imported once and the customer waits
	// in syncing until every mapping has synced (needs_attention when one fails), and takes
	// a changed integration template (a rollout) while active.
	connectionSyncsMappings workflow.Version = 2
	// connectionSharesAccess (1.4.0): the join of the Connect access list and the discovery
	// of the add-on's connection are asked of the app's Connect access coordinator, which
	// makes them once for every customer waiting (the customer joined and discovered on its
	// own); and a customer ended by a deactivation takes the partner workflow's confirmation
	// that the integration's add-ons are gone instead of reading its own.
	connectionSharesAccess workflow.Version = 3
)

// The watcher's versions after 1.0.0.
const (
	// watcherTellsUntilFound (1.1.0): news of a connection that needs someone is told once
	// its owner is found, however long visibility hides it (it was marked told at the first
	// miss, and never told again); and a page read after connections were removed mid-pass
	// also reads the ones the removal shifted onto the pages already read.
	watcherTellsUntilFound workflow.Version = 1
	// watcherKeepsPace (1.4.0): rounds start one interval apart (the interval was the pause
	// after a round, so a round's reads lengthened the period), and each page's news is told
	// as soon as the page is read, not after the round's last page.
	watcherKeepsPace workflow.Version = 2
)

// The partner workflow's versions after 1.0.0.
const (
	// partnerCascadeFinishes (1.1.0): a deactivation that arrives while the run waits to
	// continue as new is run, not deadlocked behind its own handler; and a cascade that
	// stops with customers still running does not end the run: it is run again, and another
	// partner.deactivate resumes it.
	partnerCascadeFinishes workflow.Version = 1
	// partnerEmitsEvents (1.2.0): partner.updated and partner.deactivated are emitted to the
	// integration's event stream.
	partnerEmitsEvents workflow.Version = 2
	// partnerPublishes (1.4.0): the workflow publishes its stage, its endpoints and its
	// deactivation's confirmation in its memo (read with a describe, not a query); after
	// Heroku's deactivate, the account's add-on list is paged until none of the
	// integration's add-ons is left, and the customers it ends read that instead of their
	// own add-on.
	partnerPublishes workflow.Version = 3
)

// The Connect access coordinator's versions after 1.4.0.
const (
	// accessTakesSignals (1.4.1): requests come by signal and are answered by query (the
	// server holds at most 10 updates in flight per workflow: a burst of customers waiting
	// on one coordinator was refused, and their retries waited up to a minute); what is
	// waiting and answered is carried over continue-as-new, a run continues as new after
	// 2,000 requests, and a request raised during a round waits for the next one.
	accessTakesSignals workflow.Version = 1
)

// The reconciler's versions after 1.0.0.
const (
	// reconcileDecidesAtDestroy (1.1.0): customers are listed before Heroku (no false GONE
	// for a customer whose add-on is made between the listings), a page per activity (an
	// integration of 12,000 customers and more failed every sweep on the 2 MB payload
	// limit), and an orphan is destroyed by DestroyOrphan, which asks again at that moment
	// whether a live customer owns it.
	reconcileDecidesAtDestroy workflow.Version = 1
)

func (l versionList) latest() workflow.Version { return l.versions[len(l.versions)-1] }

// hasMinVersion reports whether this run is on min or a later version of l. The first call
// in a run decides (and records) its version; every later call answers the same.
func (l versionList) hasMinVersion(ctx workflow.Context, min workflow.Version) bool {
	if min <= l.versions[0] {
		return true
	}
	return workflow.GetVersion(ctx, l.changeID, l.versions[0], l.latest()) >= min
}

// VersionList describes one workflow's versions, for the fixture recorder and its tests.
type VersionList struct {
	Workflow string `json:"workflow"`
	ChangeID string `json:"change_id"`
	// Versions are the live versions, oldest first (-1, workflow.DefaultVersion, is 1.0.0's
	// shape); the last is the one new runs take.
	Versions []int `json:"versions"`
}

// Latest is the version new runs take.
func (l VersionList) Latest() int { return l.Versions[len(l.Versions)-1] }

// Versions lists the version list of every workflow.
func Versions() []VersionList {
	out := []VersionList{}
	for _, l := range []versionList{connectionVersions, watcherVersions, partnerVersions, reconcileVersions, eventsVersions, deliveryLogVersions, accessVersions} {
		vl := VersionList{Workflow: l.workflow, ChangeID: l.changeID}
		for _, v := range l.versions {
			vl.Versions = append(vl.Versions, int(v))
		}
		out = append(out, vl)
	}
	return out
}
