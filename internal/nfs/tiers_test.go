package nfs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The provisioned v2 SSD formulas and bounds, checked against the examples
// and limits of "Understand Azure Files billing models" (provisioned v2
// provisioning detail and bursting tables).
func TestProvisionedV2FormulasMatchAzuresTables(t *testing.T) {
	for _, c := range []struct{ gib, iops, mibps int }{
		{32, 3032, 104}, {100, 3100, 110}, {1024, 4024, 203}, {10240, 13240, 1124}, {102400, 102400, 10340}, {262144, 102400, 10340},
	} {
		assert.Equal(t, c.iops, RecommendedIOPS(c.gib), "IOPS for %d GiB", c.gib)
		assert.Equal(t, c.mibps, RecommendedMiBps(c.gib), "MiB/s for %d GiB", c.gib)
	}
	// Burst: the docs' table for 3,000 / 5,000 / 50,000 / 102,400 provisioned IOPS.
	for iops, burst := range map[int]int{3000: 10000, 5000: 15000, 10000: 30000, 50000: 102400, 102400: 102400} {
		assert.Equal(t, burst, BurstIOPS(iops), "burst of %d IOPS", iops)
	}
	// Provisioned v1: the docs' table (100 GiB: 3,100 IOPS, 110 MiB/s; 1,024 GiB: 4,024, 203).
	assert.Equal(t, 3100, V1IOPS(100))
	assert.Equal(t, 110, V1MiBps(100))
	assert.Equal(t, 4024, V1IOPS(1024))
	assert.Equal(t, 203, V1MiBps(1024))
	assert.Equal(t, 10340, V1MiBps(102400))
}

func TestTierTable(t *testing.T) {
	v2 := PremiumV2.Provisioned()
	assert.Equal(t, Provisioning{Kind: "FileStorage", SKUPrefix: "PremiumV2", MinGiB: 32, MaxGiB: 262144,
		SeparatePerformance: true, MinIOPS: 3000, MaxIOPS: 102400, MinMiBps: 100, MaxMiBps: 10340}, v2)
	assert.Equal(t, "PremiumV2_ZRS", PremiumV2.AccountSKU("ZRS"))
	assert.Equal(t, "Premium_LRS", Premium.AccountSKU("LRS"))
	assert.False(t, Premium.Provisioned().SeparatePerformance)
	assert.Equal(t, 100, Premium.Provisioned().MinGiB)
	assert.True(t, PremiumV2.AzureFiles())
	assert.False(t, Standard.AzureFiles())
	assert.True(t, NumericIDs(PremiumV2))
	assert.True(t, HardLinks(PremiumV2))
	got, err := ParseTier("premiumV2")
	require.NoError(t, err)
	assert.Equal(t, PremiumV2, got)
	// Mounted as Premium: same source, options and TLS helper.
	tgt := Target{Account: "acct", Share: "home", Tier: PremiumV2, TLS: true}
	require.NoError(t, tgt.Validate())
	assert.Equal(t, "acct.file.core.windows.net:/acct/home", tgt.Source())
	assert.Equal(t, "aznfs", tgt.FSType())
	assert.Equal(t, MountOptions(Premium), MountOptions(PremiumV2))
}
