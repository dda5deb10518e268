//go:build localcloud

package azemu_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/testjson"
)

// SSH to a VM host answers only callers its NSGs let in, as on Azure ("How
// network security groups filter network traffic", learn.microsoft.com/
// azure/virtual-network/network-security-group-how-it-works): subnet and NIC
// NSGs must both allow, rules go by priority, and a denied SYN is dropped,
// so ssh times out rather than being refused.

// sshTry runs `ssh ... true` with a short ConnectTimeout and returns its
// output and whether it worked.
func sshTry(t *testing.T, key, ip string) (string, bool) {
	t.Helper()
	cmd := exec.Command("ssh", "-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "ConnectTimeout=2", "-o", "LogLevel=ERROR", "azureuser@"+ip, "echo SSH-OK")
	out, err := cmd.CombinedOutput()
	return string(out), err == nil && strings.Contains(string(out), "SSH-OK")
}

func requireSSH(t *testing.T, key, ip, why string) {
	t.Helper()
	out, ok := sshTry(t, key, ip)
	require.True(t, ok, "%s: ssh should work: %s", why, out)
}

// requireTimeout: the connection must time out (the SYN dropped), not be
// refused nor fail later.
func requireTimeout(t *testing.T, key, ip, why string) {
	t.Helper()
	start := time.Now()
	out, ok := sshTry(t, key, ip)
	require.False(t, ok, "%s: ssh should not get through", why)
	assert.Contains(t, out, "Connection timed out", why)
	assert.GreaterOrEqual(t, time.Since(start), 2*time.Second, "%s: ssh gave up before its ConnectTimeout", why)
}

func TestNSGDecidesWhoReachesSSH(t *testing.T) {
	c := newCloud(t)
	c.env["AZEMU_HOSTS"] = "1"
	t.Cleanup(func() { c.run("__azemu-down") })
	c.base()
	priv, pub := sshKeyPair(t)
	vm := func(name string, extra ...string) string {
		out := c.obj(append([]string{"vm", "create", "-g", "rg", "-n", name, "--image", "Ubuntu2204", "--vnet-name", "v",
			"--subnet", "s", "--admin-username", "azureuser", "--ssh-key-values", pub}, extra...)...)
		return testjson.Str(t, out, "publicIpAddress")
	}
	rule := func(nsg, name, prio, access, src string) {
		c.ok("network", "nsg", "rule", "create", "-g", "rg", "--nsg-name", nsg, "-n", name, "--priority", prio,
			"--access", access, "--protocol", "Tcp", "--source-address-prefixes", src, "--destination-port-ranges", "22", "-o", "none")
	}
	unrule := func(nsg, name string) {
		c.ok("network", "nsg", "rule", "delete", "-g", "rg", "--nsg-name", nsg, "-n", name)
	}

	// The default NSG opens SSH to any source.
	open := vm("open")
	requireSSH(t, priv, open, "default-allow-ssh")

	// --nsg-rule NONE: only the default rules, which deny the internet.
	closed := vm("closed", "--nsg-rule", "NONE")
	requireTimeout(t, priv, closed, "no rule for SSH")

	// A rule for the caller's address (203.0.113.7 by default) lets it in;
	// deleting it shuts it out again; a rule for another address does not.
	rule("closedNSG", "me", "300", "Allow", "203.0.113.7/32")
	requireSSH(t, priv, closed, "a rule for the caller's /32")
	unrule("closedNSG", "me")
	requireTimeout(t, priv, closed, "the caller's rule deleted")
	rule("closedNSG", "other", "310", "Allow", "198.51.100.9/32")
	requireTimeout(t, priv, closed, "a rule for another /32")
	// An update that adds the caller's address lets it in at once; one that
	// takes it out again shuts it out.
	sources := func(src ...string) {
		c.ok(append([]string{"network", "nsg", "rule", "update", "-g", "rg", "--nsg-name", "closedNSG", "-n", "other",
			"-o", "none", "--source-address-prefixes"}, src...)...)
	}
	sources("198.51.100.9/32", "203.0.113.7/32")
	requireSSH(t, priv, closed, "the caller's /32 added to the rule")
	sources("198.51.100.9/32")
	requireTimeout(t, priv, closed, "the caller's /32 taken out of the rule")

	// The decision uses the caller address of the az call that changes the
	// NSG: the same rule, made by a caller at 198.51.100.9, lets that caller in.
	c.env["AZEMU_CALLER_IP"] = "198.51.100.9"
	rule("closedNSG", "other", "310", "Allow", "198.51.100.9/32")
	requireSSH(t, priv, closed, "a rule for AZEMU_CALLER_IP's /32")
	delete(c.env, "AZEMU_CALLER_IP")
	unrule("closedNSG", "other")
	requireTimeout(t, priv, closed, "the other rule deleted")

	// Priority: a Deny for the caller at 200 beats an Allow for all at 300;
	// the Allow moved to 150 wins.
	rule("closedNSG", "deny-me", "200", "Deny", "203.0.113.7/32")
	rule("closedNSG", "allow-all", "300", "Allow", "*")
	requireTimeout(t, priv, closed, "Deny at 200 before Allow at 300")
	rule("closedNSG", "allow-all", "150", "Allow", "*")
	requireSSH(t, priv, closed, "Allow at 150 before Deny at 200")

	// A subnet NSG that denies shuts the VM out although its NIC's NSG
	// allows; detaching it opens SSH again.
	c.ok("network", "nsg", "create", "-g", "rg", "-n", "subnet-nsg", "-o", "none")
	c.ok("network", "vnet", "subnet", "update", "-g", "rg", "--vnet-name", "v", "-n", "s",
		"--network-security-group", "subnet-nsg", "-o", "none")
	requireTimeout(t, priv, open, "the subnet's NSG denies (DenyAllInBound)")
	rule("subnet-nsg", "ssh", "100", "Allow", "*")
	requireSSH(t, priv, open, "subnet and NIC NSGs both allow")
	unrule("subnet-nsg", "ssh")
	requireTimeout(t, priv, open, "the subnet's rule deleted")
	c.ok("network", "vnet", "subnet", "update", "-g", "rg", "--vnet-name", "v", "-n", "s",
		"--network-security-group", "", "-o", "none")
	requireSSH(t, priv, open, "the subnet's NSG detached")

	// A NIC without an NSG behind a Standard public IP is closed
	// ("Public IP addresses": Standard is secure by default).
	c.ok("network", "nic", "update", "-g", "rg", "-n", "openVMNic", "--network-security-group", "", "-o", "none")
	requireTimeout(t, priv, open, "no NSG, Standard public IP")
	c.ok("network", "nic", "update", "-g", "rg", "-n", "openVMNic", "--network-security-group", "openNSG", "-o", "none")
	requireSSH(t, priv, open, "the NSG attached again")

	// A restart keeps the decision: the denied VM boots (the host's own probe
	// gets through) and stays shut to the caller.
	unrule("closedNSG", "allow-all")
	requireTimeout(t, priv, closed, "allow-all deleted")
	c.ok("vm", "restart", "-g", "rg", "-n", "closed")
	requireTimeout(t, priv, closed, "after a restart")

	// The emulator's firewall leaves nothing behind: vm delete drops the
	// VM's address from it, and __azemu-down removes the table.
	ruleset := func() string {
		out, err := exec.Command("nft", "list", "ruleset").CombinedOutput()
		require.NoError(t, err, string(out))
		return string(out)
	}
	assert.Contains(t, ruleset(), closed)
	c.ok("vm", "delete", "-g", "rg", "-n", "closed", "--yes")
	assert.NotContains(t, ruleset(), closed)
	c.ok("network", "nic", "update", "-g", "rg", "-n", "openVMNic", "--network-security-group", "", "-o", "none")
	assert.Contains(t, ruleset(), open)
	c.ok("__azemu-down")
	assert.NotContains(t, ruleset(), open)
}
