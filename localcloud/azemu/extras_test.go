package azemu_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/testjson"
)

func TestShareShowExpandStatsCountsRealBytes(t *testing.T) {
	c := newCloud(t)
	c.base()
	c.ok("storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", "share", "--quota", "100",
		"--enabled-protocols", "NFS", "-o", "none")
	dir := filepath.Join(c.dir, "shares", "acct", "share") // the emulator keeps a share's files here
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "f"), make([]byte, 1234), 0o644))

	plain := c.obj("storage", "share-rm", "show", "-g", "rg", "--storage-account", "acct", "-n", "share")
	assert.Nil(t, plain["shareUsageBytes"], "without --expand stats, az prints null")
	withStats := c.obj("storage", "share-rm", "show", "-g", "rg", "--storage-account", "acct", "-n", "share", "--expand", "stats")
	assert.Equal(t, float64(1234), withStats["shareUsageBytes"])
}

func TestDNSZoneGroupShowDeleteAndEndpointList(t *testing.T) {
	c := newCloud(t)
	c.base()
	acctID := testjson.Str(t, c.obj("storage", "account", "show", "-g", "rg", "-n", "acct"), "id")
	c.ok("network", "private-endpoint", "create", "-g", "rg", "-n", "pe", "--vnet-name", "v", "--subnet", "s",
		"--private-connection-resource-id", acctID, "--group-id", "file", "--connection-name", "c", "-o", "none")
	c.ok("network", "private-dns", "zone", "create", "-g", "rg", "-n", "privatelink.file.core.windows.net", "-o", "none")
	show := []string{"network", "private-endpoint", "dns-zone-group", "show", "-g", "rg", "--endpoint-name", "pe", "-n", "default"}

	r := c.run(show...)
	assert.Equal(t, 3, r.code)
	assert.Contains(t, r.stderr, "(ResourceNotFound)")
	assert.Contains(t, r.stderr, "Microsoft.Network/privateEndpoints/pe/privateDnsZoneGroups/default")

	c.ok("network", "private-endpoint", "dns-zone-group", "create", "-g", "rg", "--endpoint-name", "pe", "-n", "default",
		"--private-dns-zone", "privatelink.file.core.windows.net", "--zone-name", "file", "-o", "none")
	assert.Equal(t, "default", c.obj(show...)["name"])

	pes := testjson.List(t, c.json("network", "private-endpoint", "list", "-g", "rg"))
	require.Len(t, pes, 1)
	assert.Equal(t, "pe", testjson.Obj(t, pes, 0)["name"])

	del := []string{"network", "private-endpoint", "dns-zone-group", "delete", "-g", "rg", "--endpoint-name", "pe", "-n", "default"}
	c.ok(del...)
	assert.Equal(t, 3, c.run(show...).code, "deleted")
	assert.Equal(t, 0, c.run(del...).code, "deleting a missing group is a no-op, as ARM's 204")
}
