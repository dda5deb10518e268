// Package sharedhome moves VMs' home directories onto shared storage and
// back (`azlin storage attach`, `azlin storage detach`), applies layouts and
// runs the share's self-test; `azlin new` (package provision) takes the
// share's mount target and the self-test's probes from here. It joins the storage facts (package storage), the
// network (package network), the VM (package vmprov) and the scripts that
// run on the VM (package vmscript). The tag azlin-storage on a VM is the
// record of which storage holds its home (package tags).
package sharedhome

import (
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
