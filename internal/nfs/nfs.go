// Package nfs holds the facts about the NFS exports a shared home lives on,
// one place each: the tiers, the export's source as mount(8) takes it, the
// mount options and azlin's fstab line. The storage package creates the
// exports, the script generator (vmscript) mounts them; both take these facts
// from here.
package nfs

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/azlin-dev/azlin/internal/clierr"
)

// Tier is the storage tier of a shared home.
type Tier string

const (
	// Premium is Azure Files on SSD (account kind FileStorage), NFS 4.1.
	Premium Tier = "Premium"
	// PremiumV2 is Azure Files on SSD billed by the provisioned v2 model
	// (account kind FileStorage, SKU PremiumV2_LRS/ZRS), NFS 4.1: storage,
	// IOPS and throughput are provisioned apart (see the tier table below).
	PremiumV2 Tier = "PremiumV2"
	// Standard is Azure Blob storage with NFS 3.0 (StorageV2, hierarchical
	// namespace): Azure Files has no NFS on HDD shares.
	Standard Tier = "Standard"
)

// DefaultTier is the tier of a new storage when --tier is not given
// (README, "Choosing a tier", compares the prices that decided it).
const DefaultTier = PremiumV2

// ParseTier reads --tier, case-insensitively.
func ParseTier(s string) (Tier, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "premium":
		return Premium, nil
	case "premiumv2":
		return PremiumV2, nil
	case "standard":
		return Standard, nil
	}
	return "", clierr.Usagef("invalid --tier %q: use Premium (Azure Files NFS 4.1, provisioned v1), PremiumV2 (Azure Files NFS 4.1, provisioned v2) "+
		"or Standard (Blob NFS 3.0); the default is %s", s, DefaultTier)
}

// AzureFiles tells whether the tier is an Azure Files NFS 4.1 share
// (Premium or PremiumV2): both are reached, mounted and encrypted the same
// way; they differ only in how they are provisioned and billed.
func (t Tier) AzureFiles() bool { return t == Premium || t == PremiumV2 }

// Protocol says how a tier is reached; every view shows it.
func (t Tier) Protocol() string {
	if t == Standard {
		return "NFS 3.0 (Azure Blob)"
	}
	return "NFS 4.1 (Azure Files)"
}

// Billing names the tier's billing model, for views and --help.
func (t Tier) Billing() string {
	switch t {
	case Premium:
		return "provisioned v1 (size only)"
	case PremiumV2:
		return "provisioned v2 (size, IOPS and throughput)"
	}
	return "used space"
}

// ShareWord names what holds the home on the tier, for messages.
func (t Tier) ShareWord() string {
	if t == Standard {
		return "Blob container"
	}
	return "NFS share"
}

// Target names one NFS export: a Premium file share or a Standard blob container.
type Target struct {
	Account string // storage account name
	Share   string // file share name (Premium) or blob container name (Standard)
	Tier    Tier
	// TLS: encrypted in transit, mounted through Microsoft's AZNFS mount
	// helper (package aznfs), which carries NFS inside TLS. Azure Files
	// (Premium) only: Blob NFS has no encryption in transit (Standard is
	// mounted through AZNFS too, for its proxy address: FSType).
	TLS bool
}

// Source is the NFS export as mount(8) takes it. Azure's form is
// <account>.<endpoint>:/<account>/<share>, the endpoint being "file" for
// Azure Files and "blob" for Blob NFS.
func (t Target) Source() string {
	endpoint := "file"
	if t.Tier == Standard {
		endpoint = "blob"
	}
	return fmt.Sprintf("%s.%s.core.windows.net:/%s/%s", t.Account, endpoint, t.Account, t.Share)
}

// FSType is the mount type: `aznfs`, Microsoft's AZNFS mount helper
// (package aznfs), wherever Microsoft's mount articles use it, else `nfs`.
//
//   - Premium encrypted in transit (TLS): mount.aznfs starts a local TLS
//     tunnel (stunnel) to the share and mounts NFS 4.1 through it.
//   - Standard (Blob NFS 3.0), always: "Mount Blob Storage by using the NFS
//     3.0 protocol" (learn.microsoft.com/azure/storage/blobs/
//     network-file-system-protocol-support-how-to) mounts with `-t aznfs`
//     and the same options, and so does its fstab line, because a plain
//     `-t nfs` mount resolves the endpoint's name once and stays on that IP
//     when Azure moves the endpoint. mount.aznfs mounts a stable local proxy
//     address instead and maps it to the endpoint with iptables DNAT; its
//     watchdog follows the endpoint's IP. No TLS: Blob NFS has no encryption
//     in transit, through AZNFS or not.
//   - Premium with secure transfer off (--no-encryption-in-transit): plain
//     `-t nfs`, mount.nfs picking the protocol from vers= (nfs(5)).
func (t Target) FSType() string {
	if t.TLS || AznfsProxy(t.Tier) {
		return "aznfs"
	}
	return "nfs"
}

// AznfsProxy tells whether a tier's mounts go through AZNFS's proxy address
// (Blob NFS 3.0: a local private IP, 10.161.x.y unless taken, that AZNFS
// maps to the endpoint's current IP; its mount map,
// /opt/microsoft/aznfs/data/mountmap, holds "FQDN PROXY-IP ENDPOINT-IP").
// The mount table then shows PROXY-IP:/account/container as the source.
func AznfsProxy(t Tier) bool { return t == Standard }

// TLSSource is how a TLS mount appears in the mount table: AZNFS mounts the
// export from its local tunnel, 127.0.0.1, under the same path.
func (t Target) TLSSource() string {
	return "127.0.0.1:/" + t.Account + "/" + t.Share
}

// MountOptions is THE one place for NFS mount options; the attach script's
// mount and the fstab line both use it.
//
// Premium and PremiumV2 (Azure Files, NFS 4.1): vers=4,minorversion=1,sec=sys is what Azure
// Files speaks (NFS v3 there fails with "Protocol not supported");
// nconnect=4, rsize/wsize=1048576, noresvport and actimeo=30 are Microsoft's
// recommendations (docs/azure-facts.md#mount-options-and-fstab); hard
// keeps a share that blips from turning into I/O errors in people's editors.
//
// Standard (Blob NFS 3.0): sec=sys,vers=3,nolock,proto=tcp exactly as the Blob
// NFS mount article gives it for `-t aznfs` (FSType); nolock because Blob NFS
// has no NLM locking. AZNFS adds port=2048,mountport=2048 (Blob NFS's fixed
// port) and retrans=6 itself.
//
// The options carry no retry= of their own: a mount by a script and a mount
// at boot need different ones (ScriptMountOptions, FstabLine).
func MountOptions(t Tier) []string {
	if t == Standard {
		return []string{"sec=sys", "vers=3", "nolock", "proto=tcp", "hard"}
	}
	return []string{
		"vers=4", "minorversion=1", "sec=sys", "nconnect=4", "hard", "noresvport",
		"rsize=1048576", "wsize=1048576", "actimeo=30",
	}
}

// ScriptMountOptions are the options of a mount a script makes while a user
// waits: one attempt, bounded. nfs(5) says of retry=n "the number of minutes
// that the mount(8) command retries an NFS mount operation ... the default
// value for foreground mounts is 2 minutes ... If a value of zero is
// specified, the mount(8) command exits immediately after the first failure",
// and adds that this "doesn't affect the delay caused by each retry"; over
// TCP one attempt may last minutes (timeo=600 deciseconds, retrans=2).
// Shrinking timeo would also shorten every later RPC timeout of the hard
// mount, which we do not want on a cloud share. So retry=0 removes
// mount.nfs's 2-minute retry loop, and the scripts run each mount under
// `timeout` (MountTimeout), which bounds the one attempt whatever the network
// does; the script then reports the failure and rolls back.
func ScriptMountOptions(t Tier) []string {
	return append(MountOptions(t), "retry=0")
}

// NumericIDs tells whether a tier's mounts need NFSv4 idmapping turned off
// (the nfs module's nfs4_disable_idmapping=Y) before mounting: Azure Files
// NFS 4.1 uses AUTH_SYS with numeric uids/gids only, and with idmapping on
// the client maps owners through user@domain names the share does not know
// (files then belong to "nobody"). NFS 3.0 (Blob) has no idmapping.
func NumericIDs(t Tier) bool { return t.AzureFiles() }

// HardLinks tells whether the tier's NFS has hard links: Azure Files NFS
// does (up to 178 names per file); Blob NFS 3.0 does not, link(2) fails
// with "Operation not supported", so a home copied there must turn every
// extra name into a file of its own.
func HardLinks(t Tier) bool { return t.AzureFiles() }

// FstabSystemdTimeout bounds a boot-time mount of the fstab line: longer than
// mount.nfs's 2 minutes of retries (see FstabLine).
const FstabSystemdTimeout = "x-systemd.mount-timeout=3min"

// MountTimeout bounds one mount attempt in the scripts (see ScriptMountOptions).
const MountTimeout = 30 * time.Second

// FstabMarker marks azlin's fstab line. fstab comments must be whole lines, so
// the marker is a mount option instead of a trailing comment: util-linux
// mount(8) treats options starting with "x-" as comments for applications and
// passes them neither to mount helpers nor to mount(2) (checked: mount.nfs
// receives the options without it). The line thus stays one self-describing
// line, and the scripts find it by this option in the 4th field.
const FstabMarker = "x-azlin.managed"

// FstabLine is azlin's one fstab line for a shared home: the mount options
// plus _netdev (wait for the network at boot), nofail (boot even when the
// share is unreachable), and the FstabMarker. At boot nobody is waiting and
// one transient failure must not leave an empty local home until someone
// mounts by hand, so the line keeps mount.nfs's own retries (2 minutes for
// a foreground mount) and gives systemd's mount unit a timeout longer than
// them (x-systemd.mount-timeout; systemd's default, 90 s, would kill
// mount.nfs while it retries). With nofail, boot does not wait for it.
func FstabLine(t Target, mountPoint string) string {
	opts := append(MountOptions(t.Tier), "_netdev", "nofail", FstabSystemdTimeout, FstabMarker)
	return fmt.Sprintf("%s %s %s %s 0 0", t.Source(), mountPoint, t.FSType(), strings.Join(opts, ","))
}

var (
	accountRe = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	shareRe   = regexp.MustCompile(`^[a-z0-9-]{3,63}$`)
)

// Validate checks the names against Azure's naming rules for storage
// accounts, file shares and blob containers. Names are validated before any
// script is generated; quoting is the second line of defence, not the first.
func (t Target) Validate() error {
	if !t.Tier.AzureFiles() && t.Tier != Standard {
		return fmt.Errorf("storage tier %q is not Premium, PremiumV2 or Standard", t.Tier)
	}
	if t.TLS && !t.Tier.AzureFiles() {
		return fmt.Errorf("encryption in transit (TLS) exists for Azure Files (Premium, PremiumV2) shares only, not for %s", t.Tier)
	}
	if !accountRe.MatchString(t.Account) {
		return fmt.Errorf("storage account name %q is not 3-24 lowercase letters and digits", t.Account)
	}
	what := "file share"
	if t.Tier == Standard {
		what = "blob container"
	}
	if !shareRe.MatchString(t.Share) || strings.HasPrefix(t.Share, "-") || strings.HasSuffix(t.Share, "-") || strings.Contains(t.Share, "--") {
		return fmt.Errorf("%s name %q is not 3-63 lowercase letters, digits and single inner hyphens", what, t.Share)
	}
	return nil
}
