package azemu_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/testjson"
)

// Capacity metrics are refreshed daily, up to 24 hours, with a PT1H grain
// ("Azure Storage monitoring data reference", learn.microsoft.com
// storage/common/monitor-storage-reference; "Capacity metrics values are
// refreshed daily (up to 24 Hours)"). AZEMU_CLOCK_OFFSET lets the day pass.

func values(t *testing.T, m map[string]any, series int) (points int, vals []any) {
	t.Helper()
	data := testjson.List(t, m, "value", 0, "timeseries", series, "data")
	for i := range data {
		p := testjson.Obj(t, data, i)
		for _, k := range []string{"average", "count", "maximum", "minimum", "total", "timeStamp"} {
			assert.Contains(t, p, k, "az prints every aggregate of a point, null when absent")
		}
		if p["average"] != nil {
			vals = append(vals, p["average"])
		}
	}
	return len(data), vals
}

func TestUsedCapacityHasNoValueInTheFirstDayThenOneADay(t *testing.T) {
	c := newCloud(t)
	c.base()
	c.ok("storage", "account", "create", "-g", "rg", "-n", "blobacct", "--sku", "Standard_LRS", "--kind", "StorageV2",
		"--enable-hierarchical-namespace", "true", "--enable-nfs-v3", "true", "--https-only", "false",
		"--default-action", "Deny", "-o", "none")
	c.ok("storage", "container-rm", "create", "-g", "rg", "--storage-account", "blobacct", "-n", "homes", "-o", "none")
	dir := filepath.Join(c.dir, "blobs", "blobacct", "homes")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), make([]byte, 4096), 0o644))
	id := testjson.Str(t, c.obj("storage", "account", "show", "-g", "rg", "-n", "blobacct"), "id")
	used := []string{"monitor", "metrics", "list", "--resource", id, "--metrics", "UsedCapacity", "--aggregation", "Average",
		"--interval", "1h", "--offset", "1d"}

	m := c.obj(used...)
	assert.Equal(t, "PT1H", m["interval"])
	n, vals := values(t, m, 0)
	assert.Equal(t, 25, n, "one point per whole hour of the day asked, both ends included")
	assert.Empty(t, vals, "a new account has no capacity value in its first day")

	c.env["AZEMU_CLOCK_OFFSET"] = "25h"
	n, vals = values(t, c.obj(used...), 0)
	assert.Equal(t, 25, n)
	assert.Equal(t, []any{float64(4096)}, vals, "one value a day, at the daily refresh")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "g"), make([]byte, 1000), 0o644))
	_, vals = values(t, c.obj(used...), 0)
	assert.Equal(t, []any{float64(4096)}, vals, "the day's value does not change until the next refresh")

	c.env["AZEMU_CLOCK_OFFSET"] = "49h"
	_, vals = values(t, c.obj(used...), 0)
	assert.Equal(t, []any{float64(5096)}, vals, "the next day's refresh sees the new bytes")

	assert.Equal(t, 3, c.run("monitor", "metrics", "list", "--resource", id+"x", "--metrics", "UsedCapacity").code)
	c.env["AZEMU_CLOCK_OFFSET"] = "a day"
	assert.Contains(t, c.run(used...).stderr, "AZEMU_CLOCK_OFFSET")
}

func TestFileCapacityPerShareOnTheFileService(t *testing.T) {
	c := newCloud(t)
	c.base()
	for _, s := range []string{"aaa", "bbb"} {
		c.ok("storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", s, "--quota", "100",
			"--enabled-protocols", "NFS", "-o", "none")
	}
	require.NoError(t, os.WriteFile(filepath.Join(c.dir, "shares", "acct", "aaa", "f"), make([]byte, 300), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(c.dir, "shares", "acct", "bbb", "f"), make([]byte, 20), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(c.dir, "shares", "acct", "bbb", "g"), make([]byte, 1), 0o644))
	files := testjson.Str(t, c.obj("storage", "account", "show", "-g", "rg", "-n", "acct"), "id") + "/fileServices/default"
	c.env["AZEMU_CLOCK_OFFSET"] = "25h"
	list := func(extra ...string) map[string]any {
		return c.obj(append([]string{"monitor", "metrics", "list", "--resource", files, "--interval", "PT1H", "--offset", "1d"}, extra...)...)
	}

	m := list("--metrics", "FileCapacity", "--filter", "FileShare eq 'aaa'")
	assert.Equal(t, "Microsoft.Storage/storageAccounts/fileServices", m["namespace"])
	_, vals := values(t, m, 0)
	assert.Equal(t, []any{float64(300)}, vals, "that share's bytes")
	meta := testjson.Obj(t, testjson.List(t, m, "value", 0, "timeseries", 0, "metadatavalues"), 0)
	assert.Equal(t, "aaa", meta["value"])
	assert.Equal(t, "FileShare", testjson.Str(t, meta, "name", "value"))

	m = list("--metrics", "FileCount", "--dimension", "FileShare")
	require.Len(t, testjson.List(t, m, "value", 0, "timeseries"), 2, "one series per share")
	_, vals = values(t, m, 1)
	assert.Equal(t, []any{float64(2)}, vals, "share bbb holds two files")

	_, vals = values(t, list("--metrics", "FileCapacity"), 0)
	assert.Equal(t, []any{float64(321)}, vals, "without a filter: every share")
	_, vals = values(t, list("--metrics", "FileShareCount"), 0)
	assert.Equal(t, []any{float64(2)}, vals)

	r := c.run("monitor", "metrics", "list", "--resource", files, "--metrics", "UsedCapacity")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "(BadRequest) Failed to find metric configuration", "UsedCapacity is on the account, not the file service")
}

// A series over several days: each daily refresh keeps the bytes it saw, so
// a month's query shows the share growing day by day ("Azure Files
// monitoring data reference", learn.microsoft.com storage/files/
// storage-files-monitoring-reference: capacity metrics, PT1H grain,
// refreshed daily; FileCapacity split by FileShare).
func TestFileCapacitySeriesKeepsEachDaysValue(t *testing.T) {
	c := newCloud(t)
	c.base()
	c.ok("storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", "home", "--quota", "100",
		"--enabled-protocols", "NFS", "-o", "none")
	dir := filepath.Join(c.dir, "shares", "acct", "home")
	files := testjson.Str(t, c.obj("storage", "account", "show", "-g", "rg", "-n", "acct"), "id") + "/fileServices/default"
	series := func() (int, []any) {
		return values(t, c.obj("monitor", "metrics", "list", "--resource", files, "--metrics", "FileCapacity",
			"--filter", "FileShare eq 'home'", "--aggregation", "Average", "--interval", "PT1H", "--offset", "30d"), 0)
	}
	for day, size := range []int{100, 250, 700} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), make([]byte, size), 0o644))
		c.env["AZEMU_CLOCK_OFFSET"] = fmt.Sprintf("%dh", 25+24*day)
		series()
	}
	n, vals := series()
	assert.Equal(t, 30*24+1, n, "a point per hour of the 30 days")
	assert.Equal(t, []any{float64(100), float64(250), float64(700)}, vals, "one value a day, each as that day's refresh saw it")
}
