package workflows

// The integration's mapping template: kept by the partner workflow (through
// continue-as-new), answered to customers by a query, and rolled out when it changes.

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// mappingsNow answers QueryPartnerMappings.
func (p *partner) mappingsNow() (*contract.MappingTemplate, error) { return p.info.Mappings, nil }

func (p *partner) setMappings(ctx workflow.Context, t *contract.MappingTemplate) {
	c := *t
	c.Connection = nil
	p.info.Mappings, p.info.MappingsDigest, p.info.MappingObjects = &c, c.Digest(), c.Objects()
	p.memoMappings(ctx)
	workflow.GetLogger(ctx).Info("mapping template set", "template", p.info.MappingsDigest, "objects", len(c.Mappings))
}

// memoMappings names the template in the workflow's memo (each run sets it: a continued run
// starts from its input), where customers read it without a query.
func (p *partner) memoMappings(ctx workflow.Context) {
	if err := workflow.UpsertMemo(ctx, map[string]any{contract.MemoMappingsDigest: p.info.MappingsDigest}); err != nil {
		workflow.GetLogger(ctx).Warn("the template's digest could not be set in the memo", "error", err)
	}
}

// startRollout records a rollout of the template just set; the main loop sends it
// (sendRollout), so the update that changed the template answers at once, whatever the
// number of customers. The report exists before the batch runs, so a customer that answers
// at once is counted.
func (p *partner) startRollout(ctx workflow.Context) {
	now := workflow.Now(ctx)
	p.info.Rollout = &contract.Rollout{Template: p.info.MappingsDigest, StartedAt: now,
		BatchJob: fmt.Sprintf("%s-rollout-%s-%d", contract.PartnerWorkflowID(p.in.Slug), strings.TrimPrefix(p.info.MappingsDigest, "sha256:"), now.Unix())}
}

// rolloutPending is true while a rollout's signals are still to be sent (also after a
// continue-as-new: the batch's job ID is the rollout's, so sending again finds it).
func (p *partner) rolloutPending() bool {
	r := p.info.Rollout
	return r != nil && !r.Sent && p.info.Stage == contract.PartnerActive
}

// sendRollout tells every customer past its authorization that the template changed; their
// reports fill the rollout's counts (receiveRolloutReports). A later template's rollout
// replaces this one's report; its batch still runs to the end, and its customers take the
// template current when they look.
func (p *partner) sendRollout(ctx workflow.Context) {
	r := p.info.Rollout
	var got activities.RolloutResult
	in := activities.RolloutInput{ISVSlug: p.in.Slug, JobID: r.BatchJob, Template: r.Template}
	if err := workflow.ExecuteActivity(batchCall(ctx, 30*time.Minute, time.Minute, 2*time.Hour), a.RolloutMappings, in).Get(ctx, &got); err != nil {
		r.Error = "the rollout's signals could not all be sent: " + errorMessage(err)
	}
	r.Targets, r.Sent = got.Targets, true
}

func (p *partner) receiveRolloutReports(ctx workflow.Context) {
	ch := contract.SignalRolloutReport.Channel(ctx)
	for {
		rep := contract.SignalRolloutReport.Receive(ctx, ch)
		if r := p.info.Rollout; r != nil && rep.Template == r.Template {
			r.Count(rep)
		}
	}
}
