package vmscript

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/remote"
	"github.com/azlin-dev/azlin/internal/shell"
)

// The script bodies are static bash; every value reaches them as a variable
// assigned in a header, each value through shell.Quote. So no input can
// change the code that runs, and the bodies can be read and checked as files.
var (
	//go:embed sh/lib.sh
	libSh string
	//go:embed sh/attach.sh
	attachSh string
	//go:embed sh/detach.sh
	detachSh string
)

// aptWait bounds the wait (seconds) for the apt/dpkg locks that unattended
// upgrades hold after a VM's first boot, often for several minutes.
const aptWait = 600

// AttachParams describes one attach. Zero values take the defaults shown.
type AttachParams struct {
	Target         nfs.Target
	User           string          // "azureuser"
	UID, GID       int             // 1000, 1000
	Home           string          // "/home/" + User
	AuthorizedKeys []string        // this VM's public keys, merged into the share's authorized_keys
	Layout         layout.Resolved // applied on the share and the VM; zero: the VM's layout is left as it is
	Timestamp      string          // names a backup when /home/azureuser.backup exists; now (UTC) if empty
}

func (p AttachParams) withDefaults() AttachParams {
	if p.User == "" {
		p.User = "azureuser"
	}
	if p.UID == 0 {
		p.UID = 1000
	}
	if p.GID == 0 {
		p.GID = 1000
	}
	if p.Home == "" {
		p.Home = "/home/" + p.User
	}
	if p.Timestamp == "" {
		p.Timestamp = defaultTimestamp()
	}
	return p
}

func (p AttachParams) validate() error {
	if err := p.Target.Validate(); err != nil {
		return err
	}
	if err := validateUser(p.User, p.UID, p.GID, p.Home); err != nil {
		return err
	}
	for _, k := range p.AuthorizedKeys {
		if err := validateKey(k); err != nil {
			return err
		}
	}
	if err := p.Layout.Validate(); err != nil {
		return err
	}
	return validateTimestamp(p.Timestamp)
}

// AttachScript returns the bash script that moves p.Home onto the share (see
// sh/attach.sh for the steps). It runs as root, is idempotent, and prints
// exactly one result marker (internal/remote). Info it reports: already,
// source, backup, seeded, seeded_entries, share_had_files,
// local_files_kept_in, keys_added, idmapping (Premium), hard_links and
// hard_link_examples (Standard: files with more than one name, copied as
// separate files), remount (a home already on the share as a plain NFS mount
// of a share now mounted through aznfs: "plain NFS -> aznfs", or "busy: WHY"
// when it is in use and stays as it is until the next boot), the layout's
// (LayoutScript), the break-glass login's (breakglass=on|off: WHY,
// bg_keys_added, sshd_reload) and the self-test's (probe_<name>, see Probes).
func AttachScript(p AttachParams) (string, error) {
	p = p.withDefaults()
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("attach script: %w", err)
	}
	h := header{}
	h.set("USER_NAME", p.User)
	h.set("USER_UID", strconv.Itoa(p.UID))
	h.set("USER_GID", strconv.Itoa(p.GID))
	h.set("HOME_DIR", p.Home)
	h.set("NFS_SOURCE", p.Target.Source())
	h.set("NFS_TYPE", p.Target.FSType())
	h.set("MOUNT_OPTS", strings.Join(nfs.ScriptMountOptions(p.Target.Tier), ","))
	h.set("NFS_IDMAP", boolFlag(nfs.NumericIDs(p.Target.Tier)))
	h.set("HARD_LINKS", boolFlag(nfs.HardLinks(p.Target.Tier)))
	h.set("MOUNT_TIMEOUT", strconv.Itoa(int(nfs.MountTimeout.Seconds())))
	h.set("FSTAB_LINE", nfs.FstabLine(p.Target, p.Home))
	h.set("FSTAB_MARKER", nfs.FstabMarker)
	h.set("STAGING", stagingDir(p.Target))
	h.set("TS", p.Timestamp)
	h.set("APT_WAIT", strconv.Itoa(aptWait))
	msKey := "" // only an aznfs mount (TLS, or Blob NFS) needs Microsoft's repository
	if p.Target.FSType() == "aznfs" {
		msKey = microsoftKeyBinary()
	}
	h.set("MS_KEY", msKey)
	h.setArray("KEYS", p.AuthorizedKeys)
	h.setLayout(p.Layout, p.User)
	return assemble("attach "+p.Target.Source()+" at "+p.Home, h, probesSh+"\n"+attachSh), nil
}

// stagingDir is where attach mounts the share before it touches the home:
// under /run, a tmpfs, so a leftover directory vanishes at the next boot.
func stagingDir(t nfs.Target) string {
	return "/run/azlin/staging-" + t.Account + "-" + t.Share
}

// DetachParams describes one detach.
type DetachParams struct {
	Target    nfs.Target // may be zero: the script finds azlin's mount from fstab or the mount table
	User      string     // "azureuser"
	Home      string     // "/home/" + User
	Force     bool       // stop processes that keep the home busy (TERM, then KILL)
	Timestamp string     // names copies when /home/azureuser.local exists; now (UTC) if empty
}

// DetachScript returns the bash script that copies the shared home back to
// local disk and unmounts the share (see sh/detach.sh). Idempotent: on a VM
// that is not attached it reports attached=0 and succeeds. Info it reports:
// attached, was_attached_to, copied_entries, backup, stopped, note,
// files_found_under_mount_point, layout_removed, layout_moved,
// layout_kept_local, breakglass=removed, sshd_reload. It removes the VM's
// layout (each per-VM path's files come into the now local home) and its
// break-glass login (see azlin_breakglass_remove in sh/lib.sh for why).
func DetachScript(p DetachParams) (string, error) {
	if p.User == "" {
		p.User = "azureuser"
	}
	if p.Home == "" {
		p.Home = "/home/" + p.User
	}
	if p.Timestamp == "" {
		p.Timestamp = defaultTimestamp()
	}
	source := ""
	if p.Target != (nfs.Target{}) {
		if err := p.Target.Validate(); err != nil {
			return "", fmt.Errorf("detach script: %w", err)
		}
		source = p.Target.Source()
	}
	if !userRe.MatchString(p.User) {
		return "", fmt.Errorf("detach script: user name %q is not a portable Linux user name", p.User)
	}
	if err := validateHome(p.Home); err != nil {
		return "", fmt.Errorf("detach script: %w", err)
	}
	if err := validateTimestamp(p.Timestamp); err != nil {
		return "", fmt.Errorf("detach script: %w", err)
	}
	h := header{}
	h.set("USER_NAME", p.User)
	h.set("HOME_DIR", p.Home)
	h.set("NFS_SOURCE", source)
	h.set("NFS_TYPE", p.Target.FSType())
	h.set("MOUNT_TIMEOUT", strconv.Itoa(int(nfs.MountTimeout.Seconds())))
	h.set("FSTAB_MARKER", nfs.FstabMarker)
	h.set("FORCE", boolFlag(p.Force))
	h.set("LOCAL_ROOT", layout.LocalRoot(p.User))
	h.set("TS", p.Timestamp)
	what := "detach " + p.Home
	if source != "" {
		what += " from " + source
	}
	return assemble(what, h, detachSh), nil
}

// boolFlag is how the scripts read a yes/no value: "1" or "0".
func boolFlag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// header is the block of variable assignments a script body reads.
type header struct{ lines []string }

func (h *header) set(name, value string) {
	h.lines = append(h.lines, name+"="+shell.Quote(value))
}

func (h *header) setArray(name string, values []string) {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = "  " + shell.Quote(v)
	}
	if len(q) == 0 {
		h.lines = append(h.lines, name+"=()")
		return
	}
	h.lines = append(h.lines, name+"=(\n"+strings.Join(q, "\n")+"\n)")
}

// assemble makes every script the same way: the shebang and a comment
// saying what it does, remote.Prelude, the header of values, the library
// (sh/lib.sh and sh/layout.sh, which only define functions), then the body,
// which calls azlin_start first. The golden files in testdata show each
// script as its header and the names of these parts.
func assemble(what string, h header, body string) string {
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	b.WriteString("# azlin: " + oneLine(what) + " (generated by internal/vmscript; runs as root)\n")
	b.WriteString(remote.Prelude)
	b.WriteString("\n# ---- values (each quoted by internal/shell) ----\n")
	b.WriteString(strings.Join(h.lines, "\n"))
	b.WriteString("\n\n")
	b.WriteString(libSh)
	b.WriteString("\n")
	b.WriteString(layoutSh)
	b.WriteString("\n")
	b.WriteString(body)
	return b.String()
}

// oneLine keeps a comment on one line (the inputs are validated already).
func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }
