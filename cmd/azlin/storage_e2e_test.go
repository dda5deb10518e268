//go:build localcloud

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/testjson"
	"github.com/azlin-dev/azlin/localcloud/testenv"
)

// End-to-end tests of the storage commands: the built azlin against the
// local cloud (no VM hosts needed; VMs are records).

func newStorageCloud(t testing.TB, opts ...testenv.Option) *testenv.Cloud {
	t.Helper()
	c := testenv.New(t, opts...)
	r := c.Az("group", "create", "-n", "rg", "-l", "eastus")
	require.Equal(t, 0, r.Exit, "az group create: %s", r.Stderr)
	return c
}

func azlinRun(t testing.TB, c *testenv.Cloud, args ...string) testenv.Result {
	t.Helper()
	r := c.Azlin(args...)
	require.Equal(t, 0, r.Exit, "azlin %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Stdout, r.Stderr)
	return r
}

// commands lists the az commands logged since the last ResetLog, as
// "storage account create" (the command words, without options).
func commands(c *testenv.Cloud) []string {
	var out []string
	for _, call := range c.Calls() {
		var words []string
		for _, a := range call.Argv {
			if strings.HasPrefix(a, "-") {
				break
			}
			words = append(words, a)
		}
		out = append(out, strings.Join(words, " "))
	}
	return out
}

func mutations(c *testenv.Cloud) []string {
	var out []string
	for _, cmd := range commands(c) {
		verb := cmd[strings.LastIndex(cmd, " ")+1:]
		switch verb {
		case "create", "update", "delete", "add":
			out = append(out, cmd)
		}
	}
	return out
}

// stateHash fingerprints the emulator's state folder: every file's path and content.
func stateHash(t testing.TB, dir string) string {
	t.Helper()
	h := sha256.New()
	var paths []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return err
	}))
	sort.Strings(paths)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestE2EStorageLifecycleBothTiers(t *testing.T) {
	c := newStorageCloud(t)
	for _, tc := range []struct{ name, tier, size, network, proto string }{
		{"prem-home", "Premium", "1TB", "private-endpoint", "file"},
		{"std-data", "Standard", "500GB", "service-endpoint", "blob"},
	} {
		r := azlinRun(t, c, "storage", "create", tc.name, "-g", "rg", "--tier", tc.tier, "--size", tc.size, "--network", tc.network)
		assert.Contains(t, r.Stdout, "Storage: "+tc.name+"\n")
		assert.Regexp(t, `NFS Endpoint: [a-z0-9]{11,24}\.`+tc.proto+`\.core\.windows\.net:/[a-z0-9]+/`+tc.name+"\n", r.Stdout)
		assert.Contains(t, r.Stdout, "Next: azlin new --shared-home "+tc.name)
		if tc.tier == "Standard" {
			assert.Contains(t, r.Stderr, "no file locking across VMs", "Standard warns")
		}
	}

	// Blob usage comes from the account's capacity metric, which Azure
	// refreshes daily: a new account has none yet, and azlin says so.
	r := azlinRun(t, c, "storage", "status", "std-data", "-g", "rg")
	assert.Contains(t, r.Stdout, "Size: 500GiB (usage unknown: not reported yet (Azure refreshes capacity daily))\n")

	// A day passes: Azure reports a new account's used capacity only after
	// its first daily refresh.
	c.Env = append(c.Env, "AZEMU_CLOCK_OFFSET=25h")
	r = azlinRun(t, c, "storage", "list", "-g", "rg")
	assert.Equal(t, "prem-home\tPremium\t1TiB\t0B\teastus\t0\nstd-data\tStandard\t500GiB\t0B\teastus\t0\n", r.Stdout)

	r = azlinRun(t, c, "storage", "status", "prem-home", "-g", "rg")
	assert.Contains(t, r.Stdout, "Tier: Premium, NFS 4.1 (Azure Files), LRS\n")
	assert.Contains(t, r.Stdout, "Size: 1TiB (0B used, 0% utilization)\n")
	assert.Contains(t, r.Stdout, "Public network access: Disabled\n")
	r = azlinRun(t, c, "storage", "status", "std-data", "-g", "rg")
	assert.Contains(t, r.Stdout, "Tier: Standard, NFS 3.0 (Azure Blob), LRS\n")
	assert.Contains(t, r.Stdout, "Size: 500GiB (0B used, 0% utilization)\n")
	assert.Contains(t, r.Stdout, "VNet rules: azlin-vnet/azlin-subnet\n")

	for _, name := range []string{"prem-home", "std-data"} {
		r = azlinRun(t, c, "storage", "delete", name, "-g", "rg", "--yes")
		assert.Contains(t, r.Stderr, "Deleted storage "+name)
	}
	r = azlinRun(t, c, "storage", "list", "-g", "rg")
	assert.Empty(t, r.Stdout)
	assert.Contains(t, r.Stderr, "No azlin storage in resource group 'rg' yet")

	// Shared pieces stay: the VNet and the private DNS zone.
	assert.Equal(t, 0, c.Az("network", "vnet", "show", "-g", "rg", "-n", "azlin-vnet").Exit)
	assert.Equal(t, 0, c.Az("network", "private-dns", "zone", "show", "-g", "rg", "-n", "privatelink.file.core.windows.net").Exit)

	r = c.Azlin("storage", "delete", "prem-home", "-g", "rg", "--yes")
	assert.Equal(t, 1, r.Exit)
	assert.Contains(t, r.Stderr, "no storage named prem-home in resource group rg")
}

func TestE2EStorageCreateTwiceConverges(t *testing.T) {
	for _, mode := range []string{"private-endpoint", "service-endpoint"} {
		t.Run(mode, func(t *testing.T) {
			c := newStorageCloud(t)
			first := azlinRun(t, c, "storage", "create", "twice", "-g", "rg", "--network", mode)
			var before []map[string]any
			c.AzJSON(&before, "network", "private-endpoint", "list", "-g", "rg")
			c.ResetLog()
			second := azlinRun(t, c, "storage", "create", "twice", "-g", "rg", "--network", mode)
			assert.Equal(t, first.Stdout, second.Stdout, "the same summary")
			assert.Empty(t, mutations(c), "nothing created or changed the second time")
			var after []map[string]any
			c.AzJSON(&after, "network", "private-endpoint", "list", "-g", "rg")
			assert.Len(t, after, len(before), "no duplicate private endpoint")
			var accounts []map[string]any
			c.AzJSON(&accounts, "storage", "account", "list", "-g", "rg")
			assert.Len(t, accounts, 1, "no duplicate account")
		})
	}
}

func TestE2EStorageServiceEndpointKeepsOtherEndpoints(t *testing.T) {
	c := newStorageCloud(t)
	require.Equal(t, 0, c.Az("network", "vnet", "create", "-g", "rg", "-n", "azlin-vnet", "-l", "eastus",
		"--address-prefixes", "10.0.0.0/16", "--subnet-name", "azlin-subnet", "--subnet-prefixes", "10.0.0.0/24").Exit)
	require.Equal(t, 0, c.Az("network", "vnet", "subnet", "update", "-g", "rg", "--vnet-name", "azlin-vnet", "-n", "azlin-subnet",
		"--service-endpoints", "Microsoft.KeyVault").Exit)
	azlinRun(t, c, "storage", "create", "svc-ep", "-g", "rg", "--network", "service-endpoint")
	var sub struct {
		ServiceEndpoints []struct {
			Service string `json:"service"`
		} `json:"serviceEndpoints"`
	}
	c.AzJSON(&sub, "network", "vnet", "subnet", "show", "-g", "rg", "--vnet-name", "azlin-vnet", "-n", "azlin-subnet")
	var got []string
	for _, e := range sub.ServiceEndpoints {
		got = append(got, e.Service)
	}
	assert.ElementsMatch(t, []string{"Microsoft.KeyVault", "Microsoft.Storage"}, got)
}

func TestE2EStorageInterruptedCreateIsFinishedByARerun(t *testing.T) {
	// The share's creation fails once (after the account exists), as when a
	// role assignment is missing: AZEMU_FAULTS makes the emulator fail that
	// call with an error azlin does not retry.
	dir := t.TempDir()
	faults := filepath.Join(dir, "faults.json")
	require.NoError(t, os.WriteFile(faults, []byte(`[{"args": ["storage", "share-rm", "create"], "times": 1, "exit": 1,
		"stderr": "ERROR: (AuthorizationFailed) The client 'dev@contoso.onmicrosoft.com' does not have authorization to perform action 'Microsoft.Storage/storageAccounts/fileServices/shares/write'.\nCode: AuthorizationFailed\n"}]`), 0o600))
	c := newStorageCloud(t, testenv.WithEnv("AZEMU_FAULTS="+faults))
	r := c.Azlin("storage", "create", "half", "-g", "rg")
	require.Equal(t, 1, r.Exit, r.Stderr)
	assert.Regexp(t, `What exists now: virtual network azlin-vnet with subnet azlin-subnet; storage account half\w+\. `, r.Stderr)
	assert.Contains(t, r.Stderr, "run the same command again to finish")

	c.ResetLog()
	r = azlinRun(t, c, "storage", "create", "half", "-g", "rg")
	assert.NotContains(t, mutations(c), "storage account create", "the account is reused")
	assert.Contains(t, mutations(c), "storage share-rm create")
	r = azlinRun(t, c, "storage", "status", "half", "-g", "rg")
	assert.Contains(t, r.Stdout, "Size: 100GiB (0B used, 0% utilization)")
}

// Ctrl+C while the share is being created (after the account exists) says
// what exists now and how to finish; the re-run does.
func TestE2EStorageCreateInterruptedSaysWhatExists(t *testing.T) {
	dir := t.TempDir()
	faults := filepath.Join(dir, "faults.json")
	require.NoError(t, os.WriteFile(faults, []byte(`[{"args": ["storage", "share-rm", "create"], "times": 1, "delayMs": 60000, "exit": 1}]`), 0o600))
	c := newStorageCloud(t, testenv.WithEnv("AZEMU_FAULTS="+faults))
	accountCreated := func() bool {
		for _, call := range c.Calls() {
			if strings.HasPrefix(strings.Join(call.Argv, " "), "storage account create") {
				return true
			}
		}
		return false
	}
	r := c.AzlinInterrupted(accountCreated, "storage", "create", "half", "-g", "rg")
	assert.Equal(t, 130, r.Exit, r.Stderr)
	assert.Contains(t, r.Stderr, "Interrupted.")
	// The VNet is made beside the account: Ctrl+C may come before or after
	// it exists, and the report says which, as Azure has it.
	assert.Regexp(t, `What exists now: (virtual network azlin-vnet( with subnet azlin-subnet)?; )?storage account half\w+\. `, r.Stderr)
	vnetExists := c.Az("network", "vnet", "show", "-g", "rg", "-n", "azlin-vnet").Exit == 0
	assert.Equal(t, vnetExists, strings.Contains(r.Stderr, "virtual network azlin-vnet"), "the report lists the VNet exactly when it exists: %s", r.Stderr)
	assert.Contains(t, r.Stderr, "run the same command again to finish")
	require.NoError(t, os.WriteFile(faults, []byte(`[]`), 0o600)) // Azure answers again
	azlinRun(t, c, "storage", "create", "half", "-g", "rg")
	r = azlinRun(t, c, "storage", "status", "half", "-g", "rg")
	assert.Contains(t, r.Stdout, "Size: 100GiB")
}

func TestE2EStorageNameTakenInAnotherGroup(t *testing.T) {
	c := newStorageCloud(t)
	require.Equal(t, 0, c.Az("group", "create", "-n", "other", "-l", "eastus").Exit)
	var login struct {
		ID string `json:"id"`
	}
	c.AzJSON(&login, "account", "show")
	acct := storage.AccountName(login.ID, "rg", "taken")
	require.Equal(t, 0, c.Az("storage", "account", "create", "-g", "other", "-n", acct, "-l", "eastus",
		"--kind", "FileStorage", "--sku", "Premium_LRS").Exit)
	c.ResetLog()
	r := c.Azlin("storage", "create", "taken", "-g", "rg")
	assert.Equal(t, 1, r.Exit)
	assert.Contains(t, r.Stderr, "the storage account name "+acct+` (derived from "taken") is taken elsewhere in Azure`)
	assert.Contains(t, r.Stderr, "azlin storage create taken-2")
	assert.Empty(t, mutations(c), "nothing created")
}

func TestE2EStorageDeleteRefusedWhileAVMUsesIt(t *testing.T) {
	c := newStorageCloud(t)
	azlinRun(t, c, "storage", "create", "busy", "-g", "rg")
	r := c.Az("vm", "create", "-g", "rg", "-n", "worker-1", "--image", "Ubuntu2204", "--tags", "azlin-storage=busy",
		"--ssh-key-values", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZha2Uga2V5IGZvciB0ZXN0cw test")
	require.Equal(t, 0, r.Exit, r.Stderr)
	c.ResetLog()
	r = c.Azlin("storage", "delete", "busy", "-g", "rg", "--yes")
	assert.Equal(t, 1, r.Exit)
	assert.Contains(t, r.Stderr, "azlin storage detach --vm worker-1 -g rg")
	assert.Empty(t, mutations(c))
	r = azlinRun(t, c, "storage", "status", "busy", "-g", "rg")
	assert.Contains(t, r.Stdout, "  - worker-1 - mounted at /home/azureuser\n")
}

func TestE2EStorageDryRunChangesNothing(t *testing.T) {
	c := newStorageCloud(t)
	before := stateHash(t, c.StateDir)
	r := azlinRun(t, c, "storage", "create", "plan-only", "-g", "rg", "--dry-run")
	for _, want := range []string{"az network vnet create ", "az storage account create ", "az storage share-rm create ",
		"az network private-endpoint create ", "az network private-dns zone create ", "az network private-dns link vnet create ",
		"az network private-endpoint dns-zone-group create "} {
		assert.Contains(t, r.Stdout, want)
	}
	assert.Equal(t, before, stateHash(t, c.StateDir), "emulator state unchanged")
}

func TestE2EStorageBadInputMakesNoAzCall(t *testing.T) {
	c := newStorageCloud(t)
	c.ResetLog()
	for _, args := range [][]string{
		{"storage", "create", "Bad_Name", "-g", "rg"},
		{"storage", "create", "ab", "-g", "rg"},
		{"storage", "create", "a--b", "-g", "rg"},
		{"storage", "create", "ok-name", "--size", "10GB", "-g", "rg"},
		{"storage", "create", "ok-name", "--size", "300TB", "-g", "rg"}, // above PremiumV2's (the default's) 256 TiB
		{"storage", "create", "ok-name", "--size", "1PB", "-g", "rg"},
		{"storage", "create", "ok-name", "--tier", "Hot", "-g", "rg"},
	} {
		r := c.Azlin(args...)
		assert.Equal(t, 2, r.Exit, "%v: %s", args, r.Stderr)
	}
	assert.Empty(t, c.Calls(), "the emulator log is empty")
}

var storageGolden = "testdata/storage/status-premium.golden.json"

func TestE2EStorageStatusJSONGolden(t *testing.T) {
	c := newStorageCloud(t)
	azlinRun(t, c, "storage", "create", "golden", "-g", "rg", "--tier", "Premium")
	r := azlinRun(t, c, "storage", "status", "golden", "-g", "rg", "-o", "json")
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &v), "status -o json parses")
	acct := testjson.Str(t, v, "account")
	got := strings.ReplaceAll(r.Stdout, acct, "ACCOUNT")
	got = regexp.MustCompile(`"created": "[^"]+"`).ReplaceAllString(got, `"created": "CREATED"`)
	// No VM uses it: unused since the account's creation time.
	got = regexp.MustCompile(`"since": "[^"]+"`).ReplaceAllString(got, `"since": "CREATION_TIME"`)
	assert.JSONEq(t, golden(t, storageGolden, got), got)
}

func TestE2EStorageListAndStatusCallCounts(t *testing.T) {
	c := newStorageCloud(t)
	for _, n := range []string{"s-one", "s-two", "s-three"} {
		azlinRun(t, c, "storage", "create", n, "-g", "rg", "--network", "service-endpoint")
	}
	c.ResetLog()
	azlinRun(t, c, "storage", "list", "-g", "rg")
	assert.ElementsMatch(t, []string{"account show", "storage account list", "vm list",
		"storage share-rm show", "storage share-rm show", "storage share-rm show"}, commands(c),
		"one login check, one read of the group's accounts and VMs, one read per storage")

	c.ResetLog()
	azlinRun(t, c, "storage", "status", "s-two", "-g", "rg")
	assert.ElementsMatch(t, []string{"account show", "storage account list", "vm list", "storage share-rm show", "monitor metrics list"}, commands(c),
		"status also reads the share's last week for its trend")
}

// BenchmarkStorageList prints the wall time of `azlin storage list` for 1,
// 10 and 50 storages with every az call taking 300 ms (AZEMU_LATENCY_MS), and
// fails when 50 take 3 times as long as 1: the per-storage calls run at once.
func BenchmarkStorageList(b *testing.B) {
	c := newStorageCloud(b)
	made := 0
	times := map[int]time.Duration{}
	for _, n := range []int{1, 10, 50} {
		for ; made < n; made++ {
			azlinRun(b, c, "storage", "create", fmt.Sprintf("bench-%02d", made), "-g", "rg", "--network", "service-endpoint")
		}
		slow := append(append([]string{}, c.Env...), "AZEMU_LATENCY_MS=300")
		old := c.Env
		c.Env = slow
		start := time.Now()
		r := azlinRun(b, c, "storage", "list", "-g", "rg")
		times[n] = time.Since(start)
		c.Env = old
		require.Equal(b, n, strings.Count(r.Stdout, "\n"))
		fmt.Printf("azlin storage list, %2d storages, az latency 300ms: %s\n", n, times[n].Round(time.Millisecond))
	}
	b.ReportMetric(times[1].Seconds(), "s/list-1")
	b.ReportMetric(times[10].Seconds(), "s/list-10")
	b.ReportMetric(times[50].Seconds(), "s/list-50")
	if times[50] >= 3*times[1] {
		b.Fatalf("list of 50 storages took %s, not under 3 x %s (1 storage)", times[50], times[1])
	}
}

// The built-in "Secure transfer to storage accounts should be enabled",
// assigned with effect Deny as many company subscriptions have it: a default
// (encrypted) storage is created, and --no-encryption-in-transit is refused
// with the assignment named, what azlin asked for and nothing created.
func TestE2EStorageUnderTheSecureTransferPolicy(t *testing.T) {
	def, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "localcloud/azemu/testdata/policy/Storage_AuditForHTTPSEnabled_Audit.json"))
	require.NoError(t, err)
	assignments := `[{"name": "secure-transfer", "displayName": "Require secure transfer", "parameters": {"effect": {"value": "Deny"}}, "policyDefinition": ` + string(def) + `}]`
	path := filepath.Join(t.TempDir(), "policy.json")
	require.NoError(t, os.WriteFile(path, []byte(assignments), 0o600))
	c := newStorageCloud(t, testenv.WithEnv("AZEMU_POLICY="+path))

	r := azlinRun(t, c, "storage", "create", "safe", "-g", "rg")
	assert.Contains(t, r.Stdout, "In transit: encrypted")

	c.ResetLog()
	r = c.Azlin("storage", "create", "plain", "--no-encryption-in-transit", "-g", "rg")
	assert.Equal(t, 1, r.Exit, r.Stderr)
	assert.Contains(t, r.Stderr, `Azure Policy assignment "Require secure transfer" (/subscriptions/`)
	assert.Contains(t, r.Stderr, "/providers/Microsoft.Authorization/policyAssignments/secure-transfer)")
	assert.Contains(t, r.Stderr, "azlin asked for: a storage account with secure transfer off")
	assert.NotContains(t, mutations(c), "storage share-rm create", "nothing after the denied account")
	r = c.Azlin("storage", "status", "plain", "-g", "rg")
	assert.NotEqual(t, 0, r.Exit, "no storage plain exists")
}
