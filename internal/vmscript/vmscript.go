// Package vmscript generates the scripts that move a user's home directory
// onto an Azure NFS share and back: the attach and detach scripts run as root
// through `az vm run-command invoke`, and the cloud-init part that runs the
// attach script at first boot. It is pure Go: it only produces text.
//
// The one place that decides protocol, endpoint and mount options per tier is
// this file (Target.Source, Target.FSType, MountOptions, FstabLine).
//
// Data safety, as the scripts (sh/*.sh) keep it:
//   - The home is seeded onto an empty share from the live home, through a
//     private folder on the share that is checked (tree listing) before its
//     entries are moved into place; only then is the home renamed to
//     /home/azureuser.backup (or .backup-<timestamp> when one exists): a rename,
//     so the files always exist whole somewhere and no disk space is doubled.
//   - Nothing is deleted except empty directories (rmdir), single files the
//     script itself made, azlin's own files (its symlinks, setting files and
//     break-glass files), and a layout path's tree after it was copied to the
//     other file system and the copy checked (a move across file systems, as
//     mv does; sh/layout.sh). Any failure rolls back in reverse order; the
//     backup is moved back only onto an empty, unmounted directory the script made.
//   - One VM at a time seeds a share and merges keys: a lock directory in the
//     share root (mkdir is atomic on NFS 3 and 4.1), with a heartbeat so that
//     a lock left by a killed run goes stale after 10 minutes.
//   - Assumption: the share does not squash root (NoRootSquash, the Azure
//     default). The scripts chown the share's root to uid 1000 and copy as root
//     so that every owner and mode survives; with RootSquash they fail before
//     changing anything, with a message that names the setting.
//   - fstab holds exactly one azlin line, found by its FstabMarker option,
//     rewritten through a temp file and a rename; every other line is kept.
package vmscript

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
)

// Tier is the storage tier of a shared home.
type Tier string

const (
	// Premium is Azure Files on SSD (account kind FileStorage), NFS 4.1.
	Premium Tier = "Premium"
	// Standard is Azure Blob storage with NFS 3.0 (StorageV2, hierarchical
	// namespace); Azure Files has no NFS on HDD shares (DECISIONS.md 4).
	Standard Tier = "Standard"
)

// Target names one NFS export: a Premium file share or a Standard blob container.
type Target struct {
	Account string // storage account name
	Share   string // file share name (Premium) or blob container name (Standard)
	Tier    Tier
}

// Source is the NFS export as mount(8) takes it. Azure's form is
// <account>.<endpoint>:/<account>/<share> (DECISIONS.md 3, azure-facts.md).
func (t Target) Source() string {
	endpoint := "file"
	if t.Tier == Standard {
		endpoint = "blob"
	}
	return fmt.Sprintf("%s.%s.core.windows.net:/%s/%s", t.Account, endpoint, t.Account, t.Share)
}

// FSType is the mount type for both tiers. `mount -t nfs` runs mount.nfs,
// which picks the protocol version from the vers= option (nfs(5)), so one type
// and one helper serve NFS 4.1 and NFS 3.0 alike; Microsoft's own mount
// commands for Azure Files NFS and Blob NFS both use `-t nfs`.
func (t Target) FSType() string { return "nfs" }

// MountOptions is THE one place for NFS mount options; the attach script's
// mount and the fstab line both use it.
//
// Premium (Azure Files, NFS 4.1): vers=4,minorversion=1,sec=sys is what Azure
// Files speaks (NFS v3 there fails with "Protocol not supported");
// nconnect=4, rsize/wsize=1048576, noresvport and actimeo=30 are Microsoft's
// recommendations (how-to-mount-nfs-shares.md, nfs-performance.md); hard
// keeps a share that blips from turning into I/O errors in people's editors.
//
// Standard (Blob NFS 3.0): sec=sys,vers=3,nolock,proto=tcp exactly as the Blob
// NFS mount article gives it; nolock because Blob NFS has no NLM locking.
//
// Bounding a mount attempt to 30 s: nfs(5) says of retry=n "the number of
// minutes that the mount(8) command retries an NFS mount operation ... the
// default value for foreground mounts is 2 minutes ... If a value of zero is
// specified, the mount(8) command exits immediately after the first failure",
// and adds that this "doesn't affect the delay caused by each retry"; over TCP
// one attempt may last minutes (timeo=600 deciseconds, retrans=2). Shrinking
// timeo would also shorten every later RPC timeout of the hard mount, which
// we do not want on a cloud share. So retry=0 removes mount.nfs's 2-minute
// retry loop, and the scripts run each mount under `timeout` (MountTimeout),
// which bounds the one attempt whatever the network does.
func MountOptions(t Tier) []string {
	if t == Standard {
		return []string{"sec=sys", "vers=3", "nolock", "proto=tcp", "hard", "retry=0"}
	}
	return []string{
		"vers=4", "minorversion=1", "sec=sys", "nconnect=4", "hard", "noresvport",
		"rsize=1048576", "wsize=1048576", "actimeo=30", "retry=0",
	}
}

// NumericIDs tells whether a tier's mounts need NFSv4 idmapping turned off
// (the nfs module's nfs4_disable_idmapping=Y) before mounting: Azure Files
// NFS 4.1 uses AUTH_SYS with numeric uids/gids only, and with idmapping on
// the client maps owners through user@domain names the share does not know
// (files then belong to "nobody"). NFS 3.0 (Blob) has no idmapping.
func NumericIDs(t Tier) bool { return t == Premium }

// MountTimeout bounds one mount attempt in the scripts (see MountOptions).
const MountTimeout = 30 * time.Second

// FstabMarker marks azlin's fstab line. fstab comments must be whole lines, so
// the marker is a mount option instead of a trailing comment: util-linux
// mount(8) treats options starting with "x-" as comments for applications and
// passes them neither to mount helpers nor to mount(2) (checked: mount.nfs
// receives the options without it). The line thus stays one self-describing
// line, and the scripts find it by this option in the 4th field.
const FstabMarker = "x-azlin.managed"

// FstabLine is azlin's one fstab line for a shared home: the mount options
// plus _netdev (wait for the network at boot) and nofail (boot even when the
// share is unreachable), and the FstabMarker.
func FstabLine(t Target, mountPoint string) string {
	opts := append(MountOptions(t.Tier), "_netdev", "nofail", FstabMarker)
	return fmt.Sprintf("%s %s %s %s 0 0", t.Source(), mountPoint, t.FSType(), strings.Join(opts, ","))
}

var (
	accountRe   = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	shareRe     = regexp.MustCompile(`^[a-z0-9-]{3,63}$`)
	userRe      = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	pathRe      = regexp.MustCompile(`^(/[A-Za-z0-9._-]+)+$`)
	timestampRe = regexp.MustCompile(`^[A-Za-z0-9-]{1,32}$`)
)

// Validate checks the names against Azure's rules (azure-facts.md, Names).
// Names are validated before any script is generated; quoting is the second
// line of defence, not the first.
func (t Target) Validate() error {
	if t.Tier != Premium && t.Tier != Standard {
		return fmt.Errorf("storage tier %q is not Premium or Standard", t.Tier)
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

func validateUser(user string, uid, gid int, home string) error {
	if !userRe.MatchString(user) {
		return fmt.Errorf("user name %q is not a portable Linux user name", user)
	}
	if uid < 1 || uid > 65533 || gid < 1 || gid > 65533 {
		return fmt.Errorf("uid/gid %d/%d must be between 1 and 65533 (never root)", uid, gid)
	}
	return validateHome(home)
}

func validateHome(home string) error {
	if !pathRe.MatchString(home) || path.Clean(home) != home || strings.Count(home, "/") < 2 {
		return fmt.Errorf("home directory %q must be a clean absolute path of letters, digits, '.', '_' and '-', at least two levels deep", home)
	}
	for _, part := range strings.Split(home, "/") {
		if part == "." || part == ".." {
			return fmt.Errorf("home directory %q must not contain . or .. components", home)
		}
	}
	return nil
}

func validateTimestamp(ts string) error {
	if !timestampRe.MatchString(ts) {
		return fmt.Errorf("timestamp %q must be 1-32 letters, digits or hyphens", ts)
	}
	return nil
}

// validateKey accepts any one-line authorized_keys entry: keys may carry
// options (command="...") with any characters, so the content is made safe by
// quoting, and only what would break the one-line format is refused.
func validateKey(k string) error {
	if strings.TrimSpace(k) == "" {
		return fmt.Errorf("empty authorized key")
	}
	if strings.ContainsAny(k, "\n\r\x00") {
		return fmt.Errorf("authorized key %.40q... must be a single line", k)
	}
	if strings.HasPrefix(strings.TrimSpace(k), "#") {
		return fmt.Errorf("authorized key %.40q... is a comment", k)
	}
	return nil
}

// defaultTimestamp names backups when the caller gives no timestamp.
func defaultTimestamp() string { return time.Now().UTC().Format("20060102T150405Z") }
