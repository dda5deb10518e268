package sharedhome

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/network"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/tags"
	"github.com/azlin-dev/azlin/internal/vmprov"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

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
	// Warn hears, before any VM is changed, that the storage is nearly
	// full (storage.Storage.FullnessWarning), and, after, that its unused
	// record could not be removed; nil is fine.
	Warn func(msg string)
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
		st, err = m.Storage.FindWithUsage(ctx, req.ResourceGroup, req.Storage)
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
	if w := st.FullnessWarning(); w != "" && req.Warn != nil {
		req.Warn(w)
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
	m.noteArrived(ctx, st, results, req.Warn)
	return st, results, nil
}

// noteArrived removes the storage's unused record once a VM's home is on it
// (tags.UnusedSince). Failing is only a warning: while a VM uses the
// storage the record is not read, and the next VM to leave it last
// overwrites it.
func (m *Manager) noteArrived(ctx context.Context, st *storage.Storage, results []Result, warn func(string)) {
	for _, r := range results {
		if r.Err != nil {
			continue
		}
		if err := m.Storage.NoteVMArrived(ctx, st); err != nil && warn != nil {
			warn(err.Error() + " (harmless while a VM uses the storage: the record is read only when none does)")
		}
		return
	}
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
		if err := m.VMs.SetTag(ctx, vm, tags.Storage, st.Name); err != nil {
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
