// Package tags names the Azure tags that are azlin's records. azlin keeps no
// state of its own: what exists, and which VM's home is on which storage, is
// read from these tags, so every package uses the same keys.
package tags

const (
	// Managed ("true") marks a resource azlin created; delete refuses
	// resources without it.
	Managed = "azlin-managed"
	// Storage is the user's storage name: on a storage account, its name
	// (the account's own name is derived from it, so the user's name lives
	// in a tag); on a VM, the storage that holds the VM's home.
	Storage = "azlin-storage"
)

// Tag keys that only storage accounts carry.
const (
	Tier    = "azlin-tier"     // Premium | Standard
	Created = "azlin-created"  // RFC 3339, UTC
	SizeGiB = "azlin-size-gib" // the size asked for; Standard's only record of it
	Network = "azlin-network"  // private-endpoint | service-endpoint
	Layout  = "azlin-layout"   // the home's layout (package layout); absent: the default layout
	// UnusedSince is when the storage's last VM left it (RFC 3339, UTC):
	// set when a detach or delete leaves it without VMs, removed when a VM
	// attaches again. Changed with `az tag update` only.
	UnusedSince = "azlin-unused-since"
)
