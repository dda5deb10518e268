package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/cloudinit"
	"github.com/azlin-dev/azlin/internal/config"
	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/network"
	"github.com/azlin-dev/azlin/internal/output"
	"github.com/azlin-dev/azlin/internal/sharedhome"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/tags"
	"github.com/azlin-dev/azlin/internal/vmprov"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// newVMCmds returns the top-level VM commands: new, list, ssh, delete.
func newVMCmds(a *app) []*cobra.Command {
	return []*cobra.Command{newNewCmd(a), newListCmd(a), newSSHCmd(a), newDeleteCmd(a)}
}

// vmView is one VM as `list` and `new` show it; its JSON form is the
// documented -o json schema of both commands.
type vmView struct {
	Name          string `json:"name"`
	State         string `json:"state"`
	Size          string `json:"size"`
	PublicIP      string `json:"publicIp"`
	PrivateIP     string `json:"privateIp"`
	Region        string `json:"region"`
	ResourceGroup string `json:"resourceGroup"`
	SharedHome    string `json:"sharedHome"` // storage name; "" = local home
}

var vmHeaders = []string{"NAME", "STATE", "SIZE", "IP", "REGION", "SHARED-HOME"}

func viewOf(v vmprov.VM) vmView {
	return vmView{Name: v.Name, State: v.State(), Size: v.Size, PublicIP: v.PublicIP, PrivateIP: v.PrivateIP,
		Region: v.Region, ResourceGroup: v.ResourceGroup, SharedHome: v.SharedHome()}
}

func (v vmView) row() []string {
	ip, home := v.PublicIP, v.SharedHome
	if ip == "" {
		ip = "-"
	}
	if home == "" {
		home = "-"
	}
	return []string{v.Name, v.State, v.Size, ip, v.Region, home}
}

func renderVMs(p *output.Printer, views []vmView) error {
	t := output.Table{Headers: vmHeaders}
	for _, v := range views {
		t.Rows = append(t.Rows, v.row())
	}
	return p.Render(t, views)
}

// probeSSH checks that a VM answers on SSH; tests replace it, since the
// addresses in recorded az output are not loopback addresses.
var probeSSH = vmprov.ProbeSSH

// azlinDir is the config folder: azlin's known_hosts and the VMs'
// cloud-init files live there.
func azlinDir() (string, error) { return config.Dir() }

func newNewCmd(a *app) *cobra.Command {
	var o struct {
		name, size, region, image, sharedHome string
		noWait                                bool
		timeout                               time.Duration
	}
	cmd := &cobra.Command{
		Use:   "new",
		Short: "Create a Linux VM and wait until it answers on SSH",
		Long: joinLines(
			"Create an Ubuntu 22.04 VM for development in the resource group, in azlin's",
			"virtual network (created if missing), reachable over SSH with azlin's own key",
			"(created once in the config folder if missing). The VM's login is azureuser.",
			"",
			"azlin waits until Azure reports the VM running and its SSH server answers,",
			"up to --timeout; --no-wait returns as soon as Azure accepted the request.",
			"The VM's hourly and monthly cost is shown before it is created.",
			"",
			"Names: 1-64 lowercase letters, digits and hyphens, not starting or ending with",
			"a hyphen; without --name azlin picks azlin-YYYYMMDD-HHMMSS. A name already used",
			"in the resource group is refused before anything is created.",
		),
		Example: joinLines(
			"  azlin new --name dev-1",
			"  azlin new --name gpu-box --size Standard_D8s_v5 --region westus2",
			"  azlin new --name quick --no-wait",
		),
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			name := o.name
			if name == "" {
				name = "azlin-" + time.Now().Format("20060102-150405")
			}
			if err := vmprov.ValidateName(name); err != nil {
				return err
			}
			cfg, err := a.Config()
			if err != nil {
				return err
			}
			size := o.size
			if size == "" {
				size = cfg.DefaultVMSize
			}
			if err := vmprov.ValidateSize(size); err != nil {
				return err
			}
			if flagChanged(cmd.Flags(), "image") && o.image == "" {
				return clierr.Usagef("--image must not be empty")
			}
			if o.region != "" { // checked now, so that a bad --region costs no az call
				if _, err := config.ResolveRegion(o.region, cfg, nil); err != nil {
					return err
				}
			}
			if o.timeout <= 0 {
				return clierr.Usagef("--timeout must be positive, e.g. 10m")
			}
			if flagChanged(cmd.Flags(), "shared-home") {
				if err := storage.ValidateName(o.sharedHome); err != nil {
					return err
				}
				if o.noWait {
					return clierr.Usagef("--shared-home waits for the home to be mounted; it cannot be combined with --no-wait")
				}
			}
			rg, err := a.ResourceGroup()
			if err != nil {
				return err
			}
			dir, err := azlinDir()
			if err != nil {
				return err
			}
			c, err := a.Azure(ctx)
			if err != nil {
				return err
			}
			region, err := config.ResolveRegion(o.region, cfg, func() (string, error) { return groupLocation(ctx, c, rg) })
			if err != nil {
				return err
			}
			return runNew(ctx, a, c, newPlan{
				rg: rg, name: name, region: region, size: size, image: o.image,
				noWait: o.noWait, timeout: o.timeout, cfg: cfg, dir: dir, sharedHome: o.sharedHome,
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.name, "name", "", "VM name (default azlin-YYYYMMDD-HHMMSS)")
	f.StringVar(&o.size, "size", "", "VM size (default: default_vm_size in the config, Standard_D2s_v5)")
	f.StringVar(&o.region, "region", "", "Azure region (default: default_region in the config, else the resource group's region)")
	f.StringVar(&o.image, "image", vmprov.DefaultImage, "OS image URN; azlin is tested with Ubuntu 22.04")
	f.StringVar(&o.sharedHome, "shared-home", "", "storage (azlin storage create) whose NFS share becomes the VM's /home/azureuser")
	f.BoolVar(&o.noWait, "no-wait", false, "return once Azure accepted the request, without waiting for the VM")
	f.DurationVar(&o.timeout, "timeout", vmprov.DefaultWaitTimeout, "how long to wait for the VM to answer on SSH")
	return cmd
}

// newPlan is a validated `azlin new`.
type newPlan struct {
	rg, name, region, size, image string
	noWait                        bool
	timeout                       time.Duration
	cfg                           *config.Config
	dir                           string // azlin's config folder
	sharedHome                    string // storage name; "" = a local home
}

func runNew(ctx context.Context, a *app, c *azcli.Client, n newPlan) error {
	p := a.Printer()
	m := vmprov.NewManager(c)
	prices := a.prices()
	// Before anything is created: the name is free and the storage exists
	// (no VM without its home). Two independent reads, run at once.
	var home *storage.Storage
	var g errgroup.Group
	g.Go(func() error { return m.CheckNameFree(ctx, n.rg, n.name) })
	if n.sharedHome != "" {
		g.Go(func() (err error) {
			if home, err = storage.NewManager(c, prices).Find(ctx, n.rg, n.sharedHome); err != nil {
				return fmt.Errorf("%w\nNo VM was created", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	var homeLayout layout.Resolved
	if home != nil {
		var err error
		if homeLayout, err = scriptLayout(home.Layout); err != nil {
			return fmt.Errorf("%w\nNo VM was created", err)
		}
	}

	if est := prices.VM(n.region, n.size); est.Priced {
		p.Infof("Cost of %s in %s: about %s/hour, %s/month if left running (%s).", n.size, n.region, est.Hourly, est.Monthly, est.Basis)
	} else {
		p.Infof("Cost of %s in %s: unknown (%s).", n.size, n.region, est.Reason)
	}

	key := vmprov.KeyPairAt(n.cfg.SSHKeyPath)
	if c.DryRun() && !key.Exists() {
		p.Infof("Would create azlin's SSH key at %s.", key.Private)
	} else {
		k, created, err := vmprov.EnsureKeyPair(ctx, n.cfg.SSHKeyPath)
		if err != nil {
			return err
		}
		if created {
			p.Infof("Created azlin's SSH key %s (used for every azlin VM).", k.Private)
		}
	}

	subnet, err := network.NewManager(c).EnsureSubnet(ctx, n.rg, n.region, network.Names{
		VNet: n.cfg.VNetName, VNetPrefix: n.cfg.VNetPrefix, Subnet: n.cfg.SubnetName, SubnetPrefix: n.cfg.SubnetPrefix})
	if err != nil {
		return err
	}

	spec := vmprov.CreateSpec{
		ResourceGroup:  n.rg,
		Name:           n.name,
		Region:         n.region,
		Size:           n.size,
		Image:          n.image,
		PublicKeyPath:  key.Public,
		CustomDataPath: cloudInitPath(n.dir, n.name),
		VNet:           subnet.VNet,
		Subnet:         subnet.Name,
		NoWait:         n.noWait,
	}
	cloud := vmprov.PlainCloudConfig(n.name)
	if home != nil {
		// The shared home's part runs first, so that the plain part's
		// "cloud-init done" marker stays the last thing cloud-init does.
		keys, err := a.azlinPublicKey()
		if err != nil {
			return err
		}
		part, err := vmscript.CloudInitPart(vmscript.AttachParams{Target: sharedhome.Target(home), AuthorizedKeys: keys, Layout: homeLayout})
		if err != nil {
			return err
		}
		cloud = cloudinit.Merge(part, cloud)
	}
	prog := p.StartProgress(fmt.Sprintf("Creating VM %s (%s) in %s", n.name, n.size, n.region))
	prog.Step("Azure is creating the VM, its disk, network interface and public IP")
	if err := m.Create(ctx, spec, cloud); err != nil {
		prog.Fail("")
		if ctx.Err() != nil {
			return interruptedNew(n)
		}
		return err
	}
	if c.DryRun() {
		prog.Done("Dry run: nothing was created")
		return nil
	}
	if n.noWait {
		prog.Done(fmt.Sprintf("Azure accepted VM %s; it is still being provisioned", n.name))
		p.Infof("See its state: azlin list -g %s   Connect once it is running: azlin ssh %s -g %s", n.rg, n.name, n.rg)
		return renderVMs(p, []vmView{{Name: n.name, State: "creating", Size: n.size, Region: n.region, ResourceGroup: n.rg}})
	}

	vm, err := m.WaitReady(ctx, n.rg, n.name, vmprov.WaitOptions{Timeout: n.timeout, Probe: probeSSH, Progress: prog.Step})
	if err != nil {
		prog.Fail("")
		if ctx.Err() != nil {
			return interruptedNew(n)
		}
		return fmt.Errorf("%w\nThe VM exists and may still come up: azlin list -g %s shows its state; azlin delete %s -g %s removes it", err, n.rg, n.name, n.rg)
	}
	// Azure reuses public IPs: forget a host key a deleted VM left for this IP.
	if err := vmprov.ForgetHost(ctx, filepath.Join(n.dir, knownHostsFile), vm.PublicIP); err != nil {
		p.Warnf("could not clear an old host key for %s from azlin's known_hosts: %v", vm.PublicIP, err)
	}
	var homeInfo map[string]string
	if home != nil {
		if homeInfo, err = waitSharedHome(ctx, m, n, home, prog); err != nil {
			prog.Fail("")
			return err
		}
		if vm.Tags == nil {
			vm.Tags = map[string]string{}
		}
		vm.Tags[tags.Storage] = home.Name
	}
	prog.Done(fmt.Sprintf("VM %s is ready at %s", n.name, vm.PublicIP))
	if home != nil {
		reportScriptInfo(p, n.name, homeInfo)
		printVSCodeSettings(p, []string{n.name})
	}
	p.Infof("Connect: azlin ssh %s", n.name)
	return renderVMs(p, []vmView{viewOf(vm)})
}

// waitSharedHome waits (bounded by --timeout) for cloud-init's attach of
// the shared home to report its result, then records it on the VM with the
// storage tag, and returns what the attach script reported (as attach's).
// A failed attach leaves the VM with its local home, and the error names the
// command that finishes the job.
func waitSharedHome(ctx context.Context, m *vmprov.Manager, n newPlan, home *storage.Storage, prog output.Progress) (map[string]string, error) {
	finish := fmt.Sprintf("The VM works with its local home; to move it onto the share: azlin storage attach %s --vm %s -g %s",
		home.Name, n.name, n.rg)
	prog.Step("cloud-init is mounting the shared home " + home.Name)
	deadline := time.Now().Add(n.timeout)
	for {
		stdout, _, err := m.RunRaw(ctx, n.rg, n.name, vmscript.CloudInitStatusScript())
		if err != nil {
			if ctx.Err() != nil {
				return nil, interruptedNew(n)
			}
			return nil, fmt.Errorf("%w\n%s", err, finish)
		}
		done, res, err := vmscript.ParseCloudInitStatus(stdout)
		switch {
		case done && err != nil:
			return nil, fmt.Errorf("mounting the shared home on VM %s ended without a result (see %s on the VM)\n%s",
				n.name, vmscript.CloudInitLogFile, finish)
		case done && !res.OK:
			return nil, fmt.Errorf("mounting the shared home on VM %s failed: %w\n%s", n.name, res.Err(), finish)
		case done:
			prog.Step("recording the shared home on the VM")
			return res.Info, m.SetTag(ctx, n.rg, n.name, tags.Storage, home.Name)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the shared home was not mounted on VM %s within %s (cloud-init may still be working; its log: %s)\n%s",
				n.name, n.timeout, vmscript.CloudInitLogFile, finish)
		}
		select {
		case <-ctx.Done():
			return nil, interruptedNew(n)
		case <-time.After(sharedHomePollInterval):
		}
	}
}

// sharedHomePollInterval spaces the run-command calls that ask a new VM
// whether its shared home is mounted (each is an az call of its own).
var sharedHomePollInterval = 3 * time.Second

// interruptedNew says what an interrupted `new` may have left running.
// It does not wrap context.Canceled, so that the message is printed.
func interruptedNew(n newPlan) error {
	return fmt.Errorf("stopped waiting for VM %s, but Azure may still be creating it (and billing for it once it runs). "+
		"See it: azlin list -g %s; delete it: azlin delete %s -g %s", n.name, n.rg, n.name, n.rg)
}

// cloudInitPath is where `new` keeps the cloud-init document it sent for a VM
// (so the user can see exactly what the VM was given).
func cloudInitPath(dir, vm string) string { return filepath.Join(dir, "cloud-init", vm+".yaml") }

const knownHostsFile = "known_hosts"

// groupLocation is the resource group's region (one `az group show`).
func groupLocation(ctx context.Context, c *azcli.Client, rg string) (string, error) {
	var g struct {
		Location string `json:"location"`
	}
	if err := c.Read(ctx, &g, "group", "show", "-n", rg); err != nil {
		if errors.Is(err, azcli.ErrNotFound) {
			return "", fmt.Errorf("resource group %s does not exist (create it: az group create -n %s -l REGION): %w", rg, rg, err)
		}
		return "", err
	}
	return g.Location, nil
}

func newListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the VMs in the resource group",
		Long: joinLines(
			"List the VMs in the resource group with their state, size, public IP, region",
			"and shared home (the storage whose share is their /home/azureuser, from the",
			"VM's azlin-storage tag; - for a local home).",
			"",
			"-o json prints a list of {name, state, size, publicIp, privateIp, region,",
			"resourceGroup, sharedHome}.",
		),
		Example: "  azlin list\n  azlin list -g my-rg -o json",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			rg, err := a.ResourceGroup()
			if err != nil {
				return err
			}
			c, err := a.Azure(ctx)
			if err != nil {
				return err
			}
			vms, err := vmprov.NewManager(c).List(ctx, rg)
			if err != nil {
				return err
			}
			views := make([]vmView, 0, len(vms))
			for _, v := range vms {
				views = append(views, viewOf(v))
			}
			p := a.Printer()
			if len(views) == 0 && p.Format != output.FormatJSON {
				p.Infof("No VMs in resource group %s. Create one: azlin new --name NAME", rg)
				return nil
			}
			return renderVMs(p, views)
		},
	}
}

func newDeleteCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "delete VM",
		Short: "Delete a VM with its disk, network interface and public IP",
		Long: joinLines(
			"Delete an azlin VM and what `az vm delete` would leave behind: its OS disk,",
			"network interface and public IP. Asks first (--yes answers for you; it is",
			"required when not running interactively). The network and its security",
			"group, shared by all azlin VMs, stay.",
			"",
			"A VM with a shared home needs no detach first: the files on the share stay",
			"there. Running delete again after a failure removes whatever is left.",
			"azlin deletes only VMs it created (tag azlin-managed=true).",
		),
		Example: "  azlin delete dev-1\n  azlin delete dev-1 --yes",
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			name := args[0]
			if err := vmprov.ValidateName(name); err != nil {
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
			m := vmprov.NewManager(c)
			plan, err := m.PlanDelete(ctx, rg, name)
			if err != nil {
				return err
			}
			p := a.Printer()
			parts := fmt.Sprintf("OS disk %s, network interface %s and public IP %s",
				plan.OSDisk, joinNames(plan.NICs), plan.PublicIP)
			prompt := fmt.Sprintf("Delete VM %s in resource group %s, with its %s?", name, rg, parts)
			if plan.VM == nil {
				p.Infof("There is no VM %s in resource group %s; azlin will remove what may be left of it: %s.", name, rg, parts)
				prompt = fmt.Sprintf("Remove the leftovers of VM %s in resource group %s?", name, rg)
			} else if s := plan.VM.SharedHome(); s != "" {
				p.Infof("Its home directory is on shared storage %s: the files there stay.", s)
			}
			if err := a.Confirm(prompt); err != nil {
				return err
			}
			prog := p.StartProgress("Deleting VM " + name)
			if err := m.Delete(ctx, plan, prog.Step); err != nil {
				prog.Fail("")
				return err
			}
			if c.DryRun() {
				prog.Done("Dry run: nothing was deleted")
				return nil
			}
			if dir, err := azlinDir(); err == nil {
				_ = os.Remove(cloudInitPath(dir, name))
			}
			prog.Done(fmt.Sprintf("Deleted VM %s and its disk, network interface and public IP", name))
			return nil
		},
	}
}

func joinNames(xs []string) string {
	switch len(xs) {
	case 0:
		return "-"
	case 1:
		return xs[0]
	}
	s := xs[0]
	for _, x := range xs[1:] {
		s += ", " + x
	}
	return s
}
