//go:build localcloud

package azemu_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/testjson"
)

// AZNFS (encryption in transit for NFS Azure file shares). Sources:
// learn.microsoft.com/azure/storage/files/encryption-in-transit-for-nfs-shares,
// github.com/Azure/AZNFS-mount (README, packaging/aznfs/DEBIAN/postinst,
// src/mountscript.sh, src/nfsv4mountscript.sh).

// microsoftRepo configures packages.microsoft.com as its
// packages-microsoft-prod package (or cloud-init's apt module) does: the
// source line and the signing key it names.
const microsoftRepo = `mkdir -p /usr/share/keyrings
echo 'not a real key' > /usr/share/keyrings/microsoft-prod.gpg
echo 'deb [arch=amd64,arm64,armhf signed-by=/usr/share/keyrings/microsoft-prod.gpg] https://packages.microsoft.com/ubuntu/22.04/prod jammy main' > /etc/apt/sources.list.d/microsoft-prod.list
`

const installAznfs = "AZNFS_NONINTERACTIVE_INSTALL=1 apt-get install -y aznfs; echo rc=$?\n"

// aznfsCloud is a cloud with the base account, an NFS share, the subnet
// allowed, and VM vm1 booted as a host (its SSH key and address returned).
func aznfsCloud(t *testing.T) (c *cloud, sshKey, ip string) {
	c = newCloud(t)
	c.env["AZEMU_HOSTS"] = "1"
	t.Cleanup(func() { c.run("__azemu-down") })
	c.base()
	c.ok("storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", "share",
		"--quota", "100", "--enabled-protocols", "NFS", "-o", "none")
	c.ok("storage", "account", "network-rule", "add", "-g", "rg", "--account-name", "acct", "--vnet-name", "v", "--subnet", "s", "-o", "none")
	priv, pub := sshKeyPair(t)
	out := c.obj("vm", "create", "-g", "rg", "-n", "vm1", "--image", "Ubuntu2204", "--vnet-name", "v", "--subnet", "s",
		"--admin-username", "azureuser", "--ssh-key-values", pub)
	return c, priv, testjson.Str(t, out, "publicIpAddress")
}

func TestAznfsInstallsOnlyFromTheMicrosoftRepository(t *testing.T) {
	c, _, _ := aznfsCloud(t)

	// No Microsoft repository: apt does not know the package.
	msg := c.runScript("vm1", "apt-get update >/dev/null\n"+installAznfs+"test -e /sbin/mount.aznfs && echo HELPER")
	assert.Contains(t, msg, "E: Unable to locate package aznfs")
	assert.Contains(t, msg, "rc=100")
	assert.NotContains(t, msg, "HELPER")

	// A source line without its key, then with the key but before apt-get
	// update: still unknown.
	msg = c.runScript("vm1", microsoftRepo+"rm /usr/share/keyrings/microsoft-prod.gpg\napt-get update >/dev/null\n"+installAznfs)
	assert.Contains(t, msg, "E: Unable to locate package aznfs", "a source whose signed-by key is missing")
	msg = c.runScript("vm1", microsoftRepo+installAznfs)
	assert.Contains(t, msg, "E: Unable to locate package aznfs", "lists not updated since the source was added")

	// Configured and updated: aznfs installs, with nfs-common, and brings /sbin/mount.aznfs.
	msg = c.runScript("vm1", "apt-get update\n"+installAznfs+
		"test -x /sbin/mount.aznfs && echo HELPER\ndpkg -s nfs-common >/dev/null && echo NFS-COMMON\ncat /opt/microsoft/aznfs/data/config")
	assert.Contains(t, msg, "https://packages.microsoft.com")
	assert.Contains(t, msg, "rc=0")
	assert.Contains(t, msg, "HELPER")
	assert.Contains(t, msg, "NFS-COMMON")
	assert.Contains(t, msg, "AUTO_UPDATE_AZNFS=true", "AZNFS_NONINTERACTIVE_INSTALL=1 enables auto-update")

	// Without AZNFS_NONINTERACTIVE_INSTALL and without a terminal the
	// postinst's whiptail prompt fails, which it takes as "no".
	msg = c.runScript("vm1", "apt-get purge -y aznfs >/dev/null; test -e /sbin/mount.aznfs || echo GONE\n"+
		"apt-get install -y aznfs </dev/null >/dev/null; echo rc=$?; cat /opt/microsoft/aznfs/data/config")
	assert.Contains(t, msg, "GONE")
	assert.Contains(t, msg, "rc=0")
	assert.Contains(t, msg, "AUTO_UPDATE_AZNFS=false")

	// The deb822 form (microsoft-prod.sources) works as well.
	msg = c.runScript("vm1", "apt-get purge -y aznfs >/dev/null\nrm /etc/apt/sources.list.d/microsoft-prod.list\n"+
		"apt-get update >/dev/null\n"+installAznfs)
	assert.Contains(t, msg, "E: Unable to locate package aznfs", "the source removed")
	msg = c.runScript("vm1", `cat > /etc/apt/sources.list.d/microsoft-prod.sources <<'EOF'
Types: deb
URIs: https://packages.microsoft.com/ubuntu/22.04/prod
Suites: jammy
Components: main
Signed-By: /usr/share/keyrings/microsoft-prod.gpg
EOF
apt-get update >/dev/null
`+installAznfs)
	assert.Contains(t, msg, "rc=0")
}

// mountAznfs mounts the share on DIR with aznfs, extra options appended.
func mountAznfs(dir, extra string) string {
	return "mkdir -p " + dir + "; mount -t aznfs acct.file.core.windows.net:/acct/share " + dir +
		" -o vers=4,minorversion=1,sec=sys" + extra + "; echo rc=$?\n"
}

func TestAznfsTLSAndSecureTransfer(t *testing.T) {
	c, key, ip := aznfsCloud(t)
	msg := c.runScript("vm1", microsoftRepo+"apt-get update >/dev/null\n"+installAznfs)
	require.Contains(t, msg, "rc=0")
	c.ok("storage", "account", "update", "-g", "rg", "-n", "acct", "--https-only", "true", "-o", "none")

	// aznfs's own checks: a version it knows, a name that resolves.
	msg = c.runScript("vm1", "mkdir -p /mnt/x\n"+
		"mount -t aznfs acct.file.core.windows.net:/acct/share /mnt/x -o sec=sys; echo rc=$?\n"+
		"mount -t aznfs acct.file.core.windows.net:/acct/share /mnt/x -o vers=4.2,sec=sys; echo rc=$?\n"+
		"mount -t aznfs nope.file.core.windows.net:/nope/share /mnt/x -o vers=4.1; echo rc=$?\n"+
		"mount -t aznfs acct.file.core.windows.net:/acct /mnt/x -o vers=4.1; echo rc=$?")
	assert.Contains(t, msg, "Missing version in mount options. Example: 'vers=3'.")
	assert.Contains(t, msg, "NFS version is not supported by mount helper: 4.2!")
	assert.Contains(t, msg, "Failed to resolve the IP address for nope.file.core.windows.net!")
	assert.Contains(t, msg, "Share to be mounted must be of the form 'account.file.core.windows.net:/account/container' for vers=4.1")
	assert.Equal(t, 4, strings.Count(msg, "rc=1\n"), msg)

	// Secure transfer required: a plain NFS mount and an aznfs notls mount
	// are refused by the server, a TLS mount goes through.
	msg = c.runScript("vm1", "mkdir -p /mnt/plain; mount -t nfs4 acct.file.core.windows.net:/acct/share /mnt/plain -o vers=4,minorversion=1,sec=sys; echo rc=$?")
	assert.Contains(t, msg, "mount.nfs: access denied by server while mounting acct.file.core.windows.net:/acct/share")
	assert.Contains(t, msg, "rc=32")
	msg = c.runScript("vm1", mountAznfs("/mnt/notls", ",notls"))
	assert.Contains(t, msg, "mount.nfs: access denied by server while mounting acct.file.core.windows.net:/acct/share")
	assert.Contains(t, msg, "\x1b[2;31mMount failed!\x1b[0m", "aznfs prints its errors in red on stdout")
	assert.Contains(t, msg, "rc=1")
	msg = c.runScript("vm1", mountAznfs("/mnt/tls", "")+"echo through-tls > /mnt/tls/note\n"+
		"findmnt -n -o SOURCE,FSTYPE,OPTIONS /mnt/tls\nfindmnt -n -o SOURCE -T /mnt/tls/note\nmount -t nfs4\ndf -Th /mnt/tls")
	assert.Contains(t, msg, "rc=0")
	// (findmnt pads columns as its version does: spaces are not compared)
	assert.Regexp(t, `\n127\.0\.0\.1:/acct/share +nfs4 +rw,relatime,vers=4\.1,sec=sys,port=20049,addr=127\.0\.0\.1\n`, msg,
		"findmnt shows the mount going to aznfs's local TLS tunnel")
	assert.Contains(t, msg, "\n127.0.0.1:/acct/share\n", "findmnt -T finds the mount of a path")
	assert.Contains(t, msg, "127.0.0.1:/acct/share on /mnt/tls type nfs4 (rw,relatime,vers=4.1,sec=sys,port=20049,addr=127.0.0.1)")
	assert.Regexp(t, `\n127\.0\.0\.1:/acct/share nfs4 +\S+ +\S+ +\S+ +\S+% /mnt/tls\n`, msg, "df -Th, as the Azure article verifies a TLS mount")
	assert.Equal(t, "12\n", c.ok("storage", "share-rm", "stats", "-g", "rg", "--storage-account", "acct", "-n", "share"))

	// One endpoint, one connection: no notls mount while a TLS one is there
	// (aznfs's own check, before the server is asked).
	c.ok("storage", "account", "update", "-g", "rg", "-n", "acct", "--https-only", "false", "-o", "none")
	msg = c.runScript("vm1", mountAznfs("/mnt/notls", ",notls"))
	assert.Contains(t, msg, "Mount to the same endpoint acct.file.core.windows.net exists that is using TLS. "+
		"Cannot mount without TLS to the same endpoint as they use the same connection.")
	assert.Contains(t, msg, "rc=1")

	// Secure transfer off: notls works once the TLS mount is gone, and then
	// a TLS mount of the same endpoint is refused.
	msg = c.runScript("vm1", "umount /mnt/tls\n"+mountAznfs("/mnt/notls", ",notls")+"findmnt -n -o SOURCE,FSTYPE,OPTIONS /mnt/notls\n"+mountAznfs("/mnt/tls", ""))
	assert.Regexp(t, `rc=0\nacct\.file\.core\.windows\.net:/acct/share +nfs4 +rw,relatime,vers=4\.1,sec=sys\n`, msg)
	assert.Contains(t, msg, "Mount to the same endpoint acct.file.core.windows.net exists that is using clear text (no TLS). "+
		"Cannot mount with TLS to the same endpoint as they use the same connection.")
	assert.Contains(t, msg, "rc=1")

	// A plain mount.nfs mount of the endpoint counts as clear text too; TLS
	// works with secure transfer off once no clear-text mount is left.
	msg = c.runScript("vm1", "umount /mnt/notls\nmount -t nfs4 acct.file.core.windows.net:/acct/share /mnt/plain -o vers=4,minorversion=1,sec=sys\n"+
		mountAznfs("/mnt/tls", "")+"umount /mnt/plain\n"+mountAznfs("/mnt/tls", "")+"cat /mnt/tls/note")
	assert.Contains(t, msg, "exists that is using clear text (no TLS)")
	assert.Contains(t, msg, "rc=1\nrc=0\nthrough-tls\n")

	// An fstab line of type aznfs mounts at boot, over TLS, with secure transfer required.
	c.ok("storage", "account", "update", "-g", "rg", "-n", "acct", "--https-only", "true", "-o", "none")
	c.runScript("vm1", "umount /mnt/tls; mkdir -p /mnt/boot\n"+
		"echo 'acct.file.core.windows.net:/acct/share /mnt/boot aznfs vers=4,minorversion=1,sec=sys,_netdev 0 0' >> /etc/fstab")
	c.ok("vm", "restart", "-g", "rg", "-n", "vm1")
	deadline := time.Now().Add(30 * time.Second)
	for {
		msg = c.runScript("vm1", "findmnt -n -o SOURCE,FSTYPE /mnt/boot && cat /mnt/boot/note")
		if strings.Contains(msg, "through-tls") || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	assert.Contains(t, msg, "127.0.0.1:/acct/share nfs4\nthrough-tls\n")
	// What the VM's user sees over SSH.
	out, err := sshRun(t, key, ip, "findmnt -n -o SOURCE,FSTYPE /mnt/boot; mount | grep /mnt/boot")
	require.NoError(t, err, out)
	assert.Equal(t, "127.0.0.1:/acct/share nfs4\n127.0.0.1:/acct/share on /mnt/boot type nfs4 (rw,relatime,vers=4.1,sec=sys,port=20049,addr=127.0.0.1)\n", out)
}

// Blob NFS 3.0 through AZNFS, as "Mount Blob Storage by using the Network
// File System (NFS) 3.0 protocol" (learn.microsoft.com/azure/storage/blobs/
// network-file-system-protocol-support-how-to) mounts it: `mount -t aznfs
// -o sec=sys,vers=3,nolock,proto=tcp`, so that the mount stays connected
// when the endpoint's IP changes. AZNFS (github.com/Azure/AZNFS-mount
// README, src/nfsv3mountscript.sh) mounts a local proxy address that it
// maps to the endpoint's IP (iptables DNAT, its mount map), one per
// endpoint name, from 10.161.100.100 on, with Blob NFS's fixed port 2048.
// No TLS: secure transfer must stay off, through AZNFS or not.
func TestAznfsBlobNFSMountsAProxyAddressWithoutTLS(t *testing.T) {
	c, _, _ := aznfsCloud(t)
	c.ok("storage", "account", "create", "-g", "rg", "-n", "blobacct", "--kind", "StorageV2", "--sku", "Standard_LRS",
		"--enable-hierarchical-namespace", "true", "--enable-nfs-v3", "true", "--https-only", "false",
		"--default-action", "Deny", "-o", "none", "--only-show-errors")
	c.ok("storage", "container-rm", "create", "-g", "rg", "--storage-account", "blobacct", "-n", "homes", "-o", "none")
	c.ok("storage", "account", "network-rule", "add", "-g", "rg", "--account-name", "blobacct", "--vnet-name", "v", "--subnet", "s", "-o", "none")
	msg := c.runScript("vm1", microsoftRepo+"apt-get update >/dev/null\n"+installAznfs)
	require.Contains(t, msg, "rc=0")

	const blobMount = "mount -t aznfs -o sec=sys,vers=3,nolock,proto=tcp blobacct.blob.core.windows.net:/blobacct/homes "
	msg = c.runScript("vm1", "mkdir -p /mnt/blob /mnt/blob2\n"+blobMount+"/mnt/blob; echo rc=$?\n"+
		"echo via-proxy > /mnt/blob/note\n"+blobMount+"/mnt/blob2; echo rc=$?\ncat /mnt/blob2/note\n"+
		"findmnt -n -o SOURCE,FSTYPE,OPTIONS /mnt/blob\nfindmnt -n -o SOURCE /mnt/blob2\ncat /opt/microsoft/aznfs/data/mountmap")
	assert.Equal(t, 2, strings.Count(msg, "rc=0\n"), msg)
	assert.Contains(t, msg, "via-proxy\n")
	assert.Regexp(t, `\n10\.161\.100\.100:/blobacct/homes +nfs +rw,[a-z,]*relatime,vers=3,sec=sys,nolock,proto=tcp,retrans=6,port=2048,mountport=2048,addr=10\.161\.100\.100\n`, msg,
		"findmnt shows the proxy address as the server, NFS 3 on port 2048, no TLS tunnel")
	assert.Contains(t, msg, "\n10.161.100.100:/blobacct/homes\n", "a second mount of the endpoint uses its proxy address")
	assert.Regexp(t, `\nblobacct\.blob\.core\.windows\.net 10\.161\.100\.100 20\.150\.\d+\.\d+\n`, msg, "the mount map: name, proxy, endpoint IP")
	assert.Equal(t, 1, strings.Count(msg, "blobacct.blob.core.windows.net 10.161"), "one proxy address per endpoint name")
	assert.NotContains(t, msg, "127.0.0.1", "Blob NFS has no TLS")

	// A plain mount.nfs mount of the name shows the name, as before.
	msg = c.runScript("vm1", "mkdir -p /mnt/plain; mount -t nfs -o sec=sys,vers=3,nolock,proto=tcp blobacct.blob.core.windows.net:/blobacct/homes /mnt/plain; echo rc=$?\n"+
		"findmnt -n -o SOURCE /mnt/plain")
	assert.Contains(t, msg, "rc=0\nblobacct.blob.core.windows.net:/blobacct/homes\n")

	// No encryption in transit for Blob NFS: with secure transfer required
	// the server refuses the mount through AZNFS too, as the article says
	// (its step 3: secure transfer required disabled).
	c.ok("storage", "account", "update", "-g", "rg", "-n", "blobacct", "--https-only", "true", "-o", "none")
	msg = c.runScript("vm1", "mkdir -p /mnt/blob3\n"+blobMount+"/mnt/blob3; echo rc=$?")
	assert.Contains(t, msg, "mount.nfs: access denied by server while mounting 10.161.100.100:/blobacct/homes")
	assert.Contains(t, msg, "rc=1")
}
