// Package sharedhome moves VMs' home directories onto shared storage and
// back: `azlin storage attach`, `azlin storage detach` and the shared-home
// part of `azlin new`. It joins the storage facts (package storage), the
// network (package network), the VM (package vmprov) and the scripts that
// run on the VM (package nfsmount). The tag azlin-storage on a VM is the
// record of which storage holds its home (DECISIONS.md 7).
package sharedhome

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/azlin-dev/azlin/internal/network"
	"github.com/azlin-dev/azlin/internal/nfsmount"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/vmprov"
)

// Manager attaches and detaches shared homes.
type Manager struct {
	VMs     *vmprov.Manager
	Storage *storage.Manager
	Net     *network.Manager
	// Concurrency bounds how many VMs are worked on at once.
	Concurrency int
	// Timestamp names the backups and copies the scripts make when the plain
	// name is taken; "" means now (nfsmount's default). Tests fix it so that
	// the scripts, and so the az argv, are the same on every run.
	Timestamp string

	reachMu sync.Mutex // network changes for several VMs run one at a time
}

// Target is where a storage's share is mounted from.
func Target(st *storage.Storage) nfsmount.Target {
	tier := nfsmount.Premium
	if st.Tier == storage.Standard {
		tier = nfsmount.Standard
	}
	return nfsmount.Target{Account: st.Account, Share: st.Name, Tier: tier}
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

	results := make([]Result, len(req.VMs))
	w, wctx := errgroup.WithContext(ctx)
	w.SetLimit(m.limit())
	for i, name := range req.VMs {
		results[i].VM = name
		if vmErrs[i] != nil {
			results[i].Err = vmErrs[i]
			continue
		}
		w.Go(func() error {
			results[i] = m.attachOne(wctx, st, vms[i], req.Keys, func(step string) { progress(name, step) })
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

func (m *Manager) attachOne(ctx context.Context, st *storage.Storage, vm vmprov.VM, keys []string, step func(string)) Result {
	res := Result{VM: vm.Name}
	rg := st.ResourceGroup
	if !vm.Running() {
		res.Err = fmt.Errorf("VM %s is %s; attaching runs a script on it, so start it first: az vm start -g %s -n %s",
			vm.Name, vm.State(), rg, vm.Name)
		return res
	}
	if other := vm.SharedHome(); other != "" && other != st.Name {
		res.Err = fmt.Errorf("VM %s already has its home on storage %s; detach it first: azlin storage detach --vm %s -g %s",
			vm.Name, other, vm.Name, rg)
		return res
	}
	step("checking that the VM's subnet reaches the storage")
	if err := m.ensureReach(ctx, st, vm); err != nil {
		res.Err = err
		return res
	}
	script, err := nfsmount.AttachScript(nfsmount.AttachParams{Target: Target(st), AuthorizedKeys: keys, Timestamp: m.Timestamp})
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
		step("recording the shared home on the VM (tag " + vmprov.TagStorage + ")")
		if err := m.VMs.SetTag(ctx, rg, vm.Name, vmprov.TagStorage, st.Name); err != nil {
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
	m.reachMu.Lock()
	defer m.reachMu.Unlock()
	subnetID, err := m.VMs.SubnetID(ctx, vm)
	if err != nil {
		return err
	}
	switch st.Network.Mode {
	case storage.ServiceEndpoint:
		subnet, err := m.Net.SubnetByID(ctx, subnetID)
		if err != nil {
			return err
		}
		if err := m.Storage.AllowSubnet(ctx, st, subnet); err != nil {
			return err
		}
		st.Network.VNetRules = append(st.Network.VNetRules, subnet.VNet+"/"+subnet.Name)
		return nil
	default:
		peSubnet, err := m.Storage.PrivateEndpointSubnetID(ctx, st)
		if err != nil {
			return err
		}
		peRG, peVNet, _, _ := network.ParseSubnetID(peSubnet)
		vmRG, vmVNet, _, _ := network.ParseSubnetID(subnetID)
		if !strings.EqualFold(peVNet, vmVNet) || !strings.EqualFold(peRG, vmRG) {
			return fmt.Errorf("VM %s is in virtual network %s, but storage %s is reached through a private endpoint in %s; "+
				"this azlin attaches VMs of that network only. Create the VM there (azlin new uses it), or use storage made with --network service-endpoint",
				vm.Name, vmVNet, st.Name, peVNet)
		}
		return nil
	}
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
	params := nfsmount.DetachParams{Force: req.Force, Timestamp: m.Timestamp}
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
	script, err := nfsmount.DetachScript(params)
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
		if err := m.VMs.RemoveTag(ctx, rg, vm.Name, vmprov.TagStorage); err != nil {
			return res, fmt.Errorf("%w\nThe VM HAS its local home back; only the record is left. Re-run: azlin storage detach --vm %s -g %s",
				err, vm.Name, rg)
		}
	}
	return res, nil
}
