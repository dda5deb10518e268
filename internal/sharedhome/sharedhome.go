// Package sharedhome moves VMs' home directories onto shared storage and
// back: `azlin storage attach`, `azlin storage detach` and the shared-home
// part of `azlin new`. It joins the storage facts (package storage), the
// network (package network), the VM (package vmprov) and the scripts that
// run on the VM (package vmscript). The tag azlin-storage on a VM is the
// record of which storage holds its home (DECISIONS.md 7).
package sharedhome

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/network"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/tags"
	"github.com/azlin-dev/azlin/internal/vmprov"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// Manager attaches and detaches shared homes.
type Manager struct {
	VMs     *vmprov.Manager
	Storage *storage.Manager
	Net     *network.Manager
	// Concurrency bounds how many VMs are worked on at once.
	Concurrency int
	// Timestamp names the backups and copies the scripts make when the plain
	// name is taken; "" means now (vmscript's default). Tests fix it so that
	// the scripts, and so the az argv, are the same on every run.
	Timestamp string

	reachMu sync.Mutex // network changes for several VMs run one at a time

	allowed   map[string]bool // subnets checked (and allowed) by this command, under reachMu
	peMu      sync.Mutex
	peSubnets map[string]peRead // storage account -> where its private endpoint is, read once
}

// Target is where a storage's share is mounted from.
func Target(st *storage.Storage) nfs.Target {
	return nfs.Target{Account: st.Account, Share: st.Name, Tier: st.Tier}
}

// Result is what happened on one VM.
type Result struct {
	VM      string
	Err     error
	Already bool              // it already had this shared home (attach) or none (detach)
	Info    map[string]string // what the VM's script reported (backup path, seeded, ...)
}

// AttachRequest names the storage and the VMs to attach.
type AttachRequest struct {
	ResourceGroup string
	Storage       string
	VMs           []string
	// Keys are public keys that must keep working after the mount (azlin's).
	Keys []string
	// LayoutFor turns the storage's layout name (storage.Storage.Layout)
	// into the layout each VM gets; an error stops the attach before any VM
	// is changed. nil leaves the VMs' layouts as they are.
	LayoutFor func(name string) (layout.Resolved, error)
	// Progress hears what happens on each VM; nil is fine.
	Progress func(vm, step string)
}

// Attach mounts the storage as /home/azureuser on each VM. It first reads
// the storage and every VM (concurrently) and refuses before changing
// anything when the storage is missing; then each VM is attached on its own,
// concurrently: one VM's failure does not stop the others. The returned
// error is for what stopped everything; per-VM failures are in the results.
func (m *Manager) Attach(ctx context.Context, req AttachRequest) (*storage.Storage, []Result, error) {
	progress := req.Progress
	if progress == nil {
		progress = func(string, string) {}
	}
	var st *storage.Storage
	vms := make([]vmprov.VM, len(req.VMs))
	vmErrs := make([]error, len(req.VMs))
	var g errgroup.Group
	g.Go(func() (err error) {
		st, err = m.Storage.Find(ctx, req.ResourceGroup, req.Storage)
		return err
	})
	for i, name := range req.VMs {
		g.Go(func() error {
			vms[i], vmErrs[i] = m.VMs.Show(ctx, req.ResourceGroup, name, true)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	var homeLayout layout.Resolved
	if req.LayoutFor != nil {
		var err error
		if homeLayout, err = req.LayoutFor(st.Layout); err != nil {
			return nil, nil, err
		}
	}

	results := make([]Result, len(req.VMs))
	attachable := 0
	for i, name := range req.VMs {
		results[i].VM = name
		if results[i].Err = vmErrs[i]; results[i].Err == nil {
			results[i].Err = refuseAttach(st, vms[i])
		}
		if results[i].Err == nil {
			attachable++
		}
	}
	w, wctx := errgroup.WithContext(ctx)
	w.SetLimit(m.limit())
	if st.Network.Mode != storage.ServiceEndpoint && attachable > 0 {
		// Where the private endpoint is, read at once, side by side with each
		// VM's NIC; the VMs' reach checks then find it read (or read it, if
		// this read failed, and report that).
		w.Go(func() error {
			_, _ = m.privateEndpointSubnet(wctx, st)
			return nil
		})
	}
	for i, name := range req.VMs {
		if results[i].Err != nil {
			continue
		}
		w.Go(func() error {
			results[i] = m.attachOne(wctx, st, vms[i], req.Keys, homeLayout, func(step string) { progress(name, step) })
			return nil
		})
	}
	_ = w.Wait()
	return st, results, nil
}

func (m *Manager) limit() int {
	if m.Concurrency > 0 {
		return m.Concurrency
	}
	return 16
}

// refuseAttach says why a VM cannot be attached to the storage as it is,
// before anything is read or changed for it.
func refuseAttach(st *storage.Storage, vm vmprov.VM) error {
	rg := st.ResourceGroup
	if !vm.Running() {
		return fmt.Errorf("VM %s is %s; attaching runs a script on it, so start it first: az vm start -g %s -n %s",
			vm.Name, vm.State(), rg, vm.Name)
	}
	if other := vm.SharedHome(); other != "" && other != st.Name {
		return fmt.Errorf("VM %s already has its home on storage %s; detach it first: azlin storage detach --vm %s -g %s",
			vm.Name, other, vm.Name, rg)
	}
	return nil
}

// attachOne attaches a VM that refuseAttach let through.
func (m *Manager) attachOne(ctx context.Context, st *storage.Storage, vm vmprov.VM, keys []string, homeLayout layout.Resolved, step func(string)) Result {
	res := Result{VM: vm.Name}
	rg := st.ResourceGroup
	step("checking that the VM's subnet reaches the storage")
	if err := m.ensureReach(ctx, st, vm); err != nil {
		res.Err = err
		return res
	}
	script, err := vmscript.AttachScript(vmscript.AttachParams{Target: Target(st), AuthorizedKeys: keys, Layout: homeLayout, Timestamp: m.Timestamp})
	if err != nil {
		res.Err = err
		return res
	}
	step("moving the home onto the share (backup, copy, mount, fstab)")
	out, _, _, err := m.VMs.RunScript(ctx, rg, vm.Name, script)
	res.Info = out.Info
	if err != nil {
		rerun := fmt.Sprintf("azlin storage attach %s --vm %s -g %s", st.Name, vm.Name, rg)
		var se *vmprov.ScriptError
		if errors.As(err, &se) && se.Step != "" {
			// A failure marker: the script's rollback ran before it was printed.
			res.Err = fmt.Errorf("%w\nThe script rolled back: VM %s keeps its local home. Re-run when the cause is fixed: %s", err, vm.Name, rerun)
		} else {
			// No marker, or run-command itself failed: whether the script ran,
			// and how far, is unknown. Attach is idempotent, so a re-run settles it.
			res.Err = fmt.Errorf("%w\nWhat the script did on VM %s is unknown (see: azlin ssh %s -g %s -- findmnt /home/azureuser). "+
				"Re-running attach finishes or repairs it: %s", err, vm.Name, vm.Name, rg, rerun)
		}
		return res
	}
	res.Already = out.Info["already"] == "1"
	if vm.SharedHome() != st.Name {
		step("recording the shared home on the VM (tag " + tags.Storage + ")")
		if err := m.VMs.SetTag(ctx, rg, vm.Name, tags.Storage, st.Name); err != nil {
			res.Err = fmt.Errorf("%w\nThe home IS mounted from the share; only the record is missing. Re-run: azlin storage attach %s --vm %s -g %s",
				err, st.Name, vm.Name, rg)
		}
	}
	return res
}

// ensureReach makes sure the VM's subnet may mount the storage. With
// service endpoints, the VM's subnet gets the endpoint and a network rule
// (any subnet in the storage's region). With a private endpoint, the VM must
// be in the VNet that holds it.
func (m *Manager) ensureReach(ctx context.Context, st *storage.Storage, vm vmprov.VM) error {
	subnetID, err := m.VMs.SubnetID(ctx, vm)
	if err != nil {
		return err
	}
	vmRG, vmVNet, vmSubnet, _ := network.ParseSubnetID(subnetID)
	switch st.Network.Mode {
	case storage.ServiceEndpoint:
		// Changes to one subnet or account must not race: one VM at a time.
		// Each subnet is checked once per command: the VMs after the first
		// in the same subnet need no call at all.
		m.reachMu.Lock()
		defer m.reachMu.Unlock()
		if m.allowed[subnetID] {
			return nil
		}
		subnet, err := m.Net.SubnetByID(ctx, subnetID)
		if err != nil {
			return err
		}
		if err := m.Storage.AllowSubnet(ctx, st, subnet); err != nil {
			return err
		}
		if !slices.Contains(st.Network.VNetRules, vmVNet+"/"+vmSubnet) {
			st.Network.VNetRules = append(st.Network.VNetRules, vmVNet+"/"+vmSubnet)
		}
		if m.allowed == nil {
			m.allowed = map[string]bool{}
		}
		m.allowed[subnetID] = true
		return nil
	default:
		peSubnet, err := m.privateEndpointSubnet(ctx, st)
		if err != nil {
			return err
		}
		peRG, peVNet, _, _ := network.ParseSubnetID(peSubnet)
		if !strings.EqualFold(peVNet, vmVNet) || !strings.EqualFold(peRG, vmRG) {
			return fmt.Errorf("VM %s is in virtual network %s, but storage %s is reached through a private endpoint in %s; "+
				"this azlin attaches VMs of that network only. Create the VM there (azlin new uses it), or use storage made with --network service-endpoint",
				vm.Name, vmVNet, st.Name, peVNet)
		}
		return nil
	}
}

// peRead is the one read of where a private endpoint is: its subnet, or why
// it could not be read.
type peRead struct {
	subnetID string
	err      error
}

// privateEndpointSubnet reads where the storage's private endpoint is once,
// however many VMs are being attached; a failed read is not repeated for
// each VM either (a cancelled one is: it says nothing of the endpoint).
func (m *Manager) privateEndpointSubnet(ctx context.Context, st *storage.Storage) (string, error) {
	m.peMu.Lock()
	defer m.peMu.Unlock()
	if r, ok := m.peSubnets[st.Account]; ok {
		return r.subnetID, r.err
	}
	id, err := m.Storage.PrivateEndpointSubnetID(ctx, st)
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if m.peSubnets == nil {
		m.peSubnets = map[string]peRead{}
	}
	m.peSubnets[st.Account] = peRead{id, err}
	return id, err
}

// DetachRequest names the VM to detach.
type DetachRequest struct {
	ResourceGroup string
	VM            string
	Force         bool // stop processes that keep the home busy
	Progress      func(step string)
}

// Detach gives the VM a local home again: a copy of the shared home, made on
// the VM before the share is unmounted; the share keeps every file. A VM
// without a shared home is left alone (Already is true).
func (m *Manager) Detach(ctx context.Context, req DetachRequest) (Result, error) {
	step := req.Progress
	if step == nil {
		step = func(string) {}
	}
	res := Result{VM: req.VM}
	rg := req.ResourceGroup
	vm, err := m.VMs.Show(ctx, rg, req.VM, true)
	if err != nil {
		return res, err
	}
	if !vm.Running() {
		return res, fmt.Errorf("VM %s is %s; detaching runs a script on it, so start it first: az vm start -g %s -n %s",
			vm.Name, vm.State(), rg, vm.Name)
	}
	params := vmscript.DetachParams{Force: req.Force, Timestamp: m.Timestamp}
	if name := vm.SharedHome(); name != "" {
		st, err := m.Storage.Find(ctx, rg, name)
		var nf *storage.NotFoundError
		switch {
		case errors.As(err, &nf):
			// The storage is gone; the script finds the mount from fstab.
		case err != nil:
			return res, err
		default:
			params.Target = Target(st)
		}
	}
	script, err := vmscript.DetachScript(params)
	if err != nil {
		return res, err
	}
	step("copying the shared home to a local one and unmounting the share")
	out, _, _, err := m.VMs.RunScript(ctx, rg, vm.Name, script)
	res.Info = out.Info
	if err != nil {
		return res, fmt.Errorf("%w\nNothing on the share was deleted. Re-run when the cause is fixed: azlin storage detach --vm %s -g %s",
			err, vm.Name, rg)
	}
	// The script reports was_attached_to only when it moved a shared home
	// back to local disk; without it and without a tag there was nothing to do.
	res.Already = out.Info["was_attached_to"] == "" && vm.SharedHome() == ""
	if vm.SharedHome() != "" {
		step("removing the shared-home record from the VM")
		if err := m.VMs.RemoveTag(ctx, rg, vm.Name, tags.Storage); err != nil {
			return res, fmt.Errorf("%w\nThe VM HAS its local home back; only the record is left. Re-run: azlin storage detach --vm %s -g %s",
				err, vm.Name, rg)
		}
	}
	return res, nil
}

// LayoutRequest applies a layout to the VMs whose home is a storage.
type LayoutRequest struct {
	ResourceGroup string
	Storage       string
	Layout        layout.Resolved
	// Progress hears what happens on each VM; nil is fine.
	Progress func(vm, step string)
}

// ApplyLayout records the layout on the storage (its tag), then applies it
// on every VM attached to it (the VMs tagged with the storage), concurrently:
// the scripts take the share's lock in turn. A VM that is not running is
// reported, not started; attach applies the storage's layout when it runs.
func (m *Manager) ApplyLayout(ctx context.Context, req LayoutRequest) (*storage.Storage, []Result, error) {
	progress := req.Progress
	if progress == nil {
		progress = func(string, string) {}
	}
	st, err := m.Storage.Find(ctx, req.ResourceGroup, req.Storage)
	if err != nil {
		return nil, nil, err
	}
	progress("", "recording layout "+req.Layout.Name+" on storage "+st.Name+" (tag azlin-layout)")
	if err := m.Storage.SetLayout(ctx, st, req.Layout.Name); err != nil {
		return st, nil, err
	}
	script, err := vmscript.LayoutScript(vmscript.LayoutParams{Layout: req.Layout, Timestamp: m.Timestamp})
	if err != nil {
		return st, nil, err
	}
	results := make([]Result, len(st.ConnectedVMs))
	w, wctx := errgroup.WithContext(ctx)
	w.SetLimit(m.limit())
	for i, name := range st.ConnectedVMs {
		results[i].VM = name
		w.Go(func() error {
			vm, err := m.VMs.Show(wctx, st.ResourceGroup, name, true)
			if err != nil {
				results[i].Err = err
				return nil
			}
			if !vm.Running() {
				results[i].Err = fmt.Errorf("VM %s is %s; start it (az vm start -g %s -n %s) and apply the layout again: azlin storage layout set %s %s -g %s",
					name, vm.State(), st.ResourceGroup, name, st.Name, req.Layout.Name, st.ResourceGroup)
				return nil
			}
			progress(name, "applying layout "+req.Layout.Name)
			out, _, _, err := m.VMs.RunScript(wctx, st.ResourceGroup, name, script)
			results[i].Info = out.Info
			if err != nil {
				results[i].Err = fmt.Errorf("%w\nNo file was deleted. Re-run when the cause is fixed: azlin storage layout set %s %s -g %s",
					err, st.Name, req.Layout.Name, st.ResourceGroup)
			}
			return nil
		})
	}
	_ = w.Wait()
	return st, results, nil
}

// CheckRequest names the VM whose shared home is self-tested.
type CheckRequest struct {
	ResourceGroup string
	Storage       string
	VM            string
	// Token names the file of the write-then-read probe; "" means a random one.
	Token    string
	Progress func(step string)
}

// CheckResult is the share self-test on one VM.
type CheckResult struct {
	Storage *storage.Storage
	VM      string
	Peer    string // the second VM that read the file VM wrote; "" when none was attached and running
	Probes  []vmscript.Probe
}

// Check runs the share self-test (vmscript.CheckScript) on a VM whose home
// is the storage, and, when another running VM has the same home, the
// write-then-read probe across the two: VM writes a file, the other reads
// and removes it.
func (m *Manager) Check(ctx context.Context, req CheckRequest) (*CheckResult, error) {
	step := req.Progress
	if step == nil {
		step = func(string) {}
	}
	rg := req.ResourceGroup
	st, err := m.Storage.Find(ctx, rg, req.Storage)
	if err != nil {
		return nil, err
	}
	vm, err := m.VMs.Show(ctx, rg, req.VM, true)
	if err != nil {
		return nil, err
	}
	if vm.SharedHome() != st.Name {
		return nil, fmt.Errorf("VM %s does not have storage %s as its home (its record says %q); attach it first: azlin storage attach %s --vm %s -g %s",
			vm.Name, st.Name, vm.SharedHome(), st.Name, vm.Name, rg)
	}
	if !vm.Running() {
		return nil, fmt.Errorf("VM %s is %s; the self-test runs on it, so start it first: az vm start -g %s -n %s", vm.Name, vm.State(), rg, vm.Name)
	}
	res := &CheckResult{Storage: st, VM: vm.Name}
	for _, other := range st.ConnectedVMs {
		if other == vm.Name {
			continue
		}
		if o, err := m.VMs.Show(ctx, rg, other, true); err == nil && o.Running() {
			res.Peer = other
			break
		}
	}
	params := vmscript.CheckParams{}
	if res.Peer != "" {
		params.Peer, params.Token = vmscript.PeerWrite, req.Token
		if params.Token == "" {
			params.Token = randomToken()
		}
	}
	script, err := vmscript.CheckScript(params)
	if err != nil {
		return nil, err
	}
	step("running the probes on VM " + vm.Name)
	out, _, _, err := m.VMs.RunScript(ctx, rg, vm.Name, script)
	if err != nil {
		return nil, fmt.Errorf("the self-test on VM %s did not finish: %w", vm.Name, err)
	}
	info := out.Info
	if res.Peer != "" && info["peer_written"] != "" {
		params.Peer = vmscript.PeerRead
		if script, err = vmscript.CheckScript(params); err != nil {
			return nil, err
		}
		step("reading on VM " + res.Peer + " the file VM " + vm.Name + " wrote")
		peerOut, _, _, err := m.VMs.RunScript(ctx, rg, res.Peer, script)
		if err != nil {
			info["probe_peer"] = "fail: the read on VM " + res.Peer + " failed: " + strings.ReplaceAll(err.Error(), "\n", " ")
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// The reader removes the file; it failed, so the writer does (a
			// read of its own file), leaving nothing of the check in the home.
			step("removing the probe's file on VM " + vm.Name)
			if _, _, _, err := m.VMs.RunScript(ctx, rg, vm.Name, script); err != nil {
				info["probe_peer"] += fmt.Sprintf(" (and removing the probe's file failed too: remove %s on VM %s by hand)", info["peer_written"], vm.Name)
			}
		} else {
			info["probe_peer"] = peerOut.Info["probe_peer"]
		}
	}
	res.Probes = vmscript.Probes(info)
	return res, nil
}

// randomToken names the write-then-read probe's file.
func randomToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
