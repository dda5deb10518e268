package cost

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShippedTableHasSourceDateAndTheRequiredRegions(t *testing.T) {
	tbl := Default()
	assert.NotEmpty(t, tbl.Source)
	assert.Equal(t, "USD", tbl.Currency)
	_, err := time.Parse("2006-01-02", tbl.Date)
	assert.NoError(t, err)
	assert.NotEmpty(t, tbl.Notes, "the table must say what came from where")
	for _, r := range []string{"eastus", "eastus2", "westus2", "westus3", "westeurope", "northeurope", "uksouth"} {
		assert.Contains(t, tbl.Regions, r)
	}
	assert.Equal(t, []string{"Standard_B2ms", "Standard_B2s", "Standard_D2s_v5", "Standard_D4s_v5", "Standard_D8s_v5", "Standard_E4s_v5"},
		tbl.VMSizes())
}

func TestShippedTableLookupsByRegionAndSKU(t *testing.T) {
	tbl := Default()
	cases := []struct {
		name string
		e    Estimate
		want string // monthly, "" = not priced
	}{
		{"files eastus LRS", tbl.PremiumFiles("eastus", "LRS", 100), "$16.00"},
		{"files eastus2 ZRS", tbl.PremiumFiles("eastus2", "ZRS", 100), "$20.00"},
		{"files westus2 (no record found)", tbl.PremiumFiles("westus2", "LRS", 100), ""},
		{"blob eastus2", tbl.StandardBlob("eastus2", 1000), "$18.00"},
		{"D4s_v5 eastus", tbl.VM("eastus", "Standard_D4s_v5"), "$140.16"},
		{"E4s_v5 eastus", tbl.VM("eastus", "Standard_E4s_v5"), "$183.96"},
		{"D2s_v5 westeurope", tbl.VM("westeurope", "Standard_D2s_v5"), "$83.95"},
		{"B2s westeurope (no record found)", tbl.VM("westeurope", "Standard_B2s"), ""},
		{"endpoint uksouth", tbl.PrivateEndpoint("uksouth"), "$7.30"},
	}
	for _, c := range cases {
		if c.want == "" {
			assert.False(t, c.e.Priced, c.name)
			assert.NotEmpty(t, c.e.Reason, c.name)
			continue
		}
		require.True(t, c.e.Priced, "%s: %s", c.name, c.e.Reason)
		assert.Equal(t, c.want, c.e.Monthly.String(), c.name)
	}
}

func TestDefaultReturnsACopy(t *testing.T) {
	a := Default()
	delete(a.Regions, "eastus")
	a.Currency = "EUR"
	b := Default()
	assert.Contains(t, b.Regions, "eastus")
	assert.Equal(t, "USD", b.Currency)
}

func TestLoadWithoutCacheUsesTheBuiltInTableAndSaysItsDate(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	tbl, age, err := LoadAt(CachePath(t.TempDir()), now)
	require.NoError(t, err)
	assert.Equal(t, Default().Source, tbl.Source)
	assert.False(t, age.FromCache)
	assert.Equal(t, "built-in table of "+Default().Date, age.String())
	assert.Equal(t, 10, age.Days) // table date 2026-11-25
}

func writeCache(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "prices.json")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

const validCache = `{
  "source": "Azure Retail Prices API (test)", "date": "2026-11-20", "currency": "USD",
  "fetched_at": "2026-11-20T09:00:00Z",
  "regions": {"westus2": {"premium_files_gib_month": {"LRS": 0.17}}}
}`

func TestLoadUsesAValidCacheAndSaysHowOldItIs(t *testing.T) {
	p := writeCache(t, validCache)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tbl, age, err := LoadAt(p, now)
	require.NoError(t, err)
	assert.True(t, age.FromCache)
	assert.Equal(t, 3, age.Days)
	assert.Equal(t, "cache fetched 3 days ago", age.String())
	e := tbl.PremiumFiles("westus2", "LRS", 1000)
	require.True(t, e.Priced, e.Reason)
	assert.Equal(t, "$170.00", e.Monthly.String())

	_, age, _ = LoadAt(p, time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC))
	assert.Equal(t, "cache fetched today", age.String())
	_, age, _ = LoadAt(p, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	assert.Equal(t, "cache fetched 1 day ago", age.String())
}

func TestLoadIgnoresABrokenCacheAndSaysWhy(t *testing.T) {
	cases := map[string]string{
		"not json":      `{"source": `,
		"no fetch date": `{"source": "x", "date": "2026-11-20", "currency": "USD", "regions": {"eastus": {}}}`,
		"no regions":    `{"source": "x", "date": "2026-11-20", "currency": "USD", "fetched_at": "2026-11-20T09:00:00Z", "regions": {}}`,
		"bad price":     `{"source": "x", "date": "2026-11-20", "currency": "USD", "fetched_at": "2026-11-20T09:00:00Z", "regions": {"eastus": {"private_endpoint_hour": -1}}}`,
	}
	for name, body := range cases {
		p := writeCache(t, body)
		tbl, age, err := LoadAt(p, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
		assert.Error(t, err, name)
		assert.Equal(t, Default().Source, tbl.Source, name)
		assert.False(t, age.FromCache, name)
		assert.Contains(t, age.String(), "built-in table of "+Default().Date+" (cache ignored: ", name)
	}
}

func TestCachePathIsUnderTheConfigDir(t *testing.T) {
	assert.Equal(t, filepath.Join("/home/u/.config/azlin", "cache", "prices.json"), CachePath("/home/u/.config/azlin"))
}
