package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/output"
	"github.com/azlin-dev/azlin/internal/sharedhome"
	"github.com/azlin-dev/azlin/internal/vmprov"
)

// storageDetachOptions are `azlin storage detach`'s flags.
type storageDetachOptions struct {
	VM    string
	Force bool
}

// newStorageDetachCmd is `azlin storage detach`; runF, when not nil,
// replaces the run (tests of flag parsing).
func newStorageDetachCmd(a *app, runF func(*storageDetachOptions) error) *cobra.Command {
	var o storageDetachOptions
	cmd := &cobra.Command{
		Use:   "detach --vm VM",
		Short: "Give a VM its own local home directory again",
		Long: joinLines(
			"Copy the shared home to /home/azureuser.local on the VM (the whole tree, checked),",
			"unmount the share, put the copy in place as /home/azureuser and remove azlin's",
			"line from /etc/fstab. The share keeps every file; other VMs are not affected.",
			"A backup made by attach (/home/azureuser.backup) is kept, and its path shown.",
			"",
			"If processes still use the home (an open shell, an editor), detach stops and",
			"names them; --force stops them first. Detaching a VM that has no shared home",
			"does nothing.",
		),
		Example: "  azlin storage detach --vm worker-4\n  azlin storage detach --vm worker-4 --force",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(&o)
			}
			return runStorageDetach(cmd.Context(), a, &o)
		},
	}
	cmd.Flags().StringVar(&o.VM, "vm", "", "VM to detach")
	cmd.Flags().BoolVar(&o.Force, "force", false, "stop processes that keep the home busy")
	return cmd
}

// runStorageDetach checks the VM name, then gives the VM a local home again.
func runStorageDetach(ctx context.Context, a *app, o *storageDetachOptions) error {
	vm := o.VM
	if vm == "" {
		return clierr.Usagef("name the VM with --vm")
	}
	if err := vmprov.ValidateName(vm); err != nil {
		return err
	}
	rg, err := a.ResourceGroup()
	if err != nil {
		return err
	}
	c, err := a.Azure(ctx)
	if err != nil {
		return err
	}
	p := a.Printer()
	prog := p.StartProgress("Detaching VM " + vm)
	res, err := a.sharedHomeManager(c).Detach(ctx, sharedhome.DetachRequest{
		ResourceGroup: rg, VM: vm, Force: o.Force, Progress: prog.Step, Warn: func(msg string) { p.Warnf("%s", msg) }})
	if err != nil {
		prog.Fail("")
		return err
	}
	if c.DryRun() {
		prog.Done("Dry run: nothing was changed")
		return nil
	}
	if res.Already {
		prog.Done(fmt.Sprintf("VM %s has no shared home; nothing to do", vm))
	} else {
		prog.Done(fmt.Sprintf("VM %s has a local home again (a copy of the shared one)", vm))
	}
	if s := res.Info["stopped"]; s != "" {
		p.Infof("Stopped the processes that used the home: %s.", s)
	}
	if b := scriptPath(res.Info["backup"]); b != "" {
		p.Infof("The home it had before attach is kept on the VM at %s.", b)
	}
	if l := res.Info["layout_removed"]; l != "" {
		p.Infof("Layout %s removed from the VM.", l)
	}
	reportLayoutInfo(p, []layoutResultView{{VM: vm, Moved: res.Info["layout_moved"], KeptLocal: res.Info["layout_kept_local"]}})
	return p.Render(output.Table{Headers: []string{"VM", "DETACHED"}, Rows: [][]string{{vm, fmt.Sprint(!res.Already)}}},
		map[string]any{"vm": vm, "detached": !res.Already, "info": res.Info})
}
