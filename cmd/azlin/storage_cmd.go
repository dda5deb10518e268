package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/cost"
	"github.com/azlin-dev/azlin/internal/storage"
)

func newStorageCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "storage",
		Short: "Manage shared NFS storage for your VMs' home directories",
		Long: joinLines(
			"Shared storage is an NFS share in Azure that several azlin VMs mount as",
			"/home/azureuser, so a file written in ~ on one VM is there on all of them.",
			"",
			"It is reachable only from inside the resource group's azlin VNet: NFS has no",
			"passwords, so the network is its only lock.",
			"",
			"Tiers:",
			"  Premium   Azure Files NFS 4.1 on SSD (the default); billed on its size.",
			"  Standard  Azure Blob NFS 3.0; billed on the space used, but no file locking",
			"            across VMs, no hard links and much slower with small files.",
		),
		Example: joinLines(
			"  azlin storage create shared-dev --size 1TB",
			"  azlin storage list",
			"  azlin storage status shared-dev",
			"  azlin storage usage shared-dev --days 30",
			"  azlin storage bench shared-dev --vm worker-1   # the share against local disk",
			"  azlin storage resize shared-dev --size 1TB",
			"  azlin storage delete shared-dev",
			"  azlin storage cleanup --unused-for 14d",
		),
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		newStorageCreateCmd(a, nil),
		newStorageListCmd(a),
		newStorageStatusCmd(a, nil),
		newStorageDeleteCmd(a, nil),
		newStorageAttachCmd(a, nil),
		newStorageDetachCmd(a, nil),
		newStorageLayoutCmd(a),
		newStorageCheckCmd(a, nil),
		newStorageBenchCmd(a, nil),
		newStorageUsageCmd(a, nil),
		newStorageResizeCmd(a, nil),
		newStorageCleanupCmd(a, nil),
	)
	return cmd
}

// storageTarget checks a storage name given on the command line and resolves
// the resource group: what every storage subcommand does before any az call.
func (a *app) storageTarget(name string) (rg string, err error) {
	if err := storage.ValidateName(name); err != nil {
		return "", err
	}
	return a.ResourceGroup()
}

// storageManager is the storage manager for a command that has validated its
// input: it checks the az login and loads the price table.
func (a *app) storageManager(ctx context.Context) (*storage.Manager, error) {
	c, err := a.Azure(ctx)
	if err != nil {
		return nil, err
	}
	return a.storageOn(c), nil
}

// storageOn is the storage manager on c, on the app's clock.
func (a *app) storageOn(c *azcli.Client) *storage.Manager {
	m := storage.NewManager(c, a.prices())
	m.Now = a.clock
	return m
}

// clock is the time now (tests fix it with app.now).
func (a *app) clock() time.Time {
	if a.now != nil {
		return a.now()
	}
	return time.Now()
}

// prices is the price table: the built-in one with the cache laid over it,
// fetching a region it lacks when an estimate needs one. A broken cache is
// reported, never fatal.
func (a *app) prices() *cost.Table {
	t, age, path := a.priceTable()
	if age.Warning != "" {
		a.Printer().Warnf("%s", age.Warning)
	}
	return a.onDemand(t, path)
}
