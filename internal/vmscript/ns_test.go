//go:build localcloud

package vmscript

// The harness for running the generated scripts for real, as root, inside a
// private mount namespace that looks like a VM to them:
//   /home            a bind mount of a temp dir
//   /etc             an overlay whose upper layer is a temp dir (fstab, passwd
//                    with azureuser as uid/gid 1000)
//   /usr/sbin        an overlay holding a fake mount.nfs that bind-mounts a
//                    temp "share" folder for <acct>.{file,blob}.core.windows.net:/<acct>/<share>
//   /usr/bin/dpkg, /usr/bin/apt-get   fakes that record nfs-common as installed
//   /usr/bin/systemctl  a fake that logs its arguments and knows no ssh unit
//                    (so no test reloads the machine's sshd)
//   /run             a tmpfs (locks, staging mounts)
//   /var/lib         an overlay (cloud-init's /var/lib/azlin)
//   /sys/module      a tmpfs: the nfs module's nfs4_disable_idmapping as the
//                    test wants it (absent, N, or read-only), never the machine's
// Nothing of it is visible outside the namespace; the namespace dies with
// its holder process at the end of the test.

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/remote"
	"github.com/stretchr/testify/require"
)

const origFstab = "# /etc/fstab: static file system information.\n" +
	"UUID=1234-abcd /               ext4   defaults,discard  0 1\n" +
	"\t# an indented comment with trailing spaces   \n" +
	"/dev/sdb1  /mnt  auto  defaults,nofail,x-systemd.requires=cloud-init.service,comment=cloudconfig 0 2\n"

type nsEnv struct {
	t      *testing.T
	dir    string // everything of this environment lives here
	shares string // <shares>/<account>/<share> are the fake shares
	ctl    string // control files for the fakes
	holder *exec.Cmd
}

type envOpts struct {
	shares    string // share root to use (shared between environments); a new one if empty
	uid       int    // azureuser's uid in the namespace (default 1000)
	installed bool   // nfs-common already installed
	// idmap is the nfs module's nfs4_disable_idmapping parameter file in the
	// namespace: "" absent (module not loaded), "N" or "Y" writable, "ro" a
	// read-only file holding N.
	idmap string
}

func newNSEnv(t *testing.T, o envOpts) *nsEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("these tests run the generated scripts for real and need root (CI runs as root)")
	}
	if o.uid == 0 {
		o.uid = 1000
	}
	e := &nsEnv{t: t, dir: t.TempDir()}
	e.ctl = filepath.Join(e.dir, "ctl")
	e.shares = o.shares
	if e.shares == "" {
		e.shares = filepath.Join(e.dir, "shares")
	}
	for _, d := range []string{"home", "etc-upper", "etc-work", "sbin-upper", "sbin-work", "varlib-upper", "varlib-work", "fake", "ctl", "scripts", e.shares} {
		p := d
		if !filepath.IsAbs(d) {
			p = filepath.Join(e.dir, d)
		}
		require.NoError(t, os.MkdirAll(p, 0o755))
	}
	if o.installed {
		e.writeFile(filepath.Join(e.ctl, "installed"), "", 0o644)
	}
	e.writeFile(filepath.Join(e.dir, "fake", "mount.nfs"), fakeMountHelper(e.ctl, e.shares), 0o755)
	e.writeFile(filepath.Join(e.dir, "fake", "dpkg"), fmt.Sprintf(`#!/bin/sh
if [ "$1" = -s ] && { [ "$2" = nfs-common ] || [ "$2" = aznfs ]; } && [ -f %[1]s/installed ]; then
  printf 'Package: %%s\nStatus: install ok installed\n' "$2"; exit 0
fi
echo "dpkg-query: package '$2' is not installed" >&2; exit 1
`, e.ctl), 0o755)
	e.writeFile(filepath.Join(e.dir, "fake", "apt-get"), fmt.Sprintf(`#!/bin/sh
echo "$*" >>%[1]s/apt.log
case "$*" in *install*nfs-common* | *install*aznfs*)
  # The dpkg frontend lock, as apt takes it: at once, or within DPkg::Lock::Timeout.
  t=0
  case "$*" in *DPkg::Lock::Timeout=*) t=${*#*DPkg::Lock::Timeout=}; t=${t%%%% *} ;; esac
  exec 9>>/var/lib/dpkg/lock-frontend
  if ! flock -w "$t" 9; then
    echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1 (unattended-upgr)" >&2
    exit 100
  fi
  touch %[1]s/installed ;;
esac
exit 0
`, e.ctl), 0o755)
	e.writeFile(filepath.Join(e.dir, "fake", "systemctl"), fmt.Sprintf(`#!/bin/sh
echo "$*" >>%[1]s/systemctl.log
echo "Failed to $1 $2.service: Unit $2.service not found." >&2
exit 5
`, e.ctl), 0o755)
	e.writeFile(filepath.Join(e.dir, "fstab.orig"), origFstab, 0o644)

	setup := fmt.Sprintf(`set -eu
D=%[1]s
mount --bind "$D/home" /home
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$D/etc-upper,workdir=$D/etc-work" /etc
mount -t overlay overlay -o "lowerdir=/usr/sbin,upperdir=$D/sbin-upper,workdir=$D/sbin-work" /usr/sbin
mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$D/varlib-upper,workdir=$D/varlib-work" /var/lib
mount --bind "$D/fake/dpkg" /usr/bin/dpkg
mount --bind "$D/fake/apt-get" /usr/bin/apt-get
mount --bind "$D/fake/systemctl" /usr/bin/systemctl
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/system # booted by systemd: the scripts ask systemctl (whose fake knows no ssh unit)
mount -t tmpfs tmpfs /sys/module
IDMAP=%[3]q
if [ -n "$IDMAP" ]; then
  f=/sys/module/nfs/parameters/nfs4_disable_idmapping
  mkdir -p "$(dirname "$f")"
  if [ "$IDMAP" = ro ]; then echo N >"$f"; mount --bind "$f" "$f"; mount -o remount,bind,ro "$f"; else echo "$IDMAP" >"$f"; fi
fi
cp "$D/fake/mount.nfs" /usr/sbin/mount.nfs
cp "$D/fake/mount.nfs" /usr/sbin/mount.aznfs # aznfs's helper, here the same fake (no proxy address)
awk -F: '$3 != 1000 && $1 != "azureuser"' /etc/passwd >"$D/passwd.new"
echo "azureuser:x:%[2]d:%[2]d::/home/azureuser:/bin/bash" >>"$D/passwd.new"
cat "$D/passwd.new" >/etc/passwd
awk -F: '$3 != 1000 && $1 != "azureuser"' /etc/group >"$D/group.new"
echo "azureuser:x:%[2]d:" >>"$D/group.new"
cat "$D/group.new" >/etc/group
cp "$D/fstab.orig" /etc/fstab
echo ready
exec sleep 3600
`, e.dir, o.uid, o.idmap)
	e.holder = exec.Command("unshare", "--mount", "--propagation", "private", "--", "bash", "-c", setup)
	stdout, err := e.holder.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	e.holder.Stderr = &stderr
	require.NoError(t, e.holder.Start())
	t.Cleanup(func() {
		_ = e.holder.Process.Kill()
		_ = e.holder.Wait()
	})
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	require.Equal(t, "ready\n", line, "namespace setup failed: %s", stderr.String())
	return e
}

func fakeMountHelper(ctl, shares string) string {
	return fmt.Sprintf(`#!/bin/bash
# Fake mount.nfs: "mounts" <acct>.<file|blob>.core.windows.net:/<acct>/<share>
# by bind-mounting %[2]s/<acct>/<share>, with Azure's protocol rules.
src=$1 dir=$2; shift 2; opts=
while [ $# -gt 0 ]; do case $1 in -o) opts=$2; shift 2 ;; *) shift ;; esac; done
echo "${0##*/} $src $dir $opts" >>%[1]s/mount.log
n=$(( $(cat %[1]s/mounts 2>/dev/null || echo 0) + 1 )); echo "$n" >%[1]s/mounts
if [ -f %[1]s/refuse ] || [ "$n" = "$(cat %[1]s/refuse-at 2>/dev/null)" ]; then
  echo "mount.nfs: access denied by server while mounting $src" >&2; exit 32
fi
case $src in
  *.file.core.windows.net:/*) case ,$opts, in *,vers=4,*minorversion=1,*) ;; *) echo "mount.nfs: Protocol not supported" >&2; exit 32 ;; esac ;;
  *.blob.core.windows.net:/*) case ,$opts, in *,vers=3,*) ;; *) echo "mount.nfs: Protocol not supported" >&2; exit 32 ;; esac ;;
  *) echo "mount.nfs: unknown server" >&2; exit 32 ;;
esac
path=%[2]s/${src#*:/}
if [ ! -d "$path" ]; then echo "mount.nfs: mounting $src failed, reason given by server: No such file or directory" >&2; exit 32; fi
exec mount --bind "$path" "$dir"
`, ctl, shares)
}

func (e *nsEnv) writeFile(path, content string, mode os.FileMode) {
	e.t.Helper()
	require.NoError(e.t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(e.t, os.WriteFile(path, []byte(content), mode))
	require.NoError(e.t, os.Chmod(path, mode))
}

// sh runs a command inside the namespace and returns its stdout and exit code.
func (e *nsEnv) sh(cmdline string) (string, int) {
	e.t.Helper()
	cmd := exec.Command("nsenter", "--target", fmt.Sprint(e.holder.Process.Pid), "--mount", "--", "bash", "-c", cmdline)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(e.t, ok, "nsenter: %v %s", err, stderr.String())
		code = ee.ExitCode()
	}
	return string(out), code
}

// bgProc is a process started in the namespace; exited closes when it ends.
type bgProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// start runs a command inside the namespace in the background (e.g. a process
// that keeps the home busy); it is killed at the end of the test.
func (e *nsEnv) start(cmdline string) *bgProc {
	e.t.Helper()
	cmd := exec.Command("nsenter", "--target", fmt.Sprint(e.holder.Process.Pid), "--mount", "--", "bash", "-c", cmdline)
	require.NoError(e.t, cmd.Start())
	p := &bgProc{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	e.t.Cleanup(func() { _ = cmd.Process.Kill(); <-p.exited })
	return p
}

func (p *bgProc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// runScript runs a generated script as root in the namespace and parses its
// result marker. It also checks the protocol: exactly one marker, and last.
func (e *nsEnv) runScript(name, script string) (remote.Result, string) {
	e.t.Helper()
	path := filepath.Join(e.dir, "scripts", name)
	e.writeFile(path, script, 0o700)
	start := time.Now()
	run := "bash " + path
	if os.Getenv("AZLIN_NS_TRACE") != "" { // debugging aid: a timed xtrace per script
		run = "exec 2>/tmp/azlin-trace-" + name + "; PS4='+ $EPOCHREALTIME ${LINENO}: '; set -x; . " + path
	}
	out, code := e.sh(run)
	e.t.Logf("%s: exit %d in %s\n%s", name, code, time.Since(start).Round(time.Millisecond), out)
	res, err := remote.Parse(out)
	require.NoError(e.t, err, "%s printed no result marker:\n%s", name, out)
	require.Equal(e.t, 1, strings.Count(out, "##azlin-result## "), "%s must print exactly one result marker", name)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	require.True(e.t, strings.HasPrefix(lines[len(lines)-1], "##azlin-result## "), "%s: the marker must be the last line", name)
	require.Equal(e.t, res.OK, code == 0, "%s: exit code %d disagrees with the marker", name, code)
	return res, out
}

func (e *nsEnv) home() string                   { return filepath.Join(e.dir, "home", "azureuser") }
func (e *nsEnv) homePath(rel string) string     { return filepath.Join(e.dir, "home", rel) }
func (e *nsEnv) share(acct, name string) string { return filepath.Join(e.shares, acct, name) }
func (e *nsEnv) fstab() string {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, "etc-upper", "fstab"))
	require.NoError(e.t, err)
	return string(b)
}

// varLibFile is a file the scripts wrote under /var/lib ("" when absent).
func (e *nsEnv) varLibFile(rel string) string {
	b, _ := os.ReadFile(filepath.Join(e.dir, "varlib-upper", rel))
	return string(b)
}

// etcFile is a file the scripts wrote under /etc ("" when absent).
func (e *nsEnv) etcFile(rel string) string {
	b, _ := os.ReadFile(filepath.Join(e.dir, "etc-upper", rel))
	return string(b)
}

func (e *nsEnv) ctlFile(name string) string {
	b, _ := os.ReadFile(filepath.Join(e.ctl, name))
	return string(b)
}

// idmapParam is the namespace's nfs4_disable_idmapping, "" when absent.
func (e *nsEnv) idmapParam() string {
	out, _ := e.sh("cat /sys/module/nfs/parameters/nfs4_disable_idmapping 2>/dev/null")
	return strings.TrimSpace(out)
}

func (e *nsEnv) mounted(path string) bool {
	_, code := e.sh("mountpoint -q " + path)
	return code == 0
}

// populateHome makes a home with the things copies get wrong: dotfiles, a
// dot-directory, private modes, a root-owned file, a symlink, a hard link, an
// empty directory, odd names, and an xattr.
func populateHome(t *testing.T, dir string, uid int, authorizedKeys string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o750))
	files := map[string]struct {
		content string
		mode    os.FileMode
	}{
		".bashrc":                   {"export PS1='$ '\n", 0o644},
		".profile":                  {"# profile\n", 0o644},
		".ssh/authorized_keys":      {authorizedKeys, 0o600},
		".ssh/id_ed25519":           {"PRIVATE KEY\n", 0o600},
		".config/app/settings.json": {`{"a":1}`, 0o640},
		"project/main.go":           {"package main\n", 0o644},
		"project/run.sh":            {"#!/bin/sh\necho hi\n", 0o755},
		"name with spaces":          {"spaces\n", 0o644},
		"ünïcödé.txt":               {"unicode\n", 0o644},
		"big.bin":                   {strings.Repeat("0123456789abcdef", 64*1024), 0o644},
	}
	for name, f := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(f.content), f.mode))
		require.NoError(t, os.Chmod(p, f.mode))
	}
	require.NoError(t, os.Chmod(filepath.Join(dir, ".ssh"), 0o700))
	require.NoError(t, os.Chmod(filepath.Join(dir, ".config"), 0o700))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "empty-dir"), 0o755))
	require.NoError(t, os.Symlink("project/main.go", filepath.Join(dir, "link-to-main")))
	require.NoError(t, os.Symlink("/nonexistent/target", filepath.Join(dir, ".dangling")))
	require.NoError(t, os.Link(filepath.Join(dir, "project/main.go"), filepath.Join(dir, "hardlink-main.go")))
	require.NoError(t, exec.Command("setfattr", "-n", "user.azlin", "-v", "kept", filepath.Join(dir, ".profile")).Run())
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		return os.Lchown(p, uid, uid)
	}))
	root := filepath.Join(dir, "root-owned.txt") // as left by `sudo vim ~/root-owned.txt`
	require.NoError(t, os.WriteFile(root, []byte("root's\n"), 0o600))
}

// treeListing is a checksummed listing of a tree: path, type, mode, owner,
// size, content hash, symlink target, hard-link group, user xattrs. Equal
// listings mean equal trees for everything a user would care about.
func treeListing(t *testing.T, root string, skip ...string) string {
	t.Helper()
	var lines []string
	inodes := map[uint64]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(root, p)
		for _, s := range skip {
			if rel == s {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		fi, err := os.Lstat(p)
		require.NoError(t, err)
		st := fi.Sys().(*syscall.Stat_t)
		line := fmt.Sprintf("%q %s %d:%d", rel, fi.Mode(), st.Uid, st.Gid)
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			sum := sha256.Sum256(b)
			line += fmt.Sprintf(" size=%d sha256=%s", fi.Size(), hex.EncodeToString(sum[:8]))
			if st.Nlink > 1 {
				if first, ok := inodes[st.Ino]; ok {
					line += " hardlink-of=" + first
				} else {
					inodes[st.Ino] = rel
				}
			}
			line += userXattrs(t, p)
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			require.NoError(t, err)
			line += " -> " + target
		}
		lines = append(lines, line)
		return nil
	})
	require.NoError(t, err)
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

func azlinLines(fstab string) []string {
	var out []string
	for _, l := range strings.Split(fstab, "\n") {
		if strings.Contains(l, nfs.FstabMarker) {
			out = append(out, l)
		}
	}
	return out
}

// userXattrs lists a file's user.* extended attributes and their values.
func userXattrs(t *testing.T, path string) string {
	t.Helper()
	buf := make([]byte, 4096)
	n, err := syscall.Listxattr(path, buf)
	require.NoError(t, err)
	var attrs []string
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if !strings.HasPrefix(name, "user.") {
			continue
		}
		val := make([]byte, 4096)
		m, err := syscall.Getxattr(path, name, val)
		require.NoError(t, err)
		attrs = append(attrs, name+"="+string(val[:m]))
	}
	if len(attrs) == 0 {
		return ""
	}
	sort.Strings(attrs)
	return " xattrs=" + strings.Join(attrs, ",")
}
