package azemu

import (
	"strconv"
	"time"
)

// `az storage share-rm update --quota N` changes a share's size in place.
//
// "Understand Azure Files billing models", provisioned v1 (learn.microsoft.com,
// azure/storage/files/understanding-billing): "The provisioned size of the
// file share can be increased at any time but can be decreased only after 24
// hours since the last increase. After waiting for 24 hours without a quota
// increase, you can decrease the share quota as many times as you like,
// until you increase it again." The same page: a share may be decreased
// below its used GiB without losing data (azlin refuses that itself).
//
// A decrease too soon fails as the File service's error table has it
// (learn.microsoft.com, rest/api/storageservices/file-service-error-codes):
// ContainerQuotaDowngradeNotAllowed, 409, "Cannot downgrade quota at this
// moment. Please check share properties for the next allowed quota
// downgrade time." That is the message users report from the management
// plane too (Azure/azure-storage-net issue 964); that ARM passes that code
// through unchanged is modelled. The docs speak of "the last increase":
// creating a share is not counted as one here.
//
// Sizes outside the provisioned v1 range (100 GiB to 100 TiB for Premium,
// up to 100 TiB on Standard) fail as share-rm create's do.

// quotaDowngradeWait is how long after an increase a share may not shrink.
const quotaDowngradeWait = 24 * time.Hour

// quotaIncreasedKey is where a share's record keeps its last increase.
const quotaIncreasedKey = "quotaIncreasedAt"

func init() {
	register("storage share-rm update", locked(shareUpdate))
}

func shareUpdate(c *cmdCtx) (any, error) {
	a, s, err := c.shareRecord()
	if err != nil {
		return nil, err
	}
	v2 := provisionedV2(a)
	iops, mibps, iopsSet, mibpsSet, err := c.performanceFlags(a)
	if err != nil {
		return nil, err
	}
	if q := c.inv.str("--quota"); q != "" {
		quota, err := strconv.Atoi(q)
		if err != nil {
			return nil, argError("argument --quota/-q: invalid int value: '%s'", q)
		}
		lo, hi := 1, 102400
		if str(a, "kind") == "FileStorage" {
			lo = 100
		}
		if v2 {
			lo, hi = v2MinGiB, v2MaxGiB
		}
		if quota < lo || quota > hi {
			return nil, armError("InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.")
		}
		if v2 {
			// Each quantity on its own (premiumv2.go); a refused one changes nothing.
			if err := checkV2Decreases(s, quota, iops, mibps, iopsSet, mibpsSet); err != nil {
				return nil, err
			}
		}
		old, _ := s["shareQuota"].(float64)
		increased, _ := time.Parse(time.RFC3339Nano, str(emu(s), quotaIncreasedKey))
		switch {
		case quota > int(old):
			emu(s)[quotaIncreasedKey] = now().Format(time.RFC3339Nano)
		case quota < int(old) && str(a, "kind") == "FileStorage" && now().Before(increased.Add(quotaDowngradeWait)):
			return nil, armError("ContainerQuotaDowngradeNotAllowed",
				"Cannot downgrade quota at this moment. Please check share properties for the next allowed quota downgrade time.")
		}
		s["shareQuota"] = quota
	} else if v2 {
		if err := checkV2Decreases(s, toInt(s["shareQuota"]), iops, mibps, iopsSet, mibpsSet); err != nil {
			return nil, err
		}
	}
	if v2 {
		if iopsSet {
			_ = updateV2Quantity(s, "provisionedIops", iopsIncreasedKey, iops) // checked above
		}
		if mibpsSet {
			_ = updateV2Quantity(s, "provisionedBandwidthMibps", mibpsIncreasedKey, mibps)
		}
		setV2Provisioning(s, toInt(s["provisionedIops"]), toInt(s["provisionedBandwidthMibps"]))
		setNextDowngrades(s)
	}
	if v := c.inv.str("--root-squash"); v != "" {
		s["rootSquash"] = v
	}
	s["etag"] = shareEtag()
	s["lastModifiedTime"] = now().Format("2006-01-02T15:04:05") + "+00:00"
	if err := c.st.put(str(s, "id"), s); err != nil {
		return nil, err
	}
	return view(s), nil
}
