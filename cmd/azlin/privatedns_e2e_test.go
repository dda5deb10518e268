//go:build localcloud

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/localcloud/testenv"
)

// denyPrivateDNSZonesIn assigns Enterprise-Scale's Deny-Private-DNS-Zones
// (the published definition, as its ARM template deploys it: "[[" becomes
// "[") to resource group rg only, as a landing zone does to its spokes.
func denyPrivateDNSZonesIn(t *testing.T, c *testenv.Cloud, rg string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "localcloud", "azemu", "testdata", "policy", "Deny-Private-DNS-Zones.json"))
	require.NoError(t, err)
	var def any
	require.NoError(t, json.Unmarshal([]byte(strings.ReplaceAll(string(data), `"[[`, `"[`)), &def))
	var acct struct{ ID string }
	c.AzJSON(&acct, "account", "show")
	b, err := json.Marshal([]map[string]any{{"name": "Deny-Private-DNS-Zones", "policyDefinition": def,
		"scope": "/subscriptions/" + acct.ID + "/resourceGroups/" + rg}})
	require.NoError(t, err)
	path := filepath.Join(c.StateDir, "policy.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	c.Env = append(c.Env, "AZEMU_POLICY="+path)
}

// A landing zone denies private DNS zones in the spoke's group and keeps
// privatelink.file.core.windows.net in a hub group. storage create says
// which flag gets past the policy; with --private-dns-zone-id it creates no
// zone, links the hub's zone to the VNet and registers the endpoint there,
// and a VM mounts the share (the emulator's mount resolves the account's
// name through the endpoint's zone group and the zone's VNet link).
func TestE2EStorageCreateUsesTheLandingZonesPrivateDNSZone(t *testing.T) {
	c := sharedCloud(t)
	denyPrivateDNSZonesIn(t, c, "rg")
	const zone = "privatelink.file.core.windows.net"

	r := c.Azlin("storage", "create", "hub-home")
	require.Equal(t, 1, r.Exit, r.Stderr)
	assert.Contains(t, r.Stderr, "RequestDisallowedByPolicy")
	assert.Contains(t, r.Stderr, "To get past it: use the zone your landing zone keeps (often in a hub subscription) with --private-dns-zone-id ")
	assert.Contains(t, r.Stderr, "What exists now: ")

	require.Equal(t, 0, c.Az("group", "create", "-n", "hub", "-l", "eastus").Exit)
	var z struct{ ID string }
	c.AzJSON(&z, "network", "private-dns", "zone", "create", "-g", "hub", "-n", zone)
	require.NotEmpty(t, z.ID)

	bad := c.Azlin("storage", "create", "hub-home", "--private-dns-zone-id", strings.Replace(z.ID, ".file.", ".blob.", 1))
	assert.Equal(t, 2, bad.Exit, "a Standard zone for Premium storage is a usage error")
	assert.Contains(t, bad.Stderr, "resolves through zone "+zone)

	c.ResetLog()
	r = azlinRun(t, c, "storage", "create", "hub-home", "--private-dns-zone-id", z.ID)
	assert.Contains(t, r.Stdout, "Storage: hub-home")
	assert.NotContains(t, commands(c), "network private-dns zone create")
	assert.NotContains(t, commands(c), "network private-dns zone show")
	assert.Equal(t, 3, c.Az("network", "private-dns", "zone", "show", "-g", "rg", "-n", zone).Exit, "no zone in the spoke's group")
	var hub struct {
		Links int `json:"numberOfVirtualNetworkLinks"`
	}
	c.AzJSON(&hub, "network", "private-dns", "zone", "show", "-g", "hub", "-n", zone)
	assert.Equal(t, 1, hub.Links, "the hub's zone is linked to azlin's VNet")
	var pe []struct{ Name string }
	c.AzJSON(&pe, "network", "private-endpoint", "list", "-g", "rg")
	require.Len(t, pe, 1)
	var zg struct {
		Configs []struct {
			ZoneID string `json:"privateDnsZoneId"`
		} `json:"privateDnsZoneConfigs"`
	}
	c.AzJSON(&zg, "network", "private-endpoint", "dns-zone-group", "show", "-g", "rg", "--endpoint-name", pe[0].Name, "-n", "default")
	require.Len(t, zg.Configs, 1)
	assert.Equal(t, z.ID, zg.Configs[0].ZoneID, "the endpoint is registered in the hub's zone")

	// Run again: it converges without a change.
	c.ResetLog()
	azlinRun(t, c, "storage", "create", "hub-home", "--private-dns-zone-id", z.ID)
	assert.Empty(t, mutations(c))

	azlinRun(t, c, "new", "--shared-home", "hub-home", "--name", "hv1")
	mnt := ssh(t, c, "hv1", "findmnt -n -o FSTYPE,SOURCE /home/azureuser")
	assert.Regexp(t, `^nfs4 +127\.0\.0\.1:/hubhome\w+/hub-home\n$`, mnt)
}
