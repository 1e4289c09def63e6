package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/workflows/contract"
)

// Requests by update (contract.UpdateConnectionWanted), as 1.4.0's activities send them: a
// run started before 1.4.1 took them, and a 1.4.0 worker still running in a rolling upgrade
// sends them. This file goes when no 1.4.0 worker or coordinator run is left.

// errAccessBusy refuses a request the coordinator cannot take now (it is continuing as new,
// or holds accessMaxWaiting add-ons): the asking activity retries.
const errAccessBusy = "ConnectAccessBusy"

// accessResult is what a round found for an add-on asked by update: its connection, or why
// not.
type accessResult struct {
	round int
	ref   contract.ConnectionRef
	err   string
	busy  bool // not an answer: ask again
}

// result keeps a round's result for the requests by update waiting for one; a run where
// none waits (every 1.4.1 run but a rolling upgrade's) keeps nothing. A result is read only
// by a request that arrived before its round, so one not kept had no reader.
func (c *access) result(n string, r accessResult) {
	if c.updates > 0 {
		c.results[n] = r
	}
}

func (c *access) validateWanted(_ workflow.Context, w contract.ConnectionWanted) error {
	if err := w.Validate(); err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrInvalidInput, nil)
	}
	if c.closing || len(c.waiting) >= accessMaxWaiting {
		return temporal.NewApplicationError("the Connect access coordinator of "+c.in.App+" is busy; ask again", errAccessBusy)
	}
	return nil
}

// onWanted waits for a round that started after the request arrived to find the add-on's
// connection (or give up on it).
func (c *access) onWanted(ctx workflow.Context, w contract.ConnectionWanted) (contract.ConnectionRef, error) {
	arrived := c.st.Rounds
	c.want(ctx, w)
	c.updates++
	defer func() { c.updates-- }()
	var r accessResult
	if err := workflow.Await(ctx, func() bool {
		r = c.results[w.Addon]
		return r.round > arrived
	}); err != nil {
		return contract.ConnectionRef{}, err
	}
	switch {
	case r.busy:
		return contract.ConnectionRef{}, temporal.NewApplicationError(r.err, errAccessBusy)
	case r.err != "":
		return contract.ConnectionRef{}, temporal.NewNonRetryableApplicationError(r.err, contract.ErrHerokuFinal, nil)
	}
	return r.ref, nil
}

// giveBack answers every request by update still waiting with a retryable refusal, before
// continue-as-new. A run before 1.4.1 also forgets them; a later run carries them over (a
// signalled request is not answered here).
func (c *access) giveBack(why string) {
	for _, n := range workflow.DeterministicKeys(c.waiting) {
		c.result(n, accessResult{round: c.st.Rounds + 1, err: why, busy: true})
		if !c.signalled {
			delete(c.waiting, n)
		}
	}
}
