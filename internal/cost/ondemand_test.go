package cost

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// onDemandTable is the built-in table fetching what it lacks from f.
func onDemandTable(t *testing.T, f *fakePrices, cache string, now time.Time) *Table {
	t.Helper()
	tbl, _, err := LoadAt(cache, now)
	require.NoError(t, err)
	tbl.FetchOnDemand(OnDemand{BaseURL: f.url(), CachePath: cache, HTTP: f.srv.Client(), Now: func() time.Time { return now }})
	return tbl
}

func (f *fakePrices) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.filters)
}

func TestFetchOfTheRecordedShapeKeepsEachMetersRow(t *testing.T) {
	f := newFakePrices(t)
	c, err := newRetailClient(f.srv.Client(), f.url())
	require.NoError(t, err)
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	rp, err := c.fetchRegion(context.Background(), "westus2", meters(defaultTable.VMSizes()), now)
	require.NoError(t, err)

	want := RegionPrices{
		PremiumFilesGiBMonth: map[string]Price{"LRS": 170_000_000, "ZRS": 212_500_000}, // not the snapshot, burst or reservation rows
		// Provisioned v2: the paid rows of its three meters, the zero-priced
		// first tier or free meter as the included amount.
		PremiumV2Files: map[string]V2Meters{
			"LRS": {GiBHour: 150_000, IOPSHour: 40_000, MiBpsHour: 60_000, IncludedIOPS: 3000, IncludedMiBps: 100},
			"ZRS": {GiBHour: 200_000, IOPSHour: 50_000, MiBpsHour: 80_000, IncludedIOPS: 3000, IncludedMiBps: 100},
		},
		BlobHotLRSGiBMonth:  ptrTo(19_600_000), // the HNS meter's first tier, not the flat product
		VMHour:              map[string]Price{"Standard_D2s_v5": 99_500_000, "Standard_B2s": 41_600_000},
		PrivateEndpointHour: ptrTo(10_000_000), // the Global row
		// First tier of each direction, not the 1 PB tier.
		PrivateEndpointDataGB: map[string]Price{"ingress": 10_000_000, "egress": 10_000_000},
		PublicIPHour:          ptrTo(4_500_000),                          // Standard, not Basic
		ManagedDiskMonth:      map[string]Price{"P4 LRS": 5_400_000_000}, // not the reservation, ZRS or operations rows
		FetchedAt:             now,
	}
	assert.Equal(t, want, rp)
}

func ptrTo(p Price) *Price { return &p }

func TestEveryMeterOfTheTableIsAskedFor(t *testing.T) {
	// A meter added to the list is fetched with no other change: each one's
	// product and name (or SKU) is in its service's query.
	ms := meters([]string{"Standard_D2s_v5"})
	qs := strings.Join(queries("westus2", ms), "\n")
	for _, m := range ms {
		for _, v := range []string{m.Service, m.Product, m.Sku, m.Meter, m.ArmSku} {
			if v == "" {
				continue
			}
			assert.Contains(t, qs, quote(v), "meter %s", m.Item)
		}
	}
	assert.Len(t, queries("westus2", ms), 3, "one query per service")
	assert.NotContains(t, qs, "eastus")
}

func TestOnDemandFetchesAMissingRegionOnceAndCachesIt(t *testing.T) {
	f := newFakePrices(t)
	cache := filepath.Join(t.TempDir(), "cache", "prices.json")
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	tbl := onDemandTable(t, f, cache, now)

	// eastus has what these need: no request at all.
	require.True(t, tbl.PremiumFiles("eastus", "LRS", 100).Priced)
	require.True(t, tbl.NewVM("eastus", "Standard_D2s_v5").Priced)
	assert.Zero(t, f.count(), "a region the table prices is not fetched")

	// westus2 has no Premium Files price in the built-in table.
	e := tbl.PremiumFiles("westus2", "LRS", 1024)
	require.True(t, e.Priced, e.Reason)
	assert.Equal(t, "$174.08", e.Monthly.String())
	assert.Equal(t, "1024 GiB provisioned x $0.17/GiB-month (Premium_LRS, westus2; Retail Prices API, fetched 2026-12-03)", e.Basis)
	fetched := f.count()
	assert.Equal(t, 4, fetched, "three queries (one per service) and the storage query's second page: %q", f.filters)
	for _, q := range f.filters {
		assert.Contains(t, q, "armRegionName eq 'westus2'")
	}

	// Everything else of westus2 came with it; a price the API does not
	// list is not asked for again.
	assert.True(t, tbl.PublicIP("westus2").Priced)
	assert.True(t, tbl.StandardBlob("westus2", 10).Priced)
	noSize := tbl.VM("westus2", "Standard_E4s_v5")
	assert.False(t, noSize.Priced)
	assert.Contains(t, noSize.Reason, "the Retail Prices API listed no such price for westus2 when azlin fetched it on 2026-12-03; "+
		"fetch again with: azlin cost prices --refresh --region westus2")
	assert.Equal(t, fetched, f.count())

	// The next run reads it from the cache: no request.
	next := onDemandTable(t, f, cache, now.Add(24*time.Hour))
	again := next.PremiumFiles("westus2", "LRS", 1024)
	require.True(t, again.Priced, again.Reason)
	assert.Equal(t, e.Monthly, again.Monthly)
	assert.False(t, next.VM("westus2", "Standard_E4s_v5").Priced)
	assert.Equal(t, fetched, f.count(), "a cached region is never fetched again")
	assert.True(t, next.PremiumFiles("eastus", "LRS", 100).Priced, "built-in regions stay beside the cached one")

	var onDisk Table
	b, err := os.ReadFile(cache)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &onDisk))
	assert.Equal(t, []string{"westus2"}, onDisk.RegionNames(), "the cache holds what was fetched")
	assert.Equal(t, now, onDisk.Regions["westus2"].FetchedAt)
}

func TestOnDemandRefetchesARegionOnlyWhenItsCacheIsOld(t *testing.T) {
	f := newFakePrices(t)
	cache := writeCache(t, `{"source": "Azure Retail Prices API (test)", "date": "2026-11-01", "currency": "USD",
	  "fetched_at": "2026-11-01T09:00:00Z",
	  "regions": {"westus2": {"premium_files_gib_month": {"LRS": 0.15}, "fetched_at": "2026-11-01T09:00:00Z"}}}`)
	fetchedAt := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

	young := onDemandTable(t, f, cache, fetchedAt.Add(RegionMaxAge-time.Hour))
	assert.Equal(t, "$150.00", young.PremiumFiles("westus2", "LRS", 1000).Monthly.String())
	assert.False(t, young.StandardBlob("westus2", 1).Priced, "fetched recently: the API had no blob price then")
	assert.Zero(t, f.count())

	old := onDemandTable(t, f, cache, fetchedAt.Add(RegionMaxAge+time.Hour))
	assert.Equal(t, "$170.00", old.PremiumFiles("westus2", "LRS", 1000).Monthly.String(), "fetched again: the cache is old")
	assert.NotZero(t, f.count())
}

func TestOnDemandTimeoutSaysNotPricedAndTheCommandThatFixesIt(t *testing.T) {
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		<-r.Context().Done() // never answers
	}))
	t.Cleanup(srv.Close)
	cache := filepath.Join(t.TempDir(), "prices.json")
	tbl := Default()
	var told []string
	tbl.FetchOnDemand(OnDemand{BaseURL: srv.URL, CachePath: cache, Timeout: 300 * time.Millisecond,
		Fetching: func(r string) { told = append(told, r) }})

	start := time.Now()
	e := tbl.PremiumFiles("westus2", "LRS", 1024)
	assert.Less(t, time.Since(start), 3*time.Second, "the fetch gives up at its timeout")
	assert.False(t, e.Priced)
	assert.Equal(t, "not priced: no Premium_LRS file share price for westus2: the Retail Prices API could not be reached for westus2 "+
		"(no answer within 300ms); fetch its prices with: azlin cost prices --refresh --region westus2", e.String())
	assert.Equal(t, []string{"westus2"}, told)
	assert.NoFileExists(t, cache)

	// The same run does not wait again for the same region; prices the table
	// has are still used.
	n := asked.Load()
	assert.False(t, tbl.StandardBlob("westus2", 1).Priced)
	assert.True(t, tbl.PrivateEndpoint("westus2").Priced, "the built-in price stands")
	assert.Equal(t, n, asked.Load())
}

func TestRefreshMergesIntoTheCache(t *testing.T) {
	f := newFakePrices(t)
	cache := writeCache(t, `{"source": "Azure Retail Prices API (test)", "date": "2026-11-01", "currency": "USD",
	  "fetched_at": "2026-11-01T09:00:00Z",
	  "regions": {"norwayeast": {"premium_files_gib_month": {"LRS": 0.21}}}}`)
	_, err := Refresh(context.Background(), f.srv.Client(), f.url(), []string{"westus2"}, cache)
	require.NoError(t, err)
	tbl, _, err := Load(cache)
	require.NoError(t, err)
	assert.Equal(t, "$210.00", tbl.PremiumFiles("norwayeast", "LRS", 1000).Monthly.String(), "kept")
	assert.Equal(t, "$170.00", tbl.PremiumFiles("westus2", "LRS", 1000).Monthly.String(), "added")
	assert.Contains(t, tbl.PremiumFiles("norwayeast", "LRS", 1000).Basis, "Retail Prices API, fetched 2026-11-01")
	assert.True(t, tbl.VM("eastus", "Standard_D2s_v5").Priced, "the built-in regions are still there")
}

func TestACachedRegionKeepsTheBuiltInPricesItLacks(t *testing.T) {
	// A cache written before a meter was added: the built-in price stands.
	cache := writeCache(t, `{"source": "Azure Retail Prices API (test)", "date": "2026-11-01", "currency": "USD",
	  "fetched_at": "2026-11-01T09:00:00Z",
	  "regions": {"eastus": {"premium_files_gib_month": {"LRS": 0.15}}}}`)
	tbl, _, err := Load(cache)
	require.NoError(t, err)
	assert.Equal(t, "$150.00", tbl.PremiumFiles("eastus", "LRS", 1000).Monthly.String())
	assert.Contains(t, tbl.PremiumFiles("eastus", "LRS", 1000).Basis, "; Retail Prices API, fetched 2026-11-01)")
	disk := tbl.Disk("eastus", "Premium_LRS", 30)
	assert.Equal(t, "$5.28", disk.Monthly.String())
	assert.Contains(t, disk.Basis, "; price table of "+Default().Date+")", "the basis names where this price came from")
	assert.Equal(t, "$0.16", Default().Regions["eastus"].PremiumFilesGiBMonth["LRS"].Format("USD"), "the built-in table is not changed")
}

func TestOSDiskTypeAndTier(t *testing.T) {
	for size, want := range map[string]string{
		"Standard_D2s_v5": "Premium_LRS", "Standard_B2ms": "Premium_LRS", "Standard_DS1_v2": "Premium_LRS",
		"Standard_D2as_v5": "Premium_LRS", "Standard_B1ls": "Premium_LRS", "Standard_E4s_v5": "Premium_LRS",
		"Standard_D2_v5": "", "Standard_A2_v2": "", "Standard_NC6": "", "nonsense": "",
	} {
		assert.Equal(t, want, OSDiskSKU(size), size)
	}
	for _, c := range []struct {
		sku  string
		gib  int
		tier string
	}{{"Premium_LRS", 30, "P4 LRS"}, {"Premium_LRS", 32, "P4 LRS"}, {"Premium_LRS", 33, "P6 LRS"}, {"Premium_LRS", 4, "P1 LRS"},
		{"StandardSSD_LRS", 128, "E10 LRS"}, {"Standard_LRS", 30, "S4 LRS"}, {"premium_lrs", 1024, "P30 LRS"}} {
		tier, _, ok := diskTierOf(c.sku, c.gib)
		assert.True(t, ok, "%s %d", c.sku, c.gib)
		assert.Equal(t, c.tier, tier, "%s %d", c.sku, c.gib)
	}
	big := Default().Disk("eastus", "Premium_LRS", 4096)
	assert.Equal(t, "a 4096 GiB Premium_LRS disk is larger than the tiers azlin prices", big.Reason)
	assert.Equal(t, `disk type "UltraSSD_LRS" is not one azlin prices`, Default().Disk("eastus", "UltraSSD_LRS", 30).Reason)
}

func TestNewVMAddsTheOSDiskAndPublicIP(t *testing.T) {
	v := Default().NewVM("eastus", "Standard_D2s_v5")
	require.True(t, v.Priced)
	assert.Equal(t, "$70.08", v.Compute.Monthly.String())
	assert.Equal(t, "$5.28", v.OSDisk.Monthly.String()) // P4 LRS 5.2795
	assert.Equal(t, "$3.65", v.PublicIP.Monthly.String())
	assert.Equal(t, v.Compute.Monthly+v.OSDisk.Monthly+v.PublicIP.Monthly, v.Monthly)
	assert.Equal(t, "$79.01", v.Monthly.String())
	assert.Contains(t, v.OSDisk.Basis, "30 GiB Premium_LRS (Premium SSD), billed as tier P4 LRS")
	assert.Contains(t, v.PublicIP.Basis, "billed even when the VM is deallocated")

	noPremium := Default().NewVM("eastus", "Standard_D2_v5")
	assert.False(t, noPremium.Priced)
	assert.Contains(t, noPremium.OSDisk.Reason, "Azure picks the OS disk type")
}

func TestPrivateEndpointNamesItsDataProcessingPrice(t *testing.T) {
	e := Default().PrivateEndpoint("eastus")
	require.True(t, e.Priced)
	assert.Equal(t, "$7.30", e.Monthly.String(), "the per-GB price is named, not added")
	assert.Contains(t, e.Basis, "plus data processed at $0.01/GB in or out (Standard Data Processed), not included")
}

// A VM size no table lists is asked for by the fetch its estimate starts,
// in a region the built-in table has: it gets the API's price.
func TestOnDemandAsksForTheVMSizeTheEstimateNeeds(t *testing.T) {
	f := newFakePrices(t)
	cache := filepath.Join(t.TempDir(), "cache", "prices.json")
	tbl := onDemandTable(t, f, cache, time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC))
	e := tbl.VM("eastus", "Standard_D16s_v5")
	asked := false
	for _, q := range f.filters {
		asked = asked || strings.Contains(q, "armSkuName eq 'Standard_D16s_v5'")
	}
	assert.True(t, asked, "the fetch asks for the size: %q (%s)", f.filters, e.Reason)
}
