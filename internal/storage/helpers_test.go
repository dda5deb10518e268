package storage

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/cost"
	"github.com/azlin-dev/azlin/internal/network"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/tags"
	"github.com/azlin-dev/azlin/internal/testjson"
)

// The fake login of az-shapes/account-show.json.
const (
	testSub    = "9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203"
	testRG     = "rg"
	testName   = "shared-dev"
	testRegion = "eastus"
	testTime   = "2026-01-02T03:04:05Z"
)

var testAcct = AccountName(testSub, testRG, testName)

var testNames = network.Names{VNet: "azlin-vnet", VNetPrefix: "10.0.0.0/16", Subnet: "azlin-subnet", SubnetPrefix: "10.0.0.0/24"}

// shape reads a recorded az output body from testdata/az (copies of
// localcloud/azemu/testdata/az-shapes, see testdata/README.md) as generic JSON.
func shape(t *testing.T, file string) any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "az", file))
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(data, &v))
	return v
}

// obj is shape() for an object body, changed by edits.
func obj(t *testing.T, file string, edits ...func(map[string]any)) map[string]any {
	t.Helper()
	m := testjson.Obj(t, shape(t, file))
	for _, e := range edits {
		e(m)
	}
	return m
}

func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	return string(b)
}

// azErr is a failed call with az's stderr layout for an ARM error code.
func azErr(argv []string, exit int, code, msg string) aztest.Call {
	return aztest.Call{Argv: argv, Exit: exit,
		Stderr: "ERROR: (" + code + ") " + msg + "\nCode: " + code + "\nMessage: " + msg + "\n"}
}

// errShape is an error capture of az-shapes (…-404.json), its names replaced.
func errShape(t *testing.T, file string, argv []string, replace ...string) aztest.Call {
	t.Helper()
	m := shape(t, file)
	stderr := strings.NewReplacer(replace...).Replace(testjson.Str(t, m, "stderr"))
	return aztest.Call{Argv: argv, Exit: int(testjson.Num(t, m, "exit_code")), Stderr: stderr}
}

func notFound(t *testing.T, argv []string, resource string) aztest.Call {
	return errShape(t, "storage-account-show-404.json", argv, "Microsoft.Storage/storageAccounts/acct", resource)
}

func ok(argv []string, stdout string) aztest.Call { return aztest.Call{Argv: argv, Stdout: stdout} }

// mutation: azlin does not read what a create/update/delete prints.
func mutation(argv ...string) aztest.Call { return aztest.Call{Argv: argv} }

// premiumAccount is az-shapes/storage-account-show.json as the account
// azlin's Premium create makes in private-endpoint mode.
func premiumAccount(t *testing.T, edits ...func(map[string]any)) map[string]any {
	base := []func(map[string]any){func(m map[string]any) {
		m["name"] = testAcct
		m["id"] = "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/" + testAcct
		m["tags"] = map[string]any{tags.Managed: "true", tags.Storage: testName, tags.Tier: "Premium", tags.SizeGiB: "100",
			tags.Network: "private-endpoint", tags.Created: testTime}
		m["publicNetworkAccess"] = "Disabled"
		m["enableHttpsTrafficOnly"] = true // encrypted in transit
		testjson.Obj(t, m, "networkRuleSet")["virtualNetworkRules"] = []any{}
		testjson.Obj(t, m, "primaryEndpoints")["file"] = "https://" + testAcct + ".file.core.windows.net/"
		m["privateEndpointConnections"] = []any{map[string]any{
			"id":   testjson.Str(t, m, "id") + "/privateEndpointConnections/" + testAcct + "-pe.1234",
			"name": testAcct + "-pe.1234",
			"privateEndpoint": map[string]any{
				"id":            "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/" + testAcct + "-pe",
				"resourceGroup": "rg",
			},
			"privateLinkServiceConnectionState": map[string]any{"actionRequired": "None", "description": "Auto-Approved", "status": "Approved"},
			"provisioningState":                 "Succeeded",
			"resourceGroup":                     "rg",
			"type":                              "Microsoft.Storage/storageAccounts/privateEndpointConnections",
		}}
	}}
	return obj(t, "storage-account-show.json", append(base, edits...)...)
}

// standardAccount: the account of a Standard (Blob NFS 3.0) storage in
// service-endpoint mode.
func standardAccount(t *testing.T, name string, edits ...func(map[string]any)) map[string]any {
	acct := AccountName(testSub, testRG, name)
	return premiumAccount(t, append([]func(map[string]any){func(m map[string]any) {
		m["name"] = acct
		m["id"] = "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/" + acct
		m["kind"] = "StorageV2"
		m["sku"] = map[string]any{"name": "Standard_LRS", "tier": "Standard"}
		m["isHnsEnabled"] = true
		m["enableNfsV3"] = true
		m["accessTier"] = "Hot"
		m["publicNetworkAccess"] = nil
		m["privateEndpointConnections"] = []any{}
		testjson.Obj(t, m, "networkRuleSet")["virtualNetworkRules"] = []any{map[string]any{
			"action": "Allow", "state": "Succeeded",
			"virtualNetworkResourceId": "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/azlin-vnet/subnets/azlin-subnet",
		}}
		m["primaryEndpoints"] = map[string]any{"blob": "https://" + acct + ".blob.core.windows.net/", "dfs": "https://" + acct + ".dfs.core.windows.net/",
			"file": nil, "internetEndpoints": nil, "microsoftEndpoints": nil, "queue": nil, "table": nil, "web": nil}
		m["tags"] = map[string]any{tags.Managed: "true", tags.Storage: name, tags.Tier: "Standard", tags.SizeGiB: "500",
			tags.Network: "service-endpoint", tags.Created: testTime}
	}}, edits...)...)
}

// premiumShare: az-shapes/storage-share-rm-show.json for the storage's share.
func premiumShare(t *testing.T, quota int, usedBytes any) map[string]any {
	return obj(t, "storage-share-rm-show.json", func(m map[string]any) {
		m["name"] = testName
		m["id"] = "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/" + testAcct + "/fileServices/default/shares/" + testName
		m["shareQuota"] = quota
		m["shareUsageBytes"] = usedBytes
	})
}

// vnetBody is `az network vnet show` for azlin-vnet holding azlin-subnet
// with the given service endpoints (nil: none). See testdata/README.md.
func vnetBody(t *testing.T, subnetName string, endpoints ...string) string {
	sub := obj(t, "network-vnet-subnet-show.json", func(m map[string]any) {
		m["name"] = subnetName
		m["id"] = "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/azlin-vnet/subnets/" + subnetName
		if len(endpoints) == 0 {
			delete(m, "serviceEndpoints")
		} else {
			var se []any
			for _, e := range endpoints {
				se = append(se, map[string]any{"locations": []any{"eastus"}, "provisioningState": "Succeeded", "service": e})
			}
			m["serviceEndpoints"] = se
		}
	})
	return js(t, map[string]any{
		"addressSpace":           map[string]any{"addressPrefixes": []any{"10.0.0.0/16"}},
		"enableDdosProtection":   false,
		"etag":                   `W/"aed49356-021c-4cf8-92d0-bfa4a4fea645"`,
		"id":                     "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/azlin-vnet",
		"location":               "eastus",
		"name":                   "azlin-vnet",
		"provisioningState":      "Succeeded",
		"resourceGroup":          "rg",
		"resourceGuid":           "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
		"subnets":                []any{sub},
		"type":                   "Microsoft.Network/virtualNetworks",
		"virtualNetworkPeerings": []any{},
	})
}

// newManager returns a Manager on the fake, with retries off (azcli's own
// tests cover them) and a fixed clock.
func newManager(t *testing.T, f *aztest.Fake, dryRunOut *bytes.Buffer) *Manager {
	opts := azcli.Options{Retry: azcli.RetryPolicy{MaxAttempts: 1}}
	if dryRunOut != nil {
		opts.DryRun, opts.DryRunOut = true, dryRunOut
	}
	m := NewManager(azcli.New(f, opts), cost.Default())
	m.Now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	return m
}

// premium asks for the Premium (provisioned v1) tier: the tests whose
// fixtures are a v1 account and share say --tier Premium, now that the
// default is PremiumV2 (premiumv2_test.go tests the default).
func premium(o *CreateOptions) { o.Tier = nfs.Premium }

func createOpts(edits ...func(*CreateOptions)) CreateOptions {
	o := CreateOptions{Name: testName, ResourceGroup: testRG, Names: testNames}
	for _, e := range edits {
		e(&o)
	}
	return o
}

// argv lines, for comparing call lists.
func lines(calls [][]string) []string {
	var out []string
	for _, c := range calls {
		out = append(out, strings.Join(c, " "))
	}
	return out
}
