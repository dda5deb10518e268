package azemu_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Provisioned v2 SSD shares, as "Understand Azure Files billing models"
// (learn.microsoft.com, azure/storage/files/understanding-billing) has them:
// FileStorage + PremiumV2_LRS/ZRS ("Provisioned v2 classic file shares");
// 32 GiB to 256 TiB, 3,000 to 102,400 IOPS, 100 to 10,340 MiB/s, and by
// default the recommendation for the size ("Provisioned v2 provisioning
// detail"); burst MIN(MAX(3 x IOPS, 10000), 102400) ("Provisioned v2
// bursting"); a quantity decreased only 24 hours after its last increase
// ("Provisioned v2 model").
func (c *cloud) v2Account() {
	c.t.Helper()
	c.ok("group", "create", "-n", "rg", "-l", "eastus2", "-o", "none")
	c.ok("storage", "account", "create", "-g", "rg", "-n", "fast", "--sku", "PremiumV2_LRS", "--kind", "FileStorage",
		"--default-action", "Deny", "-o", "none", "--only-show-errors")
}

func TestPremiumV2ShareTakesAzuresRecommendationForItsSize(t *testing.T) {
	c := newCloud(t)
	c.v2Account()
	acct := c.obj("storage", "account", "show", "-g", "rg", "-n", "fast")
	assert.Equal(t, map[string]any{"name": "PremiumV2_LRS", "tier": "Premium"}, acct["sku"])

	s := c.obj("storage", "share-rm", "create", "-g", "rg", "--storage-account", "fast", "-n", "home", "--quota", "100", "--enabled-protocols", "NFS")
	assert.Equal(t, float64(100), s["shareQuota"])
	assert.Equal(t, float64(3100), s["provisionedIops"], "3000 + 1 x 100 GiB")
	assert.Equal(t, float64(110), s["provisionedBandwidthMibps"], "100 + 0.1 x 100 GiB")
	assert.Equal(t, float64(10000), s["includedBurstIops"], "MAX(3 x 3100, 10000)")
	assert.Equal(t, float64((10000-3100)*3600), s["maxBurstCreditsForIops"])

	s = c.obj("storage", "share-rm", "create", "-g", "rg", "--storage-account", "fast", "-n", "big", "--quota", "32",
		"--provisioned-iops", "20000", "--provisioned-bandwidth-mibps", "500", "--enabled-protocols", "NFS")
	assert.Equal(t, float64(20000), s["provisionedIops"])
	assert.Equal(t, float64(500), s["provisionedBandwidthMibps"])
	assert.Equal(t, float64(60000), s["includedBurstIops"])
	shown := c.obj("storage", "share-rm", "show", "-g", "rg", "--storage-account", "fast", "-n", "big")
	assert.Equal(t, float64(20000), shown["provisionedIops"], "show prints what create set")
}

func TestPremiumV2RangesAndWhereIOPSBelong(t *testing.T) {
	c := newCloud(t)
	c.v2Account()
	create := func(name string, extra ...string) result {
		return c.run(append([]string{"storage", "share-rm", "create", "-g", "rg", "--storage-account", "fast", "-n", name, "--enabled-protocols", "NFS"}, extra...)...)
	}
	for _, bad := range [][]string{
		{"--quota", "31"}, {"--quota", "262145"},
		{"--quota", "64", "--provisioned-iops", "2999"}, {"--quota", "64", "--provisioned-iops", "102401"},
		{"--quota", "64", "--provisioned-bandwidth-mibps", "99"}, {"--quota", "64", "--provisioned-bandwidth-mibps", "10341"},
	} {
		r := create("share1", bad...)
		assert.Equal(t, 1, r.code, "%v", bad)
		assert.Contains(t, r.stderr, "InvalidHeaderValue", "%v", bad)
	}
	assert.Equal(t, 0, create("edge", "--quota", "262144", "--provisioned-iops", "102400", "--provisioned-bandwidth-mibps", "10340", "-o", "none").code)

	// IOPS are "only for file shares created under Files Provisioned v2 account type".
	c.ok("storage", "account", "create", "-g", "rg", "-n", "classic", "--sku", "Premium_LRS", "--kind", "FileStorage", "-o", "none", "--only-show-errors")
	r := c.run("storage", "share-rm", "create", "-g", "rg", "--storage-account", "classic", "-n", "home", "--quota", "100", "--provisioned-iops", "5000")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "provisioned v2")
	v1 := c.obj("storage", "share-rm", "create", "-g", "rg", "--storage-account", "classic", "-n", "home2", "--quota", "100")
	_, has := v1["provisionedIops"]
	assert.False(t, has, "a v1 share has no provisioned IOPS of its own")

	// The SKU exists for FileStorage accounts only.
	r = c.run("storage", "account", "create", "-g", "rg", "-n", "wrongkind", "--sku", "PremiumV2_LRS", "--kind", "StorageV2")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "FileStorage")
}

func TestPremiumV2DecreasesEachQuantityOnlyADayAfterItsLastIncrease(t *testing.T) {
	c := newCloud(t)
	c.v2Account()
	c.ok("storage", "share-rm", "create", "-g", "rg", "--storage-account", "fast", "-n", "home", "--quota", "100", "--enabled-protocols", "NFS", "-o", "none")
	update := func(args ...string) result {
		return c.run(append([]string{"storage", "share-rm", "update", "-g", "rg", "--storage-account", "fast", "-n", "home"}, args...)...)
	}
	show := func() map[string]any {
		return c.obj("storage", "share-rm", "show", "-g", "rg", "--storage-account", "fast", "-n", "home")
	}
	assert.Equal(t, 0, update("--provisioned-iops", "3000").code, "never increased: may decrease")
	r := update("--provisioned-iops", "8000", "--provisioned-bandwidth-mibps", "300")
	assert.Equal(t, 0, r.code, r.stderr)
	s := show()
	assert.Equal(t, float64(8000), s["provisionedIops"])
	assert.Equal(t, float64(24000), s["includedBurstIops"], "burst follows the new IOPS")
	assert.Equal(t, float64(100), s["shareQuota"], "what was not given stays")

	c.env["AZEMU_CLOCK_OFFSET"] = "23h"
	r = update("--provisioned-iops", "5000")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "(ContainerQuotaDowngradeNotAllowed) Cannot downgrade provisioned IOPS at this moment.")
	r = update("--quota", "50", "--provisioned-bandwidth-mibps", "200")
	assert.Equal(t, 1, r.code, "throughput too; the whole update is refused")
	assert.Equal(t, float64(100), show()["shareQuota"], "a refused update changes nothing")
	assert.Equal(t, 0, update("--quota", "50").code, "the size was never increased: it may shrink")
	assert.Equal(t, 0, update("--provisioned-iops", "9000").code, "an increase at any time")

	c.env["AZEMU_CLOCK_OFFSET"] = "25h"
	assert.Equal(t, 0, update("--provisioned-bandwidth-mibps", "150").code, "24 hours after throughput's last increase")
	assert.Equal(t, 1, update("--provisioned-iops", "4000").code, "IOPS were increased again at 23h")
	c.env["AZEMU_CLOCK_OFFSET"] = "47h"
	assert.Equal(t, 0, update("--provisioned-iops", "4000").code)
	assert.Equal(t, 1, update("--quota", "31").code, "below provisioned v2's 32 GiB")
	assert.Equal(t, 0, update("--quota", "262144").code, "up to 256 TiB")
	assert.Equal(t, 1, update("--provisioned-iops", "102401").code)
}
