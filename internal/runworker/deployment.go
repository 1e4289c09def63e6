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
// outside a git checkout, such as the Dockerfile's).
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

// BecomeCurrentIfNone makes d the deployment's current version when nobody ever set one: the
// first deploy of a fresh namespace takes work without an operator's command, and every later
// build waits beside it until an operator ramps it or sets it current. A deployment whose
// current version an operator set, to a build or deliberately back to unversioned workers, is
// left alone. The server learns of a version from its pollers a moment after they start, so
// the call is repeated until it is accepted or ctx ends; a concurrent worker of the same
// version doing the same is harmless (the conflict token lets one win). It returns the
// current version it found or set ("" for unversioned).
func BecomeCurrentIfNone(ctx context.Context, c client.Client, d Deployment) (string, error) {
	h := c.WorkerDeploymentClient().GetHandle(d.Name)
	var last error
	for {
		desc, err := h.Describe(ctx, client.WorkerDeploymentDescribeOptions{})
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf): // the server has not seen our pollers yet
		case err != nil:
			return "", fmt.Errorf("describe worker deployment %s: %w", d.Name, err)
		case desc.Info.RoutingConfig.CurrentVersion != nil:
			return desc.Info.RoutingConfig.CurrentVersion.BuildID, nil
		case !desc.Info.RoutingConfig.CurrentVersionChangedTime.IsZero():
			return "", nil // an operator chose unversioned workers
		default:
			_, err = h.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: d.BuildID, ConflictToken: desc.ConflictToken})
			if err == nil {
				return d.BuildID, nil
			}
			// Not yet known as a version of the deployment, or someone changed it meanwhile:
			// read it again.
			var fp *serviceerror.FailedPrecondition
			var na *serviceerror.NotFound
			var ia *serviceerror.InvalidArgument
			if !errors.As(err, &fp) && !errors.As(err, &na) && !errors.As(err, &ia) {
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
		d, err := h.DescribeVersion(ctx, client.WorkerDeploymentDescribeVersionOptions{BuildID: w.deployment.BuildID})
		var nf *serviceerror.NotFound
		if err != nil && !errors.As(err, &nf) {
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
					missing = append(missing, name)
				}
			}
		}
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the server did not list version %s's task queues %v: %w", w.deployment, missing, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}
