package vmprov

import (
	"fmt"

	"github.com/azlin-dev/azlin/internal/cloudinit"
)

// CloudConfig and WriteFile are the one cloud-config description, shared
// with the shared-home part (package cloudinit).
type (
	CloudConfig = cloudinit.Config
	WriteFile   = cloudinit.WriteFile
)

// Files cloud-init leaves on every azlin VM: ManagedMarker early (it says
// whose VM this is), DoneMarker as the last thing cloud-init does, so that
// its presence means cloud-init ran to the end.
const (
	ManagedMarker = "/etc/azlin/managed"
	DoneMarker    = "/var/lib/azlin/cloud-init.done"
)

// PlainCloudConfig is the cloud-init of a VM without a shared home: no
// package work (package_update false keeps first boot fast), the two marker
// files and nothing else.
func PlainCloudConfig(vm string) CloudConfig {
	return CloudConfig{
		WriteFiles: []WriteFile{{
			Path:        ManagedMarker,
			Content:     fmt.Sprintf("managed-by=azlin\nvm=%s\n", vm),
			Owner:       "root:root",
			Permissions: "0644",
		}},
		RunCmd: [][]string{
			{"mkdir", "-p", "/var/lib/azlin"},
			{"touch", DoneMarker},
		},
	}
}
