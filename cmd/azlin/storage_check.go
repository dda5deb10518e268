package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/output"
	"github.com/azlin-dev/azlin/internal/sharedhome"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/vmprov"
)

// storageCheckOptions are `azlin storage check`'s argument and flag.
type storageCheckOptions struct {
	Name, VM string
}

// newStorageCheckCmd is `azlin storage check`; runF, when not nil,
// replaces the run (tests of flag parsing).
func newStorageCheckCmd(a *app, runF func(*storageCheckOptions) error) *cobra.Command {
	var o storageCheckOptions
	cmd := &cobra.Command{
		Use:   "check NAME --vm VM",
		Short: "Self-test a shared home: locks, sockets, links, owners, a second VM",
		Long: joinLines(
			"Run probes on the shared home of VM (as azureuser, in a private folder on the",
			"share that is removed afterwards) and print what each found, and what a failure",
			"means for the tools people run there:",
			"  owner        a file made by azureuser belongs to uid/gid 1000 (numeric ids)",
			"  flock        flock(2) locks exclude each other",
			"  fcntl        POSIX byte-range locks exclude each other (SQLite, git)",
			"  mkfifo       a named pipe can be made and passes data",
			"  unix_socket  a Unix socket can be bound and connected",
			"  hard_link    a hard link can be made (skipped on Standard: Blob NFS 3.0 has none)",
			"  rename       renaming over a file replaces it",
			"  tls          Premium encrypted in transit: the home is mounted through AZNFS's",
			"               TLS tunnel (from 127.0.0.1)",
			"  aznfs        Standard: the home is mounted through AZNFS's proxy address (in its",
			"               mount map), which follows the Blob endpoint when its IP changes; a",
			"               plain NFS mount does not. Not encryption: Blob NFS 3.0 has none.",
			"  peer         a file written on VM is read on another running VM with the same",
			"               home (only when there is one)",
			"Then the share's free space as df on VM reports the mount (for Premium: of its",
			"provisioned size). Attach runs the same probes and prints a summary. Exit 1",
			"when a probe failed.",
			"In the local cloud the share is a bind mount: the probes test the scripts, not NFS.",
		),
		Example: "  azlin storage check shared-dev --vm worker-1\n  azlin storage check shared-dev --vm worker-1 -o json",
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if runF != nil {
				return runF(&o)
			}
			return runStorageCheck(cmd.Context(), a, &o)
		},
	}
	cmd.Flags().StringVar(&o.VM, "vm", "", "VM whose shared home is tested")
	return cmd
}

// runStorageCheck runs the shared-home probes on a VM and prints them.
func runStorageCheck(ctx context.Context, a *app, o *storageCheckOptions) error {
	vm := o.VM
	name := o.Name
	rg, err := a.storageTarget(name)
	if err != nil {
		return err
	}
	if vm == "" {
		return clierr.Usagef("name the VM with --vm")
	}
	if err := vmprov.ValidateName(vm); err != nil {
		return err
	}
	c, err := a.Azure(ctx)
	if err != nil {
		return err
	}
	p := a.Printer()
	prog := p.StartProgress(fmt.Sprintf("Self-test of storage %s on VM %s", name, vm))
	res, err := a.sharedHomeManager(c).Check(ctx, sharedhome.CheckRequest{
		ResourceGroup: rg, Storage: name, VM: vm, Progress: prog.Step})
	if err != nil {
		prog.Fail("")
		return err
	}
	failed := res.Probes.Failed()
	if failed == 0 {
		prog.Done(fmt.Sprintf("All %d probes passed on VM %s", len(res.Probes), vm))
	} else {
		prog.Fail(fmt.Sprintf("%d of %d probes failed on VM %s", failed, len(res.Probes), vm))
	}
	if res.Peer == "" {
		p.Infof("No other running VM has this home: the write-then-read probe needs one (azlin storage attach %s --vm OTHER).", name)
	}
	t := output.Table{Headers: []string{"PROBE", "RESULT", "DETAIL"}}
	for _, pr := range res.Probes {
		t.Rows = append(t.Rows, []string{pr.Name, pr.Status, orDash(pr.Detail)})
	}
	if err := p.Render(t, map[string]any{"storage": name, "vm": vm, "peer": res.Peer, "probes": res.Probes, "space": res.Space}); err != nil {
		return err
	}
	if sp := res.Space; sp != nil && sp.SizeBytes > 0 {
		p.Infof("Free space on the share (df on VM %s): %s of %s (%d%% used)", vm, storage.FormatBytes(sp.FreeBytes),
			storage.FormatBytes(sp.SizeBytes), 100-int(sp.FreeBytes*100/sp.SizeBytes))
	}
	warnProbes(p, vm, res.Probes)
	if failed > 0 {
		return fmt.Errorf("%d of %d probes failed on VM %s (what each means is above)", failed, len(res.Probes), vm)
	}
	return nil
}

// warnProbes says on stderr what each failed probe means.
func warnProbes(p *output.Printer, vm string, ps sharedhome.Probes) {
	for _, pr := range ps {
		if !pr.OK() {
			p.Warnf("%s: probe %s %s (%s): %s", vm, pr.Name, pr.Status, orDash(pr.Detail), pr.Meaning)
		}
	}
}
