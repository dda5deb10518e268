package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/storage"
)

// usageCalls: shared-dev's account, its 30-day series, its share (1 TiB).
func usageCalls(t *testing.T, gib ...float64) []aztest.Call {
	g := stGroupCalls(t)
	return []aztest.Call{g[0], g[1], stSeries(t, "30d", gib...), g[3]}
}

func TestStorageUsageJSONIsTheSeries(t *testing.T) {
	out, stderr, code := runStorageCmd(t, aztest.New(t, usageCalls(t, 1, 2.5)...), "storage", "usage", "shared-dev", "-g", "rg", "-o", "json")
	require.Equal(t, 0, code, stderr)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, map[string]any{
		"storage": "shared-dev", "share": "shared-dev", "unit": "bytes", "provisionedBytes": float64(1 << 40),
		"points": []any{
			map[string]any{"time": "2025-11-20T09:00:00Z", "usedBytes": float64(1 << 30)},
			map[string]any{"time": "2025-11-21T09:00:00Z", "usedBytes": 2.5 * (1 << 30)},
		},
	}, got)
}

func TestStorageUsagePipedPrintsRows(t *testing.T) {
	out, stderr, code := runStorageCmd(t, aztest.New(t, usageCalls(t, 1, 2.5)...), "storage", "usage", "shared-dev", "-g", "rg")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "2025-11-20 09:00Z\t1GiB\t1TiB\n2025-11-21 09:00Z\t2.5GiB\t1TiB\n", out, "not a terminal: rows, no chart")
}

func TestStorageUsageNoValuesYet(t *testing.T) {
	out, stderr, code := runStorageCmd(t, aztest.New(t, usageCalls(t)...), "storage", "usage", "shared-dev", "-g", "rg")
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, out)
	assert.Contains(t, stderr, "No usage values for shared-dev yet: Azure refreshes capacity about once a day.")
}

func TestStorageUsageBadDaysIsExit2WithoutAz(t *testing.T) {
	for _, d := range []string{"0", "94", "x"} {
		f := aztest.New(t)
		_, stderr, code := runStorageCmd(t, f, "storage", "usage", "shared-dev", "-g", "rg", "--days", d)
		assert.Equal(t, 2, code, "--days %s: %s", d, stderr)
		assert.Empty(t, f.Calls())
	}
}

func TestUsageChartOnAWideTerminalAndNotOnANarrowOne(t *testing.T) {
	size := int64(100) << 30
	u := &storage.UsageSeries{Storage: "shared-dev", ProvisionedBytes: &size}
	for i := range 8 {
		u.Points = append(u.Points, storage.UsagePoint{Time: time.Date(2026, 1, 1+i, 3, 0, 0, 0, time.UTC), UsedBytes: int64(10*i) << 30})
	}
	chart := usageChart(u, 30, 80)
	lines := strings.Split(strings.TrimRight(chart, "\n"), "\n")
	assert.Equal(t, "shared-dev: space used, last 30 days (8 values: Azure measures about once a day)", lines[0])
	assert.Contains(t, chart, "100.0 GiB ┼····", "the provisioned size is the top line")
	assert.Contains(t, chart, "0.0 GiB ┼─", "used starts at zero")
	assert.Contains(t, chart, "Jan 1")
	assert.Contains(t, chart, "Jan 8")
	assert.Equal(t, "─ used   · provisioned size (100GiB)", lines[len(lines)-1])
	for _, l := range lines {
		assert.LessOrEqual(t, len([]rune(l)), 80, "fits the terminal: %q", l)
	}
	assert.Empty(t, usageChart(u, 30, 39), "too narrow: rows instead")
	assert.Empty(t, usageChart(&storage.UsageSeries{Points: u.Points[:1]}, 30, 80), "one value is no line")
}
