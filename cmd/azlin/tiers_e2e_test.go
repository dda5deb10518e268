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
