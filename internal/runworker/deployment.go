package runworker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

// Deployment is a worker's Worker Deployment Version: every task queue it polls belongs to
// it, and the server routes a workflow's tasks by the version's state (current, ramping or
// draining) and the workflow's versioning behavior (workflows.Register sets one per
// workflow). The zero Deployment is an unversioned worker.
type Deployment struct {
	Name, BuildID string
}

func (d Deployment) options() worker.DeploymentOptions {
	if d == (Deployment{}) {
		return worker.DeploymentOptions{}
	}
	// No default behavior: a workflow registered without one panics at registration, so a
	// new workflow cannot reach production without the choice being made.
	return worker.DeploymentOptions{UseVersioning: true, Version: worker.WorkerDeploymentVersion{DeploymentName: d.Name, BuildID: d.BuildID}}
}

// String is the version as Temporal's CLI and UI write it.
func (d Deployment) String() string { return d.Name + ":" + d.BuildID }

// BuildID is this executable's build ID: the commit it was built from (12 hex digits), with
// the executable's hash after it when the tree had uncommitted changes (two such builds of
// one commit differ), or the executable's hash alone when Go recorded no commit (a build
// outside a git checkout, or with -buildvcs=false).
func BuildID() (string, error) {
	var rev string
	modified := false
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" && !modified {
		return rev, nil
	}
	sum, err := executableHash()
	if err != nil {
		return "", fmt.Errorf("the build ID (set WORKER_BUILD_ID): %w", err)
	}
	if rev != "" {
		return rev + "-dirty-" + sum[:8], nil
	}
	return "sha256-" + sum[:12], nil
}

func executableHash() (string, error) {
	path, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// BecomeCurrent makes d its deployment's current version and returns the current version it
// found or set ("" for unversioned workers). With onlyIfNone it does so only when nobody ever
// set one: the first deploy of a fresh namespace takes work without an operator's command,
// and every later build waits beside it until an operator ramps it or sets it current; a
// deployment whose current version an operator set, to a build or deliberately back to
// unversioned workers, is left alone. Without onlyIfNone (builds that replace each other) it
// takes over whatever is current.
//
// The server learns of a version from its pollers a moment after they start, so the call is
// repeated until it is accepted or ctx ends; concurrent workers doing the same are harmless
// (the conflict token lets one win, the others read again).
func BecomeCurrent(ctx context.Context, c client.Client, d Deployment, onlyIfNone bool) (string, error) {
	h := c.WorkerDeploymentClient().GetHandle(d.Name)
	var last error
	for {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		desc, err := h.Describe(actx, client.WorkerDeploymentDescribeOptions{})
		cancel()
		var cur *worker.WorkerDeploymentVersion
		if err == nil {
			cur = desc.Info.RoutingConfig.CurrentVersion
		}
		switch {
		case final(err):
			return "", fmt.Errorf("describe worker deployment %s: %w", d.Name, err)
		case err != nil: // not yet created (the server has not seen our pollers), or the server busy
			last = err
		case cur != nil && (onlyIfNone || cur.BuildID == d.BuildID):
			return cur.BuildID, nil
		case cur == nil && onlyIfNone && !desc.Info.RoutingConfig.CurrentVersionChangedTime.IsZero():
			return "", nil // an operator chose unversioned workers
		default:
			actx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err = h.SetCurrentVersion(actx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: d.BuildID, ConflictToken: desc.ConflictToken})
			cancel()
			if err == nil {
				return d.BuildID, nil
			}
			// The version not yet known to the deployment (NotFound), the deployment changed
			// meanwhile or not yet created (FailedPrecondition), the server busy: read it
			// again.
			if final(err) {
				return "", fmt.Errorf("make %s the current version: %w", d, err)
			}
			last = err
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("make %s the current version: %w (last answer: %v)", d, ctx.Err(), last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// final is an answer that asking again will not change: a request the server refuses as
// malformed or not allowed. Everything else (not found yet, a conflict, the server starting
// or busy, a timeout) is asked again until the caller's deadline.
func final(err error) bool {
	var ia *serviceerror.InvalidArgument
	var pd *serviceerror.PermissionDenied
	var ni *serviceerror.Unimplemented
	return errors.As(err, &ia) || errors.As(err, &pd) || errors.As(err, &ni)
}

// CurrentBuild is the build ID of the named deployment's current version ("" when that is
// unversioned workers).
func CurrentBuild(ctx context.Context, c client.Client, deployment string) (string, error) {
	desc, err := c.WorkerDeploymentClient().GetHandle(deployment).Describe(ctx, client.WorkerDeploymentDescribeOptions{})
	if err != nil {
		return "", err
	}
	if cur := desc.Info.RoutingConfig.CurrentVersion; cur != nil {
		return cur.BuildID, nil
	}
	return "", nil
}

// WaitRegistered returns once the server lists every task queue the workers poll, of every
// kind, in their deployment version: before that, ramping the version or making it current
// is refused ("missing active task queues"), because the queues not yet seen would turn
// unversioned. Unversioned workers return at once.
func (w *Workers) WaitRegistered(ctx context.Context, c client.Client) error {
	if w.deployment == (Deployment{}) {
		return nil
	}
	h := c.WorkerDeploymentClient().GetHandle(w.deployment.Name)
	var missing []string
	for {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		d, err := h.DescribeVersion(actx, client.WorkerDeploymentDescribeVersionOptions{BuildID: w.deployment.BuildID})
		cancel()
		if final(err) {
			return fmt.Errorf("describe version %s: %w", w.deployment, err)
		}
		seen := map[string]bool{}
		for _, q := range d.Info.TaskQueuesInfos {
			seen[fmt.Sprint(q.Name, q.Type)] = true
		}
		missing = missing[:0]
		for name, kinds := range w.polls {
			for _, k := range kinds {
				if !seen[fmt.Sprint(name, k)] {
					missing = append(missing, fmt.Sprintf("%s (%v)", name, k))
				}
			}
		}
		if err == nil && len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the server did not list version %s's task queues %v: %w (last answer: %v)", w.deployment, missing, ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
