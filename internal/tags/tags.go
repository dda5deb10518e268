// Package tags names the Azure tags that are azlin's records. azlin keeps no
// state of its own: what exists, and which VM's home is on which storage, is
// read from these tags (DECISIONS.md 7), so every package uses the same keys.
package tags

const (
	// Managed ("true") marks a resource azlin created.
	Managed = "azlin-managed"
	// Storage is the user's storage name: on a storage account, its name;
	// on a VM, the storage that holds the VM's home.
	Storage = "azlin-storage"
)
