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

	// The caller's public address changes: from the next az call on, the
	// local cloud drops SSH from it, as the NSG on Azure would at once.
	c.SetCallerIP("198.51.100.20")
	require.Equal(t, 0, c.Az("group", "show", "-n", "rg").Exit)
	r = c.Azlin("ssh", "a", "-g", "rg", "--", "hostname")
	assert.NotEqual(t, 0, r.Exit, "SSH from an address the rule does not name is dropped: %s", r.Stdout)
}
