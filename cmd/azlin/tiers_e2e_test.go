//go:build localcloud

package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Standard tier is Blob NFS 3.0 on another endpoint with other mount
// options (docs/design-choices.md#standard-tier). An earlier tool mounted it like Azure Files and
// it never worked (docs/architecture.md#lessons-from-an-earlier-tool), so both tiers are mounted for real here, in
// both network modes.
func TestE2EStandardTierIsMountedAndShared(t *testing.T) {
	for _, network := range []string{"private-endpoint", "service-endpoint"} {
		t.Run(network, func(t *testing.T) {
			c := sharedCloud(t)
			r := azlinRun(t, c, "storage", "create", "blobhome", "--tier", "Standard", "--size", "1TB", "--network", network)
			assert.Contains(t, r.Stderr, "NFS 3.0", "the Standard tier's limits are said before anything is created")
			for _, vm := range []string{"b1", "b2"} {
				azlinRun(t, c, "new", "--shared-home", "blobhome", "--name", vm)
			}
			mount := asRoot(t, c, "b1", "grep x-azlin.managed /etc/fstab")
			assert.Contains(t, mount, ".blob.core.windows.net:/", "the blob endpoint, not the Files one")
			assert.Contains(t, mount, "vers=3")
			// Through AZNFS, as Microsoft's Blob NFS mount article says: the
			// fstab line's type, and the mount from AZNFS's proxy address.
			assert.Equal(t, "aznfs", strings.Fields(mount)[2], mount)
			assert.Regexp(t, `^10\.161\.\d+\.\d+:/\S+ nfs\n$`, asRoot(t, c, "b1", "findmnt -n -o SOURCE,FSTYPE /home/azureuser"))

			ssh(t, c, "b1", "echo from-b1 > ~/blob-test.txt")
			assert.Equal(t, "from-b1\n", ssh(t, c, "b2", "cat ~/blob-test.txt"))

			status := azlinRun(t, c, "storage", "status", "blobhome").Stdout
			assert.Contains(t, status, ".blob.core.windows.net:/")
			assert.Contains(t, status, "not encrypted (Blob NFS 3.0 has no encryption in transit;")
			assert.Equal(t, 2, strings.Count(status, "mounted at /home/azureuser"), status)
			require.Equal(t, 0, azlinRun(t, c, "storage", "detach", "--vm", "b1").Exit)
			assert.Equal(t, "from-b1\n", ssh(t, c, "b1", "cat ~/blob-test.txt"), "the local copy has the file")
		})
	}
}

// Blob NFS 3.0 has no hard links (link(2) fails with "Operation not
// supported"): a home holding a hard-linked pair is copied onto a Standard
// storage with each name as a file of its own, attach says so, and the
// self-test skips its hard-link probe instead of failing it.
func TestE2EStandardTierCopiesHardLinksAsSeparateFiles(t *testing.T) {
	c := sharedCloud(t)
	azlinRun(t, c, "storage", "create", "blobhome", "--tier", "Standard", "--size", "1TB")
	newVMs(t, c, "h1")
	ssh(t, c, "h1", "mkdir -p ~/proj && echo same > ~/proj/a && ln ~/proj/a ~/proj/b")
	require.Equal(t, "2 2\n", ssh(t, c, "h1", "stat -c %h ~/proj/a ~/proj/b | tr '\\n' ' ' | sed 's/ $/\\n/'"), "a hard-linked pair on local disk")

	r := azlinRun(t, c, "storage", "attach", "blobhome", "--vm", "h1")
	assert.Contains(t, r.Stdout, "its home was copied onto the empty share")
	assert.Contains(t, r.Stderr, "h1: 2 paths in the home were hard links (e.g. proj/a, proj/b): Blob NFS 3.0 has no hard links, so each was copied as a separate file")
	assert.Contains(t, r.Stderr, "h1: share self-test: 6 probes passed, 1 skipped (hard_link: Blob NFS 3.0 has no hard links).")

	assert.Equal(t, "same\nsame\n", ssh(t, c, "h1", "cat ~/proj/a ~/proj/b"), "both names are there, with the content")
	inodes := strings.Fields(ssh(t, c, "h1", "stat -c '%i %h' ~/proj/a ~/proj/b"))
	require.Len(t, inodes, 4)
	assert.NotEqual(t, inodes[0], inodes[2], "separate files")
	assert.Equal(t, []string{"1", "1"}, []string{inodes[1], inodes[3]})
	assert.Regexp(t, `^10\.161\.\d+\.\d+:/`, asRoot(t, c, "h1", "findmnt -n -o SOURCE /home/azureuser"), "AZNFS's proxy address")

	r = azlinRun(t, c, "storage", "check", "blobhome", "--vm", "h1")
	assert.Contains(t, r.Stdout, "hard_link\tskip\tBlob NFS 3.0 has no hard links\n")
	assert.Contains(t, r.Stderr, "probes passed on VM h1")
}

// A VM attached to a Standard storage by an azlin that mounted Blob NFS with
// plain -t nfs (fstab type nfs, the mount from the endpoint's name) stays
// on the endpoint's IP of mount time. storage check says so (the aznfs
// probe fails), and attach run again converges it: the fstab line becomes
// the aznfs one and the home is mounted again through AZNFS's proxy
// address (while something uses the home, only fstab, for the next boot),
// the files on the share untouched.
func TestE2EStandardOldPlainMountConvergesToAznfs(t *testing.T) {
	c := sharedCloud(t)
	azlinRun(t, c, "storage", "create", "blobhome", "--tier", "Standard", "--size", "1TB")
	azlinRun(t, c, "new", "--shared-home", "blobhome", "--name", "old1")
	ssh(t, c, "old1", "mkdir -p ~/proj && echo kept > ~/proj/notes.txt")
	before := homeTree(t, c, "old1")

	// What the earlier azlin left: the same line with type nfs, and a
	// plain mount.nfs mount of the endpoint's name.
	old := asRoot(t, c, "old1", `set -e
sed -i '/x-azlin.managed/s/ aznfs / nfs /' /etc/fstab
umount /home/azureuser
line=$(grep x-azlin.managed /etc/fstab)
set -- $line
mount -t nfs -o "$(echo "$4" | sed 's/,_netdev.*//')" "$1" /home/azureuser
grep x-azlin.managed /etc/fstab; findmnt -n -o SOURCE,FSTYPE /home/azureuser`)
	require.Regexp(t, `\.blob\.core\.windows\.net:/\S+ /home/azureuser nfs sec=sys,vers=3,`, old)
	require.Regexp(t, `\n\S+\.blob\.core\.windows\.net:/\S+ nfs\n$`, old)

	r := c.Azlin("storage", "check", "blobhome", "--vm", "old1")
	assert.NotEqual(t, 0, r.Exit, "a plain mount of a Standard storage fails the check")
	assert.Regexp(t, `aznfs\tfail\t/home/azureuser is mounted from \S+\.blob\.core\.windows\.net:/\S+, not through an AZNFS proxy address`, r.Stdout)
	assert.Contains(t, r.Stderr, "re-run azlin storage attach for this VM")

	// In use: the home is not unmounted under anyone; the fstab line is
	// already the aznfs one, for the next boot.
	ssh(t, c, "old1", "setsid sleep 300 </dev/null >/dev/null 2>&1 &")
	pid := strings.TrimSpace(asRoot(t, c, "old1", "for i in $(seq 50); do pgrep -x sleep && exit 0; sleep 0.1; done; exit 1"))
	r = azlinRun(t, c, "storage", "attach", "blobhome", "--vm", "old1")
	assert.Contains(t, r.Stderr, "old1: /home/azureuser stays a plain NFS mount for now (in use by "+pid+"(sleep)")
	busy := asRoot(t, c, "old1", "grep x-azlin.managed /etc/fstab; findmnt -n -o SOURCE,FSTYPE /home/azureuser")
	assert.Regexp(t, `/home/azureuser aznfs sec=sys,vers=3,`, busy)
	assert.Regexp(t, `\n\S+\.blob\.core\.windows\.net:/\S+ nfs\n$`, busy, "still the plain mount")
	assert.Equal(t, pid+"\n", asRoot(t, c, "old1", "pgrep -x sleep"), "not stopped")
	asRoot(t, c, "old1", "kill "+pid)

	// The mount through AZNFS fails once: the home goes back to its plain
	// mount, as it was, and says so.
	setFaults(t, c, map[string]any{"name": "aznfs-home", "args": []string{"__azemu-nfs-mount", "/home/azureuser"}, "times": 1,
		"exit": 1, "stdout": "Mount failed!\n"})
	r = c.Azlin("storage", "attach", "blobhome", "--vm", "old1")
	setFaults(t, c)
	assert.Equal(t, 1, r.Exit, r.Stderr)
	assert.Contains(t, r.Stderr, `step "remount-aznfs" failed`)
	assert.Contains(t, r.Stderr, "mounted the share at /home/azureuser with plain NFS again, as it was")
	assert.Regexp(t, `^\S+\.blob\.core\.windows\.net:/\S+ nfs\n$`, asRoot(t, c, "old1", "findmnt -n -o SOURCE,FSTYPE /home/azureuser"))
	assert.Equal(t, before, homeTree(t, c, "old1"))

	r = azlinRun(t, c, "storage", "attach", "blobhome", "--vm", "old1")
	assert.Contains(t, r.Stderr, "old1: the home was a plain NFS mount of the Blob endpoint; it is now mounted through AZNFS (fstab too)")
	now := asRoot(t, c, "old1", "grep x-azlin.managed /etc/fstab; findmnt -n -o SOURCE,FSTYPE /home/azureuser")
	assert.Regexp(t, `\.blob\.core\.windows\.net:/\S+ /home/azureuser aznfs sec=sys,vers=3,`, now)
	assert.Regexp(t, `\n10\.161\.\d+\.\d+:/\S+ nfs\n$`, now)
	assert.Equal(t, before, homeTree(t, c, "old1"), "the home's files are as they were")

	r = azlinRun(t, c, "storage", "check", "blobhome", "--vm", "old1")
	assert.Regexp(t, `aznfs\tok\t`, r.Stdout)
	assert.Contains(t, r.Stdout, "tls\tskip\tBlob NFS 3.0 has no encryption in transit")

	// The fstab line mounts through AZNFS at boot.
	rr := c.Az("vm", "restart", "-g", "rg", "-n", "old1")
	require.Equal(t, 0, rr.Exit, rr.Stderr)
	assert.Regexp(t, `^10\.161\.\d+\.\d+:/\S+ nfs\n$`, asRoot(t, c, "old1", "findmnt -n -o SOURCE,FSTYPE /home/azureuser"))
	assert.Equal(t, before, homeTree(t, c, "old1"))

	// Run again: nothing left to change (a Blob re-attach once failed at its
	// write check, a name cached from its mount check: lib.sh azlin_verify_rw).
	r = azlinRun(t, c, "storage", "attach", "blobhome", "--vm", "old1")
	assert.NotContains(t, r.Stderr, "plain NFS mount")
	assert.Contains(t, r.Stdout, "old1")
	assert.Equal(t, before, homeTree(t, c, "old1"))
}
