package network

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
)

var nsgShowArgv = []string{"network", "nsg", "show", "-g", "rg", "-n", "azlin-vnet-nsg"}

// nsgShow is an `az network nsg show` body (shape of az 2.74's output,
// trimmed to the fields azlin reads) with the given security rules.
func nsgShow(t *testing.T, rules ...map[string]any) string {
	b, err := json.Marshal(map[string]any{"name": "azlin-vnet-nsg", "location": "westus2", "resourceGroup": "rg",
		"securityRules": rules, "type": "Microsoft.Network/networkSecurityGroups"})
	require.NoError(t, err)
	return string(b)
}

func sshRule(name string, priority int, sources ...string) map[string]any {
	r := map[string]any{"name": name, "access": "Allow", "direction": "Inbound", "protocol": "Tcp", "priority": priority,
		"destinationPortRange": "22", "sourcePortRange": "*", "destinationAddressPrefix": "*"}
	if len(sources) == 1 {
		r["sourceAddressPrefix"] = sources[0]
	} else {
		r["sourceAddressPrefixes"] = sources
	}
	return r
}

func TestEnsureSSHFromCreatesTheNSGAndItsRule(t *testing.T) {
	f := aztest.New(t, notFound(t, nsgShowArgv...),
		aztest.Call{Argv: []string{"network", "nsg", "create", "-g", "rg", "-n", "azlin-vnet-nsg", "-l", "westus2"}},
		aztest.Call{Argv: []string{"network", "nsg", "rule", "create", "-g", "rg", "--nsg-name", "azlin-vnet-nsg", "-n", "azlin-ssh",
			"--priority", "900", "--direction", "Inbound", "--access", "Allow", "--protocol", "Tcp",
			"--destination-port-ranges", "22", "--source-address-prefixes", "203.0.113.7/32"}})
	a, err := manager(f, nil).EnsureSSHFrom(context.Background(), "rg", "westus2", "azlin-vnet-nsg", "203.0.113.7/32")
	require.NoError(t, err)
	assert.Equal(t, SSHAccess{Sources: []string{"203.0.113.7/32"}, Changed: true}, a)
}

func TestEnsureSSHFromMergesAndNeverDropsOthers(t *testing.T) {
	f := aztest.New(t, aztest.Call{Argv: nsgShowArgv, Stdout: nsgShow(t, sshRule("azlin-ssh", 900, "198.51.100.4/32", "192.0.2.0/24"))},
		aztest.Call{Argv: []string{"network", "nsg", "rule", "update", "-g", "rg", "--nsg-name", "azlin-vnet-nsg", "-n", "azlin-ssh",
			"--source-address-prefixes", "198.51.100.4/32", "192.0.2.0/24", "203.0.113.7/32"}})
	a, err := manager(f, nil).EnsureSSHFrom(context.Background(), "rg", "westus2", "azlin-vnet-nsg", "203.0.113.7/32")
	require.NoError(t, err)
	assert.Equal(t, []string{"198.51.100.4/32", "192.0.2.0/24", "203.0.113.7/32"}, a.Sources)
	assert.True(t, a.Changed)
}

func TestEnsureSSHFromWritesNothingWhenTheAddressIsThere(t *testing.T) {
	f := aztest.New(t, aztest.Call{Argv: nsgShowArgv, Stdout: nsgShow(t, sshRule("azlin-ssh", 900, "203.0.113.7/32"))})
	a, err := manager(f, nil).EnsureSSHFrom(context.Background(), "rg", "westus2", "azlin-vnet-nsg", "203.0.113.7/32")
	require.NoError(t, err)
	assert.Equal(t, SSHAccess{Sources: []string{"203.0.113.7/32"}}, a)
	assert.Len(t, f.Calls(), 1, "one read, no write")
}

func TestEnsureSSHFromNamesARuleOpenToEveryone(t *testing.T) {
	f := aztest.New(t, aztest.Call{Argv: nsgShowArgv, Stdout: nsgShow(t, sshRule("default-allow-ssh", 1000, "*"), sshRule("azlin-ssh", 900, "203.0.113.7/32"))})
	a, err := manager(f, nil).EnsureSSHFrom(context.Background(), "rg", "westus2", "azlin-vnet-nsg", "203.0.113.7/32")
	require.NoError(t, err)
	assert.Equal(t, "default-allow-ssh", a.OpenRule, "left alone, but named for the warning")
	assert.Equal(t, "az network nsg rule delete -g rg --nsg-name azlin-vnet-nsg -n default-allow-ssh",
		RemoveOpenRuleCommand("rg", "azlin-vnet-nsg", a.OpenRule))
}

func TestDiscoverPublicIP(t *testing.T) {
	answer, status := "203.0.113.7\n", http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		fmt.Fprint(w, answer)
	}))
	defer srv.Close()
	got, err := DiscoverPublicIP(context.Background(), srv.URL)
	require.NoError(t, err)
	assert.Equal(t, "203.0.113.7/32", got)

	answer = "<html>rate limited</html>"
	_, err = DiscoverPublicIP(context.Background(), srv.URL)
	require.ErrorContains(t, err, "is not an address")
	assert.ErrorContains(t, err, "--ssh-from")

	status = http.StatusServiceUnavailable
	_, err = DiscoverPublicIP(context.Background(), srv.URL)
	require.ErrorContains(t, err, "503")
	assert.ErrorContains(t, err, "ssh_from")
}

// An address inside a range the rule already allows needs no write; one
// outside every range, or wider than them, is added.
func TestEnsureSSHFromTakesAnAddressInsideAnAllowedRangeAsThere(t *testing.T) {
	body := nsgShow(t, sshRule("azlin-ssh", 900, "198.51.100.4/32", "192.0.2.0/24"))
	for cidr, covered := range map[string]bool{"198.51.100.4/32": true, "192.0.2.77/32": true, "203.0.113.7/32": false, "192.0.0.0/16": false} {
		calls := []aztest.Call{{Argv: nsgShowArgv, Stdout: body}}
		if !covered {
			calls = append(calls, aztest.Call{Argv: []string{"network", "nsg", "rule", "update", "-g", "rg", "--nsg-name", "azlin-vnet-nsg",
				"-n", "azlin-ssh", "--source-address-prefixes", "198.51.100.4/32", "192.0.2.0/24", cidr}})
		}
		a, err := manager(aztest.New(t, calls...), nil).EnsureSSHFrom(context.Background(), "rg", "westus2", "azlin-vnet-nsg", cidr)
		require.NoError(t, err, cidr)
		assert.Equal(t, !covered, a.Changed, cidr)
	}
}

func TestRemoveOpenRuleCommandQuotes(t *testing.T) {
	assert.Equal(t, "az network nsg rule delete -g 'my rg' --nsg-name azlin-vnet-nsg -n default-allow-ssh",
		RemoveOpenRuleCommand("my rg", "azlin-vnet-nsg", "default-allow-ssh"))
}

var ruleShowArgv = []string{"network", "nsg", "rule", "show", "-g", "rg", "--nsg-name", "azlin-vnet-nsg", "-n", "azlin-ssh"}

// ruleShow is an `az network nsg rule show` body (az 2.74's shape: the rule
// object, one source in sourceAddressPrefix, several in ...Prefixes).
func ruleShow(t *testing.T, sources ...string) string {
	r := sshRule("azlin-ssh", 900, sources...)
	r["id"] = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/azlin-vnet-nsg/securityRules/azlin-ssh"
	r["provisioningState"] = "Succeeded"
	r["type"] = "Microsoft.Network/networkSecurityGroups/securityRules"
	if len(sources) == 1 {
		r["sourceAddressPrefixes"] = []string{}
	}
	b, err := json.Marshal(r)
	require.NoError(t, err)
	return string(b)
}

func TestSSHSourcesReadsTheRuleInOneCall(t *testing.T) {
	for _, srcs := range [][]string{{"203.0.113.7/32"}, {"203.0.113.7/32", "192.0.2.0/24"}} {
		f := aztest.New(t, aztest.Call{Argv: ruleShowArgv, Stdout: ruleShow(t, srcs...)})
		got, err := manager(f, nil).SSHSources(context.Background(), "rg", "azlin-vnet-nsg")
		require.NoError(t, err)
		assert.Equal(t, srcs, got)
		assert.Len(t, f.Calls(), 1)
	}
	_, err := manager(aztest.New(t, notFound(t, ruleShowArgv...)), nil).SSHSources(context.Background(), "rg", "azlin-vnet-nsg")
	assert.ErrorIs(t, err, azcli.ErrNotFound)
}

func TestAllowSSHFromAddsToTheRuleButNeverMakesTheNSG(t *testing.T) {
	f := aztest.New(t, aztest.Call{Argv: nsgShowArgv, Stdout: nsgShow(t, sshRule("azlin-ssh", 900, "203.0.113.7/32"))},
		aztest.Call{Argv: []string{"network", "nsg", "rule", "update", "-g", "rg", "--nsg-name", "azlin-vnet-nsg", "-n", "azlin-ssh",
			"--source-address-prefixes", "203.0.113.7/32", "198.51.100.20/32"}})
	a, err := manager(f, nil).AllowSSHFrom(context.Background(), "rg", "azlin-vnet-nsg", "198.51.100.20/32")
	require.NoError(t, err)
	assert.Equal(t, SSHAccess{Sources: []string{"203.0.113.7/32", "198.51.100.20/32"}, Changed: true}, a)

	f = aztest.New(t, notFound(t, nsgShowArgv...))
	_, err = manager(f, nil).AllowSSHFrom(context.Background(), "rg", "azlin-vnet-nsg", "198.51.100.20/32")
	require.ErrorContains(t, err, "there is no network security group azlin-vnet-nsg in resource group rg")
	assert.Len(t, f.Calls(), 1, "nothing created")
}

func TestCoversTakesAnOpenRuleAsCoveringAll(t *testing.T) {
	assert.True(t, Covers([]string{"*"}, "198.51.100.20/32"))
	assert.True(t, Covers([]string{"Internet"}, "198.51.100.20/32"))
	assert.False(t, Covers([]string{"VirtualNetwork"}, "198.51.100.20/32"))
	assert.False(t, Covers(nil, "198.51.100.20/32"))
}
