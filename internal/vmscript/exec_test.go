//go:build localcloud

package vmscript

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/remote"
	"github.com/azlin-dev/azlin/internal/shell"
)

var premium = nfs.Target{Account: "devshared01", Share: "home", Tier: nfs.Premium}

const (
	localKey   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIlocal azureuser@worker-1"
	paramKey   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIparam azlin@laptop"
	otherVMKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIother azureuser@worker-0"
	// A key whose options carry shell syntax: it must land verbatim and run nothing.
	hostileKey = `command="echo '$(touch /tmp/azlin-pwned)' ` + "`id`" + `; x",no-pty ssh-ed25519 AAAAhostile it's "me"`
)

func attachScript(t *testing.T, target nfs.Target, ts string, keys ...string) string {
	t.Helper()
	s, err := AttachScript(AttachParams{Target: target, AuthorizedKeys: keys, Timestamp: ts})
	require.NoError(t, err)
	return s
}

func detachScript(t *testing.T, p DetachParams) string {
	t.Helper()
	s, err := DetachScript(p)
	require.NoError(t, err)
	return s
}

// The whole life of a shared home on one VM: attach to an empty share (seeded),
// attach again (no change), work on the share, detach (home is local again,
// the share keeps everything), detach again (no change).
func TestAttachSeedsEmptyShareThenDetachBringsEverythingBack(t *testing.T) {
	e := newNSEnv(t, envOpts{})
	populateHome(t, e.home(), 1000, localKey+"\n")
	share := e.share(premium.Account, premium.Share)
	require.NoError(t, os.MkdirAll(share, 0o755)) // a fresh share: root-owned root, empty
	original := treeListing(t, e.home())
	originalWithoutKeys := treeListing(t, e.home(), ".ssh/authorized_keys")
	_ = os.Remove("/tmp/azlin-pwned")

	res, out := e.runScript("attach-1.sh", attachScript(t, premium, "T1", paramKey, hostileKey))
	require.True(t, res.OK, out)
	assert.Equal(t, "yes", res.Info["seeded"])
	assert.Equal(t, "0", res.Info["already"])
	assert.Equal(t, "/home/azureuser.backup", res.Info["backup"])
	assert.Equal(t, "2", res.Info["keys_added"], "the parameter key and the hostile key are new; the local key came with the copy")
	assert.Contains(t, e.ctlFile("apt.log"), "install -y -q nfs-common", "nfs-common was missing and must be installed")
	assert.Equal(t, "nfs module not loaded; /etc/modprobe.d/azlin-nfs.conf disables idmapping when it loads", res.Info["idmapping"])
	assert.Equal(t, idmapModprobe, e.etcFile("modprobe.d/azlin-nfs.conf"))

	// The share holds the home, dotfiles, modes, owners, links and xattrs included.
	assert.Equal(t, originalWithoutKeys, treeListing(t, share, ".ssh/authorized_keys"), "the share must hold an exact copy of the home")
	assert.Equal(t, []string{localKey, paramKey, hostileKey}, readLines(t, filepath.Join(share, ".ssh/authorized_keys")))
	assertOwnerMode(t, filepath.Join(share, ".ssh/authorized_keys"), 1000, 0o600)
	assertOwnerMode(t, share, 1000, 0o750)
	assert.NoFileExists(t, "/tmp/azlin-pwned", "a key's content was executed")
	// The local home was renamed, not copied: the backup is the original.
	assert.Equal(t, original, treeListing(t, e.homePath("azureuser.backup")))
	// What is left at /home/azureuser underneath the mount is an empty directory.
	entries, err := os.ReadDir(e.home())
	require.NoError(t, err)
	assert.Empty(t, entries)
	assertOwnerMode(t, e.home(), 1000, 0o750)
	// Mounted with the one set of options, and exactly one azlin fstab line.
	assert.True(t, e.mounted("/home/azureuser"))
	got, _ := e.sh("cat /home/azureuser/project/main.go")
	assert.Equal(t, "package main\n", got)
	assert.Contains(t, e.ctlFile("mount.log"), "devshared01.file.core.windows.net:/devshared01/home /home/azureuser rw,"+strings.Join(nfs.ScriptMountOptions(nfs.Premium), ","))
	fstab := e.fstab()
	assert.Equal(t, origFstab+nfs.FstabLine(premium, "/home/azureuser")+"\n", fstab)
	assert.False(t, e.mounted("/run/azlin/staging-devshared01-home"))
	assert.NoDirExists(t, filepath.Join(share, ".azlin-lock"))

	// Attach again: nothing changes.
	shareBefore := treeListing(t, share)
	res, out = e.runScript("attach-2.sh", attachScript(t, premium, "T2", paramKey, hostileKey))
	require.True(t, res.OK, out)
	assert.Equal(t, "1", res.Info["already"])
	assert.Equal(t, "0", res.Info["keys_added"])
	assert.Equal(t, shareBefore, treeListing(t, share))
	assert.Equal(t, original, treeListing(t, e.homePath("azureuser.backup")))
	assert.NoDirExists(t, e.homePath("azureuser.backup-T2"))
	assert.Equal(t, fstab, e.fstab())
	assert.Equal(t, 1, strings.Count(e.ctlFile("apt.log"), "install"), "nfs-common is installed now; no second install")

	// Work happens on the share (as from another VM), then detach.
	e.writeFile(filepath.Join(share, "written-on-share.txt"), "hello from worker-2\n", 0o644)
	require.NoError(t, os.Lchown(filepath.Join(share, "written-on-share.txt"), 1000, 1000))
	shareBefore = treeListing(t, share)

	res, out = e.runScript("detach-1.sh", detachScript(t, DetachParams{Timestamp: "T3"}))
	require.True(t, res.OK, out)
	assert.Equal(t, "0", res.Info["attached"])
	assert.Equal(t, premium.Source(), res.Info["was_attached_to"])
	assert.Equal(t, "/home/azureuser.backup", res.Info["backup"])
	assert.False(t, e.mounted("/home/azureuser"))
	assert.Equal(t, shareBefore, treeListing(t, share), "detach must not change the share")
	assert.Equal(t, shareBefore, treeListing(t, e.home()), "the local home must hold everything the share held")
	assertOwnerMode(t, e.home(), 1000, 0o750)
	assert.Equal(t, origFstab, e.fstab(), "detach removes azlin's line and keeps every other line byte for byte")
	assert.Equal(t, original, treeListing(t, e.homePath("azureuser.backup")), "the backup is kept")
	assert.NoDirExists(t, e.homePath("azureuser.local"))

	// Detach again: not attached, exit 0, nothing changes.
	homeBefore := treeListing(t, e.home())
	res, out = e.runScript("detach-2.sh", detachScript(t, DetachParams{Timestamp: "T4"}))
	require.True(t, res.OK, out)
	assert.Equal(t, "0", res.Info["attached"])
	assert.Empty(t, res.Info["was_attached_to"])
	assert.Equal(t, homeBefore, treeListing(t, e.home()))
	assert.Equal(t, origFstab, e.fstab())
}

// A share that already holds a home (made by another VM): the local files stay
// in the backup and the report says so; the share keeps its files and gains
// this VM's keys; an existing backup from an earlier attach is kept.
func TestAttachToNonEmptyShareKeepsLocalFilesInBackup(t *testing.T) {
	e := newNSEnv(t, envOpts{installed: true})
	populateHome(t, e.home(), 1000, localKey+"\n")
	share := e.share(premium.Account, premium.Share)
	e.writeFile(filepath.Join(share, "notes.txt"), "from worker-0\n", 0o644)
	e.writeFile(filepath.Join(share, ".ssh/authorized_keys"), otherVMKey, 0o600) // no final newline
	for _, p := range []string{share, filepath.Join(share, ".ssh"), filepath.Join(share, ".ssh/authorized_keys")} {
		require.NoError(t, os.Chown(p, 1000, 1000))
	}
	require.NoError(t, os.Chmod(filepath.Join(share, ".ssh"), 0o700))
	oldBackup := e.homePath("azureuser.backup")
	e.writeFile(filepath.Join(oldBackup, "from-an-earlier-attach"), "old\n", 0o644)
	original := treeListing(t, e.home())
	oldBackupListing := treeListing(t, oldBackup)
	shareBefore := treeListing(t, share, ".ssh/authorized_keys")

	res, out := e.runScript("attach.sh", attachScript(t, premium, "T1", paramKey))
	require.True(t, res.OK, out)
	assert.Equal(t, "no", res.Info["seeded"])
	assert.Equal(t, "2", res.Info["share_had_files"])
	assert.Equal(t, "/home/azureuser.backup-T1", res.Info["backup"])
	assert.Equal(t, "/home/azureuser.backup-T1", res.Info["local_files_kept_in"])
	assert.Empty(t, e.ctlFile("apt.log"), "nfs-common was installed: apt-get must not run")
	assert.Equal(t, original, treeListing(t, e.homePath("azureuser.backup-T1")))
	assert.Equal(t, oldBackupListing, treeListing(t, oldBackup), "an earlier backup is never touched")
	assert.Equal(t, shareBefore, treeListing(t, share, ".ssh/authorized_keys"))
	assert.Equal(t, []string{otherVMKey, paramKey, localKey}, readLines(t, filepath.Join(share, ".ssh/authorized_keys")),
		"keys are merged after the other VM's key, which is kept byte for byte")
	got, _ := e.sh("cat /home/azureuser/notes.txt")
	assert.Equal(t, "from worker-0\n", got)
}

// The share lock is taken only when the share needs a change. A share that is
// already as this VM would leave it (owned by the user, a home on it, every
// key merged) is attached without the lock. While another VM holds the lock
// (it may be seeding the share), every VM waits for it, whether its key is
// on the share (vm3) or not (vm2, which then merges its key).
func TestAttachTakesTheShareLockOnlyToChangeTheShare(t *testing.T) {
	vm1 := newNSEnv(t, envOpts{installed: true})
	populateHome(t, vm1.home(), 1000, localKey+"\n")
	share := vm1.share(premium.Account, premium.Share)
	vm1.writeFile(filepath.Join(share, "notes.txt"), "from worker-0\n", 0o644)
	vm1.writeFile(filepath.Join(share, ".ssh/authorized_keys"), paramKey+"\n"+localKey+"\n", 0o600)
	for _, p := range []string{share, filepath.Join(share, ".ssh"), filepath.Join(share, ".ssh/authorized_keys")} {
		require.NoError(t, os.Chown(p, 1000, 1000))
	}
	require.NoError(t, os.Chmod(filepath.Join(share, ".ssh"), 0o700))
	shareBefore := treeListing(t, share)

	res, out := vm1.runScript("attach.sh", attachScript(t, premium, "T1", paramKey))
	require.True(t, res.OK, out)
	assert.Equal(t, "skipped", res.Info["share_lock"])
	assert.Equal(t, "0", res.Info["keys_added"])
	assert.True(t, vm1.mounted("/home/azureuser"))
	assert.Equal(t, shareBefore, treeListing(t, share), "the share is unchanged")

	lock := filepath.Join(share, ".azlin-lock")
	vm1.writeFile(filepath.Join(lock, "owner"), "worker-0 pid 1 since now\n", 0o644) // held by another VM
	type result struct {
		res remote.Result
		out string
	}
	attach := func(vmKey, ts string) chan result {
		e := newNSEnv(t, envOpts{installed: true, shares: vm1.shares})
		populateHome(t, e.home(), 1000, vmKey+"\n")
		done := make(chan result, 1)
		go func() {
			r, o := e.runScript("attach.sh", attachScript(t, premium, ts, paramKey))
			done <- result{r, o}
		}()
		return done
	}
	vm2, vm3 := attach(otherVMKey, "T2"), attach(localKey, "T3")
	select {
	case r := <-vm2:
		t.Fatalf("an attach finished while another VM held the share lock:\n%s", r.out)
	case r := <-vm3:
		t.Fatalf("an attach finished while another VM held the share lock:\n%s", r.out)
	case <-time.After(2 * time.Second):
	}
	require.NoError(t, os.Remove(filepath.Join(lock, "owner")))
	require.NoError(t, os.Remove(lock))
	for name, done := range map[string]chan result{"vm2": vm2, "vm3": vm3} {
		r := <-done
		require.True(t, r.res.OK, r.out)
		assert.Contains(t, r.out, "waiting for another VM's attach to this share to finish", name)
		assert.Empty(t, r.res.Info["share_lock"], name)
	}
	assert.Equal(t, []string{paramKey, localKey, otherVMKey}, readLines(t, filepath.Join(share, ".ssh/authorized_keys")))
	assert.NoDirExists(t, lock, "the lock is released")
}

// A share lock left by a run that died is broken: at once when it is this
// VM's own from before a restart (another boot id) or of a process that is
// gone, and when another VM left it, once its heartbeat is 2 minutes old.
// A fresh lock of another VM, also one with this VM's name but another
// machine id, is waited for.
func TestAttachBreaksAShareLockLeftByARunThatDied(t *testing.T) {
	readFile := func(t *testing.T, path string) string {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		return string(b)
	}
	host, err := os.Hostname()
	require.NoError(t, err)
	machine := strings.TrimSpace(readFile(t, "/etc/machine-id"))
	boot := strings.TrimSpace(readFile(t, "/proc/sys/kernel/random/boot_id"))
	require.NotEmpty(t, machine)
	for _, tc := range []struct {
		name, owner string
		age         time.Duration
		broken      bool
	}{
		{"this VM before a restart", host + " machine " + machine + " pid 1 boot 0f0e0d0c-aaaa-bbbb-cccc-000000000000 since then", 0, true},
		{"this VM with a process that is gone", host + " machine " + machine + " pid 999999 boot " + boot + " since then", 0, true},
		{"another VM with no heartbeat for 3 minutes", "worker-0 machine 0123 pid 1 boot " + boot + " since then", 3 * time.Minute, true},
		{"another VM with a heartbeat 1 minute ago", "worker-0 machine 0123 pid 1 boot " + boot + " since then", time.Minute, false},
		{"this VM's name on another machine", host + " machine 0123 pid 999999 boot 0f0e0d0c since then", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newNSEnv(t, envOpts{installed: true})
			populateHome(t, e.home(), 1000, localKey+"\n")
			share := e.share(premium.Account, premium.Share)
			lock := filepath.Join(share, ".azlin-lock")
			e.writeFile(filepath.Join(lock, "owner"), tc.owner+"\n", 0o644)
			then := time.Now().Add(-tc.age)
			for _, p := range []string{filepath.Join(lock, "owner"), lock} {
				require.NoError(t, os.Chtimes(p, then, then))
			}
			done := make(chan struct{})
			var res remote.Result
			var out string
			go func() {
				res, out = e.runScript("attach.sh", attachScript(t, premium, "T1", paramKey))
				close(done)
			}()
			if !tc.broken {
				select {
				case <-done:
					t.Fatalf("attach went on while a live lock was held:\n%s", out)
				case <-time.After(2 * time.Second):
				}
				require.NoError(t, os.RemoveAll(lock))
			}
			<-done
			require.True(t, res.OK, out)
			if tc.broken {
				assert.Equal(t, tc.owner, res.Info["share_lock_broken"])
			} else {
				assert.Empty(t, res.Info["share_lock_broken"])
				assert.Contains(t, out, "waiting for another VM's attach to this share to finish")
			}
			assert.NoDirExists(t, lock, "the lock is released")
		})
	}
}

// A mount that fails leaves the home and fstab exactly as they were: first
// when the share refuses the first mount, then when it refuses the second one
// (after the home was already moved to its backup name).
func TestFailedMountLeavesHomeExactlyAsBefore(t *testing.T) {
	for _, tc := range []struct {
		name, refuse, step string
	}{
		{"staging mount refused", "refuse", "mount-staging"},
		{"home mount refused", "refuse-at", "mount-home"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newNSEnv(t, envOpts{installed: true})
			populateHome(t, e.home(), 1000, localKey+"\n")
			require.NoError(t, os.MkdirAll(e.share(premium.Account, premium.Share), 0o755))
			e.writeFile(filepath.Join(e.ctl, tc.refuse), "2", 0o644) // refuse-at: the 2nd mount
			original := treeListing(t, e.home())
			homeEntries := listDir(t, e.homePath("."))

			res, out := e.runScript("attach.sh", attachScript(t, premium, "T1", paramKey))
			require.False(t, res.OK, out)
			assert.Equal(t, tc.step, res.Step)
			assert.Contains(t, res.Reason, "access denied by server")
			assert.Contains(t, res.Reason, "rolled back")
			assert.Equal(t, original, treeListing(t, e.home()), "the home must be exactly as before")
			assert.Equal(t, homeEntries, listDir(t, e.homePath(".")), "no backup or other folder may be left in /home")
			assert.Equal(t, origFstab, e.fstab())
			assert.False(t, e.mounted("/home/azureuser"))
			assert.False(t, e.mounted("/run/azlin/staging-devshared01-home"))
		})
	}
}

// A busy home is reported with the process that holds it and nothing changes;
// with Force the process is stopped and the detach completes.
func TestDetachOfBusyHomeIsReportedNotForced(t *testing.T) {
	e := newNSEnv(t, envOpts{installed: true})
	populateHome(t, e.home(), 1000, localKey+"\n")
	share := e.share(premium.Account, premium.Share)
	require.NoError(t, os.MkdirAll(share, 0o755))
	res, out := e.runScript("attach.sh", attachScript(t, premium, "T1"))
	require.True(t, res.OK, out)
	fstab := e.fstab()
	shareBefore := treeListing(t, share)

	holder := e.start("cd /home/azureuser/project && exec sleep 120")
	waitFor(t, func() bool {
		o, _ := e.sh("readlink /proc/*/cwd | grep -c /home/azureuser/project")
		return strings.TrimSpace(o) != "0"
	})

	res, out = e.runScript("detach.sh", detachScript(t, DetachParams{Target: premium, Timestamp: "T2"}))
	require.False(t, res.OK, out)
	assert.Equal(t, "busy", res.Step)
	assert.Contains(t, res.Reason, "(sleep)")
	assert.Contains(t, res.Reason, "--force")
	assert.Contains(t, res.Reason, "nothing changed")
	assert.True(t, e.mounted("/home/azureuser"))
	assert.Equal(t, fstab, e.fstab())
	assert.Equal(t, shareBefore, treeListing(t, share))
	assert.NoDirExists(t, e.homePath("azureuser.local"))
	assert.True(t, holder.running(), "the holder must not have been stopped")

	res, out = e.runScript("detach-force.sh", detachScript(t, DetachParams{Target: premium, Force: true, Timestamp: "T3"}))
	require.True(t, res.OK, out)
	assert.Contains(t, res.Info["stopped"], "(sleep)")
	waitFor(t, func() bool { return !holder.running() })
	assert.False(t, e.mounted("/home/azureuser"))
	assert.Equal(t, shareBefore, treeListing(t, e.home()))
	assert.Equal(t, origFstab, e.fstab())
}

// Standard tier: the blob endpoint with NFS 3.0 options, through the same
// script, mounted with -t aznfs (its proxy address follows the endpoint's IP).
func TestAttachStandardTierMountsBlobNFSv3(t *testing.T) {
	e := newNSEnv(t, envOpts{installed: true})
	populateHome(t, e.home(), 1000, localKey+"\n")
	blob := nfs.Target{Account: "devshared02", Share: "homes", Tier: nfs.Standard}
	require.NoError(t, os.MkdirAll(e.share(blob.Account, blob.Share), 0o755))
	res, out := e.runScript("attach.sh", attachScript(t, blob, "T1"))
	require.True(t, res.OK, out)
	assert.Equal(t, "devshared02.blob.core.windows.net:/devshared02/homes", res.Info["source"])
	assert.Contains(t, e.ctlFile("mount.log"), "mount.aznfs devshared02.blob.core.windows.net:/devshared02/homes /home/azureuser rw,sec=sys,vers=3,nolock,proto=tcp",
		"through AZNFS, as Microsoft's Blob NFS mount article says")
	assert.NotContains(t, e.ctlFile("mount.log"), "mount.nfs ")
	assert.Contains(t, e.fstab(), " /home/azureuser aznfs sec=sys,vers=3,nolock,proto=tcp,")
	assert.Equal(t, origFstab+nfs.FstabLine(blob, "/home/azureuser")+"\n", e.fstab())
	assert.Empty(t, res.Info["idmapping"], "NFS 3.0 has no idmapping")
	assert.NoFileExists(t, filepath.Join(e.dir, "etc-upper", "modprobe.d", "azlin-nfs.conf"))
	res, out = e.runScript("detach.sh", detachScript(t, DetachParams{Target: blob, Timestamp: "T2"}))
	require.True(t, res.OK, out)
	assert.Equal(t, origFstab, e.fstab())
}

// Blob NFS 3.0 has no hard links: attach to Standard reports the home's
// hard links and copies each name as a file of its own, and its self-test
// skips the hard-link probe; on Premium the link is kept and probed.
func TestAttachCopiesHardLinksApartOnlyOnStandard(t *testing.T) {
	blob := nfs.Target{Account: "devshared02", Share: "homes", Tier: nfs.Standard}
	for _, target := range []nfs.Target{blob, premium} {
		t.Run(string(target.Tier), func(t *testing.T) {
			e := newNSEnv(t, envOpts{installed: true})
			populateHome(t, e.home(), 1000, localKey+"\n") // hardlink-main.go is project/main.go
			require.NoError(t, os.MkdirAll(filepath.Join(e.home(), "proj"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(e.home(), "proj", "a"), []byte("same\n"), 0o644))
			require.NoError(t, os.Link(filepath.Join(e.home(), "proj", "a"), filepath.Join(e.home(), "proj", "b")))
			share := e.share(target.Account, target.Share)
			require.NoError(t, os.MkdirAll(share, 0o755))

			res, out := e.runScript("attach.sh", attachScript(t, target, "T1"))
			require.True(t, res.OK, out)
			assert.Equal(t, "yes", res.Info["seeded"])
			var a, b syscall.Stat_t
			require.NoError(t, syscall.Stat(filepath.Join(share, "proj", "a"), &a))
			require.NoError(t, syscall.Stat(filepath.Join(share, "proj", "b"), &b))
			got, err := os.ReadFile(filepath.Join(share, "proj", "b"))
			require.NoError(t, err)
			assert.Equal(t, "same\n", string(got))
			probes := map[string]string{}
			for _, p := range Probes(res.Info) {
				probes[p.Name] = p.Status + " " + p.Detail
			}
			if target.Tier == nfs.Standard {
				assert.Equal(t, "4", res.Info["hard_links"], "two pairs")
				assert.Equal(t, "hardlink-main.go, proj/a, proj/b", res.Info["hard_link_examples"], "the first 3, sorted")
				assert.NotEqual(t, a.Ino, b.Ino, "separate files on the share")
				assert.Equal(t, "skip Blob NFS 3.0 has no hard links", probes["hard_link"])
			} else {
				assert.Empty(t, res.Info["hard_links"], "Premium keeps hard links: nothing to report")
				assert.Equal(t, a.Ino, b.Ino, "the link is kept")
				assert.Equal(t, "ok ", probes["hard_link"])
			}
		})
	}
}

// Two VMs attach to one empty share at the same time: one seeds it, the other
// keeps its files in its backup, and both VMs' keys end up in authorized_keys.
func TestConcurrentAttachesMergeEveryKey(t *testing.T) {
	vm1 := newNSEnv(t, envOpts{installed: true})
	vm2 := newNSEnv(t, envOpts{installed: true, shares: vm1.shares})
	populateHome(t, vm1.home(), 1000, localKey+"\n")
	populateHome(t, vm2.home(), 1000, otherVMKey+"\n")
	require.NoError(t, os.MkdirAll(vm1.share(premium.Account, premium.Share), 0o755))

	type result struct {
		seeded string
		ok     bool
		out    string
	}
	results := make(chan result, 2)
	for i, e := range []*nsEnv{vm1, vm2} {
		go func(e *nsEnv, name string) {
			path := filepath.Join(e.dir, "scripts", name)
			s, _ := AttachScript(AttachParams{Target: premium, AuthorizedKeys: []string{paramKey}, Timestamp: name})
			_ = os.WriteFile(path, []byte(s), 0o700)
			out, code := e.sh("bash " + path)
			r := result{ok: code == 0, out: out}
			for _, l := range strings.Split(out, "\n") {
				if v, ok := strings.CutPrefix(l, "##azlin-info## seeded="); ok {
					r.seeded = v
				}
			}
			results <- r
		}(e, []string{"vm1", "vm2"}[i])
	}
	r1, r2 := <-results, <-results
	require.True(t, r1.ok, r1.out)
	require.True(t, r2.ok, r2.out)
	assert.ElementsMatch(t, []string{"yes", "no"}, []string{r1.seeded, r2.seeded}, "exactly one VM seeds the share")
	keys := readLines(t, filepath.Join(vm1.share(premium.Account, premium.Share), ".ssh/authorized_keys"))
	assert.ElementsMatch(t, []string{localKey, otherVMKey, paramKey}, keys)
}

// uid 1000 must be azureuser: otherwise nothing is touched.
func TestAttachRefusesWrongUID(t *testing.T) {
	e := newNSEnv(t, envOpts{installed: true, uid: 1001})
	populateHome(t, e.home(), 1001, localKey+"\n")
	require.NoError(t, os.MkdirAll(e.share(premium.Account, premium.Share), 0o755))
	original := treeListing(t, e.home())
	res, out := e.runScript("attach.sh", attachScript(t, premium, "T1"))
	require.False(t, res.OK, out)
	assert.Equal(t, "user", res.Step)
	assert.Contains(t, res.Reason, "uid/gid 1001/1001")
	assert.Equal(t, original, treeListing(t, e.home()))
	assert.Equal(t, origFstab, e.fstab())
	assert.Empty(t, e.ctlFile("mount.log"))
}

func assertOwnerMode(t *testing.T, path string, uid int, mode os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	assert.Equal(t, mode, fi.Mode().Perm(), "mode of %s", path)
	assert.Equal(t, uint32(uid), fi.Sys().(*syscall.Stat_t).Uid, "owner of %s", path)
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		require.True(t, time.Now().Before(deadline), "condition not met within 5 s")
		time.Sleep(50 * time.Millisecond)
	}
}

// `azlin new --shared-home`: cloud-init writes the files and runs runcmd on a
// fresh VM whose apt/dpkg lock is still held (as unattended upgrades do after
// boot); the attach waits for it, and its result is read back the way the
// provisioning code reads it.
func TestCloudInitRunsTheAttachAndLeavesAResult(t *testing.T) {
	e := newNSEnv(t, envOpts{})
	populateHome(t, e.home(), 1000, localKey+"\n")
	require.NoError(t, os.MkdirAll(e.share(premium.Account, premium.Share), 0o755))
	part, err := CloudInitPart(AttachParams{Target: premium, AuthorizedKeys: []string{paramKey}, Timestamp: "T1"})
	require.NoError(t, err)

	status, _ := e.sh(CloudInitStatusScript())
	done, _, err := ParseCloudInitStatus(status)
	require.NoError(t, err)
	assert.False(t, done, "no result before cloud-init ran the attach")

	// What cloud-init does: write_files, then runcmd (packages are faked).
	for i, f := range part.WriteFiles {
		src := filepath.Join(e.dir, "scripts", fmt.Sprintf("write-%d", i))
		e.writeFile(src, decodeContent(t, f.Content, f.Encoding), 0o600)
		_, code := e.sh(fmt.Sprintf("mkdir -p %s && install -m %s %s %s", filepath.Dir(f.Path), f.Permissions, src, f.Path))
		require.Equal(t, 0, code)
	}
	// The lock holder lets go only once the attach said it is waiting for it.
	release := filepath.Join(e.ctl, "release-apt-lock")
	e.start("exec 3</var/lib/dpkg/lock-frontend; flock 3; until [ -f " + release + " ]; do sleep 0.1; done")
	waitFor(t, func() bool {
		o, _ := e.sh("readlink /proc/*/fd/* | grep -c /var/lib/dpkg/lock-frontend")
		return strings.TrimSpace(o) != "0"
	})
	go func() {
		log := filepath.Join(e.dir, "varlib-upper", "azlin", "attach.log")
		for i := 0; i < 600; i++ {
			if b, _ := os.ReadFile(log); strings.Contains(string(b), "waiting for the apt/dpkg lock") {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = os.WriteFile(release, nil, 0o644)
	}()
	for _, argv := range part.RunCmd {
		// cloud-init runs a list entry as argv, without a shell.
		_, code := e.sh(shell.Join(argv))
		require.Equal(t, 0, code, argv)
	}

	status, _ = e.sh(CloudInitStatusScript())
	done, res, err := ParseCloudInitStatus(status)
	require.NoError(t, err, status)
	require.True(t, done)
	require.True(t, res.OK, status)
	assert.Equal(t, "yes", res.Info["seeded"])
	log, _ := e.sh("cat " + CloudInitLogFile)
	assert.Contains(t, log, "waiting for the apt/dpkg lock", "the attach must wait for the apt/dpkg lock")
	assert.Contains(t, e.ctlFile("apt.log"), "install -y -q nfs-common")
	assert.True(t, e.mounted("/home/azureuser"))
	assert.Len(t, azlinLines(e.fstab()), 1)
}

const idmapModprobe = "# azlin: Azure Files NFS 4.1 needs numeric uids/gids (no NFSv4 idmapping)\noptions nfs nfs4_disable_idmapping=1\n"

// NFSv4 idmapping is turned off before the share is mounted: in the running
// module when its parameter can be written, and in modprobe.d always. A
// read-only parameter (a container's /sys) is reported and the attach goes on.
func TestAttachDisablesNFSv4IDMapping(t *testing.T) {
	for _, tc := range []struct {
		param, after, info string
	}{
		{"N", "Y", "disabled (was N)"},
		{"ro", "N", "could not write /sys/module/nfs/parameters/nfs4_disable_idmapping (read-only, now N); " +
			"/etc/modprobe.d/azlin-nfs.conf applies when the nfs module next loads"},
	} {
		t.Run(tc.param, func(t *testing.T) {
			e := newNSEnv(t, envOpts{installed: true, idmap: tc.param})
			populateHome(t, e.home(), 1000, localKey+"\n")
			require.NoError(t, os.MkdirAll(e.share(premium.Account, premium.Share), 0o755))
			res, out := e.runScript("attach.sh", attachScript(t, premium, "T1"))
			require.True(t, res.OK, out)
			assert.Equal(t, tc.info, res.Info["idmapping"])
			assert.Equal(t, tc.after, e.idmapParam())
			assert.Equal(t, idmapModprobe, e.etcFile("modprobe.d/azlin-nfs.conf"))
			assert.True(t, e.mounted("/home/azureuser"))
		})
	}
}

// An sshd_config like a minimal image's (no Include of sshd_config.d): the
// machine's host keys, read through the namespace's /etc overlay.
const sshdConfigWithoutInclude = "# a VM's own sshd_config\nHostKey /etc/ssh/ssh_host_ed25519_key\nPubkeyAuthentication yes\n" +
	"PasswordAuthentication no\nUsePAM no\nStrictModes yes\n"

const breakGlassDropIn = "# azlin: break-glass login. sshd reads the keys on local disk first, so that a\n" +
	"# login works while the shared home (NFS) is slow or unreachable.\n" +
	"AuthorizedKeysFile /etc/ssh/azlin_authorized_keys/%u .ssh/authorized_keys\n"

// Break-glass login: attach keeps the VM's keys on local disk and makes sshd
// (the real one, checked with -t and -T) read them first, also on an
// sshd_config that does not read drop-ins; detach takes both away again.
func TestBreakGlassKeysOnLocalDiskAndSshdReadsThemFirst(t *testing.T) {
	e := newNSEnv(t, envOpts{installed: true})
	populateHome(t, e.home(), 1000, localKey+"\n")
	require.NoError(t, os.MkdirAll(e.share(premium.Account, premium.Share), 0o755))
	_, code := e.sh("printf %s " + shell.Quote(sshdConfigWithoutInclude) + " >/etc/ssh/sshd_config")
	require.Equal(t, 0, code)
	effective := func() string {
		out, _ := e.sh("mkdir -p /run/sshd; /usr/sbin/sshd -T -C user=azureuser,host=h,addr=127.0.0.1 | grep '^authorizedkeysfile '")
		return strings.TrimSpace(out)
	}
	require.Equal(t, "authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2", effective(), "the test's premise")

	res, out := e.runScript("attach.sh", attachScript(t, premium, "T1", paramKey))
	require.True(t, res.OK, out)
	assert.Equal(t, "on", res.Info["breakglass"])
	assert.Equal(t, "2", res.Info["bg_keys_added"])
	assert.Equal(t, "none: sshd is not running (it reads the configuration when it starts)", res.Info["sshd_reload"])
	assert.Contains(t, e.ctlFile("systemctl.log"), "reload ssh", "systemd's reload is tried first")
	assert.Equal(t, breakGlassDropIn, e.etcFile("ssh/sshd_config.d/50-azlin.conf"))
	assert.Equal(t, "# azlin: read the drop-in folder first, as Ubuntu's sshd_config does\nInclude /etc/ssh/sshd_config.d/*.conf\n"+
		sshdConfigWithoutInclude, e.etcFile("ssh/sshd_config"))
	assert.Equal(t, "authorizedkeysfile /etc/ssh/azlin_authorized_keys/%u .ssh/authorized_keys", effective())
	keysFile := filepath.Join(e.dir, "etc-upper", "ssh", "azlin_authorized_keys", "azureuser")
	assert.Equal(t, []string{paramKey, localKey}, readLines(t, keysFile))
	assertOwnerMode(t, keysFile, 0, 0o644)
	assertOwnerMode(t, filepath.Dir(keysFile), 0, 0o755)

	// Again, with one more key: it lands in both places; nothing else changes.
	res, out = e.runScript("attach-2.sh", attachScript(t, premium, "T2", paramKey, otherVMKey))
	require.True(t, res.OK, out)
	assert.Equal(t, "on", res.Info["breakglass"])
	assert.Equal(t, "1", res.Info["bg_keys_added"])
	assert.Empty(t, res.Info["sshd_reload"], "the configuration did not change: no reload")
	assert.Equal(t, []string{paramKey, localKey, otherVMKey}, readLines(t, keysFile))
	assert.Contains(t, readLines(t, filepath.Join(e.share(premium.Account, premium.Share), ".ssh/authorized_keys")), otherVMKey)

	res, out = e.runScript("detach.sh", detachScript(t, DetachParams{Timestamp: "T3"}))
	require.True(t, res.OK, out)
	assert.Equal(t, "removed", res.Info["breakglass"])
	assert.NoFileExists(t, keysFile)
	assert.NoDirExists(t, filepath.Dir(keysFile))
	assert.Empty(t, e.etcFile("ssh/sshd_config.d/50-azlin.conf"))
	assert.Equal(t, "authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2", effective())
	assert.Equal(t, []string{localKey, paramKey, otherVMKey}, readLines(t, filepath.Join(e.home(), ".ssh/authorized_keys")),
		"every break-glass key is in the local home's authorized_keys")
}

// When `sshd -t` rejects the configuration with azlin's drop-in, the
// previous drop-in and sshd_config are put back byte for byte, sshd is not
// reloaded, and the attach itself succeeds, saying why break-glass is off.
func TestBreakGlassRestoresThePreviousConfigWhenSshdRejectsIt(t *testing.T) {
	e := newNSEnv(t, envOpts{installed: true})
	populateHome(t, e.home(), 1000, localKey+"\n")
	require.NoError(t, os.MkdirAll(e.share(premium.Account, premium.Share), 0o755))
	const oldDropIn = "# an older azlin drop-in\nAuthorizedKeysFile .ssh/authorized_keys\n"
	fakeSshd := `#!/bin/sh
case "$1" in
  -t) echo "/etc/ssh/sshd_config.d/50-azlin.conf: line 3: Bad configuration option: AuthorizedKeysFile" >&2; exit 255 ;;
  -T) echo "authorizedkeysfile .ssh/authorized_keys"; exit 0 ;;
esac
exit 1
`
	_, code := e.sh("mkdir -p /etc/ssh/sshd_config.d && printf %s " + shell.Quote(oldDropIn) + " >/etc/ssh/sshd_config.d/50-azlin.conf && " +
		"printf %s " + shell.Quote(sshdConfigWithoutInclude) + " >/etc/ssh/sshd_config && " +
		"printf %s " + shell.Quote(fakeSshd) + " >/usr/sbin/sshd && chmod 755 /usr/sbin/sshd")
	require.Equal(t, 0, code)

	res, out := e.runScript("attach.sh", attachScript(t, premium, "T1", paramKey))
	require.True(t, res.OK, out)
	assert.Equal(t, "off: sshd -t rejected the configuration with the drop-in (/etc/ssh/sshd_config.d/50-azlin.conf: line 3: "+
		"Bad configuration option: AuthorizedKeysFile); the previous configuration is restored", res.Info["breakglass"])
	assert.Empty(t, res.Info["sshd_reload"])
	assert.Empty(t, e.ctlFile("systemctl.log"), "no reload after a failed check")
	assert.Equal(t, oldDropIn, e.etcFile("ssh/sshd_config.d/50-azlin.conf"))
	assert.Equal(t, sshdConfigWithoutInclude, e.etcFile("ssh/sshd_config"))
	assert.NoFileExists(t, filepath.Join(e.dir, "etc-upper", "ssh", "sshd_config.azlin-prev"))
	assert.NoFileExists(t, filepath.Join(e.dir, "etc-upper", "ssh", "sshd_config.d", "50-azlin.conf.azlin-prev"))
	assert.True(t, e.mounted("/home/azureuser"), "the shared home is attached all the same")
}
