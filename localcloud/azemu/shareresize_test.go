package azemu_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A Premium (provisioned v1) share "can be increased at any time but can be
// decreased only after 24 hours since the last increase. After waiting for 24
// hours without a quota increase, you can decrease the share quota as many
// times as you like, until you increase it again" ("Understand Azure Files
// billing models", learn.microsoft.com azure/storage/files/understanding-billing).
// Too soon is ContainerQuotaDowngradeNotAllowed (File service error codes).
func TestShareQuotaDecreasesOnlyADayAfterTheLastIncrease(t *testing.T) {
	c := newCloud(t)
	c.base()
	c.ok("storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", "home", "--quota", "200",
		"--enabled-protocols", "NFS", "-o", "none")
	update := func(quota string) result {
		return c.run("storage", "share-rm", "update", "-g", "rg", "--storage-account", "acct", "-n", "home", "--quota", quota)
	}
	quota := func() any {
		return c.obj("storage", "share-rm", "show", "-g", "rg", "--storage-account", "acct", "-n", "home")["shareQuota"]
	}

	assert.Equal(t, 0, update("150").code, "a new share was never increased: it may shrink")
	assert.Equal(t, float64(150), quota())
	r := update("300")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"shareQuota": 300`, "update prints the share")

	c.env["AZEMU_CLOCK_OFFSET"] = "23h"
	r = update("250")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "(ContainerQuotaDowngradeNotAllowed) Cannot downgrade quota at this moment.")
	assert.Equal(t, float64(300), quota(), "a refused decrease changes nothing")
	assert.Equal(t, 0, update("400").code, "an increase is allowed at any time")

	c.env["AZEMU_CLOCK_OFFSET"] = "46h"
	assert.Equal(t, 1, update("250").code, "the wait starts again at the last increase")
	c.env["AZEMU_CLOCK_OFFSET"] = "47h"
	assert.Equal(t, 0, update("250").code, "24 hours after the last increase")
	assert.Equal(t, 0, update("200").code, "then as many decreases as you like")
	assert.Equal(t, float64(200), quota())

	r = update("99")
	assert.Equal(t, 1, r.code, "below Premium's 100 GiB")
	assert.Contains(t, r.stderr, "InvalidHeaderValue")
	assert.Equal(t, 1, update("102401").code, "above 100 TiB")
}
