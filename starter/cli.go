package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/rs/zerolog"

	"github.com/connect-onboarding/worker/internal/config"
	"github.com/connect-onboarding/worker/starter/onboarding"
	"github.com/connect-onboarding/worker/workflows/contract"
)

type cli struct {
	c      *onboarding.Client
	cfg    config.Starter
	log    zerolog.Logger
	in     io.Reader
	out    io.Writer
	errOut io.Writer
	json   bool
}

// usageError is a mistake in the command line (exit 2).
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errHelp: help was asked for and printed; the command ends successfully.
var errHelp = errors.New("help printed")

const partnerUsage = `starter partner: the ISV's partner integration.

  partner create SLUG --team T --isv-name N --description D --docs-url URL --contact-email E --logo-file FILE [--mappings-file FILE]
  partner adopt SLUG          register an integration that already exists on Heroku
  partner update SLUG [--description D] [--docs-url URL] [--contact-email E] [--logo-file FILE] [--mappings-file FILE]
                              a new mappings file is rolled out to every customer past its authorization
  partner info SLUG [--refresh]
  partner deactivate SLUG --team T [--confirm SLUG]
  partner reconcile SLUG [--dry-run]   sweep now for orphaned add-ons (a Schedule does it hourly)

Run "starter partner SUBCOMMAND -h" for its flags.
`

func (a *cli) dispatch(ctx context.Context, args []string) error {
	switch args[0] {
	case "partner":
		if len(args) < 2 {
			return usagef("partner needs a subcommand: create, adopt, update, info, deactivate or reconcile")
		}
		switch args[1] {
		case "-h", "--help", "help":
			fmt.Fprint(a.out, partnerUsage)
			return errHelp
		case "create":
			return a.partnerCreate(ctx, args[2:])
		case "update":
			return a.partnerUpdate(ctx, args[2:])
		case "info":
			return a.partnerInfo(ctx, args[2:])
		case "adopt":
			return a.partnerAdopt(ctx, args[2:])
		case "deactivate":
			return a.partnerDeactivate(ctx, args[2:])
		case "reconcile":
			return a.partnerReconcile(ctx, args[2:])
		}
		return usagef("unknown partner subcommand %q", args[1])
	case "onboard":
		return a.onboard(ctx, args[1:])
	case "status", "reauthorize", "reissue", "offboard":
		return a.customerCommand(ctx, args[0], args[1:])
	case "list":
		return a.list(ctx, args[1:])
	case "health":
		return a.health(ctx, args[1:])
	case "serve":
		return a.serve(ctx, args[1:])
	case "endpoints":
		return a.endpoints(ctx, args[1:])
	case "keys":
		if len(args) < 2 || args[1] != "new" {
			return usagef("keys needs a subcommand: new (starter keys new --name NAME --scope read:SLUG ...)")
		}
		return a.keysNew(args[2:])
	}
	return usagef("unknown command %q (starter -h lists them)", args[0])
}

// flags makes a flag set that parses flags before and after positional arguments, as the
// Heroku CLI does (`partner create SLUG --team T`).
func (a *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.errOut)
	fs.BoolVar(&a.json, "json", false, "print JSON")
	return fs
}

func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return nil, errHelp // the flag set printed its usage
		} else if err != nil {
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func oneSlug(pos []string, cmd string) (string, error) {
	if len(pos) != 1 {
		return "", usagef("%s needs exactly one SLUG", cmd)
	}
	return pos[0], nil
}

func readLogo(path string) (*contract.Logo, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--logo-file: %v", err)
	}
	return &contract.Logo{Filename: filepath.Base(path), Data: data}, nil
}

// readMappings reads a mapping template: Heroku Connect's export file (`heroku
// connect:export`), checked before anything is sent, each problem named by its path in the
// file.
func readMappings(path string) (*contract.MappingTemplate, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--mappings-file: %v", err)
	}
	t, err := contract.ParseMappingTemplate(data, "")
	if err != nil {
		return nil, usagef("--mappings-file %s: %v", path, err)
	}
	return t, nil
}

func (a *cli) partnerCreate(ctx context.Context, args []string) error {
	fs := a.flags("partner create")
	var spec contract.PartnerSpec
	var logoFile string
	fs.StringVar(&spec.Team, "team", "", "Heroku team of the ISV's apps")
	fs.StringVar(&spec.Name, "isv-name", "", "the ISV's name as customers see it")
	fs.StringVar(&spec.Description, "description", "", "at most 500 characters")
	fs.StringVar(&spec.DocsURL, "docs-url", "", "https URL of the ISV's documentation")
	fs.StringVar(&spec.ContactEmail, "contact-email", "", "contact address")
	fs.StringVar(&logoFile, "logo-file", "", "jpeg, png, svg or webp, 100-1000 px, at most 5 MB")
	mappingsFile := fs.String("mappings-file", "", "mapping template every customer's connection gets (Heroku Connect's export format)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if spec.Slug, err = oneSlug(pos, "partner create"); err != nil {
		return err
	}
	logo, err := readLogo(logoFile)
	if err != nil {
		return err
	}
	if logo != nil {
		spec.Logo = *logo
	}
	if spec.Mappings, err = readMappings(*mappingsFile); err != nil {
		return err
	}
	info, err := a.c.CreatePartner(ctx, spec)
	if err != nil {
		return err
	}
	return a.printPartner("Created partner integration "+spec.Slug, info)
}

func (a *cli) partnerUpdate(ctx context.Context, args []string) error {
	fs := a.flags("partner update")
	var desc, docs, email, logoFile string
	fs.StringVar(&desc, "description", "", "new description")
	fs.StringVar(&docs, "docs-url", "", "new docs URL")
	fs.StringVar(&email, "contact-email", "", "new contact email")
	fs.StringVar(&logoFile, "logo-file", "", "new logo file")
	mappingsFile := fs.String("mappings-file", "", "new mapping template, rolled out to every customer past its authorization")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	slug, err := oneSlug(pos, "partner update")
	if err != nil {
		return err
	}
	var ch contract.PartnerChanges
	fs.Visit(func(f *flag.Flag) {
		v := f.Value.String()
		switch f.Name {
		case "description":
			ch.Description = &v
		case "docs-url":
			ch.DocsURL = &v
		case "contact-email":
			ch.ContactEmail = &v
		}
	})
	if ch.Logo, err = readLogo(logoFile); err != nil {
		return err
	}
	if ch.Mappings, err = readMappings(*mappingsFile); err != nil {
		return err
	}
	info, err := a.c.UpdatePartner(ctx, slug, ch)
	if err != nil {
		return err
	}
	return a.printPartner("Updated partner integration "+slug, info)
}

func (a *cli) partnerInfo(ctx context.Context, args []string) error {
	fs := a.flags("partner info")
	refresh := fs.Bool("refresh", false, "read the current state from Heroku")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	slug, err := oneSlug(pos, "partner info")
	if err != nil {
		return err
	}
	info, err := a.c.Partner(ctx, slug, *refresh)
	if err != nil {
		return err
	}
	return a.printPartner("", info)
}

// partnerAdopt registers an integration that already exists on Heroku (made with the
// Heroku CLI or before this tool) so customers can be onboarded into it.
func (a *cli) partnerAdopt(ctx context.Context, args []string) error {
	fs := a.flags("partner adopt")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	slug, err := oneSlug(pos, "partner adopt")
	if err != nil {
		return err
	}
	info, err := a.c.AdoptPartner(ctx, slug)
	if err != nil {
		return err
	}
	return a.printPartner("adopted", info)
}

func (a *cli) partnerReconcile(ctx context.Context, args []string) error {
	fs := a.flags("partner reconcile")
	dry := fs.Bool("dry-run", false, "list what would be destroyed, destroy nothing")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	slug, err := oneSlug(pos, "partner reconcile")
	if err != nil {
		return err
	}
	r, err := a.c.Reconcile(ctx, slug, *dry)
	if err != nil {
		return err
	}
	verb := "Destroyed"
	if r.DryRun {
		verb = "Would Destroy"
	}
	rows := [][2]string{{"Integration", r.Slug}, {"Dry Run", fmt.Sprint(r.DryRun)}, {"Connect Add-ons Seen", fmt.Sprint(r.AddonsSeen)},
		{"Named By This Product", fmt.Sprint(r.Ours)}, {"Live Customers", fmt.Sprint(r.LiveCustomers)}}
	for _, group := range []struct {
		label string
		items []contract.Finding
	}{{verb, r.Destroyed}, {"Young (kept)", r.Young}, {"Enrolled (kept)", r.Enrolled}, {"Customer Add-on Gone", r.Gone}, {"Failed", r.Failed}} {
		rows = append(rows, [2]string{group.label, fmt.Sprint(len(group.items))})
		for _, f := range group.items {
			rows = append(rows, [2]string{"  " + cmp.Or(f.AddonName, f.AddonID), strings.TrimSpace(f.App + " " + f.WorkflowID + ": " + f.Why + " " + f.Error)})
		}
	}
	return a.print(r, "Reconciled "+slug, rows)
}

func (a *cli) partnerDeactivate(ctx context.Context, args []string) error {
	fs := a.flags("partner deactivate")
	team := fs.String("team", "", "the integration's Heroku team (required)")
	confirm := fs.String("confirm", "", "the slug again, to confirm")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	slug, err := oneSlug(pos, "partner deactivate")
	if err != nil {
		return err
	}
	if *team == "" {
		return usagef("partner deactivate needs --team")
	}
	if *confirm == "" {
		if !isTerminal(a.in) {
			return usagef("deactivation destroys every add-on of %s and cannot be undone: pass --confirm %s", slug, slug)
		}
		fmt.Fprintf(a.errOut, " ▸    WARNING: This will deactivate %s and destroy every Heroku Connect add-on associated with it.\n", slug)
		fmt.Fprintf(a.errOut, " ▸    To proceed, type %s or re-run this command with --confirm %s\n\n> ", slug, slug)
		line, _ := bufio.NewReader(a.in).ReadString('\n')
		*confirm = strings.TrimSpace(line)
	}
	fmt.Fprintf(a.errOut, "Deactivating %s… ", slug)
	info, err := a.c.DeactivatePartner(ctx, slug, *team, *confirm)
	if err != nil {
		fmt.Fprintln(a.errOut, "failed")
		return err
	}
	fmt.Fprintln(a.errOut, "done")
	return a.printPartner("Deactivated partner integration "+slug, info)
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	return term.IsTerminal(int(f.Fd())) // not just a character device: /dev/null is one
}

func (a *cli) onboard(ctx context.Context, args []string) error {
	fs := a.flags("onboard")
	var in contract.ConnectionInput
	fs.StringVar(&in.ISVSlug, "isv", "", "the ISV's partner integration slug")
	fs.StringVar(&in.CustomerID, "customer", "", "the ISV's own customer ID")
	fs.StringVar(&in.App, "app", "", "provision a new add-on on this ISV app")
	fs.StringVar(&in.Addon, "addon", "", "enroll this existing Connect add-on instead")
	fs.StringVar(&in.Schema, "schema", "", "Postgres schema (default: derived from the customer ID)")
	fs.StringVar(&in.DBKey, "db-key", "", "config var of the database (default DATABASE_URL)")
	fs.StringVar(&in.Salesforce.OrgID, "org-id", "", "the customer's Salesforce org ID (15 or 18 characters)")
	fs.StringVar(&in.Salesforce.Username, "username", "", "the customer's integration user")
	fs.StringVar(&in.Salesforce.Environment, "environment", "", "production, sandbox (default) or custom")
	fs.StringVar(&in.Salesforce.Domain, "domain", "", "My Domain login URL, for custom")
	fs.StringVar(&in.Salesforce.APIVersion, "api-version", "", "Salesforce API version, e.g. 66.0")
	fs.StringVar(&in.ReturnURL, "return-url", "", "where the customer returns after authorizing")
	fs.DurationVar(&in.Options.AuthorizationTimeout, "authorization-timeout", 0, "how long to wait for the customer (default 168h)")
	wait := fs.Bool("wait", false, "show the stages live until active or failed")
	mappingsFile := fs.String("mappings-file", "", "this customer's own mapping template, instead of the integration's")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	var err error
	if in.Mappings, err = readMappings(*mappingsFile); err != nil {
		return err
	}
	in.Mode = contract.ModeProvision
	if in.Addon != "" {
		in.Mode = contract.ModeEnroll
	}
	res, err := a.c.Start(ctx, in)
	if err != nil {
		return err
	}
	if !*wait {
		return a.print(res, "Started onboarding of "+in.CustomerID, [][2]string{
			{"Workflow", res.WorkflowID}, {"Stage", string(res.Stage)}, {"Authorization URL", res.AuthorizationURL},
			{"Expires", fmtTime(res.ExpiresAt)}})
	}
	if !a.json {
		fmt.Fprintf(a.out, "Open this URL as the customer to authorize:\n  %s\n\n", res.AuthorizationURL)
	}
	return a.watch(ctx, in.ISVSlug, in.CustomerID)
}

// watch shows the stages as they change until the onboarding is active or has ended.
func (a *cli) watch(ctx context.Context, isv, customer string) error {
	start := time.Now()
	last := contract.Stage("")
	for {
		st, err := a.c.Status(ctx, isv, customer)
		if err != nil {
			return err
		}
		if st.Stage != last {
			if !a.json {
				if last != "" {
					fmt.Fprintln(a.out)
				}
				fmt.Fprintf(a.out, "%8s  %-24s", time.Since(start).Round(time.Second), st.Stage)
			}
			last = st.Stage
		} else if !a.json {
			fmt.Fprint(a.out, ".")
		}
		switch {
		case st.Stage == "active":
			if !a.json {
				fmt.Fprintln(a.out)
			}
			return a.printStatus("Onboarding of "+customer+" is active", st)
		case st.Stage.Terminal():
			if !a.json {
				fmt.Fprintln(a.out)
			}
			_ = a.printStatus("", st)
			return fmt.Errorf("onboarding ended %s: %s", st.Stage, st.Error)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (a *cli) customerCommand(ctx context.Context, cmd string, args []string) error {
	fs := a.flags(cmd)
	isv := fs.String("isv", "", "the ISV's slug")
	customer := fs.String("customer", "", "the customer ID")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *isv == "" || *customer == "" {
		return usagef("%s needs --isv and --customer", cmd)
	}
	switch cmd {
	case "status":
		st, err := a.c.Status(ctx, *isv, *customer)
		if err != nil {
			return err
		}
		return a.printStatus("", st)
	case "offboard":
		st, err := a.c.Offboard(ctx, *isv, *customer)
		if err != nil {
			return err
		}
		return a.printStatus("Offboarded "+*customer, st)
	default:
		f := a.c.Reauthorize
		if cmd == "reissue" {
			f = a.c.ReissueURL
		}
		res, err := f(ctx, *isv, *customer)
		if err != nil {
			return err
		}
		return a.print(res, "New authorization URL for "+*customer, [][2]string{{"Stage", string(res.Stage)},
			{"Authorization URL", res.AuthorizationURL}, {"Expires", fmtTime(res.ExpiresAt)}, {"Attempt", fmt.Sprint(res.Attempt)}})
	}
}

func (a *cli) list(ctx context.Context, args []string) error {
	fs := a.flags("list")
	isv := fs.String("isv", "", "the ISV's slug")
	stage := fs.String("stage", "", "only this stage")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *isv == "" {
		return usagef("list needs --isv")
	}
	items, err := a.c.List(ctx, *isv, *stage)
	if err != nil {
		return err
	}
	if a.json {
		return json.NewEncoder(a.out).Encode(items)
	}
	fmt.Fprintf(a.out, "=== %s onboardings (%d)\n\n", *isv, len(items))
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Customer\tStage\tStatus\tAdd-on\tStarted")
	for _, it := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", it.CustomerID, it.Stage, strings.ToLower(strings.TrimPrefix(it.Status, "WORKFLOW_EXECUTION_STATUS_")), it.AddonID, fmtTime(it.StartedAt))
	}
	return tw.Flush()
}

// --- output, laid out like the Heroku CLI: a check mark line, then aligned rows ---

func (a *cli) print(v any, headline string, rows [][2]string) error {
	if a.json {
		enc := json.NewEncoder(a.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	if headline != "" {
		fmt.Fprintf(a.out, "✓ %s\n", headline)
	}
	width := 0
	for _, r := range rows {
		if r[1] != "" && len(r[0]) > width {
			width = len(r[0])
		}
	}
	for _, r := range rows {
		if r[1] == "" {
			continue
		}
		fmt.Fprintf(a.out, "%-*s %s\n", width+1, r[0]+":", r[1])
	}
	return nil
}

func (a *cli) printPartner(headline string, info contract.PartnerInfo) error {
	rows := [][2]string{{"Slug", info.Slug}, {"Stage", string(info.Stage)}}
	if in := info.Integration; in != nil {
		rows = append(rows, [][2]string{{"ID", in.ID}, {"Name", in.Name}, {"Status", in.Status}, {"Team", in.TeamName},
			{"Description", in.Description}, {"Docs URL", in.DocsURL}, {"Contact Email", in.ContactEmail}, {"Logo URL", in.LogoURL},
			{"Created At", fmtTime(in.CreatedAt)}, {"Updated At", fmtTime(in.UpdatedAt)}}...)
	}
	if r := info.Report; r != nil {
		rows = append(rows, [][2]string{{"Deactivate Calls", fmt.Sprint(r.Attempts)}, {"Add-ons Destroyed", fmt.Sprintf("%d of %d", r.Destroyed, r.Total)},
			{"Customers Ended", fmt.Sprint(len(r.Customers))}, {"Complete", fmt.Sprint(r.Completed)}}...)
		for _, c := range r.Customers {
			rows = append(rows, [2]string{"  " + c.CustomerID, strings.TrimSpace(c.Outcome + " " + c.AddonID + " " + c.Error)})
		}
	}
	if info.MappingsDigest != "" {
		rows = append(rows, [2]string{"Mapping Template", info.MappingsDigest + " (" + strings.Join(info.MappingObjects, ", ") + ")"})
	}
	if r := info.Rollout; r != nil {
		rows = append(rows, [2]string{"Rollout", fmt.Sprintf("%s since %s: %d targets; %d updated, %d unchanged, %d on their own template, %d failed",
			r.Template, fmtTime(r.StartedAt), r.Targets, r.Updated, r.Unchanged, r.OwnTemplate, r.Failed)})
		for _, f := range r.Failures {
			rows = append(rows, [2]string{"  " + f.CustomerID, f.Error})
		}
		if r.Error != "" {
			rows = append(rows, [2]string{"Rollout Error", r.Error})
		}
	}
	rows = append(rows, [2]string{"Error", info.Error})
	return a.print(info, headline, rows)
}

func (a *cli) printStatus(headline string, st contract.Status) error {
	rows := [][2]string{{"Workflow", st.WorkflowID}, {"Stage", string(st.Stage)}}
	if st.Addon != nil {
		rows = append(rows, [2]string{"Add-on", fmt.Sprintf("%s (%s) on %s", st.Addon.Name, st.Addon.ID, st.Addon.App)})
	}
	rows = append(rows, [][2]string{{"Connection State", st.LastState}, {"Authorization URL", st.AuthorizationURL},
		{"URL Expires", fmtTime(st.URLExpiresAt)}, {"URLs Issued", fmt.Sprint(st.URLsIssued)},
		{"Mismatches", nonZero(st.Mismatches)}, {"Last Problem", st.LastProblem}, {"Re-authorizations", nonZero(st.Reauthorizations)},
		{"Cleaned Up", strings.Join(st.Compensated, "; ")}, {"Error", st.Error}}...)
	if s := st.Sync; s != nil {
		rows = append(rows, [2]string{"Mapping Template", fmt.Sprintf("%s (%s): %s", s.Template, s.Source, strings.Join(s.Objects, ", "))},
			[2]string{"Synced At", fmtTime(s.SyncedAt)})
	}
	return a.print(st, headline, append(rows, healthRows(st.Health)...))
}

// healthRows shows a connection's health: its state, each mapping, write errors and
// notifications (-1: not read), and the problem in Heroku's words.
func healthRows(h *contract.Health) [][2]string {
	if h == nil {
		return nil
	}
	rows := [][2]string{{"Health Checked", fmtTime(h.CheckedAt)}, {"Problem", h.Problem}}
	for _, m := range h.Mappings {
		rows = append(rows, [2]string{"  " + m.Object, strings.TrimSpace(fmt.Sprintf("%s  db %d  sf %d  pending %d  errors %d  %s",
			m.State, m.DB, m.SF, m.Pending, m.Errors, m.Message))})
	}
	if h.WriteErrors >= 0 {
		rows = append(rows, [2]string{"Write Errors (24 h)", fmt.Sprint(h.WriteErrors)})
	}
	if h.Notifications >= 0 {
		rows = append(rows, [2]string{"Notifications", fmt.Sprint(h.Notifications)})
	}
	return rows
}

// health shows one customer's connection health, read from Heroku now, or an integration's
// summary: its running onboardings by stage and who needs attention.
func (a *cli) health(ctx context.Context, args []string) error {
	fs := a.flags("health")
	isv := fs.String("isv", "", "the ISV's partner integration slug")
	customer := fs.String("customer", "", "one customer: read its connection's health from Heroku now")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *isv == "" {
		return usagef("health needs --isv SLUG")
	}
	if *customer != "" {
		h, err := a.c.RefreshHealth(ctx, *isv, *customer)
		if err != nil {
			return err
		}
		return a.print(h, "Health of "+*customer+" (connection "+h.ConnectionState+")", healthRows(&h))
	}
	sum, err := a.c.IntegrationHealth(ctx, *isv)
	if err != nil {
		return err
	}
	rows := [][2]string{{"Running", fmt.Sprint(sum.Running)}}
	for _, s := range contract.StageNames() {
		if n, ok := sum.Stages[s]; ok {
			rows = append(rows, [2]string{"  " + s, fmt.Sprint(n)})
		}
	}
	for _, c := range sum.NeedsAttention {
		rows = append(rows, [2]string{"Needs Attention", c.CustomerID})
	}
	return a.print(sum, "Health of integration "+*isv, rows)
}

func nonZero(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// fail prints an error the way a user can act on: field errors one per line.
func (a *cli) fail(err error) {
	var inv *onboarding.InvalidInputError
	if errors.As(err, &inv) {
		fmt.Fprintln(a.errOut, " ▸    Invalid input:")
		for _, f := range inv.Fields {
			fmt.Fprintf(a.errOut, " ▸      %s: %s\n", f.Field, f.Rule)
		}
		return
	}
	fmt.Fprintf(a.errOut, " ▸    %v\n", err)
}
