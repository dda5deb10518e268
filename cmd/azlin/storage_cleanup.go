package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/cost"
	"github.com/azlin-dev/azlin/internal/output"
	"github.com/azlin-dev/azlin/internal/storage"
)

// storageCleanupOptions are `azlin storage cleanup`'s flags.
type storageCleanupOptions struct {
	UnusedFor string
}

// newStorageCleanupCmd is `azlin storage cleanup`; runF, when not nil,
// replaces the run (tests of flag parsing).
func newStorageCleanupCmd(a *app, runF func(*storageCleanupOptions) error) *cobra.Command {
	var o storageCleanupOptions
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Delete storage no VM has used for a while, each only if you confirm it",
		Long: joinLines(
			"List the storages of the resource group that have had no VM for at least",
			"--unused-for (default 14d), with what each costs per month, then delete the ones",
			"you confirm, one question each (y/N). Each is deleted exactly as azlin storage",
			"delete does, with ALL ITS DATA, and never while a VM uses it: that is checked",
			"again for each storage just before its question.",
			"",
			"Since when a storage is unused: azlin records the time its last VM left it",
			"(detach, or delete of the VM) in the tag azlin-unused-since; a VM attaching",
			"removes it. A storage no VM ever left (created and never used, or made by an",
			"older azlin) counts from its creation, and is shown \"since created\".",
			"",
			"--unused-for takes days (14d), hours (36h) or any Go duration (90m); 0 lists",
			"every storage without a VM. Without a terminal, --yes deletes every storage",
			"listed; --dry-run lists them and prints the az commands, changing nothing.",
			"",
			"-o json prints one object: resourceGroup, unusedFor, dryRun, storages [{name,",
			"unused {since, sinceCreated}, unusedDays, monthly, result, message}] (result:",
			"deleted, declined, in-use, would-delete or failed) and monthlySaved.",
		),
		Example: joinLines(
			"  azlin storage cleanup",
			"  azlin storage cleanup --unused-for 30d --dry-run",
			"  azlin storage cleanup --unused-for 36h -o json --query 'storages[].name'",
		),
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(&o)
			}
			return runStorageCleanup(cmd.Context(), a, &o)
		},
	}
	cmd.Flags().StringVar(&o.UnusedFor, "unused-for", storage.FormatUnusedFor(storage.DefaultUnusedFor),
		"how long a storage must have had no VM: days (14d), hours (36h) or a Go duration")
	return cmd
}

// Cleanup results, one per storage listed.
const (
	cleanupDeleted     = "deleted"
	cleanupDeclined    = "declined"
	cleanupInUse       = "in-use"
	cleanupWouldDelete = "would-delete"
	cleanupFailed      = "failed"
)

// cleanupView is cleanup's JSON document.
type cleanupView struct {
	ResourceGroup string        `json:"resourceGroup"`
	UnusedFor     string        `json:"unusedFor"`
	DryRun        bool          `json:"dryRun"`
	Storages      []cleanupItem `json:"storages"`
	// MonthlySaved is what the storages deleted cost per month (priced ones).
	MonthlySaved string `json:"monthlySaved"`
}

type cleanupItem struct {
	Name       string          `json:"name"`
	Unused     *storage.Unused `json:"unused"`
	UnusedDays int             `json:"unusedDays"`
	Monthly    string          `json:"monthly"` // "" when not priced
	Result     string          `json:"result"`
	Message    string          `json:"message,omitempty"`
}

// runStorageCleanup checks the input, lists the unused storages, and
// deletes each one the user confirms through storage delete's path.
func runStorageCleanup(ctx context.Context, a *app, o *storageCleanupOptions) error {
	least, err := storage.ParseUnusedFor(o.UnusedFor)
	if err != nil {
		return err
	}
	rg, err := a.ResourceGroup()
	if err != nil {
		return err
	}
	if !a.flags.dryRun && !a.flags.yes && !a.StdinIsTTY() {
		return clierr.Usagef("storage cleanup asks before deleting each storage: pass --yes (-y) to delete every storage it lists " +
			"when not running interactively, or --dry-run to only list them")
	}
	m, err := a.storageManager(ctx)
	if err != nil {
		return err
	}
	list, err := m.UnusedFor(ctx, rg, least)
	if err != nil {
		return err
	}
	p := a.Printer()
	now := a.clock()
	v := cleanupView{ResourceGroup: rg, UnusedFor: storage.FormatUnusedFor(least), DryRun: a.flags.dryRun, Storages: []cleanupItem{}}
	if len(list) == 0 {
		p.Infof("No storage in resource group %s has been without a VM for %s or more; nothing to clean up.", rg, v.UnusedFor)
	} else {
		p.Infof("%d storage(s) in resource group %s have had no VM for %s or more:", len(list), rg, v.UnusedFor)
	}
	for _, s := range list {
		it := cleanupItem{Name: s.Name, Unused: s.Unused, Monthly: s.Cost.Monthly}
		d, _ := s.Unused.For(now)
		it.UnusedDays = int(d / (24 * time.Hour))
		p.Infof("  %s: unused %s (%s), %s", s.Name, s.Unused.Text(), dayWordOf(it.UnusedDays), monthlyText(s.Cost))
		v.Storages = append(v.Storages, it)
	}
	var saved cost.Money
	var failed []string
	for i, s := range list {
		it := &v.Storages[i]
		err := deleteStorage(ctx, a, m, rg, s.Name)
		var inUse *storage.ConnectedError
		switch {
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("%w\n%s", err, cleanupSoFar(v.Storages[:i]))
		case errors.Is(err, clierr.ErrCancelled):
			it.Result = cleanupDeclined
			p.Infof("Kept storage %s.", s.Name)
		case errors.As(err, &inUse):
			it.Result, it.Message = cleanupInUse, "a VM uses it now: "+strings.Join(inUse.VMs, ", ")+"; kept"
			p.Warnf("storage %s is in use again (by %s): kept", s.Name, strings.Join(inUse.VMs, ", "))
		case err != nil:
			it.Result, it.Message = cleanupFailed, err.Error()
			failed = append(failed, s.Name)
			p.Warnf("%v", err)
		case a.flags.dryRun:
			it.Result = cleanupWouldDelete
		default:
			it.Result = cleanupDeleted
			if amount, ok := s.Cost.MonthlyAmount(); ok {
				saved += amount
			}
		}
	}
	v.MonthlySaved = saved.String()
	t := output.Table{Headers: []string{"NAME", "UNUSED", "MONTHLY", "RESULT"}}
	for _, it := range v.Storages {
		monthly := it.Monthly
		if monthly == "" {
			monthly = "not priced"
		}
		t.Rows = append(t.Rows, []string{it.Name, it.Unused.Text() + " (" + dayWordOf(it.UnusedDays) + ")", monthly, it.Result})
	}
	if len(v.Storages) > 0 || p.Document() {
		if err := p.Render(t, v); err != nil {
			return err
		}
	}
	if saved > 0 {
		p.Infof("Deleted storage costing %s/month.", v.MonthlySaved)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d storage(s) could not be deleted: %s (see above; each error says how to finish)", len(failed), strings.Join(failed, ", "))
	}
	return nil
}

// cleanupSoFar says, after an interruption, what the storages before it became.
func cleanupSoFar(done []cleanupItem) string {
	if len(done) == 0 {
		return "No storage was deleted before the interruption."
	}
	var parts []string
	for _, it := range done {
		parts = append(parts, it.Name+" "+it.Result)
	}
	return "Before the interruption: " + strings.Join(parts, ", ") + ". Re-run azlin storage cleanup for the rest."
}

// monthlyText is "$23.30/month" or "cost not priced".
func monthlyText(c storage.CostView) string {
	if c.Monthly == "" {
		return "cost not priced"
	}
	return c.Monthly + "/month"
}

// dayWordOf is "1 day", "20 days", "less than a day".
func dayWordOf(n int) string {
	switch n {
	case 0:
		return "less than a day"
	case 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}
