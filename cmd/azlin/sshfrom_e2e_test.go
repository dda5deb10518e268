//go:build localcloud

package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/localcloud/testenv"
)

// SSH is open only to the caller's address: `new` makes the NSG's azlin-ssh
// rule with the address the public-IP service answers, and no rule open to
// "*" (what `az vm create --nsg` would add by itself). From another address
// the local cloud's NSG drops SSH.
func TestE2ENewOpensSSHOnlyToTheCaller(t *testing.T) {
	c := newVMCloud(t)
	azlinOK(t, c, "new", "--name", "a", "-g", "rg", "--region", "eastus")

	var rules []struct {
		Name, Access, Direction string
		SourceAddressPrefix     string   `json:"sourceAddressPrefix"`
		SourceAddressPrefixes   []string `json:"sourceAddressPrefixes"`
	}
	c.AzJSON(&rules, "network", "nsg", "rule", "list", "-g", "rg", "--nsg-name", "azlin-vnet-nsg")
	require.Len(t, rules, 1, "only azlin's rule: %+v", rules)
	assert.Equal(t, "azlin-ssh", rules[0].Name)
	srcs := rules[0].SourceAddressPrefixes
	if len(srcs) == 0 {
		srcs = []string{rules[0].SourceAddressPrefix}
	}
	assert.Equal(t, []string{testenv.DefaultCallerIP + "/32"}, srcs)

	r := azlinOK(t, c, "ssh", "a", "-g", "rg", "--", "hostname")
	assert.Equal(t, "a\n", r.Stdout)

	// The emulator decides SSH at the az call that changes an NSG, with that
	// call's caller address: an unrelated rule made from the new address
	// re-decides it (see docs/local-cloud.md "NSGs and SSH").
	c.SetCallerIP("198.51.100.20")
	r = c.Az("network", "nsg", "rule", "create", "-g", "rg", "--nsg-name", "azlin-vnet-nsg", "-n", "deny-http",
		"--priority", "4000", "--access", "Deny", "--protocol", "Tcp", "--destination-port-ranges", "80")
	require.Equal(t, 0, r.Exit, r.Stderr)
	r = c.Azlin("ssh", "a", "-g", "rg", "--", "hostname")
	assert.NotEqual(t, 0, r.Exit, "SSH from an address the rule does not name is dropped: %s", r.Stdout)
}
