package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/storage"
)

// storageDeleteOptions are `azlin storage delete`'s argument.
type storageDeleteOptions struct {
	Name string
}

// newStorageDeleteCmd is `azlin storage delete`; runF, when not nil,
// replaces the run (tests of flag parsing).
func newStorageDeleteCmd(a *app, runF func(*storageDeleteOptions) error) *cobra.Command {
	var o storageDeleteOptions
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a storage and all the data on it",
		Long: joinLines(
			"Delete a storage: its private endpoint (with its DNS zone group) and its",
			"storage account, with the share and ALL ITS DATA. The VNet, subnet and private",
			"DNS zone stay: other storages and VMs use them.",
			"",
			"Refused while any VM uses the storage (is tagged azlin-storage=NAME): detach",
			"those first; --yes skips the confirmation prompt, never this check.",
		),
		Example: "  azlin storage delete shared-dev\n  azlin storage delete shared-dev --yes",
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if runF != nil {
				return runF(&o)
			}
			return runStorageDelete(cmd.Context(), a, &o)
		},
	}
}

// runStorageDelete checks the name, then deletes the storage.
func runStorageDelete(ctx context.Context, a *app, o *storageDeleteOptions) error {
	name := o.Name
	rg, err := a.storageTarget(name)
	if err != nil {
		return err
	}
	m, err := a.storageManager(ctx)
	if err != nil {
		return err
	}
	return deleteStorage(ctx, a, m, rg, name)
}

// deleteStorage is storage delete's one path, for `storage delete` and
// `storage cleanup` alike: it reads the storage (refusing, a
// *storage.ConnectedError, while a VM uses it), shows what goes, asks
// (clierr.ErrCancelled when the answer is no) and deletes it.
func deleteStorage(ctx context.Context, a *app, m *storage.Manager, rg, name string) error {
	plan, err := m.PlanDelete(ctx, rg, name)
	if err != nil {
		return err
	}
	p := a.Printer()
	s := plan.Storage
	p.Infof("This deletes storage %s in resource group %s:", s.Name, rg)
	p.Infof("  storage account %s with its %s (%s, %s used)", s.Account, s.Tier.ShareWord(), storage.FormatGiB(s.SizeGiB), used(s))
	for _, pe := range plan.PrivateEndpoints {
		p.Infof("  private endpoint %s and its DNS zone group", pe)
	}
	p.Infof("The VNet, subnet and private DNS zone stay.")
	p.Warnf("All data on %s is lost. This cannot be undone.", s.Name)
	if !a.flags.dryRun {
		if err := a.Confirm(fmt.Sprintf("Delete storage %s and all its data?", s.Name)); err != nil {
			return err
		}
	}
	prog := p.StartProgress("Deleting storage " + s.Name)
	if err := m.Delete(ctx, plan, prog.Step); err != nil {
		prog.Fail("")
		return err
	}
	if a.flags.dryRun {
		prog.Done("Dry run: the az commands above are the plan; nothing was deleted")
	} else {
		prog.Done("Deleted storage " + s.Name)
		a.storageNameChanged(rg, s.Name, false)
	}
	return nil
}
