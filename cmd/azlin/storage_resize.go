package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/storage"
)

// storageResizeOptions are `azlin storage resize`'s argument and flag.
type storageResizeOptions struct {
	Name, Size string
}

// newStorageResizeCmd is `azlin storage resize`; runF, when not nil,
// replaces the run (tests of flag parsing).
func newStorageResizeCmd(a *app, runF func(*storageResizeOptions) error) *cobra.Command {
	var o storageResizeOptions
	cmd := &cobra.Command{
		Use:   "resize NAME --size SIZE",
		Short: "Grow or shrink a Premium storage in place, showing the cost before and after",
		Long: joinLines(
			"Change the provisioned size of a Premium storage's NFS share in place: VMs keep",
			"it mounted and every file stays. Shows the monthly cost before and after and",
			"asks first (--yes to skip; needed without a terminal); --dry-run prints the",
			"az command instead. The same size again changes nothing.",
			"",
			"Azure's rules (provisioned v1 file shares): 100GB to 100TB in whole GiB; a",
			"share may grow at any time, but shrink only 24 hours after its last increase",
			"(then as often as you like until the next increase); too soon, Azure refuses",
			"and the size stays.",
			"",
			"azlin never shrinks a share below the space used plus 10%, so its VMs can",
			"still write. Standard storage (Blob NFS 3.0) has no provisioned size: it",
			"grows with what is stored, and resize says so.",
		),
		Example: joinLines(
			"  azlin storage resize shared-dev --size 1TB",
			"  azlin storage resize shared-dev --size 200GB --yes",
			"  azlin storage resize shared-dev --size 2TB --dry-run",
		),
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if runF != nil {
				return runF(&o)
			}
			return runStorageResize(cmd.Context(), a, &o)
		},
	}
	cmd.Flags().StringVar(&o.Size, "size", "", "the new size, e.g. 200GB, 1TB (GB = GiB, TB = TiB); 100GB-100TB")
	return cmd
}

func runStorageResize(ctx context.Context, a *app, o *storageResizeOptions) error {
	rg, err := a.storageTarget(o.Name)
	if err != nil {
		return err
	}
	if o.Size == "" {
		return clierr.Usagef("give the new size with --size, e.g. --size 1TB")
	}
	gib, err := storage.ParseSize(o.Size)
	if err != nil {
		return err
	}
	if err := storage.CheckSize(nfs.Premium, gib); err != nil {
		return err
	}
	m, err := a.storageManager(ctx)
	if err != nil {
		return err
	}
	plan, err := m.PlanResize(ctx, rg, o.Name, gib)
	if err != nil {
		return err
	}
	p := a.Printer()
	if plan.AlreadyThere {
		p.Successf("Storage %s is already %s: nothing to change", o.Name, storage.FormatGiB(gib))
		return nil
	}
	verb := "Grow"
	if plan.ToGiB < plan.FromGiB {
		verb = "Shrink"
	}
	p.Infof("%s storage %s from %s to %s (%s used)", verb, o.Name, storage.FormatGiB(plan.FromGiB), storage.FormatGiB(plan.ToGiB), used(plan.Storage))
	p.Infof("Est. cost now:   %s", costLine(plan.CostBefore))
	p.Infof("Est. cost after: %s", costLine(plan.CostAfter))
	if verb == "Grow" {
		p.Infof("Azure lets it shrink again only 24 hours after this increase.")
	}
	if !a.flags.dryRun {
		if err := a.Confirm(fmt.Sprintf("%s storage %s to %s?", verb, o.Name, storage.FormatGiB(plan.ToGiB))); err != nil {
			return err
		}
	}
	if err := m.Resize(ctx, plan); err != nil {
		return err
	}
	if a.flags.dryRun {
		p.Infof("Dry run: the az command above is the plan; nothing was changed")
		return nil
	}
	p.Successf("Storage %s is now %s", o.Name, storage.FormatGiB(plan.ToGiB))
	return nil
}
