package azemu_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/testjson"
)

// NSG records as az and ARM keep them. Sources: azure-cli vm/_validators.py
// (_validate_vm_create_nsg) and vm/_template_builder.py (build_nsg_resource)
// for what vm create makes; the azure-cli recording test_network_nsg.yaml
// for the default rules; "Network security groups" (learn.microsoft.com,
// security rules) for the priority bounds.

func ruleNames(t *testing.T, c *cloud, nsg string) []string {
	t.Helper()
	var names []string
	for _, r := range c.json("network", "nsg", "rule", "list", "-g", "rg", "--nsg-name", nsg).([]any) {
		names = append(names, r.(map[string]any)["name"].(string))
	}
	return names
}

func TestVMCreateMakesTheNSGAzDoes(t *testing.T) {
	c := newCloud(t)
	c.base()
	create := func(name string, extra ...string) {
		c.ok(append([]string{"vm", "create", "-g", "rg", "-n", name, "--image", "Ubuntu2204", "--vnet-name", "v",
			"--subnet", "s", "--ssh-key-values", "ssh-ed25519 AAAA test", "-o", "none"}, extra...)...)
	}
	nicNSG := func(vm string) string {
		nic := c.obj("network", "nic", "show", "-g", "rg", "-n", vm+"VMNic")
		if n, ok := nic["networkSecurityGroup"].(map[string]any); ok {
			return n["id"].(string)
		}
		return ""
	}

	// No --nsg: <vm>NSG with default-allow-ssh, TCP 22 from anywhere, 1000.
	create("vm1")
	r := c.obj("network", "nsg", "rule", "show", "-g", "rg", "--nsg-name", "vm1NSG", "-n", "default-allow-ssh")
	assert.Equal(t, "Allow", r["access"])
	assert.Equal(t, "Inbound", r["direction"])
	assert.Equal(t, "Tcp", r["protocol"])
	assert.Equal(t, "22", r["destinationPortRange"])
	assert.Equal(t, "*", r["sourceAddressPrefix"])
	assert.EqualValues(t, 1000, r["priority"])
	assert.Equal(t, "Succeeded", r["provisioningState"])
	assert.Contains(t, nicNSG("vm1"), "/networkSecurityGroups/vm1NSG")

	// --nsg-rule NONE: the NSG without rules; --nsg "": no NSG at all.
	create("vm2", "--nsg-rule", "NONE")
	assert.Empty(t, ruleNames(t, c, "vm2NSG"))
	create("vm3", "--nsg", "")
	assert.Empty(t, nicNSG("vm3"))
	assert.Equal(t, 3, c.run("network", "nsg", "show", "-g", "rg", "-n", "vm3NSG").code)

	// --nsg NAME: an existing NSG is attached as it is, a missing one made.
	c.ok("network", "nsg", "create", "-g", "rg", "-n", "shared", "-o", "none")
	create("vm4", "--nsg", "shared")
	assert.Empty(t, ruleNames(t, c, "shared"))
	assert.Contains(t, nicNSG("vm4"), "/networkSecurityGroups/shared")
	create("vm5", "--nsg", "fresh")
	assert.Equal(t, []string{"default-allow-ssh"}, ruleNames(t, c, "fresh"))

	// nsg show names the NICs it is on.
	n := c.obj("network", "nsg", "show", "-g", "rg", "-n", "shared")
	testjson.Str(t, n, "networkInterfaces", 0, "id")
	assert.Len(t, n["networkInterfaces"], 1)
}

func TestNSGRulesCRUDAndDefaults(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	n := c.obj("network", "nsg", "create", "-g", "rg", "-n", "n")["NewNSG"].(map[string]any)
	var defaults []string
	for _, r := range n["defaultSecurityRules"].([]any) {
		rm := r.(map[string]any)
		defaults = append(defaults, rm["name"].(string)+" "+rm["access"].(string)+" "+rm["direction"].(string))
	}
	assert.Equal(t, []string{"AllowVnetInBound Allow Inbound", "AllowAzureLoadBalancerInBound Allow Inbound",
		"DenyAllInBound Deny Inbound", "AllowVnetOutBound Allow Outbound", "AllowInternetOutBound Allow Outbound",
		"DenyAllOutBound Deny Outbound"}, defaults)
	deny := n["defaultSecurityRules"].([]any)[2].(map[string]any)
	assert.EqualValues(t, 65500, deny["priority"])
	assert.Equal(t, "Deny all inbound traffic", deny["description"])

	r := c.obj("network", "nsg", "rule", "create", "-g", "rg", "--nsg-name", "n", "-n", "ssh", "--priority", "200",
		"--source-address-prefixes", "198.51.100.0/24", "198.51.100.77", "--destination-port-ranges", "22", "2200-2210",
		"--protocol", "Tcp")
	assert.Equal(t, []any{"198.51.100.0/24", "198.51.100.77"}, r["sourceAddressPrefixes"])
	assert.NotContains(t, r, "sourceAddressPrefix")
	assert.Equal(t, []any{"22", "2200-2210"}, r["destinationPortRanges"])
	assert.Equal(t, "*", r["destinationAddressPrefix"])

	// Priorities: 100..4096, one rule per priority and direction.
	bad := c.run("network", "nsg", "rule", "create", "-g", "rg", "--nsg-name", "n", "-n", "low", "--priority", "99")
	assert.Equal(t, 1, bad.code)
	assert.Contains(t, bad.stderr, "(SecurityRuleInvalidPriority)")
	dup := c.run("network", "nsg", "rule", "create", "-g", "rg", "--nsg-name", "n", "-n", "dup", "--priority", "200")
	assert.Equal(t, 1, dup.code)
	assert.Contains(t, dup.stderr, "(SecurityRuleConflict) Security rule ssh conflicts with rule dup. Rules cannot have the same Priority and Direction.")
	c.ok("network", "nsg", "rule", "create", "-g", "rg", "--nsg-name", "n", "-n", "out", "--priority", "200",
		"--direction", "Outbound", "-o", "none")

	assert.Equal(t, []string{"ssh", "out"}, ruleNames(t, c, "n"))
	all := c.json("network", "nsg", "rule", "list", "-g", "rg", "--nsg-name", "n", "--include-default").([]any)
	assert.Len(t, all, 8)
	c.ok("network", "nsg", "rule", "delete", "-g", "rg", "--nsg-name", "n", "-n", "ssh")
	c.ok("network", "nsg", "rule", "delete", "-g", "rg", "--nsg-name", "n", "-n", "ssh") // gone: a no-op
	assert.Equal(t, []string{"out"}, ruleNames(t, c, "n"))
	miss := c.run("network", "nsg", "rule", "show", "-g", "rg", "--nsg-name", "n", "-n", "ssh")
	assert.Equal(t, 3, miss.code)
	require.Contains(t, miss.stderr, "(ResourceNotFound)")
}

// `az network nsg rule update` changes what it is given and keeps the rest;
// a list option replaces the field's values, one value lands in the singular
// field and several in the plural one (az 2.74 network/custom.py
// NSGRuleUpdate, pre_ and post_instance_update, around ARM's GET and PUT).
// The PUT meets ARM's priority rules ("Network security groups", security
// rules) as a create does; a missing rule is ARM's 404.
func TestNSGRuleUpdateKeepsWhatItIsNotGiven(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	c.ok("network", "nsg", "create", "-g", "rg", "-n", "n", "-o", "none")
	c.ok("network", "nsg", "rule", "create", "-g", "rg", "--nsg-name", "n", "-n", "ssh", "--priority", "900",
		"--protocol", "Tcp", "--destination-port-ranges", "22", "--source-address-prefixes", "203.0.113.7/32", "-o", "none")
	c.ok("network", "nsg", "rule", "create", "-g", "rg", "--nsg-name", "n", "-n", "web", "--priority", "910", "-o", "none")
	update := func(extra ...string) map[string]any {
		return c.obj(append([]string{"network", "nsg", "rule", "update", "-g", "rg", "--nsg-name", "n", "-n", "ssh"}, extra...)...)
	}

	r := update("--source-address-prefixes", "203.0.113.7/32", "198.51.100.20/32")
	assert.Equal(t, []any{"203.0.113.7/32", "198.51.100.20/32"}, r["sourceAddressPrefixes"])
	assert.NotContains(t, r, "sourceAddressPrefix")
	assert.Equal(t, "22", r["destinationPortRange"], "not given: kept")
	assert.Equal(t, "Tcp", r["protocol"])
	assert.EqualValues(t, 900, r["priority"])
	shown := c.obj("network", "nsg", "rule", "show", "-g", "rg", "--nsg-name", "n", "-n", "ssh")
	assert.Equal(t, r["sourceAddressPrefixes"], shown["sourceAddressPrefixes"], "stored")
	assert.Equal(t, []string{"ssh", "web"}, ruleNames(t, c, "n"), "the other rules stay, in order")

	r = update("--source-address-prefixes", "198.51.100.20/32", "--description", "mine")
	assert.Equal(t, "198.51.100.20/32", r["sourceAddressPrefix"], "one value: the singular field")
	assert.Empty(t, r["sourceAddressPrefixes"])
	assert.Equal(t, "mine", r["description"])

	dup := c.run("network", "nsg", "rule", "update", "-g", "rg", "--nsg-name", "n", "-n", "ssh", "--priority", "910")
	assert.Equal(t, 1, dup.code)
	assert.Contains(t, dup.stderr, "(SecurityRuleConflict)")
	bad := c.run("network", "nsg", "rule", "update", "-g", "rg", "--nsg-name", "n", "-n", "ssh", "--priority", "5000")
	assert.Equal(t, 1, bad.code)
	assert.Contains(t, bad.stderr, "(SecurityRuleInvalidPriority)")
	shown = c.obj("network", "nsg", "rule", "show", "-g", "rg", "--nsg-name", "n", "-n", "ssh")
	assert.EqualValues(t, 900, shown["priority"], "a refused update changes nothing")

	miss := c.run("network", "nsg", "rule", "update", "-g", "rg", "--nsg-name", "n", "-n", "nope", "--access", "Deny")
	assert.Equal(t, 3, miss.code)
	assert.Contains(t, miss.stderr, "(ResourceNotFound)")
}
