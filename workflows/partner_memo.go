package workflows

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// publish keeps the memo's PartnerMemo (contract.MemoPartner) true to the workflow's state,
// from a coroutine that waits until what it last published differs: every onboarding reads
// the stage, and every event delivery the endpoints, with a describe the server answers,
// where a query would wait for this workflow's worker. A continued run starts with an empty
// memo, so it publishes at once.
func (p *partner) publish(ctx workflow.Context) {
	var last *contract.PartnerMemo
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var now contract.PartnerMemo
			if err := workflow.Await(ctx, func() bool {
				now = p.memo(ctx)
				return last == nil || !now.Equal(*last)
			}); err != nil {
				return
			}
			if err := workflow.UpsertMemo(ctx, map[string]any{contract.MemoPartner: now}); err != nil {
				workflow.GetLogger(ctx).Warn("the partner memo could not be published", "error", err)
			}
			last = &now
		}
	})
}

// memo is what the workflow publishes now.
func (p *partner) memo(ctx workflow.Context) contract.PartnerMemo {
	// A copy: handlers change endpoints in place, and what was published must not change
	// with them (it would then seem published already).
	eps := make([]contract.Endpoint, len(p.info.Endpoints))
	for i, e := range p.info.Endpoints {
		e.EventTypes = slices.Clone(e.EventTypes)
		eps[i] = e
	}
	m := contract.PartnerMemo{Stage: p.info.Stage, Known: p.info.Integration != nil, Endpoints: eps,
		FirstRunID: workflow.GetInfo(ctx).FirstRunID}
	if p.info.Report != nil {
		m.AddonsGoneAt = p.info.Report.AddonsGoneAt
	}
	return m
}
