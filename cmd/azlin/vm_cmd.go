package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/config"
	"github.com/azlin-dev/azlin/internal/namecache"
	"github.com/azlin-dev/azlin/internal/network"
	"github.com/azlin-dev/azlin/internal/output"
	"github.com/azlin-dev/azlin/internal/provision"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/vmprov"
)

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

// sshSession runs the batch SSH session in which new waits for a shared
// home ($AZLIN_SSH_PATH's ssh); tests replace it.
var sshSession vmprov.SSHRunner = func(ctx context.Context, t vmprov.SSHTarget) (string, error) {
	return vmprov.RunSSH(os.Getenv(envSSHPath))(ctx, t)
}

// azlinDir is the config folder: azlin's known_hosts and the VMs'
// cloud-init files live there.
func azlinDir() (string, error) { return config.Dir() }

// newOptions are `azlin new`'s flags.
type newOptions struct {
	Name, Size, Region, Image, SharedHome string
	SSHFrom                               string // --ssh-from: CIDR SSH is allowed from
	NoWait                                bool
	Timeout                               time.Duration
	// ImageSet and SharedHomeSet tell that the flag was given (even empty).
	ImageSet, SharedHomeSet bool
}

// newNewCmd is `azlin new`; runF, when not nil, replaces the run (tests of
// flag parsing).
func newNewCmd(a *app, runF func(*newOptions) error) *cobra.Command {
	var o newOptions
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
			"With --shared-home, cloud-init mounts the share at first boot, and azlin then",
			"waits (up to --timeout) in one SSH session for cloud-init's result. If SSH does",
			"not get through (an NSG closed to this machine), it says so and asks the VM",
			"through Azure's run-command every 20 seconds instead. A failed mount leaves the",
			"VM with its local home and names the command that finishes the job.",
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
			o.ImageSet, o.SharedHomeSet = flagChanged(cmd.Flags(), "image"), flagChanged(cmd.Flags(), "shared-home")
			if runF != nil {
				return runF(&o)
			}
			return runNew(cmd.Context(), a, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "VM name (default azlin-YYYYMMDD-HHMMSS)")
	f.StringVar(&o.Size, "size", "", "VM size (default: default_vm_size in the config, Standard_D2s_v5)")
	f.StringVar(&o.Region, "region", "", "Azure region (default: default_region in the config, else the resource group's region)")
	f.StringVar(&o.Image, "image", vmprov.DefaultImage, "OS image URN; azlin is tested with Ubuntu 22.04")
	f.StringVar(&o.SSHFrom, "ssh-from", "", "address range (CIDR) the VM lets SSH in from (default: config ssh_from, else your public address)")
	f.StringVar(&o.SharedHome, "shared-home", "", "storage (azlin storage create) whose NFS share becomes the VM's /home/azureuser")
	f.BoolVar(&o.NoWait, "no-wait", false, "return once Azure accepted the request, without waiting for the VM")
	f.DurationVar(&o.Timeout, "timeout", vmprov.DefaultWaitTimeout, "how long to wait for the VM to answer on SSH (and again for its shared home to be mounted)")
	return cmd
}

// runNew checks `azlin new`'s input before any az call, then provisions the
// VM and renders it.
func runNew(ctx context.Context, a *app, o *newOptions) error {
	name := o.Name
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
	size := o.Size
	if size == "" {
		size = cfg.DefaultVMSize
	}
	if err := vmprov.ValidateSize(size); err != nil {
		return err
	}
	if o.ImageSet && o.Image == "" {
		return clierr.Usagef("--image must not be empty")
	}
	if o.Region != "" { // checked now, so that a bad --region costs no az call
		if _, err := config.ResolveRegion(o.Region, cfg, nil); err != nil {
			return err
		}
	}
	if o.Timeout <= 0 {
		return clierr.Usagef("--timeout must be positive, e.g. 10m")
	}
	if o.SharedHomeSet {
		if err := storage.ValidateName(o.SharedHome); err != nil {
			return err
		}
		if o.NoWait {
			return clierr.Usagef("--shared-home waits for the home to be mounted; it cannot be combined with --no-wait")
		}
	}
	sshFrom := o.SSHFrom
	if sshFrom == "" {
		sshFrom = cfg.SSHFrom
	}
	if sshFrom != "" {
		if sshFrom, err = config.ParseSSHFrom(sshFrom); err != nil {
			return err
		}
	}
	rg, err := a.ResourceGroup()
	if err != nil {
		return err
	}
	// The caller's address is asked of a third-party service (--ssh-from and
	// ssh_from avoid it) while az checks the login: the two do not depend on
	// each other.
	discovered := make(chan error, 1)
	if sshFrom == "" {
		go func() {
			var err error
			sshFrom, err = network.DiscoverPublicIP(ctx, os.Getenv(network.EnvPublicIPURL))
			discovered <- err
		}()
	} else {
		discovered <- nil
	}
	dir, err := azlinDir()
	if err != nil {
		return err
	}
	c, err := a.Azure(ctx)
	if err != nil {
		return err
	}
	region, err := config.ResolveRegion(o.Region, cfg, func() (string, error) { return network.GroupLocation(ctx, c, rg) })
	if derr := <-discovered; derr != nil {
		return derr
	}
	if err != nil {
		return err
	}
	p := a.Printer()
	pv := &provision.Provisioner{AZ: c, Prices: a.prices(), UI: p}
	res, err := pv.New(ctx, provision.Request{
		ResourceGroup: rg, Name: name, Region: region, Size: size, Image: o.Image,
		NoWait: o.NoWait, Timeout: o.Timeout, SSHKeyPath: cfg.SSHKeyPath, ConfigDir: dir, SharedHome: o.SharedHome,
		SSHFrom:        sshFrom,
		HostKeyAlias:   namecache.HostKeyAlias(a.sshScope(rg), name),
		Network:        network.Names{VNet: cfg.VNetName, VNetPrefix: cfg.VNetPrefix, Subnet: cfg.SubnetName, SubnetPrefix: cfg.SubnetPrefix},
		ResolveLayout:  scriptLayout,
		AuthorizedKeys: a.azlinPublicKey,
		Probe:          probeSSH,
		SSH:            sshSession,
	})
	switch {
	case err != nil:
		return err
	case res.DryRun:
		return nil
	}
	a.vmNameChanged(rg, name, true)
	_ = namecache.In(dir).ForgetHost(a.sshScope(rg), name) // an earlier VM's address
	if res.Accepted {
		p.Infof("See its state: azlin list -g %s   Connect once it is running: azlin ssh %s -g %s", rg, name, rg)
		return renderVMs(p, []vmView{{Name: name, State: "creating", Size: size, Region: region, ResourceGroup: rg}})
	}
	if res.HomeInfo != nil {
		reportScriptInfo(p, name, res.HomeInfo)
		printVSCodeSettings(p, []string{name})
	}
	p.Infof("Connect: azlin ssh %s", name)
	return renderVMs(p, []vmView{viewOf(res.VM)})
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
		Example: "  azlin list\n  azlin list -g my-rg -o json\n  azlin list -o tsv --query \"[?state=='running'].name\"",
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
			names := make([]string, 0, len(vms))
			for _, v := range vms {
				views = append(views, viewOf(v))
				names = append(names, v.Name)
			}
			a.rememberNames(rg, namecache.VMs, names)
			p := a.Printer()
			if len(views) == 0 && !p.Document() {
				p.Infof("No VMs in resource group %s. Create one: azlin new --name NAME", rg)
				return nil
			}
			return renderVMs(p, views)
		},
	}
}

// deleteOptions are `azlin delete`'s argument.
type deleteOptions struct {
	VM string
}

// newDeleteCmd is `azlin delete`; runF, when not nil, replaces the run
// (tests of flag parsing).
func newDeleteCmd(a *app, runF func(*deleteOptions) error) *cobra.Command {
	var o deleteOptions
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
			o.VM = args[0]
			if runF != nil {
				return runF(&o)
			}
			return runDelete(cmd.Context(), a, &o)
		},
	}
}

// runDelete shows what goes, asks, and deletes the VM with its parts.
func runDelete(ctx context.Context, a *app, o *deleteOptions) error {
	name := o.VM
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
		_ = os.Remove(provision.CloudInitPath(dir, name))
	}
	a.vmNameChanged(rg, name, false)
	a.forgetSSHHost(ctx, rg, name)
	prog.Done(fmt.Sprintf("Deleted VM %s and its disk, network interface and public IP", name))
	if plan.VM != nil && plan.VM.SharedHome() != "" {
		// Was it the storage's last VM? Then the storage is unused from now on.
		home := plan.VM.SharedHome()
		if err := a.storageOn(c).NoteVMLeft(ctx, rg, home, name); err != nil {
			p.Warnf("%v; until a VM attaches and leaves again, azlin storage cleanup counts it as unused since it was created", err)
		}
	}
	return nil
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
