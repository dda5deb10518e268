package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/network"
	"github.com/azlin-dev/azlin/internal/output"
	"github.com/azlin-dev/azlin/internal/sharedhome"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/vmprov"
)

// sharedHomeManager builds the shared-home manager on an az client.
func (a *app) sharedHomeManager(c *azcli.Client) *sharedhome.Manager {
	return &sharedhome.Manager{
		VMs:     vmprov.NewManager(c),
		Storage: a.storageOn(c),
		Net:     network.NewManager(c),
	}
}

// azlinPublicKey is azlin's SSH public key, which must keep working on a VM
// whose home (and so ~/.ssh) moves onto a share.
func (a *app) azlinPublicKey() ([]string, error) {
	cfg, err := a.Config()
	if err != nil {
		return nil, err
	}
	k := vmprov.KeyPairAt(cfg.SSHKeyPath)
	b, err := os.ReadFile(k.Public)
	if os.IsNotExist(err) {
		return nil, nil // no azlin key yet: nothing of azlin's to keep working
	}
	if err != nil {
		return nil, fmt.Errorf("reading azlin's SSH public key: %w", err)
	}
	return []string{strings.TrimSpace(string(b))}, nil
}

// attachView is one VM's result, as attach prints it and as -o json.
type attachView struct {
	VM      string `json:"vm"`
	OK      bool   `json:"ok"`
	Result  string `json:"result"`
	Backup  string `json:"backup,omitempty"`
	Seeded  bool   `json:"seeded"`
	Message string `json:"error,omitempty"`
}

// storageAttachOptions are `azlin storage attach`'s argument and flags.
type storageAttachOptions struct {
	Name string
	VMs  []string // --vm, in the order given, repeats included
}

// newStorageAttachCmd is `azlin storage attach`; runF, when not nil,
// replaces the run (tests of flag parsing).
func newStorageAttachCmd(a *app, runF func(*storageAttachOptions) error) *cobra.Command {
	var o storageAttachOptions
	cmd := &cobra.Command{
		Use:   "attach NAME --vm VM [--vm VM...]",
		Short: "Move existing VMs' home directories onto shared storage",
		Long: joinLines(
			"Mount the storage's NFS share as /home/azureuser on each VM, keeping what was there:",
			"",
			"  1. the VM's home is renamed to /home/azureuser.backup (an existing backup is kept;",
			"     the new one gets a timestamp), never deleted;",
			"  2. if the share is empty, the home's files (dotfiles, modes, owners, links) are",
			"     copied onto it; if not, the VM uses the share's files and its own stay in the backup;",
			"  3. the VM's SSH keys (and azlin's) are merged into the share's ~/.ssh/authorized_keys;",
			"  4. the share is mounted with azlin's NFS options and one line in /etc/fstab (_netdev,nofail).",
			"",
			"Everything runs on the VM as one script through az vm run-command (no SSH needed).",
			"If a step fails, the script undoes what it did and the VM keeps its local home.",
			"Running attach again is safe: an attached VM is left as it is. Several --vm run at once.",
		),
		Example: joinLines(
			"  azlin storage attach shared-dev --vm worker-4",
			"  azlin storage attach shared-dev --vm w1 --vm w2 --vm w3",
		),
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if runF != nil {
				return runF(&o)
			}
			return runStorageAttach(cmd.Context(), a, &o)
		},
	}
	cmd.Flags().StringArrayVar(&o.VMs, "vm", nil, "VM to attach (repeat for several)")
	return cmd
}

// runStorageAttach checks the names, then attaches the VMs and reports each.
func runStorageAttach(ctx context.Context, a *app, o *storageAttachOptions) error {
	name := o.Name
	rg, err := a.storageTarget(name)
	if err != nil {
		return err
	}
	if len(o.VMs) == 0 {
		return clierr.Usagef("name at least one VM with --vm")
	}
	var unique []string
	for _, vm := range o.VMs {
		if err := vmprov.ValidateName(vm); err != nil {
			return err
		}
		if !slices.Contains(unique, vm) {
			unique = append(unique, vm)
		}
	}
	keys, err := a.azlinPublicKey()
	if err != nil {
		return err
	}
	c, err := a.Azure(ctx)
	if err != nil {
		return err
	}
	p := a.Printer()
	prog := p.StartProgress(fmt.Sprintf("Attaching %s to storage %s", strings.Join(unique, ", "), name))
	st, results, err := a.sharedHomeManager(c).Attach(ctx, sharedhome.AttachRequest{
		ResourceGroup: rg, Storage: name, VMs: unique, Keys: keys, LayoutFor: scriptLayout,
		Progress: func(vm, step string) { prog.Step(vm + ": " + step) },
		Warn:     func(msg string) { p.Warnf("%s", msg) },
	})
	if err != nil {
		prog.Fail("")
		return err
	}
	if c.DryRun() {
		prog.Done("Dry run: nothing was changed")
		return nil
	}
	return reportAttach(p, prog, st, results)
}

func reportAttach(p *output.Printer, prog output.Progress, st *storage.Storage, results []sharedhome.Result) error {
	var views []attachView
	failed := 0
	t := output.Table{Headers: []string{"VM", "RESULT", "BACKUP OF THE LOCAL HOME"}}
	for _, r := range results {
		// The script reports seeded=yes|no and backup=PATH|none.
		v := attachView{VM: r.VM, OK: r.Err == nil, Backup: scriptPath(r.Info["backup"]), Seeded: r.Info["seeded"] == "yes"}
		switch {
		case r.Err != nil:
			failed++
			v.Result, v.Message = "failed", r.Err.Error()
		case r.Already:
			v.Result = "already attached"
		case v.Seeded:
			v.Result = "attached; its home was copied onto the empty share"
		case v.Backup != "":
			v.Result = "attached; it now uses the share's files (its own are kept in the backup)"
		default:
			v.Result = "attached; it now uses the share's files"
		}
		views = append(views, v)
		backup := v.Backup
		if backup == "" {
			backup = "-"
		}
		t.Rows = append(t.Rows, []string{v.VM, v.Result, backup})
	}
	if failed == 0 {
		prog.Done(fmt.Sprintf("Storage %s is the home of %d VM(s)", st.Name, len(results)))
	} else {
		prog.Fail(fmt.Sprintf("%d of %d VM(s) could not be attached", failed, len(results)))
	}
	if err := p.Render(t, views); err != nil {
		return err
	}
	for _, v := range views {
		if v.Message != "" {
			p.Warnf("%s: %s", v.VM, v.Message)
		}
	}
	reportSharedHomeExtras(p, results)
	if failed > 0 {
		return fmt.Errorf("%d of %d VM(s) were not attached (see above); the others are", failed, len(results))
	}
	return nil
}

// scriptPath is a path the attach/detach scripts reported; they say "none"
// when there is none.
func scriptPath(s string) string {
	if s == "none" {
		return ""
	}
	return s
}
