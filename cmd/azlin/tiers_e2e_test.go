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

			ssh(t, c, "b1", "echo from-b1 > ~/blob-test.txt")
			assert.Equal(t, "from-b1\n", ssh(t, c, "b2", "cat ~/blob-test.txt"))

			status := azlinRun(t, c, "storage", "status", "blobhome").Stdout
			assert.Contains(t, status, ".blob.core.windows.net:/")
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
	assert.Contains(t, asRoot(t, c, "h1", "findmnt -n -o SOURCE /home/azureuser"), ".blob.core.windows.net:/")

	r = azlinRun(t, c, "storage", "check", "blobhome", "--vm", "h1")
	assert.Contains(t, r.Stdout, "hard_link\tskip\tBlob NFS 3.0 has no hard links\n")
	assert.Contains(t, r.Stderr, "probes passed on VM h1")
}
