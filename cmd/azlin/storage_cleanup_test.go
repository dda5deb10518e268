package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/storage"
)

// `azlin storage cleanup` on recorded az output: a group of four Premium
// storages of 100 GiB with a private endpoint ($23.30/month each):
// old-a (created 2025-10-01, never used), old-b (its last VM left on
// 2025-11-01), recent (left on 2025-11-20) and busy (VM vm uses it).
// runWith's clock is 2025-11-25 12:00 UTC.

// clAccount is storage-account-show.json as azlin's storage name; unusedSince
// "" is no tag.
func clAccount(t *testing.T, name, created, unusedSince string) map[string]any {
	m := stAccount(t)
	acct := storage.AccountName(stSub, "rg", name)
	m["name"] = acct
	m["id"] = "/subscriptions/" + stSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/" + acct
	m["creationTime"] = created
	m["privateEndpointConnections"] = []any{map[string]any{
		"privateEndpoint":                   map[string]any{"id": "/subscriptions/" + stSub + "/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/" + acct + "-pe"},
		"privateLinkServiceConnectionState": map[string]any{"status": "Approved"},
	}}
	tags := m["tags"].(map[string]any)
	tags["azlin-storage"], tags["azlin-size-gib"] = name, "100"
	if unusedSince != "" {
		tags["azlin-unused-since"] = unusedSince
	}
	return m
}

func clGroup(t *testing.T) []any {
	return []any{
		clAccount(t, "busy", "2025-09-01T08:00:00.000000+00:00", ""),
		clAccount(t, "old-a", "2025-10-01T08:00:00.000000+00:00", ""),
		clAccount(t, "old-b", "2025-09-15T08:00:00.000000+00:00", "2025-11-01T10:00:00Z"),
		clAccount(t, "recent", "2025-09-20T08:00:00.000000+00:00", "2025-11-20T10:00:00Z"),
	}
}

// clVMs: vm-list.json with vm on busy.
func clVMs(t *testing.T) string { return strings.Replace(stVMs(t), `"shared-dev"`, `"busy"`, 1) }

func clShare(t *testing.T, name string) aztest.Call {
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(stShareStats(t, 2<<30)), &m))
	m["name"], m["shareQuota"] = name, 100
	return aztest.Call{Argv: []string{"storage", "share-rm", "show", "-g", "rg", "--storage-account", storage.AccountName(stSub, "rg", name),
		"-n", name, "--expand", "stats"}, Stdout: stJSON(t, m)}
}

// clListCalls are the reads of the group, then the usage of the storages
// named (cleanup reads it for those it lists only).
func clListCalls(t *testing.T, usageOf ...string) []aztest.Call {
	calls := []aztest.Call{
		{Argv: []string{"account", "show"}, StdoutFile: stTestdata + "account-show.json"},
		{Argv: []string{"storage", "account", "list", "-g", "rg"}, Stdout: stJSON(t, clGroup(t))},
		{Argv: []string{"vm", "list", "-g", "rg"}, Stdout: clVMs(t)},
	}
	for _, n := range usageOf {
		calls = append(calls, clShare(t, n))
	}
	return calls
}

// clAll are the group's storages; clOld those unused for 14 days or more.
var (
	clAll = []string{"busy", "old-a", "old-b", "recent"}
	clOld = []string{"old-a", "old-b"}
)

// clDeleteCalls are storage delete's calls for name: its reads again (vms
// is what az vm list says then), then the deletes.
func clDeleteCalls(t *testing.T, name, vms string, deletes bool) []aztest.Call {
	acct := storage.AccountName(stSub, "rg", name)
	calls := []aztest.Call{
		{Argv: []string{"storage", "account", "list", "-g", "rg"}, Stdout: stJSON(t, clGroup(t))},
		{Argv: []string{"vm", "list", "-g", "rg"}, Stdout: vms},
		clShare(t, name),
	}
	if deletes {
		calls = append(calls,
			aztest.Call{Argv: []string{"network", "private-endpoint", "dns-zone-group", "delete", "-g", "rg", "--endpoint-name", acct + "-pe", "-n", "default"}},
			aztest.Call{Argv: []string{"network", "private-endpoint", "delete", "-g", "rg", "-n", acct + "-pe"}},
			aztest.Call{Argv: []string{"storage", "account", "delete", "-g", "rg", "-n", acct, "--yes"}})
	}
	return calls
}

func deletedAccounts(f *aztest.Fake) []string {
	var out []string
	for _, c := range f.Calls() {
		if len(c) > 6 && c[0] == "storage" && c[1] == "account" && c[2] == "delete" {
			out = append(out, c[6])
		}
	}
	return out
}

func TestStorageCleanupBadInputIsExit2WithoutAz(t *testing.T) {
	for _, args := range [][]string{
		{"storage", "cleanup", "-g", "rg", "--yes", "--unused-for", "2w"},
		{"storage", "cleanup", "-g", "rg", "--yes", "--unused-for", "-1d"},
		{"storage", "cleanup", "-g", "rg", "--yes", "--unused-for", "-5h"},
		{"storage", "cleanup", "-g", "rg", "--yes", "--unused-for", "1.5d"},
		{"storage", "cleanup", "-g", "rg", "--yes", "extra"},
		{"storage", "cleanup", "-g", "rg"}, // no terminal, no --yes
	} {
		f := aztest.New(t)
		_, stderr, code := runStorageCmd(t, f, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Empty(t, f.Calls(), "%v", args)
		assert.Contains(t, stderr, "azlin storage cleanup --help", "%v", args)
	}
	_, stderr, _ := runStorageCmd(t, aztest.New(t), "storage", "cleanup", "-g", "rg", "--unused-for", "2w", "--yes")
	assert.Contains(t, stderr, `invalid --unused-for "2w": give days (14d) or a duration such as 36h or 90m`)
	_, stderr, _ = runStorageCmd(t, aztest.New(t), "storage", "cleanup", "-g", "rg")
	assert.Contains(t, stderr, "pass --yes (-y) to delete every storage it lists when not running interactively, or --dry-run")
}

func TestParseUnusedFor(t *testing.T) {
	for in, want := range map[string]string{"14d": "14d", "0": "0d", "0d": "0d", "36h": "36h0m0s", "48h": "2d", "90m": "1h30m0s"} {
		d, err := storage.ParseUnusedFor(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, storage.FormatUnusedFor(d), in)
	}
}

func TestStorageCleanupWithYesDeletesOnlyTheLongUnused(t *testing.T) {
	calls := append(clListCalls(t, clOld...), clDeleteCalls(t, "old-a", clVMs(t), true)...)
	calls = append(calls, clDeleteCalls(t, "old-b", clVMs(t), true)...)
	f := aztest.New(t, calls...)
	out, stderr, code := runStorageCmd(t, f, "storage", "cleanup", "-g", "rg", "--yes")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "2 storage(s) in resource group rg have had no VM for 14d or more:\n"+
		"  old-a: unused since created 2025-10-01 08:00 UTC (55 days), $23.30/month\n"+
		"  old-b: unused since 2025-11-01 10:00 UTC (24 days), $23.30/month\n")
	assert.NotContains(t, stderr, "recent:", "5 days is less than 14")
	assert.NotContains(t, stderr, "busy:", "a storage in use is never listed")
	assert.Contains(t, stderr, "This deletes storage old-a in resource group rg:", "storage delete's own plan, for each")
	assert.Contains(t, stderr, "Deleted storage old-b")
	assert.Contains(t, stderr, "Deleted storage costing $46.60/month.")
	assert.Equal(t, []string{storage.AccountName(stSub, "rg", "old-a"), storage.AccountName(stSub, "rg", "old-b")}, deletedAccounts(f))
	assert.Equal(t, "old-a\tsince created 2025-10-01 08:00 UTC (55 days)\t$23.30\tdeleted\n"+
		"old-b\tsince 2025-11-01 10:00 UTC (24 days)\t$23.30\tdeleted\n", out)
}

func TestStorageCleanupShorterUnusedForListsMore(t *testing.T) {
	calls := append(clListCalls(t, "old-a", "old-b", "recent"), clDeleteCalls(t, "old-a", clVMs(t), true)...)
	calls = append(calls, clDeleteCalls(t, "old-b", clVMs(t), true)...)
	calls = append(calls, clDeleteCalls(t, "recent", clVMs(t), true)...)
	f := aztest.New(t, calls...)
	out, stderr, code := runStorageCmd(t, f, "storage", "cleanup", "-g", "rg", "--yes", "--unused-for", "5d", "-o", "json")
	require.Equal(t, 0, code, stderr)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Equal(t, "5d", v["unusedFor"])
	assert.Equal(t, "$69.90", v["monthlySaved"])
	items := v["storages"].([]any)
	require.Len(t, items, 3)
	recent := items[2].(map[string]any)
	assert.Equal(t, map[string]any{"name": "recent", "unused": map[string]any{"since": "2025-11-20T10:00:00Z", "sinceCreated": false},
		"unusedDays": float64(5), "monthly": "$23.30", "result": "deleted"}, recent)
}

func TestStorageCleanupKeepsAStorageAVMJoinedMeanwhile(t *testing.T) {
	joined := strings.Replace(clVMs(t), `"busy"`, `"old-a"`, 1) // vm now on old-a
	calls := append(clListCalls(t, clOld...), clDeleteCalls(t, "old-a", joined, false)...)
	calls = append(calls, clDeleteCalls(t, "old-b", clVMs(t), true)...)
	f := aztest.New(t, calls...)
	out, stderr, code := runStorageCmd(t, f, "storage", "cleanup", "-g", "rg", "--yes")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "Warning: storage old-a is in use again (by vm): kept")
	assert.Equal(t, []string{storage.AccountName(stSub, "rg", "old-b")}, deletedAccounts(f), "--yes never skips the check")
	assert.Contains(t, out, "old-a\tsince created 2025-10-01 08:00 UTC (55 days)\t$23.30\tin-use\n")
}

func TestStorageCleanupAsksForEachOnATerminal(t *testing.T) {
	calls := append(clListCalls(t, clOld...), clDeleteCalls(t, "old-a", clVMs(t), true)...)
	calls = append(calls, clDeleteCalls(t, "old-b", clVMs(t), false)...)
	f := aztest.New(t, calls...)
	out, stderr, code := runOnTerminal(t, f, "y\nn\n", "storage", "cleanup", "-g", "rg")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "Delete storage old-a and all its data? [y/N]: ")
	assert.Contains(t, stderr, "Delete storage old-b and all its data? [y/N]: ")
	assert.Contains(t, stderr, "Kept storage old-b.")
	assert.Equal(t, []string{storage.AccountName(stSub, "rg", "old-a")}, deletedAccounts(f), "only the one confirmed")
	assert.Contains(t, out, "old-a\tsince created 2025-10-01 08:00 UTC (55 days)\t$23.30\tdeleted\n")
	assert.Contains(t, out, "old-b\tsince 2025-11-01 10:00 UTC (24 days)\t$23.30\tdeclined\n")
	assert.Contains(t, stderr, "Deleted storage costing $23.30/month.")
}

func TestStorageCleanupDryRunChangesNothing(t *testing.T) {
	calls := append(clListCalls(t, clOld...), clDeleteCalls(t, "old-a", clVMs(t), false)...)
	calls = append(calls, clDeleteCalls(t, "old-b", clVMs(t), false)...)
	f := aztest.New(t, calls...) // the fake would fail on any delete sent to az
	out, stderr, code := runStorageCmd(t, f, "storage", "cleanup", "-g", "rg", "--dry-run", "-o", "json", "--query", "storages[].[name, result]")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "az storage account delete -g rg -n "+storage.AccountName(stSub, "rg", "old-a")+" --yes", "the plan, as storage delete prints it")
	assert.Contains(t, out, `[
  [
    "old-a",
    "would-delete"
  ],
  [
    "old-b",
    "would-delete"
  ]
]
`)
	assert.Empty(t, deletedAccounts(f))
}

func TestStorageCleanupWithNothingUnused(t *testing.T) {
	f := aztest.New(t, clListCalls(t)...) // no storage listed: no usage read
	out, stderr, code := runStorageCmd(t, f, "storage", "cleanup", "-g", "rg", "--yes", "--unused-for", "60d")
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, out)
	assert.Contains(t, stderr, "No storage in resource group rg has been without a VM for 60d or more; nothing to clean up.")

	out, _, code = runStorageCmd(t, aztest.New(t, clListCalls(t)...), "storage", "cleanup", "-g", "rg", "--yes", "--unused-for", "60d", "-o", "json")
	require.Equal(t, 0, code)
	assert.Contains(t, out, `"storages": []`)
}

// clSeries is stSeries as name's FileCapacity over 7 days.
func clSeries(t *testing.T, name string, gib ...float64) aztest.Call {
	c := stSeries(t, "7d", gib...)
	acct := storage.AccountName(stSub, "rg", name)
	for i, a := range c.Argv {
		c.Argv[i] = strings.ReplaceAll(strings.ReplaceAll(a, stAcct, acct), "'shared-dev'", "'"+name+"'")
	}
	return c
}

func TestStorageStatusSaysSinceWhenItIsUnused(t *testing.T) {
	for name, want := range map[string]string{
		"old-a": "Connected VMs: none, unused since created 2025-10-01 08:00 UTC (attach one: azlin new --shared-home old-a)\n",
		"old-b": "Connected VMs: none, unused since 2025-11-01 10:00 UTC (attach one: azlin new --shared-home old-b)\n",
	} {
		calls := append(clListCalls(t), clShare(t, name), clSeries(t, name, 2))
		out, stderr, code := runStorageCmd(t, aztest.New(t, calls...), "storage", "status", name, "-g", "rg")
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, out, want)
	}
	calls := append(clListCalls(t), clShare(t, "old-a"), clSeries(t, "old-a", 2))
	out, _, code := runStorageCmd(t, aztest.New(t, calls...), "storage", "status", "old-a", "-g", "rg", "-o", "json")
	require.Equal(t, 0, code)
	var s map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &s))
	assert.Equal(t, map[string]any{"since": "2025-10-01T08:00:00Z", "sinceCreated": true}, s["unused"])

	calls = append(clListCalls(t), clShare(t, "busy"), clSeries(t, "busy", 2))
	out, _, code = runStorageCmd(t, aztest.New(t, calls...), "storage", "status", "busy", "-g", "rg", "-o", "json")
	require.Equal(t, 0, code)
	assert.NotContains(t, out, `"unused"`, "a storage in use has no unused time")
}

func TestStorageStatusShowsZRSAndNoGeoRedundancy(t *testing.T) {
	a := clAccount(t, "old-a", "2025-10-01T08:00:00.000000+00:00", "")
	a["sku"] = map[string]any{"name": "Premium_ZRS", "tier": "Premium"}
	calls := []aztest.Call{
		{Argv: []string{"account", "show"}, StdoutFile: stTestdata + "account-show.json"},
		{Argv: []string{"storage", "account", "list", "-g", "rg"}, Stdout: stJSON(t, []any{a})},
		{Argv: []string{"vm", "list", "-g", "rg"}, Stdout: "[]"},
		clShare(t, "old-a"), clSeries(t, "old-a", 2),
	}
	out, stderr, code := runStorageCmd(t, aztest.New(t, calls...), "storage", "status", "old-a", "-g", "rg")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "Tier: Premium, NFS 4.1 (Azure Files), ZRS\n")
	assert.Contains(t, out, "Redundancy: ZRS (copies in three availability zones of the region); no geo-redundancy for NFS\n")
}

func TestStorageCreateRefusesGeoRedundancyWithWhatExists(t *testing.T) {
	f := aztest.New(t)
	_, stderr, code := runStorageCmd(t, f, "storage", "create", "dev", "-g", "rg", "--redundancy", "GRS")
	assert.Equal(t, 2, code)
	assert.Empty(t, f.Calls())
	assert.Contains(t, stderr, `invalid --redundancy "GRS": Azure Files NFS has no geo-redundancy (no copy in another region); use ZRS`)
}

func TestCostMentionsUnusedStorageWithItsCostAndTheCommand(t *testing.T) {
	out, stderr, code := runStorageCmd(t, aztest.New(t, clListCalls(t, clAll...)...), "cost", "-g", "rg", "--by", "storage")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "storage\told-a\t")
	assert.Contains(t, stderr, "Note: Unused storage (no VM for 14d or more): old-a, old-b, costing $46.60/month. "+
		"Review and delete it with: azlin storage cleanup -g rg\n", "recent (5 days) and busy (in use) are not in it")

	out, _, code = runStorageCmd(t, aztest.New(t, clListCalls(t, clAll...)...), "cost", "-g", "rg", "--by", "storage", "-o", "json", "--query", "unusedStorage")
	require.Equal(t, 0, code)
	var u map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &u))
	assert.Contains(t, out, `"monthly": 46.6,`, "an exact decimal, as the report's amounts")
	delete(u, "monthly")
	assert.Equal(t, map[string]any{"storages": []any{"old-a", "old-b"}, "unusedFor": "14d", "notPriced": float64(0),
		"command": "azlin storage cleanup -g rg"}, u)
}

func TestStorageCleanupGoesOnAfterAFailedDeleteAndSaysSo(t *testing.T) {
	failed := clDeleteCalls(t, "old-a", clVMs(t), true)
	failed[len(failed)-1].Exit = 1
	failed[len(failed)-1].Stderr = "ERROR: (ScopeLocked) The scope cannot perform delete operation because following scope(s) are locked.\nCode: ScopeLocked\n"
	calls := append(clListCalls(t, clOld...), failed...)
	calls = append(calls, clDeleteCalls(t, "old-b", clVMs(t), true)...)
	f := aztest.New(t, calls...)
	out, stderr, code := runStorageCmd(t, f, "storage", "cleanup", "-g", "rg", "--yes")
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "re-run azlin storage delete old-a -g rg", "storage delete's own hint")
	assert.Contains(t, stderr, "Error: 1 storage(s) could not be deleted: old-a")
	assert.Contains(t, out, "old-a\tsince created 2025-10-01 08:00 UTC (55 days)\t$23.30\tfailed\n")
	assert.Contains(t, out, "old-b\tsince 2025-11-01 10:00 UTC (24 days)\t$23.30\tdeleted\n", "the next one is still deleted")
	assert.Contains(t, stderr, "Deleted storage costing $23.30/month.")
}
