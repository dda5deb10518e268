package vmprov

import (
	"regexp"

	"github.com/azlin-dev/azlin/internal/clierr"
)

// MaxNameLen is the longest VM name azlin accepts (Azure's limit for Linux VMs).
const MaxNameLen = 64

// ValidateName checks a VM name: 1-64 characters of [a-z0-9-], not starting
// or ending with a hyphen. azlin is stricter than Azure (no capitals,
// underscores or periods) so that the name is also a valid hostname and is
// safe unquoted in scripts and resource names. A bad name is a usage error.
func ValidateName(name string) error {
	if name == "" {
		return clierr.Usagef("VM name is empty: use 1-%d lowercase letters, digits and hyphens, e.g. dev-1", MaxNameLen)
	}
	if len(name) > MaxNameLen {
		return clierr.Usagef("VM name %q is %d characters long; the limit is %d", name, len(name), MaxNameLen)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return clierr.Usagef("VM name %q contains %q: use lowercase letters, digits and hyphens only, e.g. dev-1", name, r)
		}
	}
	if name[0] == '-' || name[len(name)-1] == '-' {
		return clierr.Usagef("VM name %q must not start or end with a hyphen", name)
	}
	return nil
}

// Resources are the names of what `az vm create` makes for one VM besides
// the VM itself. create passes them explicitly (except the NIC, whose name az
// does not let us choose: it is always <vm>VMNic) and delete removes them,
// since `az vm delete` leaves them behind.
type Resources struct {
	NIC      string
	OSDisk   string
	PublicIP string
}

// ResourcesFor returns the names of VM vm's resources.
func ResourcesFor(vm string) Resources {
	return Resources{
		NIC:      vm + "VMNic",
		OSDisk:   vm + "_OsDisk",
		PublicIP: vm + "PublicIP",
	}
}

// NSGFor names the network security group azlin's VMs in VNet vnet share.
// `az vm create --nsg NAME` creates it with an inbound SSH rule the first
// time and reuses it after, so VMs do not each leave an NSG behind; like the
// VNet it belongs to one region.
func NSGFor(vnet string) string { return vnet + "-nsg" }

var sizeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// ValidateSize checks that size looks like an Azure VM size (Standard_D2s_v5);
// whether the region offers it is Azure's to say. A bad size is a usage error.
func ValidateSize(size string) error {
	if !sizeRE.MatchString(size) {
		return clierr.Usagef("%q is not a VM size; sizes look like Standard_D2s_v5 (az vm list-sizes -l REGION lists them)", size)
	}
	return nil
}
