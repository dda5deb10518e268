package main

import "github.com/spf13/cobra"

// Placeholder: replaced by the storage commands (issue 4).
func newStorageCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "storage", Short: "Manage shared NFS storage", Hidden: true}
}
