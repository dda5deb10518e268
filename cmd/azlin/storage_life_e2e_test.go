//go:build localcloud

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/localcloud/testenv"
)

// Storage over its life: a share filled from a VM over emulated days
// (AZEMU_CLOCK_OFFSET), its usage series and trend as Azure Monitor's daily
// capacity refresh has them, resized up and down under Azure's rules, and
// the warning when it is nearly full. Sizes are apparent sizes of sparse
// files, which is what the emulator measures.
func TestE2EStorageOverItsLife(t *testing.T) {
	c := sharedCloud(t)
	azlinRun(t, c, "storage", "create", "life", "--tier", "Premium")
	azlinRun(t, c, "new", "--shared-home", "life", "--name", "w1")
	at := func(offset string) { setEnvVar(c, "AZEMU_CLOCK_OFFSET", offset) }
	fill := func(size string) { ssh(t, c, "w1", "truncate -s "+size+" ~/data.bin") }

	r := azlinRun(t, c, "storage", "usage", "life")
	assert.Contains(t, r.Stderr, "No usage values for life yet: Azure refreshes capacity about once a day.", "a new account has no value for a day")
	r = azlinRun(t, c, "storage", "status", "life")
	assert.Contains(t, r.Stdout, "Trend: not enough data yet: Azure refreshes capacity about once a day\n")

	fill("10G")
	at("25h")
	azlinRun(t, c, "storage", "usage", "life") // day 1's refresh sees 10 GiB

	// Grow at once; Azure then keeps it from shrinking for 24 hours.
	at("26h")
	r = azlinRun(t, c, "storage", "resize", "life", "--size", "500GB", "--yes")
	assert.Contains(t, r.Stderr, "Est. cost now:   $23.30/month (NFS share $16.00 + private endpoint $7.30)")
	assert.Contains(t, r.Stderr, "Est. cost after: $87.30/month (NFS share $80.00 + private endpoint $7.30)")
	assert.Contains(t, r.Stderr, "Storage life is now 500GiB")
	r = azlinRun(t, c, "storage", "resize", "life", "--size", "500GB", "--yes")
	assert.Contains(t, r.Stderr, "Storage life is already 500GiB: nothing to change")

	fill("200G")
	at("49h")
	azlinRun(t, c, "storage", "usage", "life") // day 2: 200 GiB
	c.ResetLog()
	r = c.Azlin("storage", "resize", "life", "--size", "210GB", "--yes")
	assert.Equal(t, 2, r.Exit, r.Stderr)
	assert.Contains(t, r.Stderr, "storage life holds 200GiB: it may shrink to 221GiB at the least", "200 GiB and the home's few files, plus 10%")
	assert.NotContains(t, mutations(c), "storage share-rm update", "refused before any change")
	r = c.Azlin("storage", "resize", "life", "--size", "300GB", "--yes")
	assert.Equal(t, 1, r.Exit, "23 hours after the increase")
	assert.Contains(t, r.Stderr, "a Premium share may shrink only 24 hours after its last increase; it stays 500GiB")
	assert.Contains(t, r.Stderr, "ContainerQuotaDowngradeNotAllowed")

	at("51h")
	r = azlinRun(t, c, "storage", "resize", "life", "--size", "300GB", "--yes")
	assert.Contains(t, r.Stderr, "Storage life is now 300GiB")

	fill("280G")
	at("73h")
	r = azlinRun(t, c, "storage", "usage", "life", "-o", "json")
	var u struct {
		Storage, Share, Unit string
		Points               []struct{ UsedBytes int64 }
		ProvisionedBytes     int64
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &u))
	var used []int64
	for _, p := range u.Points {
		used = append(used, p.UsedBytes>>30)
	}
	assert.Equal(t, []int64{10, 200, 280}, used, "one value a day, each as that day's refresh saw it")
	assert.Equal(t, int64(300)<<30, u.ProvisionedBytes)

	r = azlinRun(t, c, "storage", "usage", "life")
	assert.Contains(t, r.Stdout, "\t280GiB\t300GiB\n", "piped: one row per value")

	r = azlinRun(t, c, "storage", "status", "life")
	assert.Contains(t, r.Stdout, "Size: 300GiB (280GiB used, 93% utilization) NEARLY FULL\n")
	assert.Contains(t, r.Stdout, "Trend: +270GiB in 2 days; full in about 1 day at this rate\n")
	r = azlinRun(t, c, "storage", "list")
	assert.Contains(t, r.Stdout, "life\tPremium\t300GiB\t280GiB (93%, NEARLY FULL)\t")

	r = azlinRun(t, c, "storage", "attach", "life", "--vm", "w1")
	assert.Contains(t, r.Stderr, "storage life is 93% full (280GiB of 300GiB): make room first: azlin storage resize life --size SIZE")
	assert.Less(t, strings.Index(r.Stderr, "93% full"), strings.Index(r.Stderr, "w1:"), "the warning comes before the VM's steps")
}

// setEnvVar sets one variable of the environment azlin and az run with.
func setEnvVar(c *testenv.Cloud, key, value string) {
	for i, kv := range c.Env {
		if strings.HasPrefix(kv, key+"=") {
			c.Env[i] = key + "=" + value
			return
		}
	}
	c.Env = append(c.Env, key+"="+value)
}
