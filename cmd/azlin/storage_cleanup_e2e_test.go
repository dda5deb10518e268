//go:build localcloud

package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/localcloud/testenv"
)

// unusedCloud has three storages made 20 emulated days ago
// (AZEMU_CLOCK_OFFSET): old-a and old-b, never used, and busy, the home of
// VM worker-1 (a VM tagged with it, as attach leaves one).
func unusedCloud(t *testing.T) *testenv.Cloud {
	c := newStorageCloud(t)
	setEnvVar(c, "AZEMU_CLOCK_OFFSET", "-480h")
	for _, n := range []string{"old-a", "old-b", "busy"} {
		azlinRun(t, c, "storage", "create", n, "-g", "rg", "--tier", "Premium")
	}
	setEnvVar(c, "AZEMU_CLOCK_OFFSET", "0s")
	r := c.Az("vm", "create", "-g", "rg", "-n", "worker-1", "--image", "Ubuntu2204", "--size", "Standard_D2s_v5",
		"--tags", "azlin-managed=true", "azlin-storage=busy",
		"--ssh-key-values", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZha2Uga2V5IGZvciB0ZXN0cw test")
	require.Equal(t, 0, r.Exit, r.Stderr)
	c.ResetLog()
	return c
}

// storageNames are the storages `azlin storage list` shows.
func storageNames(t *testing.T, c *testenv.Cloud) []string {
	var names []string
	for _, row := range strings.Split(strings.TrimSpace(azlinRun(t, c, "storage", "list", "-g", "rg").Stdout), "\n") {
		names = append(names, strings.Split(row, "\t")[0])
	}
	return names
}

func TestE2EStorageCleanupDeletesOnlyTheUnusedAndConfirmedOne(t *testing.T) {
	c := unusedCloud(t)
	r := c.AzlinWithStdin(terminal(t, "y\nn\n"), "storage", "cleanup", "-g", "rg")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Regexp(t, `2 storage\(s\) in resource group rg have had no VM for 14d or more:\n`+
		`  old-a: unused since created \d{4}-\d\d-\d\d \d\d:\d\d UTC \(20 days\), \$23\.30/month\n`+
		`  old-b: unused since created [^\n]+ \(20 days\), \$23\.30/month\n`, r.Stderr)
	assert.NotContains(t, r.Stderr, "busy", "the storage in use is never listed")
	assert.Contains(t, r.Stderr, "Delete storage old-a and all its data? [y/N]: ")
	assert.Contains(t, r.Stderr, "Delete storage old-b and all its data? [y/N]: ")
	assert.Contains(t, r.Stderr, "Kept storage old-b.")
	assert.Regexp(t, `(?m)^old-a\tsince created .*\t\$23\.30\tdeleted$`, r.Stdout)
	assert.Regexp(t, `(?m)^old-b\tsince created .*\t\$23\.30\tdeclined$`, r.Stdout)
	assert.Equal(t, []string{"network private-endpoint dns-zone-group delete", "network private-endpoint delete", "storage account delete"},
		mutations(c), "storage delete's deletes, for the confirmed storage only")
	assert.Equal(t, []string{"busy", "old-b"}, storageNames(t, c))
}

func TestE2EStorageCleanupDryRunChangesNothing(t *testing.T) {
	c := unusedCloud(t)
	before := stateHash(t, c.StateDir)
	r := c.Azlin("storage", "cleanup", "-g", "rg", "--dry-run", "-o", "json", "--query", "storages[].[name, result, monthly]")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Contains(t, r.Stdout, "az storage account delete -g rg -n ", "the plan's az commands, as storage delete --dry-run prints them")
	assert.True(t, strings.HasSuffix(r.Stdout, `[
  [
    "old-a",
    "would-delete",
    "$23.30"
  ],
  [
    "old-b",
    "would-delete",
    "$23.30"
  ]
]
`), r.Stdout)
	assert.Empty(t, mutations(c))
	assert.Equal(t, before, stateHash(t, c.StateDir), "emulator state unchanged")
	assert.Equal(t, []string{"busy", "old-a", "old-b"}, storageNames(t, c))

	// Without a terminal and without --yes: refused before any az call.
	c.ResetLog()
	r = c.Azlin("storage", "cleanup", "-g", "rg")
	assert.Equal(t, 2, r.Exit)
	assert.Contains(t, r.Stderr, "pass --yes (-y)")
	assert.Empty(t, c.Calls())
}

func TestE2ECostShowsUnusedStorageWithItsCostAndTheCommand(t *testing.T) {
	c := unusedCloud(t)
	r := azlinRun(t, c, "cost", "-g", "rg", "-o", "json")
	var rep struct {
		Lines []struct {
			Kind, Name, Detail string
			Monthly            json.RawMessage
		}
		UnusedStorage struct {
			Storages []string
			Monthly  json.RawMessage
			Command  string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &rep))
	// Its monthly cost is the sum of the unused storages' lines: each
	// storage and its private endpoint.
	var sum int64
	for _, l := range rep.Lines {
		for _, n := range []string{"old-a", "old-b"} {
			if (l.Kind == "storage" && l.Name == n) || l.Detail == "private endpoint of "+n {
				sum += cents(t, "$"+string(l.Monthly))
			}
		}
	}
	assert.Equal(t, sum, cents(t, "$"+string(rep.UnusedStorage.Monthly)))
	assert.Equal(t, int64(4660), sum, "two storages of $16.00 and their endpoints of $7.30")
	assert.Equal(t, []string{"old-a", "old-b"}, rep.UnusedStorage.Storages, "busy is in use")
	assert.Equal(t, "azlin storage cleanup -g rg", rep.UnusedStorage.Command)

	r = azlinRun(t, c, "cost", "-g", "rg")
	assert.Contains(t, r.Stderr, "Note: Unused storage (no VM for 14d or more): old-a, old-b, costing $46.60/month. "+
		"Review and delete it with: azlin storage cleanup -g rg\n")
}

// The unused record over a storage's life: a detach that leaves it without
// VMs tags it, an attach removes the tag, the delete of its last VM tags it
// again; status and cleanup read it.
func TestE2EStorageUnusedRecordFollowsItsVMs(t *testing.T) {
	c := sharedCloud(t)
	azlinRun(t, c, "storage", "create", "home", "--tier", "Premium")
	azlinRun(t, c, "new", "--shared-home", "home", "--name", "w1")
	var login struct {
		ID string `json:"id"`
	}
	c.AzJSON(&login, "account", "show")
	acct := storage.AccountName(login.ID, "rg", "home")
	tag := func() string {
		var a struct {
			Tags map[string]string `json:"tags"`
		}
		c.AzJSON(&a, "storage", "account", "show", "-g", "rg", "-n", acct)
		return a.Tags["azlin-unused-since"]
	}
	assert.Empty(t, tag(), "in use")
	r := azlinRun(t, c, "storage", "status", "home")
	assert.Contains(t, r.Stdout, "Redundancy: LRS (three copies in one datacenter); no geo-redundancy for NFS\n")

	azlinRun(t, c, "storage", "detach", "--vm", "w1")
	since, err := time.Parse(time.RFC3339, tag())
	require.NoError(t, err, "detach of the last VM records the time")
	assert.WithinDuration(t, time.Now(), since, 5*time.Minute)
	r = azlinRun(t, c, "storage", "status", "home")
	assert.Contains(t, r.Stdout, "Connected VMs: none, unused since "+since.Format("2006-01-02 15:04")+" UTC (attach one:")
	r = azlinRun(t, c, "storage", "cleanup", "--dry-run")
	assert.Contains(t, r.Stderr, "No storage in resource group rg has been without a VM for 14d or more")
	r = azlinRun(t, c, "storage", "cleanup", "--dry-run", "--unused-for", "0")
	assert.Regexp(t, regexp.MustCompile(`(?m)^home\tsince \d{4}-.* UTC \(less than a day\)\t\$23\.30\twould-delete$`), r.Stdout)

	azlinRun(t, c, "storage", "attach", "home", "--vm", "w1")
	assert.Empty(t, tag(), "a VM attached again: the record is gone")

	azlinRun(t, c, "delete", "w1", "--yes")
	assert.NotEmpty(t, tag(), "the delete of its last VM records it again")
}
