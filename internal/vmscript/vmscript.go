// Package vmscript generates the scripts that move a user's home directory
// onto an Azure NFS share and back: the attach and detach scripts run as root
// through `az vm run-command invoke`, and the cloud-init part that runs the
// attach script at first boot. It is pure Go: it only produces text.
//
// The one place that decides protocol, endpoint and mount options per tier is
// package nfs (Target.Source, Target.FSType, ScriptMountOptions, FstabLine).
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
//     share root (mkdir is atomic on NFS 3 and 4.1), with a heartbeat. A lock
//     left by a run that died is broken at once by the same VM (another boot
//     id, or a pid that is gone) and by other VMs after 2 minutes without a
//     heartbeat.
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

var (
	userRe      = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	pathRe      = regexp.MustCompile(`^(/[A-Za-z0-9._-]+)+$`)
	timestampRe = regexp.MustCompile(`^[A-Za-z0-9-]{1,32}$`)
)

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
