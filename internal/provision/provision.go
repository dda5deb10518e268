// Package provision is the use case behind `azlin new`: a VM in azlin's
// network with azlin's SSH key, and, with a shared home, a cloud-init part
// that mounts the storage's share as its home at first boot. It joins the
// VM (package vmprov), the network, the storage, and the script that runs on
// the VM (package vmscript). It reports progress through UI and never prints
// the VM itself: the command renders the Result.
package provision

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/cloudinit"
	"github.com/azlin-dev/azlin/internal/cost"
	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/network"
	"github.com/azlin-dev/azlin/internal/output"
	"github.com/azlin-dev/azlin/internal/sharedhome"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/tags"
	"github.com/azlin-dev/azlin/internal/vmprov"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// UI is where the use case reports what it does (an *output.Printer).
type UI interface {
	Infof(format string, args ...any)
	Warnf(format string, args ...any)
	StartProgress(msg string) output.Progress
}

// Request is a validated `azlin new`.
type Request struct {
	ResourceGroup, Name, Region, Size, Image string
	NoWait                                   bool
	Timeout                                  time.Duration
	SSHKeyPath                               string        // azlin's private key; created when missing
	Network                                  network.Names // the VNet and subnet the VM joins
	ConfigDir                                string        // azlin's config folder (known_hosts, cloud-init copies)
	SharedHome                               string        // storage name; "" = a local home
	SSHFrom                                  string        // CIDR the NSG's azlin-ssh rule must allow (checked by the caller)
	// HostKeyAlias names the new VM's host key in azlin's known_hosts
	// (namecache.HostKeyAlias): a key left under it by an earlier VM of the
	// same name is forgotten, and the first SSH session learns the new one.
	HostKeyAlias string

	// ResolveLayout gives what the scripts apply for a storage's layout
	// name (built in, or a user's layout file on this machine).
	ResolveLayout func(name string) (layout.Resolved, error)
	// AuthorizedKeys are the keys that must keep working once the home
	// (and so ~/.ssh) is on the share.
	AuthorizedKeys func() ([]string, error)
	// Probe checks that a VM answers on SSH; nil is vmprov.ProbeSSH (tests
	// replace it: recorded az output has no loopback addresses).
	Probe func(ctx context.Context, ip string) error
	// SSH runs the session that waits for a new VM's shared home; nil is
	// vmprov.RunSSH("") (ssh on PATH).
	SSH vmprov.SSHRunner
	// PollInterval spaces the run-command calls that ask a new VM whether
	// its shared home is mounted when SSH does not get through (each is an
	// az call of its own); 0 is DefaultPollInterval.
	PollInterval time.Duration
}

// DefaultPollInterval is how often `new` asks a VM through run-command
// whether its shared home is mounted: a run-command takes 20 seconds or
// more on Azure, and one sent while another runs is refused (Conflict).
const DefaultPollInterval = 20 * time.Second

// Result is what `new` made.
type Result struct {
	// Accepted is true when Azure took the request but azlin did not wait
	// (--no-wait): VM holds only what was asked for.
	Accepted bool
	DryRun   bool
	VM       vmprov.VM
	// HomeInfo is what the shared home's attach script reported on the VM
	// (layout, conflicts, self-test, break-glass); nil for a local home.
	HomeInfo map[string]string
}

// Provisioner creates VMs.
type Provisioner struct {
	AZ     *azcli.Client
	Prices *cost.Table
	UI     UI
}

// New creates the VM req asks for and waits, up to req.Timeout, until it
// answers on SSH and (with a shared home) its home is on the share.
func (pv *Provisioner) New(ctx context.Context, req Request) (*Result, error) {
	c, p := pv.AZ, pv.UI
	if req.Probe == nil {
		req.Probe = vmprov.ProbeSSH
	}
	if req.PollInterval <= 0 {
		req.PollInterval = DefaultPollInterval
	}
	if req.SSH == nil {
		req.SSH = vmprov.RunSSH("")
	}
	m := vmprov.NewManager(c)
	// Before anything is created: the name is free and the storage exists
	// (no VM without its home). Two independent reads, run at once.
	var home *storage.Storage
	sm := storage.NewManager(c, pv.Prices)
	var g errgroup.Group
	g.Go(func() error { return m.CheckNameFree(ctx, req.ResourceGroup, req.Name) })
	if req.SharedHome != "" {
		g.Go(func() (err error) {
			if home, err = sm.FindWithUsage(ctx, req.ResourceGroup, req.SharedHome); err != nil {
				return fmt.Errorf("%w\nNo VM was created", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var homeLayout layout.Resolved
	if home != nil {
		if w := home.FullnessWarning(); w != "" {
			p.Warnf("%s", w)
		}
		var err error
		if homeLayout, err = req.ResolveLayout(home.Layout); err != nil {
			return nil, fmt.Errorf("%w\nNo VM was created", err)
		}
	}

	est := pv.Prices.NewVM(req.Region, req.Size)
	if est.Compute.Priced {
		p.Infof("Cost of %s in %s: about %s/hour, %s/month if left running (%s).", req.Size, req.Region, est.Compute.Hourly, est.Compute.Monthly, est.Compute.Basis)
	} else {
		p.Infof("Cost of %s in %s: unknown (%s).", req.Size, req.Region, est.Compute.Reason)
	}
	p.Infof("Billed while the VM exists, running or not: OS disk %s; public IP %s.", estimateText(est.OSDisk), estimateText(est.PublicIP))
	if est.Priced {
		p.Infof("In all: about %s/month if left running.", est.Monthly)
	}

	key := vmprov.KeyPairAt(req.SSHKeyPath)
	if c.DryRun() && !key.Exists() {
		p.Infof("Would create azlin's SSH key at %s.", key.Private)
	} else {
		k, created, err := vmprov.EnsureKeyPair(ctx, req.SSHKeyPath)
		if err != nil {
			return nil, err
		}
		if created {
			p.Infof("Created azlin's SSH key %s (used for every azlin VM).", k.Private)
		}
	}

	net := network.NewManager(c)
	subnet, created, err := net.EnsureSubnet(ctx, req.ResourceGroup, req.Region, req.Network)
	// beforeVM is an error before the VM: it says what the network steps made.
	beforeVM := func(err error) error {
		if len(created) > 0 {
			return fmt.Errorf("%w\nWhat exists now: %s (kept for the next VM); no VM was created", err, strings.Join(created, ", "))
		}
		return err
	}
	if err != nil {
		return nil, beforeVM(err)
	}
	// A NIC must be in its VNet's region: az would fail at the NIC, after
	// the public IP and NSG of the deployment were made.
	if subnet.Location != "" && !strings.EqualFold(strings.ReplaceAll(subnet.Location, " ", ""), req.Region) {
		return nil, fmt.Errorf("virtual network %s is in %s, but the VM would be in %s: a VM's network interface must be in its VNet's region. "+
			"Use --region %s, or another VNet in %s (config vnet_name). No VM was created",
			subnet.VNet, subnet.Location, req.Region, subnet.Location, req.Region)
	}

	// azlin makes the NSG and its SSH rule itself: vm create's own rule would
	// open port 22 to "*" (see docs/azure-facts.md "SSH to the VM").
	nsg := vmprov.NSGFor(subnet.VNet)
	access, err := net.EnsureSSHFrom(ctx, req.ResourceGroup, subnet.Location, nsg, req.SSHFrom)
	if err != nil {
		return nil, beforeVM(err)
	}
	if access.OpenRule != "" {
		p.Warnf("Network security group %s has rule %s, which opens SSH to the whole internet (made by an older azlin); azlin leaves it alone. Remove it with: %s",
			nsg, access.OpenRule, network.RemoveOpenRuleCommand(req.ResourceGroup, nsg, access.OpenRule))
	}

	spec := vmprov.CreateSpec{
		ResourceGroup:  req.ResourceGroup,
		Name:           req.Name,
		Region:         req.Region,
		Size:           req.Size,
		Image:          req.Image,
		PublicKeyPath:  key.Public,
		CustomDataPath: CloudInitPath(req.ConfigDir, req.Name),
		VNet:           subnet.VNet,
		Subnet:         subnet.Name,
		NoWait:         req.NoWait,
	}
	cloud := vmprov.PlainCloudConfig(req.Name)
	if home != nil {
		// The shared home's part runs first, so that the plain part's
		// "cloud-init done" marker stays the last thing cloud-init does.
		keys, err := req.AuthorizedKeys()
		if err != nil {
			return nil, err
		}
		part, err := vmscript.CloudInitPart(vmscript.AttachParams{Target: sharedhome.Target(home), AuthorizedKeys: keys, Layout: homeLayout})
		if err != nil {
			return nil, err
		}
		cloud = cloudinit.Merge(part, cloud)
	}
	prog := p.StartProgress(fmt.Sprintf("Creating VM %s (%s) in %s", req.Name, req.Size, req.Region))
	prog.Step("Azure is creating the VM, its disk, network interface and public IP")
	if err := m.Create(ctx, spec, cloud); err != nil {
		prog.Fail("")
		if ctx.Err() != nil {
			return nil, interrupted(req)
		}
		return nil, err
	}
	if c.DryRun() {
		prog.Done("Dry run: nothing was created")
		return &Result{DryRun: true}, nil
	}
	if req.NoWait {
		prog.Done(fmt.Sprintf("Azure accepted VM %s; it is still being provisioned", req.Name))
		return &Result{Accepted: true, VM: vmprov.VM{Name: req.Name, Size: req.Size, Region: req.Region, ResourceGroup: req.ResourceGroup}}, nil
	}

	vm, err := m.WaitReady(ctx, req.ResourceGroup, req.Name, vmprov.WaitOptions{Timeout: req.Timeout, Probe: req.Probe, Progress: prog.Step})
	if err != nil {
		prog.Fail("")
		if ctx.Err() != nil {
			return nil, interrupted(req)
		}
		return nil, fmt.Errorf("%w\nThe VM exists and may still come up: azlin list -g %s shows its state; azlin delete %s -g %s removes it",
			err, req.ResourceGroup, req.Name, req.ResourceGroup)
	}
	// Azure reuses public IPs and names: forget a host key a deleted VM left
	// for this IP or under this VM's alias.
	for _, host := range []string{vm.PublicIP, req.HostKeyAlias} {
		if host == "" {
			continue
		}
		if err := vmprov.ForgetHost(ctx, KnownHostsPath(req.ConfigDir), host); err != nil {
			p.Warnf("could not clear an old host key for %s from azlin's known_hosts: %v", host, err)
		}
	}
	res := &Result{VM: vm}
	if home != nil {
		if res.HomeInfo, err = waitSharedHome(ctx, m, p, req, vm, home, prog); err != nil {
			prog.Fail("")
			return nil, err
		}
		// The storage is in use again: its unused record goes. Failing is
		// harmless while a VM uses it (the record is read only when none does).
		if err := sm.NoteVMArrived(ctx, home); err != nil {
			p.Warnf("%v (harmless while a VM uses the storage)", err)
		}
		if vm.Tags == nil {
			res.VM.Tags = map[string]string{}
		}
		res.VM.Tags[tags.Storage] = home.Name
	}
	prog.Done(fmt.Sprintf("VM %s is ready at %s", req.Name, vm.PublicIP))
	return res, nil
}

// waitSharedHome waits (bounded by the request's timeout) for cloud-init's
// attach of the shared home to report its result, then records it on the VM
// with the storage tag, and returns what the attach script reported (as
// attach's). It waits in one SSH session; when SSH does not get through
// (an NSG, a key), it asks through run-command instead, slowly. A failed
// attach leaves the VM with its local home, and the error names the command
// that finishes the job.
func waitSharedHome(ctx context.Context, m *vmprov.Manager, ui UI, req Request, vm vmprov.VM, home *storage.Storage, prog output.Progress) (map[string]string, error) {
	finish := fmt.Sprintf("The VM works with its local home; to move it onto the share: azlin storage attach %s --vm %s -g %s",
		home.Name, req.Name, req.ResourceGroup)
	prog.Step("cloud-init is mounting the shared home " + home.Name)
	deadline := time.Now().Add(req.Timeout)
	w, err := waitOverSSH(ctx, req, vm)
	if err != nil {
		if ctx.Err() != nil {
			return nil, interrupted(req)
		}
		ui.Warnf("could not wait for the shared home over SSH (%v); asking VM %s through Azure's run-command every %s instead "+
			"(each takes 20 seconds or more on Azure)", err, req.Name, req.PollInterval)
		if w, err = pollRunCommand(ctx, m, req, deadline); err != nil {
			if ctx.Err() != nil {
				return nil, interrupted(req)
			}
			return nil, fmt.Errorf("%w\n%s", err, finish)
		}
	}
	switch {
	case w.Done && w.Err != nil:
		return nil, fmt.Errorf("mounting the shared home on VM %s ended without a result (see %s on the VM)\n%s",
			req.Name, vmscript.CloudInitLogFile, finish)
	case w.Done && !w.Result.OK:
		return nil, fmt.Errorf("mounting the shared home on VM %s failed: %w\n%s", req.Name, w.Result.Err(), finish)
	case w.Done:
		prog.Step("recording the shared home on the VM")
		return w.Result.Info, m.SetTag(ctx, vm, tags.Storage, home.Name)
	case w.TimedOut:
		return nil, fmt.Errorf("the shared home was not mounted on VM %s within %s (cloud-init may still be working; its log: %s)\n%s",
			req.Name, req.Timeout, vmscript.CloudInitLogFile, finish)
	default:
		return nil, fmt.Errorf("cloud-init finished on VM %s (status %s) without running the shared home's attach "+
			"(see /var/log/cloud-init.log on the VM)\n%s", req.Name, cloudInitStatusName(w.Status), finish)
	}
}

// cloudInitStatusName names `cloud-init status --wait`'s exit status.
func cloudInitStatusName(status int) string {
	switch status {
	case 0:
		return "done"
	case 1:
		return "error"
	case 2:
		return "degraded: done with recoverable errors"
	}
	return fmt.Sprintf("exit %d", status)
}

// waitOverSSH waits for cloud-init in one SSH session, as the admin user
// with azlin's key and known_hosts. Logging in keeps working while the share
// is mounted over the home: the attach installs the keys outside the home
// too (break-glass).
func waitOverSSH(ctx context.Context, req Request, vm vmprov.VM) (vmscript.CloudInitWait, error) {
	// The remote wait ends on its own at the timeout; this bound only
	// catches a session that hangs past it.
	ctx, cancel := context.WithTimeout(ctx, req.Timeout+time.Minute)
	defer cancel()
	target := vmprov.SSHTarget{
		KeyPath: req.SSHKeyPath, KnownHosts: KnownHostsPath(req.ConfigDir), HostKeyAlias: req.HostKeyAlias, Host: vm.PublicIP,
		Command: []string{vmscript.CloudInitWaitScript(req.Timeout)}, Batch: true,
	}
	// While the attach swaps the local home for the share (before it puts
	// the break-glass keys in place), sshd finds no authorized_keys for a
	// moment and refuses the key: log in again shortly, for a while.
	retryUntil := time.Now().Add(sshRefusedRetry)
	for {
		stdout, err := req.SSH(ctx, target)
		var se *vmprov.SSHError
		if errors.As(err, &se) && se.Refused() && time.Now().Before(retryUntil) {
			select {
			case <-ctx.Done():
				return vmscript.CloudInitWait{}, ctx.Err()
			case <-time.After(sshRefusedPause):
				continue
			}
		}
		if err != nil {
			return vmscript.CloudInitWait{}, err
		}
		return vmscript.ParseCloudInitWait(stdout)
	}
}

// How long, and how often, waitOverSSH logs in again when sshd refuses the
// key during the attach's swap of the home.
const sshRefusedRetry, sshRefusedPause = time.Minute, 2 * time.Second

// pollRunCommand asks the VM through run-command, every req.PollInterval
// until the deadline, whether the attach has ended.
func pollRunCommand(ctx context.Context, m *vmprov.Manager, req Request, deadline time.Time) (vmscript.CloudInitWait, error) {
	for {
		stdout, _, err := m.RunRaw(ctx, req.ResourceGroup, req.Name, vmscript.CloudInitStatusScript())
		if err != nil {
			return vmscript.CloudInitWait{}, err
		}
		var w vmscript.CloudInitWait
		if w.Done, w.Result, w.Err = vmscript.ParseCloudInitStatus(stdout); w.Done {
			return w, nil
		}
		if time.Now().After(deadline) {
			return vmscript.CloudInitWait{TimedOut: true}, nil
		}
		select {
		case <-ctx.Done():
			return vmscript.CloudInitWait{}, ctx.Err()
		case <-time.After(req.PollInterval):
		}
	}
}

// interrupted says what an interrupted `new` may have left running.
// It does not wrap context.Canceled, so that the message is printed.
func interrupted(req Request) error {
	return fmt.Errorf("stopped waiting for VM %s, but Azure may still be creating it (and billing for it once it runs). "+
		"See it: azlin list -g %s; delete it: azlin delete %s -g %s", req.Name, req.ResourceGroup, req.Name, req.ResourceGroup)
}

// CloudInitPath is where `new` keeps the cloud-init document it sent for a
// VM (so the user can see exactly what the VM was given); `delete` removes it.
func CloudInitPath(configDir, vm string) string {
	return filepath.Join(configDir, "cloud-init", vm+".yaml")
}

// KnownHostsPath is azlin's own known_hosts file, beside its config.
func KnownHostsPath(configDir string) string { return filepath.Join(configDir, "known_hosts") }

// estimateText is "$5.28/month (basis)" or "not priced: reason".
func estimateText(e cost.Estimate) string {
	if !e.Priced {
		return e.String()
	}
	return e.String() + " (" + e.Basis + ")"
}
