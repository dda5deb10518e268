package storage

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/nfs"
)

// groupID is the private-link sub-resource that serves the tier's NFS.
func groupID(t nfs.Tier) string {
	if t.AzureFiles() {
		return "file"
	}
	return "blob"
}

// NetworkMode is how the VNet reaches the storage.
type NetworkMode string

const (
	// PrivateEndpoint: an endpoint in the azlin subnet, public access off (the default).
	PrivateEndpoint NetworkMode = "private-endpoint"
	// ServiceEndpoint: the subnet's Microsoft.Storage service endpoint plus a VNet rule.
	ServiceEndpoint NetworkMode = "service-endpoint"
)

// ParseNetworkMode reads --network.
func ParseNetworkMode(s string) (NetworkMode, error) {
	switch NetworkMode(strings.ToLower(strings.TrimSpace(s))) {
	case PrivateEndpoint:
		return PrivateEndpoint, nil
	case ServiceEndpoint:
		return ServiceEndpoint, nil
	}
	return "", clierr.Usagef("invalid --network %q: use private-endpoint (the default) or service-endpoint", s)
}

// ParseRootSquash reads --root-squash into Azure's spelling.
func ParseRootSquash(s string) (string, error) {
	for _, v := range []string{"NoRootSquash", "RootSquash", "AllSquash"} {
		if strings.EqualFold(s, v) {
			return v, nil
		}
	}
	return "", clierr.Usagef("invalid --root-squash %q: use NoRootSquash (the default), RootSquash or AllSquash", s)
}

// ParseRedundancy reads --redundancy: LRS or ZRS.
func ParseRedundancy(s string) (string, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "LRS":
		return "LRS", nil
	case "ZRS":
		return "ZRS", nil
	case "GRS", "GZRS", "RAGRS", "RA-GRS", "RAGZRS", "RA-GZRS":
		return "", clierr.Usagef("invalid --redundancy %q: Azure Files NFS has no geo-redundancy (no copy in another region); "+
			"use ZRS for copies in three availability zones of the region, or LRS (the default)", s)
	}
	return "", clierr.Usagef("invalid --redundancy %q: use LRS (the default) or ZRS", s)
}

// NoGeoRedundancy is what a user asking for replication across regions
// needs to know: Azure Files NFS shares are LRS or ZRS only (Premium
// FileStorage has no GRS or GZRS SKU), and azlin makes Blob NFS LRS.
const NoGeoRedundancy = "no geo-redundancy for NFS"

// RedundancyText is what a storage's redundancy keeps, for status.
func RedundancyText(redundancy string) string {
	if redundancy == "ZRS" {
		return "ZRS (copies in three availability zones of the region); " + NoGeoRedundancy
	}
	return "LRS (three copies in one datacenter); " + NoGeoRedundancy
}

// The name becomes the NFS share's (or Blob container's) name, so it follows
// Azure's share name rules: 3-63 characters, lowercase letters, digits and
// single hyphens, starting and ending with a letter or digit.
var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9]|-[a-z0-9])*$`)

// ValidateName checks a storage name; a bad one is a usage error.
func ValidateName(name string) error {
	switch {
	case len(name) < 3 || len(name) > 63:
		return clierr.Usagef("invalid storage name %q: it must be 3-63 characters long (it becomes the NFS share's name)", name)
	case strings.ToLower(name) != name && nameRE.MatchString(strings.ToLower(name)):
		return clierr.Usagef("invalid storage name %q: use lowercase letters; did you mean %q?", name, strings.ToLower(name))
	case !nameRE.MatchString(name):
		return clierr.Usagef("invalid storage name %q: use lowercase letters, digits and single hyphens, starting and ending with a letter or digit (e.g. shared-dev)", name)
	}
	return nil
}

// accountPrefixLen is how much of the name (hyphens dropped) starts the
// account name; 8 hash characters follow, 24 in all at most.
const (
	accountPrefixLen = 16
	accountHashLen   = 8
)

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// AccountName derives the storage account's name from the storage name: the
// name without hyphens (its first 16 characters), then 8 characters of a hash
// of the subscription, the resource group and the name. The same inputs
// always give the same account, so a re-run finds it; the hash keeps two
// teams' "shared-dev" apart in Azure's global account namespace. Resource
// group names are case-insensitive in Azure, so the hash takes them in lower
// case. The result is 11-24 characters of [a-z0-9].
func AccountName(subscriptionID, resourceGroup, name string) string {
	prefix := strings.ReplaceAll(name, "-", "")
	if len(prefix) > accountPrefixLen {
		prefix = prefix[:accountPrefixLen]
	}
	sum := sha256.Sum256([]byte(strings.ToLower(subscriptionID) + "\n" + strings.ToLower(resourceGroup) + "\n" + name))
	return prefix + lowerBase32.EncodeToString(sum[:])[:accountHashLen]
}

// DefaultSizeGiB is --size's default (100GB). The tiers' size bounds are in
// package nfs's tier table.
const DefaultSizeGiB = 100

var sizeRE = regexp.MustCompile(`(?i)^\s*([0-9]+(?:\.[0-9]+)?)\s*(gb|gib|tb|tib)\s*$`)

// ParseSize reads --size: a number and a unit GB, GiB, TB or TiB, in any
// case. GB is read as GiB and TB as TiB (1 TB = 1024 GiB), as Azure's quotas
// are in GiB (docs/azure-facts.md#sizes). The result must be a whole number of GiB.
func ParseSize(s string) (int, error) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, clierr.Usagef("invalid --size %q: give a number and a unit, e.g. 100GB, 512GiB, 1TB or 2TiB (GB means GiB, TB means TiB)", s)
	}
	n, _ := new(big.Rat).SetString(m[1])
	if u := strings.ToLower(m[2]); u == "tb" || u == "tib" {
		n.Mul(n, big.NewRat(1024, 1))
	}
	if !n.IsInt() || !n.Num().IsInt64() || n.Num().Int64() > 1<<40 {
		return 0, clierr.Usagef("invalid --size %q: it must come to a whole number of GiB (e.g. 1.5TB = 1536GiB)", s)
	}
	return int(n.Num().Int64()), nil
}

// CheckSize checks gib against the tier's bounds (nfs's tier table).
func CheckSize(t nfs.Tier, gib int) error {
	pr := t.Provisioned()
	if gib < pr.MinGiB || gib > pr.MaxGiB {
		return clierr.Usagef("invalid --size %s for the %s tier: it must be %s to %s", FormatGiB(gib), t, FormatGiB(pr.MinGiB), FormatGiB(pr.MaxGiB))
	}
	return nil
}

// CheckPerformance checks --iops and --throughput (0: not given) for the
// tier: only provisioned v2 provisions them apart, within Azure's bounds.
func CheckPerformance(t nfs.Tier, iops, mibps int) error {
	if iops == 0 && mibps == 0 {
		return nil
	}
	pr := t.Provisioned()
	if !pr.SeparatePerformance {
		return clierr.Usagef("--iops and --throughput are for the PremiumV2 tier (Azure Files provisioned v2); a %s storage's performance "+
			"follows from its size (%s)", t, t.Billing())
	}
	if iops != 0 && (iops < pr.MinIOPS || iops > pr.MaxIOPS) {
		return clierr.Usagef("invalid --iops %d for the %s tier: Azure provisions %d to %d IOPS", iops, t, pr.MinIOPS, pr.MaxIOPS)
	}
	if mibps != 0 && (mibps < pr.MinMiBps || mibps > pr.MaxMiBps) {
		return clierr.Usagef("invalid --throughput %d for the %s tier: Azure provisions %d to %d MiB/s", mibps, t, pr.MinMiBps, pr.MaxMiBps)
	}
	return nil
}

// FormatGiB shows a size in GiB as "100GiB" or, for whole TiB, "1TiB".
func FormatGiB(gib int) string {
	if gib >= 1024 && gib%1024 == 0 {
		return fmt.Sprintf("%dTiB", gib/1024)
	}
	return fmt.Sprintf("%dGiB", gib)
}

// FormatBytes shows a byte count compactly in binary units: "0B", "512MiB",
// "45GiB", "2.1TiB" (one decimal below 10 units when not whole).
func FormatBytes(b int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v, i := float64(b), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v < 10 && v != float64(int64(v)) {
		s := fmt.Sprintf("%.1f", v)
		return strings.TrimSuffix(s, ".0") + units[i]
	}
	return fmt.Sprintf("%.0f%s", v, units[i])
}
