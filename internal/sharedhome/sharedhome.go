// Package sharedhome moves VMs' home directories onto shared storage and
// back (`azlin storage attach`, `azlin storage detach`), applies layouts and
// runs the share's self-test; `azlin new` (package provision) takes the
// share's mount target and the self-test's probes from here. It joins the storage facts (package storage), the
// network (package network), the VM (package vmprov) and the scripts that
// run on the VM (package vmscript). The tag azlin-storage on a VM is the
// record of which storage holds its home (package tags).
package sharedhome

import (
	"context"
	"fmt"
	"sync"

	"github.com/azlin-dev/azlin/internal/network"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/vmprov"
)

// Manager runs the shared-home use cases, one file each: attach (attach.go),
// detach (detach.go), applying a layout (layout.go) and the share self-test
// (check.go).
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
	return nfs.Target{Account: st.Account, Share: st.Name, Tier: st.Tier, TLS: st.EncryptionInTransit}
}

// Result is what happened on one VM.
type Result struct {
	VM      string
	Err     error
	Already bool              // it already had this shared home (attach) or none (detach)
	Info    map[string]string // what the VM's script reported (backup path, seeded, ...)
}

// limit is how many VMs are worked on at once.
func (m *Manager) limit() int {
	if m.Concurrency > 0 {
		return m.Concurrency
	}
	return 16
}

// homeVM reads storage storageName and VM vmName and returns both when the
// VM has that storage as its home and is running: what runs on the VM
// through the mounted home (the self-test, the benchmark) needs both, and
// what names it in the error when the VM must be attached or started first.
func (m *Manager) homeVM(ctx context.Context, rg, storageName, vmName, what string) (*storage.Storage, vmprov.VM, error) {
	// The two reads do not depend on each other: at once. The storage's
	// error is said first, as when they ran one after the other.
	var (
		st           *storage.Storage
		vm           vmprov.VM
		stErr, vmErr error
		wg           sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		vm, vmErr = m.VMs.Show(ctx, rg, vmName, true)
	}()
	st, stErr = m.Storage.Find(ctx, rg, storageName)
	wg.Wait()
	if stErr != nil {
		return nil, vmprov.VM{}, stErr
	}
	if vmErr != nil {
		return nil, vmprov.VM{}, vmErr
	}
	if vm.SharedHome() != st.Name {
		return nil, vmprov.VM{}, fmt.Errorf("VM %s does not have storage %s as its home (its record says %q); attach it first: azlin storage attach %s --vm %s -g %s",
			vm.Name, st.Name, vm.SharedHome(), st.Name, vm.Name, rg)
	}
	if !vm.Running() {
		return nil, vmprov.VM{}, fmt.Errorf("VM %s is %s; %s runs on it, so start it first: az vm start -g %s -n %s", vm.Name, vm.State(), what, rg, vm.Name)
	}
	return st, vm, nil
}
