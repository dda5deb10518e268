package storage

import (
	"context"
	"slices"
)

// GroupNames are the names of the resource group's azlin storages and of
// all its VMs, from the one round of reads every view starts with
// (`az storage account list` and `az vm list`, at once). Shell completion
// keeps them (package namecache); nothing else is read.
func (m *Manager) GroupNames(ctx context.Context, rg string) (storages, vms []string, err error) {
	var all []GroupVM
	snap, err := m.readGroup(ctx, rg, func(ctx context.Context) ([]GroupVM, error) {
		if err := m.c.Read(ctx, &all, "vm", "list", "-g", rg); err != nil {
			return nil, groupErr(rg, "listing VMs", err)
		}
		return all, nil
	})
	if err != nil {
		return nil, nil, err
	}
	storages = slices.Compact(snap.names()) // sorted by readGroup
	for _, v := range all {
		vms = append(vms, v.Name)
	}
	slices.Sort(vms)
	return storages, vms, nil
}
