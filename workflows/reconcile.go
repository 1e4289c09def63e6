package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connect-onboarding/worker/activities"
	"github.com/connect-onboarding/worker/internal/heroku"
	"github.com/connect-onboarding/worker/workflows/contract"
)

// ReconcileWorkflow is one sweep of an integration's add-ons, run by its Schedule: Heroku's
// list of the account's Connect add-ons against the integration's live customer workflows.
// An add-on this product created (named by contract.AddonName) that no live customer owns,
// by ID or by name, and that is older than the grace period, is destroyed; an add-on a live
// customer enrolled is only reported; a live customer whose add-on Heroku no longer lists is
// told. Every Heroku request goes through the heroku queue, inside the account's budget.
func ReconcileWorkflow(ctx workflow.Context, in contract.ReconcileInput) (contract.ReconcileReport, error) {
	r := contract.ReconcileReport{Slug: in.Slug, DryRun: in.DryRun, At: workflow.Now(ctx), Destroyed: []contract.Finding{},
		Young: []contract.Finding{}, Enrolled: []contract.Finding{}, Gone: []contract.Finding{}, Failed: []contract.Finding{}}
	if err := contract.QueryReconcileReport.Handle(ctx, func() (contract.ReconcileReport, error) { return r, nil }); err != nil {
		return r, err
	}
	if !contract.ValidSlug(in.Slug) {
		return r, temporal.NewNonRetryableApplicationError(fmt.Sprintf("slug: %q is not an integration slug", in.Slug), contract.ErrInvalidInput, nil)
	}
	s, err := loadSettings(ctx)
	if err != nil {
		return r, err
	}
	grace := s.ReconcileGrace
	hctx := withPriority(herokuCall(ctx, s, 30*time.Minute), priorityBackground, in.Slug)
	vctx := temporalCall(ctx, 10*time.Minute)
	atDestroy := reconcileVersions.hasMinVersion(ctx, reconcileDecidesAtDestroy)

	// Temporal's side (the integration's live customers, and what they own) and Heroku's
	// (every Connect add-on of the account, a page per request). Customers first: a customer
	// whose add-on is made between the two listings is then only a young add-on, never a
	// live customer whose add-on is gone.
	var addons []activities.AddonSummary
	var customers []activities.CustomerWorkflow
	if atDestroy {
		if customers, err = runningCustomers(ctx, vctx, in.Slug); err != nil {
			return r, err
		}
		if addons, err = accountAddons(ctx, hctx, &r); err != nil {
			return r, err
		}
	} else {
		if addons, err = accountAddons(ctx, hctx, &r); err != nil {
			return r, err
		}
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**listing customers** · %d Connect add-ons on Heroku", len(addons)))
		if customers, err = runningCustomersAtOnce(ctx, vctx, in.Slug); err != nil {
			return r, err
		}
	}
	r.LiveCustomers = len(customers)
	ownerByID, ownerByName := map[string]string{}, map[string]string{}
	for _, c := range customers {
		if c.AddonID != "" {
			ownerByID[c.AddonID] = c.WorkflowID
		}
		name := c.AddonName
		if name == "" { // listed by 1.0.0's FindRunningCustomers
			name = contract.AddonName(in.Slug, c.CustomerID)
		}
		ownerByName[name] = c.WorkflowID
	}

	listed := map[string]bool{}
	var orphans []activities.AddonSummary
	for _, ad := range addons {
		listed[ad.ID] = true
		ours := contract.IsProductAddonName(in.Slug, ad.Name)
		if ours {
			r.Ours++
		}
		owner := ownerByID[ad.ID]
		if owner == "" && ours {
			owner = ownerByName[ad.Name]
		}
		f := contract.Finding{AddonID: ad.ID, AddonName: ad.Name, App: ad.App, WorkflowID: owner}
		switch {
		case owner != "" && !ours:
			f.Why = "enrolled by a live customer: the customer's own, never destroyed here"
			r.Enrolled = append(r.Enrolled, f)
		case owner != "" || !ours:
			// A live customer's add-on, or not this product's: nothing to do.
		case ad.State == heroku.AddonDeprovisioning || ad.State == heroku.AddonDeprovisioned:
			// Already going away.
		case r.At.Sub(ad.CreatedAt) < grace:
			f.Why = fmt.Sprintf("created %s ago by this product, owned by no live customer: inside the %s grace period", r.At.Sub(ad.CreatedAt).Round(time.Second), grace)
			r.Young = append(r.Young, f)
		default:
			orphans = append(orphans, ad)
		}
	}

	// Live customers whose add-on is gone: told, so their status says so.
	for _, c := range customers {
		if c.AddonID == "" || listed[c.AddonID] {
			continue
		}
		f := contract.Finding{AddonID: c.AddonID, WorkflowID: c.WorkflowID, Why: "Heroku no longer lists the live customer's add-on"}
		if !in.DryRun {
			err := contract.SignalConnectionState.SendExternal(ctx, c.WorkflowID, contract.ConnectionStateReport{State: contract.StateGone}).Get(ctx, nil)
			if err != nil {
				f.Error = errorMessage(err)
			}
		}
		r.Gone = append(r.Gone, f)
	}

	// Every app with a live customer's add-on keeps its watcher: wake it, or start it again
	// (a watcher an operator terminated, or that ended on an empty read, comes back).
	if !in.DryRun {
		apps := map[string]bool{}
		for _, ad := range addons {
			if ownerByID[ad.ID] != "" || contract.IsProductAddonName(in.Slug, ad.Name) && ownerByName[ad.Name] != "" {
				apps[ad.App] = true
			}
		}
		info := workflow.GetInfo(ctx)
		for _, app := range workflow.DeterministicKeys(apps) {
			wake := activities.RegisterWatchInput{WatcherID: contract.WatcherWorkflowID(app), TaskQueue: info.TaskQueueName,
				Member: contract.WatchMember{WorkflowID: info.WorkflowExecution.ID}, Start: contract.WatcherInput{App: app}}
			if err := workflow.ExecuteActivity(vctx, a.RegisterWithWatcher, wake).Get(ctx, nil); err != nil {
				workflow.GetLogger(ctx).Warn("could not wake the app's watcher", "app", app, "error", err)
				continue
			}
			r.WatchersWoken = append(r.WatchersWoken, app)
		}
	}

	// The orphans: destroyed (in a dry run, listed), each with why. The destroy is decided
	// again at its moment (DestroyOrphan): minutes may have passed under a saturated budget.
	for _, ad := range orphans {
		f := contract.Finding{AddonID: ad.ID, AddonName: ad.Name, App: ad.App,
			Why: fmt.Sprintf("created by this product %s ago and owned by no live customer of %s", r.At.Sub(ad.CreatedAt).Round(time.Second), in.Slug)}
		if !in.DryRun {
			ref := contract.AddonRef{ID: ad.ID, Name: ad.Name, App: ad.App, Created: true}
			var out activities.OrphanOutcome
			var err error
			if atDestroy {
				err = workflow.ExecuteActivity(hctx, a.DestroyOrphan, activities.OrphanInput{ISVSlug: in.Slug, Addon: ref}).Get(ctx, &out)
			} else {
				err = destroyOrphanAtOnce(ctx, hctx, ref)
			}
			if err != nil {
				f.Error = errorMessage(err)
				r.Failed = append(r.Failed, f)
				continue
			}
			if out.OwnedBy != "" {
				f.WorkflowID, f.Why = out.OwnedBy, "owned by a live customer at the moment of the destroy (adopted since the listing): kept"
				r.Owned = append(r.Owned, f)
				continue
			}
			if out.Foreign {
				f.Why = "no customer run of this namespace made or recorded it (another deployment sharing the account and slug, or older than visibility's retention): kept for an operator"
				r.Foreign = append(r.Foreign, f)
				continue
			}
			workflow.GetLogger(ctx).Info("reconciler destroyed an orphaned add-on", "addon", ad.Name, "app", ad.App)
		}
		r.Destroyed = append(r.Destroyed, f)
	}
	verb := "destroyed"
	if in.DryRun {
		verb = "would destroy"
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**done** · %d add-ons of ours, %d live customers · %s %d orphans, %d young, %d enrolled kept, %d customers' add-ons gone, %d failed",
		r.Ours, r.LiveCustomers, verb, len(r.Destroyed), len(r.Young), len(r.Enrolled), len(r.Gone), len(r.Failed)))
	return r, nil
}

// accountAddons lists every Connect add-on of the account, a page per Heroku request.
func accountAddons(ctx, hctx workflow.Context, r *contract.ReconcileReport) ([]activities.AddonSummary, error) {
	var addons []activities.AddonSummary
	for rng := ""; ; {
		var page activities.AccountAddons
		if err := workflow.ExecuteActivity(hctx, a.ListAccountAddons, rng).Get(ctx, &page); err != nil {
			return nil, fmt.Errorf("list the account's add-ons: %w", err)
		}
		r.Pages++
		r.AddonsSeen += page.Seen
		addons = append(addons, page.Addons...)
		if rng = page.NextRange; rng == "" {
			return addons, nil
		}
	}
}

// runningCustomers lists the integration's running customers a page (1,000) per activity, so
// no result nears Temporal's 2 MB payload limit however many there are.
func runningCustomers(ctx, vctx workflow.Context, slug string) ([]activities.CustomerWorkflow, error) {
	var out []activities.CustomerWorkflow
	in := activities.CustomersPageInput{ISVSlug: slug}
	for {
		var page activities.CustomersPage
		if err := workflow.ExecuteActivity(vctx, a.RunningCustomersPage, in).Get(ctx, &page); err != nil {
			return nil, fmt.Errorf("list the integration's customers: %w", err)
		}
		out = append(out, page.Customers...)
		if in.PageToken = page.NextPageToken; len(in.PageToken) == 0 {
			return out, nil
		}
	}
}
