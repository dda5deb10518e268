package network

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
)

const sub = "9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203"

var names = Names{VNet: "azlin-vnet", VNetPrefix: "10.0.0.0/16", Subnet: "azlin-subnet", SubnetPrefix: "10.0.0.0/24"}

func read(t *testing.T, file string) string {
	b, err := os.ReadFile("testdata/az/" + file)
	require.NoError(t, err)
	return string(b)
}

// vnetShow wraps az-shapes/network-vnet-subnet-show.json (renamed, its
// service endpoints replaced) in a VNet body, as `az network vnet show` prints it.
func vnetShow(t *testing.T, subnet string, endpoints ...string) string {
	var s map[string]any
	require.NoError(t, json.Unmarshal([]byte(read(t, "network-vnet-subnet-show.json")), &s))
	s["name"] = subnet
	s["id"] = "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/azlin-vnet/subnets/" + subnet
	delete(s, "serviceEndpoints")
	if len(endpoints) > 0 {
		var se []any
		for _, e := range endpoints {
			se = append(se, map[string]any{"locations": []any{"westus2"}, "provisioningState": "Succeeded", "service": e})
		}
		s["serviceEndpoints"] = se
	}
	b, err := json.Marshal(map[string]any{"addressSpace": map[string]any{"addressPrefixes": []any{"10.0.0.0/16"}},
		"id":       "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/azlin-vnet",
		"location": "westus2", "name": "azlin-vnet", "provisioningState": "Succeeded", "resourceGroup": "rg",
		"subnets": []any{s}, "type": "Microsoft.Network/virtualNetworks"})
	require.NoError(t, err)
	return string(b)
}

func notFound(t *testing.T, argv ...string) aztest.Call {
	var e struct{ Stderr string }
	require.NoError(t, json.Unmarshal([]byte(read(t, "storage-account-show-404.json")), &e))
	return aztest.Call{Argv: argv, Exit: 3, Stderr: e.Stderr}
}

func manager(f *aztest.Fake, dry *bytes.Buffer) *Manager {
	o := azcli.Options{Retry: azcli.RetryPolicy{MaxAttempts: 1}}
	if dry != nil {
		o.DryRun, o.DryRunOut = true, dry
	}
	return NewManager(azcli.New(f, o))
}

var vnetShowArgv = []string{"network", "vnet", "show", "-g", "rg", "-n", "azlin-vnet"}

func TestEnsureSubnetExisting(t *testing.T) {
	f := aztest.New(t, aztest.Call{Argv: vnetShowArgv, Stdout: vnetShow(t, "azlin-subnet", "Microsoft.KeyVault")})
	s, created, err := manager(f, nil).EnsureSubnet(context.Background(), "rg", "eastus", names)
	require.NoError(t, err)
	assert.Empty(t, created)
	assert.Equal(t, Subnet{ID: "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/azlin-vnet/subnets/azlin-subnet",
		ResourceGroup: "rg", VNet: "azlin-vnet", Name: "azlin-subnet", Location: "westus2", ServiceEndpoints: []string{"Microsoft.KeyVault"}}, s)
}

func TestEnsureSubnetCreatesTheVNetInDryRun(t *testing.T) {
	var out bytes.Buffer
	f := aztest.New(t, notFound(t, vnetShowArgv...), aztest.Call{Argv: []string{"account", "show"}, Stdout: read(t, "account-show.json")})
	s, created, err := manager(f, &out).EnsureSubnet(context.Background(), "rg", "eastus", names)
	require.NoError(t, err)
	assert.Equal(t, []string{"virtual network azlin-vnet with subnet azlin-subnet"}, created)
	assert.Equal(t, "az network vnet create -g rg -n azlin-vnet -l eastus --address-prefixes 10.0.0.0/16 --subnet-name azlin-subnet --subnet-prefixes 10.0.0.0/24 --output json --only-show-errors\n", out.String())
	assert.Equal(t, "eastus", s.Location)
	assert.True(t, strings.HasSuffix(s.ID, "/virtualNetworks/azlin-vnet/subnets/azlin-subnet"))
}

func TestEnsureSubnetAddsAMissingSubnet(t *testing.T) {
	f := aztest.New(t, aztest.Call{Argv: vnetShowArgv, Stdout: vnetShow(t, "other")},
		aztest.Call{Argv: []string{"network", "vnet", "subnet", "create", "-g", "rg", "--vnet-name", "azlin-vnet", "-n", "azlin-subnet", "--address-prefixes", "10.0.0.0/24"}},
		aztest.Call{Argv: []string{"account", "show"}, Stdout: read(t, "account-show.json")})
	s, created, err := manager(f, nil).EnsureSubnet(context.Background(), "rg", "eastus", names)
	require.NoError(t, err)
	assert.Equal(t, []string{"subnet azlin-subnet in virtual network azlin-vnet"}, created)
	assert.Equal(t, "westus2", s.Location, "the VNet's region, not the one asked for")
}

func TestAddServiceEndpointMergesAndNeverDropsOthers(t *testing.T) {
	s := Subnet{ResourceGroup: "rg", VNet: "azlin-vnet", Name: "azlin-subnet", ServiceEndpoints: []string{"Microsoft.KeyVault", "Microsoft.Sql"}}
	f := aztest.New(t, aztest.Call{Argv: []string{"network", "vnet", "subnet", "update", "-g", "rg", "--vnet-name", "azlin-vnet", "-n", "azlin-subnet",
		"--service-endpoints", "Microsoft.KeyVault", "Microsoft.Sql", "Microsoft.Storage"}})
	got, err := manager(f, nil).AddServiceEndpoint(context.Background(), s, "Microsoft.Storage")
	require.NoError(t, err)
	assert.Equal(t, []string{"Microsoft.KeyVault", "Microsoft.Sql", "Microsoft.Storage"}, got.ServiceEndpoints)
	assert.Equal(t, []string{"Microsoft.KeyVault", "Microsoft.Sql"}, s.ServiceEndpoints, "the caller's value is not changed")

	// Already there (any case): no call at all.
	f2 := aztest.New(t)
	_, err = manager(f2, nil).AddServiceEndpoint(context.Background(), got, "microsoft.storage")
	require.NoError(t, err)
	assert.Empty(t, f2.Calls())
}

func TestDeletePrivateEndpointToleratesWhatIsGone(t *testing.T) {
	f := aztest.New(t,
		notFound(t, "network", "private-endpoint", "dns-zone-group", "delete", "-g", "rg", "--endpoint-name", "pe", "-n", "default"),
		notFound(t, "network", "private-endpoint", "delete", "-g", "rg", "-n", "pe"))
	require.NoError(t, manager(f, nil).DeletePrivateEndpoint(context.Background(), "rg", "pe"))
}

func TestPrivateDNSZone(t *testing.T) {
	assert.Equal(t, "privatelink.file.core.windows.net", PrivateDNSZone("file"))
	assert.Equal(t, "privatelink.blob.core.windows.net", PrivateDNSZone("blob"))
}

func TestParseSubnetID(t *testing.T) {
	rg, vnet, sub, ok := ParseSubnetID("/subscriptions/9b2c/resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks/azlin-vnet/subnets/azlin-subnet")
	assert.True(t, ok)
	assert.Equal(t, []string{"rg-1", "azlin-vnet", "azlin-subnet"}, []string{rg, vnet, sub})
	_, _, _, ok = ParseSubnetID("/subscriptions/9b2c/resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks/azlin-vnet")
	assert.False(t, ok)
}
