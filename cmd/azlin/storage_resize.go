package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/storage"
)

// storageResizeOptions are `azlin storage resize`'s argument and flags.
type storageResizeOptions struct {
	Name, Size       string
	IOPS, Throughput int
}

// newStorageResizeCmd is `azlin storage resize`; runF, when not nil,
// replaces the run (tests of flag parsing).
func newStorageResizeCmd(a *app, runF func(*storageResizeOptions) error) *cobra.Command {
	var o storageResizeOptions
	cmd := &cobra.Command{
		Use:   "resize NAME [--size SIZE] [--iops N] [--throughput MIBPS]",
		Short: "Grow or shrink an Azure Files storage in place (size; PremiumV2 also IOPS and throughput), showing the cost before and after",
		Long: joinLines(
			"Change the provisioning of a Premium or PremiumV2 storage's NFS share in place:",
			"VMs keep it mounted and every file stays. Shows what changes and the monthly",
			"cost before and after, and asks first (--yes to skip; needed without a",
			"terminal); --dry-run prints the az command instead. Asking for what the share",
			"already has changes nothing.",
			"",
			"Azure's rules:",
			"  Premium (provisioned v1): --size 100GB to 100TB in whole GiB; IOPS and",
			"  throughput follow the size, so --iops and --throughput are refused. A share",
			"  may grow at any time, but shrink only 24 hours after its last increase (then",
			"  as often as you like until the next increase).",
			"  PremiumV2 (provisioned v2): --size 32GB to 256TB, --iops 3000 to 102400,",
			"  --throughput 100 to 10340 MiB/s, each changed on its own (what is not given",
			"  stays). Each may grow at any time, but shrink only 24 hours after that",
			"  quantity's last increase. A new size keeps the IOPS and throughput; resize",
			"  shows Azure's recommendation for the new size when they differ.",
			"Too soon, Azure refuses the decrease and the share stays as it was.",
			"",
			"azlin never shrinks a share below the space used plus 10%, so its VMs can",
			"still write. Standard storage (Blob NFS 3.0) has no provisioned size: it",
			"grows with what is stored, and resize says so.",
		),
		Example: joinLines(
			"  azlin storage resize shared-dev --size 1TB",
			"  azlin storage resize shared-dev --size 200GB --yes",
			"  azlin storage resize shared-dev --size 2TB --dry-run",
			"  azlin storage resize fast-dev --iops 10000 --throughput 300     # PremiumV2",
			"  azlin storage resize fast-dev --size 128GB --iops 3128 --throughput 113",
		),
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			fs := cmd.Flags()
			if flagChanged(fs, "iops") && o.IOPS == 0 || flagChanged(fs, "throughput") && o.Throughput == 0 {
				return clierr.Usagef("--iops and --throughput take a positive number")
			}
			if runF != nil {
				return runF(&o)
			}
			return runStorageResize(cmd.Context(), a, &o)
		},
	}
	cmd.Flags().StringVar(&o.Size, "size", "", "the new size, e.g. 200GB, 1TB (GB = GiB, TB = TiB); Premium 100GB-100TB, PremiumV2 32GB-256TB")
	cmd.Flags().IntVar(&o.IOPS, "iops", 0, "PremiumV2: the new provisioned IOPS, 3000-102400")
	cmd.Flags().IntVar(&o.Throughput, "throughput", 0, "PremiumV2: the new provisioned throughput in MiB/s, 100-10340")
	return cmd
}

func runStorageResize(ctx context.Context, a *app, o *storageResizeOptions) error {
	rg, err := a.storageTarget(o.Name)
	if err != nil {
		return err
	}
	req := storage.ResizeRequest{IOPS: o.IOPS, MiBps: o.Throughput}
	if o.Size != "" {
		if req.SizeGiB, err = storage.ParseSize(o.Size); err != nil {
			return err
		}
	}
	if err := req.Validate(); err != nil {
		return err
	}
	m, err := a.storageManager(ctx)
	if err != nil {
		return err
	}
	plan, err := m.PlanResize(ctx, rg, o.Name, req)
	if err != nil {
		return err
	}
	p := a.Printer()
	if plan.AlreadyThere {
		p.Successf("Storage %s is already %s: nothing to change", o.Name, plan.From)
		return nil
	}
	verb := "Change"
	switch inc, dec := plan.Increases(), plan.Decreases(); {
	case len(dec) == 0 && len(inc) == 1 && inc[0] == "size":
		verb = "Grow"
	case len(inc) == 0 && len(dec) == 1 && dec[0] == "size":
		verb = "Shrink"
	}
	p.Infof("%s storage %s from %s to %s (%s used)", verb, o.Name, plan.From, plan.To, used(plan.Storage))
	if r := plan.Recommended; r.IOPS != 0 && (r.IOPS != plan.To.IOPS || r.MiBps != plan.To.MiBps) && plan.To.SizeGiB != plan.From.SizeGiB {
		p.Infof("Azure recommends %d IOPS and %d MiB/s for %s (--iops %d --throughput %d); the share keeps what is shown above.",
			r.IOPS, r.MiBps, storage.FormatGiB(r.SizeGiB), r.IOPS, r.MiBps)
	}
	p.Infof("Est. cost now:   %s", costLine(plan.CostBefore))
	p.Infof("Est. cost after: %s", costLine(plan.CostAfter))
	if inc := plan.Increases(); len(inc) > 0 {
		p.Infof("Azure lets the %s shrink again only 24 hours after this increase.", strings.Join(inc, " and "))
	}
	if !a.flags.dryRun {
		if err := a.Confirm(fmt.Sprintf("%s storage %s to %s?", verb, o.Name, plan.To)); err != nil {
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
	p.Successf("Storage %s is now %s", o.Name, plan.To)
	return nil
}
