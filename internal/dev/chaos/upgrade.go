package chaos

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/connect-onboarding/worker/internal/dev/devstack"
	"github.com/connect-onboarding/worker/internal/runworker"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// The upgrade drill (scenario "upgrade", on the cluster only): customers onboard on the
// first build A; with about half of them waiting for their customer, a second build B starts
// beside A (never current by itself), is ramped to half the new work with the Temporal CLI's
// `worker deployment set-ramping-version`, then made current with `set-current-version`, the
// README's commands. Only then do the waiting customers authorize: every customer must reach
// active on B. Then a rollback makes A current again and the offboardings run on A. A
// workflow task that failed in any customer's history (what a replay failure is) breaks it.

// deploymentName is the worker's default Worker Deployment (config.Deployment).
const deploymentName = "connect-onboarding"

// nextBuildID is build B's ID: the same binary, started with WORKER_BUILD_ID set. The drill
// proves the routing, the ramp and the rollback; what a changed workflow does on a new build
// is the replay fixtures' to prove.
const nextBuildID = "drill-next"

// upgrade is the drill's state.
type upgrade struct {
	cluster   *devstack.Cluster
	first     string        // build A's ID, the current version when the run began
	withURL   atomic.Int64  // customers that have their URL
	authorize chan struct{} // closed once B is current: customers may sign in
	done      bool          // B became current
	err       error
}

// drill ramps and promotes build B once half the customers wait (or after two minutes),
// then lets them sign in.
func (r *run) drill(ctx context.Context) {
	u := r.upgrade
	defer close(u.authorize)
	fail := func(err error) { u.err = err }
	for t0 := time.Now(); u.withURL.Load() < int64(r.o.N/2) && time.Since(t0) < 2*time.Minute && ctx.Err() == nil; {
		time.Sleep(200 * time.Millisecond)
	}
	if ctx.Err() != nil {
		return
	}
	addr := "127.0.0.1:" + strconv.Itoa(devstack.FreePorts(1)[0])
	if err := u.cluster.StartWorker(ctx, filepath.Join(r.o.Root, "bin", "worker"), addr, "WORKER_BUILD_ID="+nextBuildID, "WORKER_BECOME_CURRENT=never"); err != nil {
		fail(fmt.Errorf("start build %s: %w", nextBuildID, err))
		return
	}
	if cur, _ := r.current(ctx); cur != u.first {
		fail(fmt.Errorf("build %s started: the current version is %q, not %s (it must wait for an operator)", nextBuildID, cur, u.first))
		return
	}
	if err := r.deploymentCommand(ctx, "set-ramping-version", "--build-id", nextBuildID, "--percentage", "50"); err != nil {
		fail(err)
		return
	}
	if ramp, pct, err := r.ramping(ctx); err != nil || ramp != nextBuildID || pct != 50 {
		fail(fmt.Errorf("after set-ramping-version the deployment ramps %q at %v %% (%v)", ramp, pct, err))
		return
	}
	time.Sleep(5 * time.Second) // the customers still starting split between A and B
	if err := r.deploymentCommand(ctx, "set-current-version", "--build-id", nextBuildID); err != nil {
		fail(err)
		return
	}
	u.done = true
}

// rollback makes build A current again, as an operator would after a bad upgrade.
func (r *run) rollback(ctx context.Context) error {
	return r.deploymentCommand(ctx, "set-current-version", "--build-id", r.upgrade.first)
}

// deploymentCommand runs `temporal worker deployment <cmd> --deployment-name … --yes` with
// args against the cluster.
func (r *run) deploymentCommand(ctx context.Context, cmd string, args ...string) error {
	all := append([]string{"worker", "deployment", cmd, "--deployment-name", deploymentName, "--yes", "--address", r.stack.TemporalAddress}, args...)
	out, err := exec.CommandContext(ctx, filepath.Join(r.o.Root, "bin", "temporal"), all...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("temporal %s: %w: %s", strings.Join(all, " "), err, out)
	}
	return nil
}

// current is the deployment's current build ID.
func (r *run) current(ctx context.Context) (string, error) {
	return runworker.CurrentBuild(ctx, r.tc, deploymentName)
}

// ramping is the deployment's ramping build ID and its percentage.
func (r *run) ramping(ctx context.Context) (string, float32, error) {
	d, err := r.tc.WorkerDeploymentClient().GetHandle(deploymentName).Describe(ctx, client.WorkerDeploymentDescribeOptions{})
	if err != nil {
		return "", 0, err
	}
	if v := d.Info.RoutingConfig.RampingVersion; v != nil {
		return v.BuildID, d.Info.RoutingConfig.RampingVersionPercentage, nil
	}
	return "", 0, nil
}

// lastBuild is the build ID of a workflow's last completed task.
func (r *run) lastBuild(ctx context.Context, id string) string {
	d, err := r.tc.DescribeWorkflow(ctx, id, "")
	if err != nil {
		return ""
	}
	return d.RawResponse.GetWorkflowExecutionInfo().GetVersioningInfo().GetDeploymentVersion().GetBuildId()
}

// taskFailures counts the workflow tasks that failed in every run of every workflow of the
// namespace (customers, watchers, coordinators, the partner, event streams, sweeps); a
// history it could not read counts as one.
func (r *run) taskFailures(ctx context.Context) (failed, runs int) {
	var token []byte
	for {
		page, err := r.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1000, NextPageToken: token})
		if err != nil {
			return failed + 1, runs
		}
		for _, e := range page.GetExecutions() {
			runs++
			it := r.tc.GetWorkflowHistory(ctx, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					failed++
					break
				}
				if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED {
					failed++
				}
			}
		}
		if token = page.GetNextPageToken(); len(token) == 0 {
			return failed, runs
		}
	}
}

// countOnNext counts, before the rollback, the active customers whose last task ran on
// build B.
func (r *run) countOnNext(ctx context.Context, active []string) {
	for _, c := range active {
		if r.lastBuild(ctx, contract.ConnectionWorkflowID(isv, c)) == nextBuildID {
			r.res.OnNext++
		}
	}
}

// checkUpgrade counts, after the rollback, the offboarded customers that ended on build A,
// and every failed workflow task.
func (r *run) checkUpgrade(ctx context.Context, offboarded []string) {
	u := r.upgrade
	if u.err != nil {
		r.res.Problems = append(r.res.Problems, "the upgrade: "+u.err.Error())
	}
	if !u.done {
		r.res.Problems = append(r.res.Problems, "build "+nextBuildID+" never became current")
	}
	for _, c := range offboarded {
		if r.lastBuild(ctx, contract.ConnectionWorkflowID(isv, c)) == u.first {
			r.res.BackOnFirst++
		}
	}
	var runs int
	r.res.TaskFailures, runs = r.taskFailures(ctx)
	if runs < r.o.N {
		r.res.Problems = append(r.res.Problems, fmt.Sprintf("visibility listed %d workflow runs, fewer than the %d customers", runs, r.o.N))
	}
	if r.res.OnNext < r.res.Active {
		r.res.Problems = append(r.res.Problems, fmt.Sprintf("%d of %d active customers did not reach active on build %s", r.res.Active-r.res.OnNext, r.res.Active, nextBuildID))
	}
	if r.res.BackOnFirst < len(offboarded) {
		r.res.Problems = append(r.res.Problems, fmt.Sprintf("%d of %d customers offboarded after the rollback did not end on build %s", len(offboarded)-r.res.BackOnFirst, len(offboarded), u.first))
	}
	if r.res.TaskFailures > 0 {
		r.res.Problems = append(r.res.Problems, fmt.Sprintf("%d workflow tasks failed", r.res.TaskFailures))
	}
}

// errNeedsCluster is the upgrade scenario asked of the dev server's stack.
var errNeedsCluster = errors.New("the upgrade scenario runs on the cluster only (versioned workers): set Cluster")
