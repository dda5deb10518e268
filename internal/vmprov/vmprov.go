// Package vmprov provisions azlin's Linux VMs and runs scripts on them: names,
// the SSH key, cloud-init, `az vm create/list/show/delete`, waiting until a VM
// answers on SSH, the ssh command line, and remote scripts through
// `az vm run-command invoke` with their result markers (package remote).
//
// It talks to Azure only through AZ (an *azcli.Client), and never prints:
// progress goes to a callback the caller chooses.
package vmprov

import (
	"context"
)

// AZ is what vmprov needs of azcli.Client.
type AZ interface {
	Read(ctx context.Context, out any, args ...string) error
	Mutate(ctx context.Context, out any, args ...string) error
	DryRun() bool
}

// Facts every azlin VM shares.
const (
	// AdminUser is the VM's login user. It is uid/gid 1000 on Ubuntu images,
	// which the shared NFS home relies on.
	AdminUser = "azureuser"
	// DefaultImage is Ubuntu 22.04 LTS (gen2) as a URN, so that the image
	// does not change under a user when az's aliases move.
	DefaultImage = "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest"
)

// Manager provisions and manages VMs in Azure through az.
type Manager struct {
	az AZ
}

// NewManager returns a Manager that calls az through c.
func NewManager(c AZ) *Manager { return &Manager{az: c} }
