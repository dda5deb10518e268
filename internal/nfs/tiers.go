package nfs

import "time"

// The tier table: what Azure provisions for each tier, one place. Sources
// (docs/azure-facts.md#tiers-and-provisioning): "Understand Azure Files
// billing models" (learn.microsoft.com, azure/storage/files/understanding-
// billing), sections "Provisioned v2 provisioning detail", "Provisioned v2
// bursting", "Provisioned v2 classic file shares" and "Provisioned v1
// provisioning detail".

// Provisioning is how a tier is provisioned and bounded.
type Provisioning struct {
	// Kind and SKUPrefix are the storage account's kind and SKU (the SKU
	// is SKUPrefix + "_" + redundancy).
	Kind, SKUPrefix string
	// MinGiB and MaxGiB bound the share's (or for Standard, azlin's
	// recorded cap's) size.
	MinGiB, MaxGiB int
	// IOPS and throughput may be provisioned apart from the size
	// (provisioned v2 only); the bounds are Azure's.
	SeparatePerformance bool
	MinIOPS, MaxIOPS    int
	MinMiBps, MaxMiBps  int
}

var tiers = map[Tier]Provisioning{
	// Provisioned v1: 100 GiB to 100 TiB; IOPS and throughput follow the size.
	Premium: {Kind: "FileStorage", SKUPrefix: "Premium", MinGiB: 100, MaxGiB: 102400},
	// Provisioned v2 on SSD: 32 GiB to 256 TiB; 3,000 to 102,400 IOPS and
	// 100 to 10,340 MiB/s, each in units of 1.
	PremiumV2: {Kind: "FileStorage", SKUPrefix: "PremiumV2", MinGiB: 32, MaxGiB: 262144,
		SeparatePerformance: true, MinIOPS: 3000, MaxIOPS: 102400, MinMiBps: 100, MaxMiBps: 10340},
	// Blob NFS has no quota: the cap is azlin's record, bounded by a storage
	// account's 5 PiB.
	Standard: {Kind: "StorageV2", SKUPrefix: "Standard", MinGiB: 1, MaxGiB: 5 * 1024 * 1024},
}

// Provisioned is the tier's row of the table (the zero row for an unknown tier).
func (t Tier) Provisioned() Provisioning { return tiers[t] }

// AccountSKU is the storage account SKU for the tier and redundancy
// ("LRS"/"ZRS"): Premium_LRS, PremiumV2_ZRS, Standard_LRS.
func (t Tier) AccountSKU(redundancy string) string { return tiers[t].SKUPrefix + "_" + redundancy }

// RecommendedIOPS is Azure's provisioned v2 SSD recommendation, the IOPS a
// share gets when none are given: MIN(MAX(3000 + CEILING(1 x GiB), 3000), 102400).
func RecommendedIOPS(gib int) int { return min(max(3000+gib, 3000), 102400) }

// RecommendedMiBps is Azure's provisioned v2 SSD throughput recommendation:
// MIN(MAX(100 + CEILING(0.1 x GiB), 100), 10340) MiB/s.
func RecommendedMiBps(gib int) int { return min(max(100+(gib+9)/10, 100), 10340) }

// BurstIOPS is a provisioned v2 SSD share's burst limit (best effort, while
// credits last): MIN(MAX(3 x IOPS, 10000), 102400).
func BurstIOPS(iops int) int { return min(max(3*iops, 10000), 102400) }

// V1IOPS and V1MiBps are what a provisioned v1 share of gib gets:
// MIN(3000 + GiB, 102400) IOPS and 100 + CEILING(0.04 x GiB) + CEILING(0.06 x GiB) MiB/s.
func V1IOPS(gib int) int  { return min(3000+gib, 102400) }
func V1MiBps(gib int) int { return 100 + (4*gib+99)/100 + (6*gib+99)/100 }

// DecreaseWait is how long after its last increase a provisioned quantity
// may not be decreased: v1 "can be decreased only after 24 hours since the
// last increase" (the size); v2 "you can only decrease a provisioned
// quantity after 24 hours have elapsed since your last quantity increase"
// (size, IOPS and throughput alike).
const DecreaseWait = 24 * time.Hour
