//go:build localcloud

package azemu_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/testjson"
)

// "Known issues with Network File System (NFS) 3.0 protocol support for
// Azure Blob Storage" (learn.microsoft.com storage/blobs/
// network-file-system-protocol-known-issues): no hard links, and no locking
// with the Network Lock Manager ("mount commands must include the -o nolock
// parameter"; with nolock, nfs(5): locks are local to the client).
// A Files (NFS 4.1) mount keeps both.
func TestBlobNFSMountHasNoHardLinksAndNoLockManager(t *testing.T) {
	c := newCloud(t)
	c.env["AZEMU_HOSTS"] = "1"
	t.Cleanup(func() { c.run("__azemu-down") })
	c.base()
	c.ok("storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", "share",
		"--quota", "100", "--enabled-protocols", "NFS", "-o", "none")
	c.ok("storage", "account", "create", "-g", "rg", "-n", "blobacct", "--kind", "StorageV2", "--sku", "Standard_LRS",
		"--enable-hierarchical-namespace", "true", "--enable-nfs-v3", "true", "--https-only", "false",
		"--default-action", "Deny", "-o", "none", "--only-show-errors")
	c.ok("storage", "container-rm", "create", "-g", "rg", "--storage-account", "blobacct", "-n", "homes", "-o", "none")
	for _, a := range []string{"acct", "blobacct"} {
		c.ok("storage", "account", "network-rule", "add", "-g", "rg", "--account-name", a, "--vnet-name", "v", "--subnet", "s", "-o", "none")
	}
	priv, pub := sshKeyPair(t)
	ip := testjson.Str(t, c.obj("vm", "create", "-g", "rg", "-n", "vm1", "--image", "Ubuntu2204", "--vnet-name", "v", "--subnet", "s",
		"--admin-username", "azureuser", "--ssh-key-values", pub), "publicIpAddress")

	msg := c.runScript("vm1", `apt-get install -y nfs-common >/dev/null
# A descriptor the mounting shell holds open (a lock file, as azlin's
# scripts take) must not stay with the mount's server.
exec 9>>/run/lock/test.lock; flock 9
mkdir -p /mnt/blob /mnt/blob-locking /mnt/share
# azlin's Standard options, then the same container without nolock.
mount -t nfs -o sec=sys,vers=3,nolock,proto=tcp blobacct.blob.core.windows.net:/blobacct/homes /mnt/blob && echo MOUNTED
mount -t nfs -o sec=sys,vers=3,proto=tcp blobacct.blob.core.windows.net:/blobacct/homes /mnt/blob-locking && echo MOUNTED
mount -t nfs4 -o vers=4,minorversion=1,sec=sys acct.file.core.windows.net:/acct/share /mnt/share && echo MOUNTED
cd /mnt/blob
echo data > f && chown 1000:1000 f && chmod 640 f && mv f g && ln -s g s && mkdir d && chown 1000:1000 d
stat -c 'owner=%u:%g mode=%a' g; readlink s; cat s
ln g h 2>&1; echo "ln rc=$?"
flock g true && echo "flock with nolock: ok"
python3 -c 'import fcntl,sys; f=open(sys.argv[1],"a"); fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB); print("fcntl with nolock: ok")' g
python3 -c 'import fcntl,sys; f=open(sys.argv[1],"a"); fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB)' /mnt/blob-locking/g 2>&1 | tail -1
flock /mnt/blob-locking/g true 2>&1; echo "flock rc=$?"
mkdir /tmp/src && echo x > /tmp/src/a && ln /tmp/src/a /tmp/src/b
cp -a /tmp/src /mnt/blob/copy 2>&1; echo "cp rc=$?"
touch /mnt/share/a && ln /mnt/share/a /mnt/share/b && echo "files ln: ok"`)
	assert.Equal(t, 3, strings.Count(msg, "MOUNTED"), msg)
	held := c.runScript("vm1", "flock -n /run/lock/test.lock true && echo LOCK-FREE")
	assert.Contains(t, held, "LOCK-FREE", "the mount's server holds nothing of the shell that mounted")
	assert.Contains(t, msg, "owner=1000:1000 mode=640\ng\ndata\n", "owner, mode, rename and symlinks pass through")
	assert.Contains(t, msg, "ln: failed to create hard link 'h' => 'g': Operation not supported\nln rc=1")
	assert.Contains(t, msg, "flock with nolock: ok", "nolock keeps locks on the client")
	assert.Contains(t, msg, "fcntl with nolock: ok")
	assert.Contains(t, msg, "OSError: [Errno 37] No locks available", "without nolock there is no lock manager")
	assert.Contains(t, msg, "flock: /mnt/blob-locking/g: No locks available\nflock rc=71", "util-linux flock exits EX_OSERR")
	assert.Contains(t, msg, "files ln: ok", "NFS 4.1 on Files has hard links")
	assert.Regexp(t, `cp: cannot create hard link '/mnt/blob/copy/[ab]' to '/mnt/blob/copy/[ab]': Operation not supported\ncp rc=1`, msg,
		"cp -a of a tree with hard links fails on Blob NFS")

	// What the VM wrote is the container's, with its owner; a user writes
	// where the modes let them, and not elsewhere.
	st, err := os.Stat(filepath.Join(c.dir, "blobs", "blobacct", "homes", "g"))
	require.NoError(t, err)
	assert.Equal(t, "-rw-r-----", st.Mode().String())
	out, err := sshRun(t, priv, ip, "echo mine > /mnt/blob/d/x && cat /mnt/blob/d/x && touch /mnt/blob/nope")
	assert.Error(t, err)
	assert.Contains(t, out, "mine\n")
	assert.Contains(t, out, "touch: cannot touch '/mnt/blob/nope': Permission denied")

	// Unmounting ends the server; the container stays.
	msg = c.runScript("vm1", `umount /mnt/blob /mnt/blob-locking && findmnt /mnt/blob || echo UNMOUNTED
server='^/proc/self/exe __azemu-blobfs'
for i in $(seq 20); do pgrep -f "$server" >/dev/null || break; sleep 0.1; done
pgrep -f "$server" || echo NO-SERVER`)
	assert.Contains(t, msg, "UNMOUNTED")
	assert.Contains(t, msg, "NO-SERVER")
}

// A restart mounts a Blob fstab line again through the same server.
func TestBlobNFSMountFromFstabAfterARestart(t *testing.T) {
	c := newCloud(t)
	c.env["AZEMU_HOSTS"] = "1"
	t.Cleanup(func() { c.run("__azemu-down") })
	c.base()
	c.ok("storage", "account", "create", "-g", "rg", "-n", "blobacct", "--kind", "StorageV2", "--sku", "Standard_LRS",
		"--enable-hierarchical-namespace", "true", "--enable-nfs-v3", "true", "--https-only", "false",
		"--default-action", "Deny", "-o", "none", "--only-show-errors")
	c.ok("storage", "container-rm", "create", "-g", "rg", "--storage-account", "blobacct", "-n", "homes", "-o", "none")
	c.ok("storage", "account", "network-rule", "add", "-g", "rg", "--account-name", "blobacct", "--vnet-name", "v", "--subnet", "s", "-o", "none")
	priv, pub := sshKeyPair(t)
	ip := testjson.Str(t, c.obj("vm", "create", "-g", "rg", "-n", "vm1", "--image", "Ubuntu2204", "--vnet-name", "v", "--subnet", "s",
		"--admin-username", "azureuser", "--ssh-key-values", pub), "publicIpAddress")
	msg := c.runScript("vm1", `apt-get install -y nfs-common >/dev/null && mkdir -p /mnt/blob
echo 'blobacct.blob.core.windows.net:/blobacct/homes /mnt/blob nfs sec=sys,vers=3,nolock,proto=tcp,_netdev,nofail 0 0' >> /etc/fstab
mount /mnt/blob && chown azureuser: /mnt/blob && echo MOUNTED`)
	require.Contains(t, msg, "MOUNTED")
	c.ok("vm", "restart", "-g", "rg", "-n", "vm1")
	var out string
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if out, err = sshRun(t, priv, ip, "awk '$2 == \"/mnt/blob\" {print $3}' /proc/mounts && touch /mnt/blob/a && ln /mnt/blob/a /mnt/blob/b"); strings.Contains(out, "ln:") {
			break
		}
	}
	assert.Error(t, err)
	// /proc/mounts shows the emulator's FUSE file system (findmnt's stand-in
	// shows nfs, as on a VM): the boot mounted the fstab line through it.
	assert.Equal(t, "fuse.azemu-blobnfs\nln: failed to create hard link '/mnt/blob/b' => '/mnt/blob/a': Operation not supported\n", out)
}
