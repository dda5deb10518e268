package main

import "github.com/spf13/cobra"

// Placeholder: replaced by the VM commands (issue 5).
func newVMCmds(a *app) []*cobra.Command { return nil }
