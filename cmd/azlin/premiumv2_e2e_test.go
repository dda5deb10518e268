//go:build localcloud

package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/localcloud/testenv"
)

// A PremiumV2 (Azure Files provisioned v2) storage shared by two VMs: made
// with Azure's recommended IOPS and throughput for its size, mounted as
// Premium is (NFS 4.1 through AZNFS's TLS), its IOPS and throughput
// changed in place under Azure's decrease rule, and priced from its three
// meters by create, resize and `azlin cost`. eastus2: the region whose
// provisioned v2 prices the built-in table has.
func TestE2EPremiumV2StorageSharedByTwoVMs(t *testing.T) {
	c := sharedCloud(t)
	azlinRun(t, c, "config", "set", "default_region", "eastus2") // the VNet, the storage and the VMs
	r := azlinRun(t, c, "storage", "create", "fast", "--tier", "PremiumV2", "--size", "64GB")
	assert.Contains(t, r.Stdout, "Tier: PremiumV2, NFS 4.1 (Azure Files), LRS\n")
	assert.Contains(t, r.Stdout, "Performance: 3064 IOPS (bursts to 10000), 107 MiB/s\n", "3000 + 1 x 64 GiB; 100 + 0.1 x 64 GiB")
	// 64 x 0.000137 x 730; 64 IOPS above the included 3000 x 0.000037 x 730; 7 MiB/s above 100 x 0.000054 x 730.
	assert.Contains(t, r.Stdout, "Est. cost: $15.71/month (NFS share storage $6.40 + NFS share IOPS $1.73 + NFS share throughput $0.28 + private endpoint $7.30)\n")
	var sh map[string]any
	acct := regexp.MustCompile(`(?m)^Account: (\S+)$`).FindStringSubmatch(r.Stdout)
	require.NotNil(t, acct, r.Stdout)
	c.AzJSON(&sh, "storage", "share-rm", "show", "-g", "rg", "--storage-account", acct[1], "-n", "fast")
	assert.Equal(t, float64(3064), sh["provisionedIops"], "Azure's share has what azlin showed")
	var sku string
	c.AzJSON(&sku, "storage", "account", "show", "-g", "rg", "-n", acct[1], "--query", "sku.name")
	assert.Equal(t, "PremiumV2_LRS", sku)

	for _, vm := range []string{"v2a", "v2b"} {
		azlinRun(t, c, "new", "--shared-home", "fast", "--name", vm)
		mnt := ssh(t, c, vm, "findmnt -n -o FSTYPE,SOURCE /home/azureuser")
		assert.Regexp(t, `^nfs4 +127\.0\.0\.1:/`+acct[1]+`/fast`, mnt, "%s mounts through the TLS tunnel, as Premium", vm)
	}
	ssh(t, c, "v2a", "echo from-v2a > ~/v2-test.txt")
	assert.Equal(t, "from-v2a\n", ssh(t, c, "v2b", "cat ~/v2-test.txt"))
	status := azlinRun(t, c, "storage", "status", "fast").Stdout
	assert.Equal(t, 2, strings.Count(status, "mounted at /home/azureuser"), status)
	assert.Contains(t, status, "Performance: 3064 IOPS (bursts to 10000), 107 MiB/s\n")

	// More IOPS and throughput, in place: cost before and after, then the share has them.
	r = azlinRun(t, c, "storage", "resize", "fast", "--iops", "6000", "--throughput", "200", "--yes")
	assert.Contains(t, r.Stderr, "Change storage fast from 64GiB, 3064 IOPS, 107 MiB/s to 64GiB, 6000 IOPS, 200 MiB/s")
	// (The private endpoint's price may have been fetched by now: azlin new asked for eastus2's VM prices.)
	assert.Contains(t, r.Stderr, "Est. cost now:   $")
	assert.Contains(t, r.Stderr, "(NFS share storage $6.40 + NFS share IOPS $1.73 + NFS share throughput $0.28 + private endpoint $")
	assert.Contains(t, r.Stderr, "Est. cost after: $")
	assert.Contains(t, r.Stderr, "(NFS share storage $6.40 + NFS share IOPS $81.03 + NFS share throughput $3.94 + private endpoint $")
	assert.Contains(t, r.Stderr, "Azure lets the IOPS and throughput shrink again only 24 hours after this increase.")
	assert.Contains(t, r.Stderr, "Storage fast is now 64GiB, 6000 IOPS, 200 MiB/s")
	c.AzJSON(&sh, "storage", "share-rm", "show", "-g", "rg", "--storage-account", acct[1], "-n", "fast")
	assert.Equal(t, float64(6000), sh["provisionedIops"])
	assert.Equal(t, float64(18000), sh["includedBurstIops"])
	r = azlinRun(t, c, "storage", "resize", "fast", "--iops", "6000", "--yes")
	assert.Contains(t, r.Stderr, "Storage fast is already 64GiB, 6000 IOPS, 200 MiB/s: nothing to change")
	assert.Equal(t, "from-v2a\n", ssh(t, c, "v2b", "cat ~/v2-test.txt"), "the VMs kept the share mounted")

	// Fewer IOPS within a day of the increase: Azure refuses, azlin says its rule.
	bad := c.Azlin("storage", "resize", "fast", "--iops", "4000", "--yes")
	assert.Equal(t, 1, bad.Exit, bad.Stderr)
	assert.Contains(t, bad.Stderr, "Azure refused to decrease the IOPS of storage fast now: a PremiumV2 share's size, IOPS and throughput "+
		"may each grow at any time, but shrink only 24 hours after that quantity's last increase")
	assert.Contains(t, bad.Stderr, "it stays 64GiB, 6000 IOPS, 200 MiB/s; run azlin storage resize fast --iops 4000 again later")
	c.AzJSON(&sh, "storage", "share-rm", "show", "-g", "rg", "--storage-account", acct[1], "-n", "fast")
	assert.Equal(t, float64(6000), sh["provisionedIops"], "nothing changed")
	// A day later it may.
	c.Env = append(c.Env, "AZEMU_CLOCK_OFFSET=25h")
	azlinRun(t, c, "storage", "resize", "fast", "--iops", "4000", "--yes")

	// azlin cost: the storage's line is priced from its three meters.
	r = azlinRun(t, c, "cost", "-g", "rg", "--by", "storage")
	var line []string
	for _, row := range strings.Split(r.Stdout, "\n") {
		if cells := strings.Split(row, "\t"); len(cells) == 7 && cells[0] == "storage" && cells[1] == "fast" {
			line = cells
		}
	}
	require.NotNil(t, line, r.Stdout)
	assert.Equal(t, "PremiumV2_LRS file share, 64 GiB, 4000 IOPS, 200 MiB/s provisioned", line[2])
	assert.Equal(t, "$37.35", line[6], "6.40 + 1000 x 0.000037 x 730 = 27.01 + 3.94 (rounded once)")
	js := azlinRun(t, c, "cost", "-g", "rg", "--by", "storage", "-o", "json").Stdout
	assert.Contains(t, js, "storage $6.40 + IOPS $27.01 + throughput $3.94 (PremiumV2_LRS, eastus2; price table of ")
}

// Where the built-in table has no provisioned v2 meters, the default
// create fetches them from the Retail Prices API like any other price (the
// local cloud's stand-in has swedencentral's, test values: storage
// $0.00016/GiB-hour, IOPS $0.00004, throughput $0.00006, with "Free"
// meters for the included 3000 IOPS and 100 MiB/s).
func TestE2EPremiumV2MetersAreFetchedOnDemand(t *testing.T) {
	c := testenv.New(t)
	require.Equal(t, 0, c.Az("group", "create", "-n", "rg", "-l", "swedencentral").Exit)
	r := c.Azlin("storage", "create", "home", "-g", "rg", "--region", "swedencentral", "--dry-run")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Contains(t, r.Stderr, "Fetching prices for swedencentral from "+c.Prices.URL())
	// 100 x 0.00016 x 730; 100 above 3000 x 0.00004 x 730; 10 above 100 x 0.00006 x 730; 730 x 0.01.
	assert.Contains(t, r.Stdout+r.Stderr, "Est. cost: $22.34/month (NFS share storage $11.68 + NFS share IOPS $2.92 + NFS share throughput $0.44 + private endpoint $7.30)")

	r = c.Azlin("cost", "prices")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Contains(t, r.Stdout, "swedencentral\tPremiumV2 file share LRS (provisioned v2) IOPS\t$0.00004\tIOPS-hour above the first 3000\n")
}
