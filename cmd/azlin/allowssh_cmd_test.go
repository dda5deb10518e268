package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli/aztest"
)

func ruleUpdate(sources ...string) aztest.Call {
	return aztest.Call{Argv: append([]string{"network", "nsg", "rule", "update", "-g", "rg", "--nsg-name", "azlin-vnet-nsg",
		"-n", "azlin-ssh", "--source-address-prefixes"}, sources...)}
}

// allow-ssh adds the address to the rule's sources, keeping the others
// (az's update replaces the list, so it names them all).
func TestAllowSSHAddsTheAddressKeepingTheOthers(t *testing.T) {
	vmEnv(t)
	fake := aztest.New(t, callAccountShow, callShowManaged, callNSGShow, ruleUpdate("203.0.113.7/32", "198.51.100.20/32"))
	stdout, stderr, code := runVMCmd(t, fake, "allow-ssh", "vm", "-g", "rg", "--from", "198.51.100.20")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "vm\t198.51.100.20/32\ttrue\t203.0.113.7/32, 198.51.100.20/32\n", stdout)
	assert.Contains(t, stderr, "SSH to VM vm is now let in from 198.51.100.20/32 (rule azlin-ssh of network security group azlin-vnet-nsg")
	assert.NotContains(t, stderr, "not made by azlin")
}

// Without --from it is the caller's public address (vmEnv's IP service
// says 203.0.113.7), which the rule lets in already: no write.
func TestAllowSSHTwiceChangesNothing(t *testing.T) {
	vmEnv(t)
	fake := aztest.New(t, callAccountShow, callShowManaged, callNSGShow)
	stdout, stderr, code := runVMCmd(t, fake, "allow-ssh", "vm", "-g", "rg", "-o", "json")
	require.Equal(t, 0, code, stderr)
	var v allowSSHView
	require.NoError(t, json.Unmarshal([]byte(stdout), &v))
	assert.Equal(t, allowSSHView{VM: "vm", ResourceGroup: "rg", NetworkSecurityGroup: "azlin-vnet-nsg", Rule: "azlin-ssh",
		From: "203.0.113.7/32", Sources: []string{"203.0.113.7/32"}}, v)
	assert.Contains(t, stderr, "already")
	assert.Len(t, fake.Calls(), 3, "reads only")

	fake = aztest.New(t, callAccountShow, callShowManaged, callNSGShow)
	stdout, stderr, code = runVMCmd(t, fake, "allow-ssh", "vm", "-g", "rg", "--query", "changed", "-o", "json")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "false\n", stdout, "global --query shapes the document")
}

func TestAllowSSHRefusesBadInputBeforeAnyAzCall(t *testing.T) {
	vmEnv(t)
	for _, args := range [][]string{{"allow-ssh"}, {"allow-ssh", "Bad_Name"}, {"allow-ssh", "vm", "--from", "not-an-address"},
		{"allow-ssh", "vm", "other"}} {
		fake := aztest.New(t)
		_, stderr, code := runVMCmd(t, fake, append(args, "-g", "rg")...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Empty(t, fake.Calls(), "%v", args)
	}
}

// A misspelt VM opens nothing.
func TestAllowSSHNeedsTheVM(t *testing.T) {
	vmEnv(t)
	gone := aztest.Call{Argv: callShowManaged.Argv, Exit: 3, Stderr: stderrNotFound}
	fake := aztest.New(t, callAccountShow, gone)
	_, stderr, code := runVMCmd(t, fake, "allow-ssh", "vm", "-g", "rg", "--from", "198.51.100.20")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "there is no VM vm in resource group rg")
	assert.Len(t, fake.Calls(), 2, "the NSG is not touched")
}
