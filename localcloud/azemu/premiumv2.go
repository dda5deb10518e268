package azemu

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Provisioned v2 SSD file shares (accounts of kind FileStorage with SKU
// PremiumV2_LRS or PremiumV2_ZRS), as "Understand Azure Files billing
// models" (learn.microsoft.com, azure/storage/files/understanding-billing)
// describes them:
//
//   - "Provisioned v2 provisioning detail": storage 32 GiB to 256 TiB
//     (262,144 GiB), IOPS 3,000 to 102,400, throughput 100 to 10,340 MiB/s,
//     each in units of 1; by default "we recommend IOPS and throughput
//     provisioning based on the provisioned storage":
//     IOPS MIN(MAX(3000 + CEILING(1 * GiB), 3000), 102400) and throughput
//     MIN(MAX(100 + CEILING(0.1 * GiB), 100), 10340).
//   - "Provisioned v2 bursting": burst IOPS limit
//     MIN(MAX(3 * ProvisionedIOPS, 10000), 102400), burst credits
//     (BurstLimit - ProvisionedIOPS) * 3600.
//   - "Provisioned v2 model": "you can only decrease a provisioned quantity
//     after 24 hours have elapsed since your last quantity increase"; read
//     here quantity by quantity (storage, IOPS, throughput each keep their
//     own last increase).
//   - "Provisioned v2 classic file shares": FileStorage + PremiumV2_LRS/ZRS.
//
// The ARM share properties are the FileShare ones of the 2024-01-01 API
// that az 2.74 uses: provisionedIops, provisionedBandwidthMibps,
// includedBurstIops, maxBurstCreditsForIops and the three
// nextAllowed...DowngradeTime. ProvisionedIops: "This property is only for
// file shares created under Files Provisioned v2 account type" (the
// property's reference): a v1 or Standard share given one is refused.
//
// Not documented, so chosen here: an out-of-range value fails as an
// out-of-range quota does (InvalidHeaderValue), and a decrease too soon as a
// quota decrease does (ContainerQuotaDowngradeNotAllowed), for IOPS and
// throughput too.

const (
	v2MinGiB, v2MaxGiB     = 32, 262144
	v2MinIOPS, v2MaxIOPS   = 3000, 102400
	v2MinMiBps, v2MaxMiBps = 100, 10340
)

// Where a share's record keeps the last increase of IOPS and throughput
// (the quota's is quotaIncreasedKey).
const (
	iopsIncreasedKey  = "iopsIncreasedAt"
	mibpsIncreasedKey = "mibpsIncreasedAt"
)

// provisionedV2 tells whether the account holds provisioned v2 SSD shares.
func provisionedV2(a map[string]any) bool {
	return str(a, "kind") == "FileStorage" && strings.HasPrefix(str(a, "sku", "name"), "PremiumV2_")
}

// checkV2Kind: a PremiumV2 SKU exists only for kind FileStorage.
func checkV2Kind(a map[string]any) error {
	if strings.HasPrefix(str(a, "sku", "name"), "PremiumV2_") && str(a, "kind") != "FileStorage" {
		return armError("InvalidRequestPropertyValue", fmt.Sprintf("The SKU %s is only available for storage accounts of kind FileStorage.", str(a, "sku", "name")))
	}
	return nil
}

func v2RecommendedIOPS(gib int) int  { return min(max(3000+gib, 3000), 102400) }
func v2RecommendedMiBps(gib int) int { return min(max(100+(gib+9)/10, 100), 10340) }
func v2BurstIOPS(iops int) int       { return min(max(3*iops, 10000), 102400) }

var errOutOfRange = armError("InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.")

// intFlag reads an int option ("" = not given).
func (c *cmdCtx) intFlag(opt, label string) (int, bool, error) {
	v := c.inv.str(opt)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, false, argError("argument %s: invalid int value: '%s'", label, v)
	}
	return n, true, nil
}

// performanceFlags reads --provisioned-iops and --provisioned-bandwidth-mibps,
// refusing them on anything but a provisioned v2 account and out of range.
func (c *cmdCtx) performanceFlags(a map[string]any) (iops, mibps int, iopsSet, mibpsSet bool, err error) {
	if iops, iopsSet, err = c.intFlag("--provisioned-iops", "--provisioned-iops"); err != nil {
		return
	}
	if mibps, mibpsSet, err = c.intFlag("--provisioned-bandwidth-mibps", "--provisioned-bandwidth-mibps/--provisioned-bandwidth"); err != nil {
		return
	}
	if (iopsSet || mibpsSet) && !provisionedV2(a) {
		err = armError("InvalidHeaderValue", "Provisioned IOPS and bandwidth are only supported for file shares in a provisioned v2 storage account.")
		return
	}
	if iopsSet && (iops < v2MinIOPS || iops > v2MaxIOPS) || mibpsSet && (mibps < v2MinMiBps || mibps > v2MaxMiBps) {
		err = errOutOfRange
	}
	return
}

// setV2Provisioning writes a v2 share's provisioned IOPS and throughput and
// what follows from them.
func setV2Provisioning(s map[string]any, iops, mibps int) {
	burst := v2BurstIOPS(iops)
	s["provisionedIops"] = iops
	s["provisionedBandwidthMibps"] = mibps
	s["includedBurstIops"] = burst
	s["maxBurstCreditsForIops"] = (burst - iops) * 3600
}

// setNextDowngrades fills the nextAllowed...DowngradeTime properties from the
// last increases (absent: now, a decrease is allowed).
func setNextDowngrades(s map[string]any) {
	for key, prop := range map[string]string{
		quotaIncreasedKey: "nextAllowedQuotaDowngradeTime",
		iopsIncreasedKey:  "nextAllowedProvisionedIopsDowngradeTime",
		mibpsIncreasedKey: "nextAllowedProvisionedBandwidthDowngradeTime",
	} {
		at := now()
		if t, err := time.Parse(time.RFC3339Nano, str(emu(s), key)); err == nil && t.Add(quotaDowngradeWait).After(at) {
			at = t.Add(quotaDowngradeWait)
		}
		// az's share-rm show rewrites these times as "%Y-%m-%dT%H:%M:%S.%f0Z"
		// (azure-cli storage module, _transform_share_rm_output).
		s[prop] = at.UTC().Format("2006-01-02T15:04:05.000000") + "0Z"
	}
}

// updateV2Quantity applies a new value of one provisioned quantity with the
// decrease rule; key is where its last increase is kept.
func updateV2Quantity(s map[string]any, prop, key string, v int) error {
	old := toInt(s[prop])
	increased, _ := time.Parse(time.RFC3339Nano, str(emu(s), key))
	switch {
	case v > old:
		emu(s)[key] = now().Format(time.RFC3339Nano)
	case v < old && now().Before(increased.Add(quotaDowngradeWait)):
		what := map[string]string{"provisionedIops": "provisioned IOPS", "provisionedBandwidthMibps": "provisioned bandwidth", "shareQuota": "quota"}[prop]
		return armError("ContainerQuotaDowngradeNotAllowed",
			fmt.Sprintf("Cannot downgrade %s at this moment. Please check share properties for the next allowed %s downgrade time.", what, what))
	}
	s[prop] = v
	return nil
}

func toInt(v any) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case int:
		return n
	}
	return 0
}

// checkV2Decreases refuses the whole update when any quantity it lowers was
// increased less than 24 hours ago: Azure applies a share's update at once.
func checkV2Decreases(s map[string]any, quota, iops, mibps int, iopsSet, mibpsSet bool) error {
	trial := map[string]any{"shareQuota": s["shareQuota"], "provisionedIops": s["provisionedIops"],
		"provisionedBandwidthMibps": s["provisionedBandwidthMibps"], emuKey: copyMap(emu(s))}
	if err := updateV2Quantity(trial, "shareQuota", quotaIncreasedKey, quota); err != nil {
		return err
	}
	if iopsSet {
		if err := updateV2Quantity(trial, "provisionedIops", iopsIncreasedKey, iops); err != nil {
			return err
		}
	}
	if mibpsSet {
		if err := updateV2Quantity(trial, "provisionedBandwidthMibps", mibpsIncreasedKey, mibps); err != nil {
			return err
		}
	}
	return nil
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
