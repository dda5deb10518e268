package cost

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testTable is a small table whose prices the tests choose, so they do not
// break when the shipped prices change.
func testTable(t *testing.T) *Table {
	t.Helper()
	tbl, err := parseTable([]byte(`{
	  "source": "test", "date": "2026-01-02", "currency": "USD",
	  "regions": {
	    "testeast": {
	      "premium_files_gib_month": {"LRS": 0.16, "ZRS": 0.20},
	      "blob_hot_lrs_gib_month": 0.02,
	      "vm_hour": {"Standard_D2s_v5": 0.096, "Standard_B2s": 0.0416},
	      "private_endpoint_hour": 0.01
	    },
	    "testwest": {"private_endpoint_hour": 0.01}
	  }
	}`))
	require.NoError(t, err)
	return tbl
}

func TestPremiumFilesV1FormulaOneTiBIsExactly163_84(t *testing.T) {
	e := testTable(t).PremiumFiles("testeast", "LRS", 1024)
	require.True(t, e.Priced, e.Reason)
	assert.Equal(t, Money(163_840_000), e.Monthly) // exact, not 163.83999...
	assert.Equal(t, "$163.84", e.Monthly.String())
	assert.Equal(t, "$163.84/month", e.String())
	assert.Equal(t, "1024 GiB provisioned x $0.16/GiB-month (Premium_LRS, testeast; price table of 2026-01-02)", e.Basis)
	assert.Zero(t, e.Hourly)
}

func TestPremiumFilesByRedundancyAndSKUName(t *testing.T) {
	tbl := testTable(t)
	zrs := tbl.PremiumFiles("testeast", "ZRS", 100)
	require.True(t, zrs.Priced)
	assert.Equal(t, "$20.00", zrs.Monthly.String())

	sku := tbl.PremiumFiles("TestEast", "Premium_ZRS", 100)
	require.True(t, sku.Priced, sku.Reason)
	assert.Equal(t, zrs.Monthly, sku.Monthly)

	grs := tbl.PremiumFiles("testeast", "GRS", 100)
	assert.False(t, grs.Priced)
	assert.Contains(t, grs.Reason, `"GRS"`)
	assert.Zero(t, grs.Monthly)

	zero := tbl.PremiumFiles("testeast", "LRS", 0)
	assert.False(t, zero.Priced)
	assert.Contains(t, zero.Reason, "not positive")
}

func TestShippedTableGivesMicrosoftsExampleInEastUS(t *testing.T) {
	e := Default().PremiumFiles("eastus", "LRS", 1024)
	require.True(t, e.Priced, e.Reason)
	assert.Equal(t, "$163.84", e.Monthly.String())
}

func TestStandardBlobIsBilledByUsedSpace(t *testing.T) {
	tbl := testTable(t)
	used := tbl.StandardBlob("testeast", 100)
	require.True(t, used.Priced, used.Reason)
	assert.Equal(t, Money(2_000_000), used.Monthly)
	assert.Contains(t, used.Basis, "100 GiB used x $0.02/GiB-month")

	// Twice the data, twice the bill; an empty store costs nothing but is priced.
	assert.Equal(t, 2*used.Monthly, tbl.StandardBlob("testeast", 200).Monthly)
	empty := tbl.StandardBlob("testeast", 0)
	assert.True(t, empty.Priced)
	assert.Equal(t, "$0.00", empty.Monthly.String())

	// 6.25 GiB x $0.02 = $0.125: exact in Money, rounded up only when shown.
	half := tbl.StandardBlob("testeast", 6.25)
	assert.Equal(t, Money(125_000), half.Monthly)
	assert.Equal(t, "$0.13", half.Monthly.String())
	assert.Contains(t, half.Basis, "6.25 GiB used")

	neg := tbl.StandardBlob("testeast", -1)
	assert.False(t, neg.Priced)
	nowhere := tbl.StandardBlob("testwest", 10)
	assert.False(t, nowhere.Priced)
	assert.Equal(t, "no Blob hot LRS price for testwest: fetch its prices with: azlin cost prices --refresh --region testwest", nowhere.Reason)
}

func TestVMHourlyAndMonthlyAt730Hours(t *testing.T) {
	e := testTable(t).VM("testeast", "standard_d2s_v5")
	require.True(t, e.Priced, e.Reason)
	assert.Equal(t, Money(96_000), e.Hourly)
	assert.Equal(t, Money(70_080_000), e.Monthly) // 0.096 x 730
	assert.Equal(t, "$70.08/month", e.String())
	assert.Contains(t, e.Basis, "$0.096/hour x 730 hours/month")
	assert.Contains(t, e.Basis, "Standard_D2s_v5 Linux")

	b := testTable(t).VM("testeast", "Standard_B2s")
	assert.Equal(t, "$30.37", b.Monthly.String()) // 30.368
	assert.Equal(t, Money(30_368_000), b.Monthly)
}

func TestPrivateEndpointPerMonth(t *testing.T) {
	e := testTable(t).PrivateEndpoint("testwest")
	require.True(t, e.Priced, e.Reason)
	assert.Equal(t, Money(10_000), e.Hourly)
	assert.Equal(t, "$7.30", e.Monthly.String())
	assert.Contains(t, e.Basis, "plus data processed per GB (Standard Data Processed, not in the price table), not included")
}

func TestUnknownRegionOrSizeIsReportedNotZero(t *testing.T) {
	tbl := testTable(t)
	for name, e := range map[string]Estimate{
		"files":    tbl.PremiumFiles("mars", "LRS", 1024),
		"blob":     tbl.StandardBlob("mars", 10),
		"vm":       tbl.VM("mars", "Standard_D2s_v5"),
		"endpoint": tbl.PrivateEndpoint("mars"),
	} {
		assert.False(t, e.Priced, name)
		assert.Zero(t, e.Monthly, name)
		assert.Contains(t, e.Reason, `mars: region "mars" is not in the price table (it has testeast, testwest); `+
			"fetch its prices with: azlin cost prices --refresh --region mars", name)
		assert.Equal(t, "not priced: "+e.Reason, e.String(), name)
	}

	size := tbl.VM("testeast", "Standard_M416ms_v2")
	assert.False(t, size.Priced)
	assert.Equal(t, `no price for VM size "Standard_M416ms_v2" in testeast: fetch its prices with: azlin cost prices --refresh --region testeast`, size.Reason)

	noFiles := tbl.PremiumFiles("testwest", "LRS", 100)
	assert.False(t, noFiles.Priced)
	assert.Equal(t, "no Premium_LRS file share price for testwest: fetch its prices with: azlin cost prices --refresh --region testwest", noFiles.Reason)
}

// The README's tier comparison ("Choosing a tier") is these numbers: the
// built-in table's eastus2 LRS prices at the default size, 100 GiB, with
// provisioned v2 at Azure's recommendation for that size (3100 IOPS,
// 110 MiB/s).
func TestPremiumV2AtTheDefaultSizeAgainstPremium(t *testing.T) {
	tbl := Default()
	v1 := tbl.PremiumFiles("eastus2", "LRS", 100)
	v2 := tbl.PremiumV2Files("eastus2", "LRS", 100, 3100, 110)
	require.True(t, v1.Priced, v1.Reason)
	require.True(t, v2.Total.Priced, v2.Total.Reason)
	assert.Equal(t, "$16.00", v1.Monthly.String())
	assert.Equal(t, "$10.00", v2.Storage.Monthly.String()) // 100 x 0.000137 x 730
	assert.Equal(t, "$2.70", v2.IOPS.Monthly.String())     // 100 above the included 3000 x 0.000037 x 730
	assert.Equal(t, "$0.39", v2.Throughput.Monthly.String())
	assert.Equal(t, "$13.10", v2.Total.Monthly.String())
	assert.Equal(t, v2.Storage.Monthly+v2.IOPS.Monthly+v2.Throughput.Monthly, v2.Total.Monthly)

	// Where the table has no provisioned v2 meter, it says so: never zero.
	for _, e := range []Estimate{tbl.PremiumV2Files("eastus", "LRS", 100, 3100, 110).Total, tbl.PremiumV2Files("eastus2", "ZRS", 100, 3100, 110).Total} {
		assert.False(t, e.Priced)
		assert.Contains(t, e.Reason, "provisioned v2")
	}
	// At the included IOPS and throughput only the storage is billed.
	low := tbl.PremiumV2Files("eastus2", "LRS", 32, 3000, 100)
	assert.Equal(t, low.Storage.Monthly, low.Total.Monthly)
}
