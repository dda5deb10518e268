package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/config"
	"github.com/azlin-dev/azlin/internal/network"
	"github.com/azlin-dev/azlin/internal/output"
	"github.com/azlin-dev/azlin/internal/vmprov"
)

// allowSSHOptions are `azlin allow-ssh`'s arguments.
type allowSSHOptions struct {
	VM   string
	From string // --from: CIDR; "" = ssh_from, else the caller's public address
}

// allowSSHView is what allow-ssh did; its JSON form is the documented
// -o json schema.
type allowSSHView struct {
	VM                   string   `json:"vm"`
	ResourceGroup        string   `json:"resourceGroup"`
	NetworkSecurityGroup string   `json:"networkSecurityGroup"`
	Rule                 string   `json:"rule"`
	From                 string   `json:"from"`
	Sources              []string `json:"sources"`
	Changed              bool     `json:"changed"`
}

// newAllowSSHCmd is `azlin allow-ssh`; runF, when not nil, replaces the run
// (tests of flag parsing).
func newAllowSSHCmd(a *app, runF func(*allowSSHOptions) error) *cobra.Command {
	var o allowSSHOptions
	cmd := &cobra.Command{
		Use:   "allow-ssh VM",
		Short: "Let SSH in to a VM from your current address (its NSG's azlin-ssh rule)",
		Long: joinLines(
			"SSH to azlin's VMs is let in only from the addresses in the azlin-ssh rule of",
			"their network security group (the VNet's, config vnet_name + \"-nsg\"; all azlin",
			"VMs in the VNet share it). When your public address changes, azlin ssh says so;",
			"this command adds the new address to the rule's sources, keeping the others.",
			"",
			"The address is --from, else config ssh_from, else your public address as",
			"https://api.ipify.org sees it (as azlin new finds it). An address already",
			"covered by one of the rule's sources changes nothing, so running it again is",
			"harmless. Addresses are never removed here: see az network nsg rule update.",
			"",
			"-o json prints {vm, resourceGroup, networkSecurityGroup, rule, from, sources,",
			"changed}.",
		),
		Example: joinLines(
			"  azlin allow-ssh dev-1",
			"  azlin allow-ssh dev-1 --from 198.51.100.0/24",
			"  azlin allow-ssh dev-1 -g my-rg -o json",
		),
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.VM = args[0]
			if runF != nil {
				return runF(&o)
			}
			return runAllowSSH(cmd.Context(), a, &o)
		},
	}
	cmd.Flags().StringVar(&o.From, "from", "", "address or range (CIDR) to let SSH in from (default: config ssh_from, else your public address)")
	return cmd
}

// runAllowSSH checks its input before any az call, then adds the address
// to the rule.
func runAllowSSH(ctx context.Context, a *app, o *allowSSHOptions) error {
	if err := vmprov.ValidateName(o.VM); err != nil {
		return err
	}
	if o.From != "" {
		if _, err := config.ParseSSHFrom(o.From); err != nil {
			return err
		}
	}
	cfg, err := a.Config()
	if err != nil {
		return err
	}
	rg, err := a.ResourceGroup()
	if err != nil {
		return err
	}
	// The address (perhaps from a third-party service) is found while az
	// checks the login and reads the VM: they do not depend on each other.
	type found struct {
		cidr string
		err  error
	}
	mine := make(chan found, 1)
	go func() {
		cidr, err := callerAddress(ctx, cfg, o.From)
		mine <- found{cidr, err}
	}()
	c, err := a.Azure(ctx)
	if err != nil {
		return err
	}
	// The VM must be there: a misspelt name must not open the NSG.
	vm, err := vmprov.NewManager(c).Show(ctx, rg, o.VM, false)
	me := <-mine
	if me.err != nil {
		return me.err
	}
	if err != nil {
		return err
	}
	p := a.Printer()
	if !vm.Managed() {
		p.Warnf("VM %s was not made by azlin (no tag azlin-managed=true): its SSH may be let in by another network security group than azlin's", o.VM)
	}
	nsg := vmprov.NSGFor(cfg.VNetName)
	access, err := network.NewManager(c).AllowSSHFrom(ctx, rg, nsg, me.cidr)
	if err != nil {
		return err
	}
	if c.DryRun() {
		return nil
	}
	switch {
	case access.Changed:
		p.Successf("SSH to VM %s is now let in from %s (rule %s of network security group %s, shared by the azlin VMs of its VNet).",
			o.VM, me.cidr, network.SSHRuleName, nsg)
	default:
		p.Successf("SSH to VM %s is let in from %s already (rule %s of network security group %s): nothing to change.",
			o.VM, me.cidr, network.SSHRuleName, nsg)
	}
	if access.OpenRule != "" {
		p.Warnf("Network security group %s has rule %s, which opens SSH to the whole internet; remove it with: %s",
			nsg, access.OpenRule, network.RemoveOpenRuleCommand(rg, nsg, access.OpenRule))
	}
	v := allowSSHView{VM: o.VM, ResourceGroup: rg, NetworkSecurityGroup: nsg, Rule: network.SSHRuleName, From: me.cidr,
		Sources: access.Sources, Changed: access.Changed}
	return p.Render(output.Table{Headers: []string{"VM", "FROM", "ADDED", "SOURCES"},
		Rows: [][]string{{v.VM, v.From, fmt.Sprint(v.Changed), listOrNone(v.Sources)}}}, v)
}
