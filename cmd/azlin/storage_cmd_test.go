package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/output"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/testjson"
)

// Command-level tests: flags, output and exit codes, with az answered from
// recorded shapes (testdata/storage, copies of localcloud/azemu/testdata/az-shapes; see
// testdata/storage/README.md). The manager's az sequences are tested in
// internal/storage.

const stTestdata = "testdata/storage/"

func runStorageCmd(t *testing.T, fake azcli.Runner, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Setenv("AZLIN_CONFIG_DIR", t.TempDir())
	t.Setenv("AZLIN_RESOURCE_GROUP", "")
	return runWith(t, context.Background(), fake, args...)
}

const stSub = "9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203"

var stAcct = storage.AccountName(stSub, "rg", "shared-dev")

// stAccount: az-shapes/storage-account-show.json as azlin's Premium storage
// shared-dev (1 TiB, private endpoint).
func stAccount(t *testing.T) map[string]any {
	b, err := os.ReadFile(stTestdata + "storage-account-show.json")
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	m["name"] = stAcct
	m["id"] = "/subscriptions/" + stSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/" + stAcct
	m["location"] = "eastus"
	m["publicNetworkAccess"] = "Disabled"
	m["enableHttpsTrafficOnly"] = true // encrypted in transit, as azlin makes Premium storage
	testjson.Obj(t, m, "networkRuleSet")["virtualNetworkRules"] = []any{}
	m["privateEndpointConnections"] = []any{map[string]any{
		"privateEndpoint":                   map[string]any{"id": "/subscriptions/" + stSub + "/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/" + stAcct + "-pe"},
		"privateLinkServiceConnectionState": map[string]any{"status": "Approved"},
	}}
	m["tags"] = map[string]any{"azlin-managed": "true", "azlin-storage": "shared-dev", "azlin-tier": "Premium",
		"azlin-size-gib": "1024", "azlin-network": "private-endpoint", "azlin-created": "2025-10-15T08:00:00Z"}
	return m
}

func stJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// stShareStats: az-shapes/storage-share-rm-show.json with --expand stats' usage.
func stShareStats(t *testing.T, used int64) string {
	b, err := os.ReadFile(stTestdata + "storage-share-rm-show.json")
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	m["name"], m["shareQuota"], m["shareUsageBytes"] = "shared-dev", 1024, used
	return stJSON(t, m)
}

// stVMs: az-shapes/vm-list.json with vm using shared-dev.
func stVMs(t *testing.T) string {
	b, err := os.ReadFile(stTestdata + "vm-list.json")
	require.NoError(t, err)
	var vms []map[string]any
	require.NoError(t, json.Unmarshal(b, &vms))
	vms[0]["tags"] = map[string]any{"azlin-storage": "shared-dev"}
	return stJSON(t, vms)
}

func stGroupCalls(t *testing.T) []aztest.Call {
	return []aztest.Call{
		{Argv: []string{"account", "show"}, StdoutFile: stTestdata + "account-show.json"},
		{Argv: []string{"storage", "account", "list", "-g", "rg"}, Stdout: stJSON(t, []any{stAccount(t)})},
		{Argv: []string{"vm", "list", "-g", "rg"}, Stdout: stVMs(t)},
		{Argv: []string{"storage", "share-rm", "show", "-g", "rg", "--storage-account", stAcct, "-n", "shared-dev", "--expand", "stats"},
			Stdout: stShareStats(t, 45<<30)},
	}
}

// stSeries: az-shapes/2.74/monitor-metrics-list.json as shared-dev's
// FileCapacity over the last offset, one value a day (GiB), from 2025-11-20.
func stSeries(t *testing.T, offset string, gib ...float64) aztest.Call {
	b, err := os.ReadFile(stTestdata + "monitor-metrics-list.json")
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	var data []any
	for i, g := range gib {
		data = append(data, map[string]any{"average": g * (1 << 30),
			"timeStamp": time.Date(2025, 11, 20+i, 9, 0, 0, 0, time.UTC).Format(time.RFC3339)})
	}
	testjson.Obj(t, testjson.List(t, m, "value", 0, "timeseries"), 0)["data"] = data
	files := "/subscriptions/" + stSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/" + stAcct + "/fileServices/default"
	return aztest.Call{Argv: []string{"monitor", "metrics", "list", "--resource", files, "--metrics", "FileCapacity",
		"--filter", "FileShare eq 'shared-dev'", "--aggregation", "Average", "--interval", "1h", "--offset", offset}, Stdout: stJSON(t, m)}
}

func TestStorageBadInputIsExit2WithoutAz(t *testing.T) {
	for _, args := range [][]string{
		{"storage", "create", "Bad_Name", "-g", "rg"},
		{"storage", "create", "ok-name", "--size", "12XB", "-g", "rg"},
		{"storage", "create", "ok-name", "--size", "20GB", "-g", "rg"}, // below the default tier's (PremiumV2) 32 GiB
		{"storage", "create", "ok-name", "--tier", "Cool", "-g", "rg"},
		{"storage", "create", "ok-name", "--tier", "Premium", "--iops", "5000", "-g", "rg"}, // v1: IOPS follow the size
		{"storage", "create", "ok-name", "--iops", "2000", "-g", "rg"},                      // below PremiumV2's 3000
		{"storage", "create", "ok-name", "--throughput", "0", "-g", "rg"},
		{"storage", "create", "ok-name", "--tier", "Standard", "--throughput", "200", "-g", "rg"},
		{"storage", "create", "ok-name", "--network", "public", "-g", "rg"},
		{"storage", "create", "ok-name", "--vnet", "bad vnet!", "-g", "rg"},
		{"storage", "create", "ok-name"}, // no resource group
		{"storage", "status", "a"},
		{"storage", "delete", "-x-", "-g", "rg"},
		{"storage", "list", "extra", "-g", "rg"},
	} {
		f := aztest.New(t)
		_, stderr, code := runStorageCmd(t, f, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Empty(t, f.Calls(), "%v", args)
		assert.Contains(t, stderr, "--help", "%v", args)
	}
}

func TestStorageStatusLayout(t *testing.T) {
	calls := append(stGroupCalls(t), stSeries(t, "7d", 30, 33, 36, 45))
	out, stderr, code := runStorageCmd(t, aztest.New(t, calls...), "storage", "status", "shared-dev", "-g", "rg")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, `Storage: shared-dev
Account: `+stAcct+`
Tier: Premium, NFS 4.1 (Azure Files), LRS
Redundancy: LRS (three copies in one datacenter); no geo-redundancy for NFS
Size: 1TiB (45GiB used, 4% utilization)
Trend: +15GiB in 3 days; full in about 196 days at this rate
Region: eastus
In transit: encrypted (TLS through Microsoft's AZNFS mount helper; secure transfer required)
Created: 2025-10-15
Cost: $171.14/month (NFS share $163.84 + private endpoint $7.30)

Connected VMs:
  - vm - mounted at /home/azureuser

NFS Endpoint: `+stAcct+`.file.core.windows.net:/`+stAcct+`/shared-dev

Network:
  Public network access: Disabled
  Firewall default action: Deny
  Private endpoints: `+stAcct+`-pe (Approved)
  VNet rules: none
`, out)
}

func TestStorageStatusJSONAndUnknownName(t *testing.T) {
	out, _, code := runStorageCmd(t, aztest.New(t, append(stGroupCalls(t), stSeries(t, "7d", 45))...), "storage", "status", "shared-dev", "-g", "rg", "-o", "json")
	require.Equal(t, 0, code)
	var s map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &s))
	assert.Equal(t, stAcct, s["account"])
	assert.Equal(t, float64(45<<30), s["usedBytes"])
	assert.Equal(t, []any{"vm"}, s["connectedVMs"])
	assert.Equal(t, false, s["nearlyFull"])
	assert.Equal(t, "not enough data yet: Azure refreshes capacity about once a day", testjson.Str(t, s, "trend", "text"))

	_, stderr, code := runStorageCmd(t, aztest.New(t, stGroupCalls(t)[:3]...), "storage", "status", "nope", "-g", "rg")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "no storage named nope in resource group rg (it has: shared-dev)")
}

func TestStorageListRowsAndJSON(t *testing.T) {
	out, _, code := runStorageCmd(t, aztest.New(t, stGroupCalls(t)...), "storage", "list", "-g", "rg")
	require.Equal(t, 0, code)
	assert.Equal(t, "shared-dev\tPremium\t1TiB\t45GiB\teastus\t1\n", out, "piped: rows only, tab-separated")

	out, _, code = runStorageCmd(t, aztest.New(t, stGroupCalls(t)...), "storage", "list", "-g", "rg", "-o", "json")
	require.Equal(t, 0, code)
	var list []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	require.Len(t, list, 1)
	assert.Equal(t, stAcct+".file.core.windows.net:/"+stAcct+"/shared-dev", list[0]["endpoint"])
}

func TestStorageListEmpty(t *testing.T) {
	f := aztest.New(t, aztest.Call{Argv: []string{"account", "show"}, StdoutFile: stTestdata + "account-show.json"},
		aztest.Call{Argv: []string{"storage", "account", "list", "-g", "rg"}, Stdout: "[]"},
		aztest.Call{Argv: []string{"vm", "list", "-g", "rg"}, Stdout: "[]"})
	out, stderr, code := runStorageCmd(t, f, "storage", "list", "-g", "rg")
	require.Equal(t, 0, code)
	assert.Empty(t, out)
	assert.Contains(t, stderr, "No azlin storage in resource group 'rg' yet. Create one with: azlin storage create NAME -g rg")
}

func TestStorageListTableOnATerminal(t *testing.T) {
	var buf strings.Builder
	p := &output.Printer{Out: &buf, Err: io.Discard, Format: output.FormatTable, OutIsTTY: true}
	s := &storage.Storage{Name: "shared-dev", Tier: nfs.Premium, SizeGiB: 1024, Region: "westus2", ConnectedVMs: []string{"a", "b", "c"}}
	used := int64(45 << 30)
	s.UsedBytes = &used
	require.NoError(t, printStorageList(p, "azlin-rg-1234", []*storage.Storage{s}))
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, "Storage Accounts in 'azlin-rg-1234':", lines[0])
	assert.Regexp(t, `^NAME\s+TIER\s+SIZE\s+USED\s+REGION\s+VMS$`, strings.TrimSpace(lines[1]))
	assert.Regexp(t, `^shared-dev\s+Premium\s+1TiB\s+45GiB\s+westus2\s+3$`, strings.TrimSpace(lines[2]))
}

func TestStorageDeleteRefusesWithConnectedVMsEvenWithYes(t *testing.T) {
	_, stderr, code := runStorageCmd(t, aztest.New(t, stGroupCalls(t)...), "storage", "delete", "shared-dev", "-g", "rg", "--yes")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "storage shared-dev is in use by 1 VM(s): vm. Nothing was deleted.")
	assert.Contains(t, stderr, "azlin storage detach --vm vm -g rg")
}

func TestStorageDeleteNeedsYesWithoutATerminal(t *testing.T) {
	calls := stGroupCalls(t)
	calls[2].Stdout = "[]" // no VM uses it
	_, stderr, code := runStorageCmd(t, aztest.New(t, calls...), "storage", "delete", "shared-dev", "-g", "rg")
	assert.Equal(t, 2, code, stderr)
	assert.Contains(t, stderr, "All data on shared-dev is lost")
	assert.Contains(t, stderr, "storage account "+stAcct+" with its NFS share (1TiB, 45GiB used)")
}

func TestStorageDeleteWithYes(t *testing.T) {
	calls := stGroupCalls(t)
	calls[2].Stdout = "[]"
	calls = append(calls,
		aztest.Call{Argv: []string{"network", "private-endpoint", "dns-zone-group", "delete", "-g", "rg", "--endpoint-name", stAcct + "-pe", "-n", "default"}},
		aztest.Call{Argv: []string{"network", "private-endpoint", "delete", "-g", "rg", "-n", stAcct + "-pe"}},
		aztest.Call{Argv: []string{"storage", "account", "delete", "-g", "rg", "-n", stAcct, "--yes"}})
	_, stderr, code := runStorageCmd(t, aztest.New(t, calls...), "storage", "delete", "shared-dev", "-g", "rg", "--yes")
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "Deleted storage shared-dev")
}
