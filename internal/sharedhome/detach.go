package sharedhome

import (
	"context"
	"errors"
	"fmt"

	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/tags"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// DetachRequest names the VM to detach.
type DetachRequest struct {
	ResourceGroup string
	VM            string
	Force         bool // stop processes that keep the home busy
	Progress      func(step string)
	// Warn hears that the storage's unused record could not be written
	// (the detach itself is done then); nil is fine.
	Warn func(msg string)
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
	storageGone := false
	if name := vm.SharedHome(); name != "" {
		st, err := m.Storage.Find(ctx, rg, name)
		var nf *storage.NotFoundError
		switch {
		case errors.As(err, &nf):
			// The storage is gone; the script finds the mount from fstab.
			storageGone = true
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
		if err := m.VMs.RemoveTag(ctx, vm, tags.Storage); err != nil {
			return res, fmt.Errorf("%w\nThe VM HAS its local home back; only the record is left. Re-run: azlin storage detach --vm %s -g %s",
				err, vm.Name, rg)
		}
		if !storageGone {
			step("recording on storage " + vm.SharedHome() + " whether a VM still uses it")
			if err := m.Storage.NoteVMLeft(ctx, rg, vm.SharedHome(), vm.Name); err != nil && req.Warn != nil {
				req.Warn(err.Error() + "; until a VM attaches and leaves again, azlin storage cleanup counts it as unused since it was created")
			}
		}
	}
	return res, nil
}
