package cost

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

// reportNow is a fixed moment: 10 days and 6 hours into November 2026.
var reportNow = time.Date(2026, 11, 11, 6, 30, 0, 0, time.UTC)

func int64p(v int64) *int64 { return &v }

func sampleReport(t *testing.T) *Report {
	t.Helper()
	tbl := testTable(t)
	age := Age{Date: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), Days: 313}
	vms := []VMInput{
		{Name: "web", Region: "testeast", Size: "Standard_D2s_v5", PowerState: "VM running", LastChange: time.Date(2026, 10, 3, 0, 0, 0, 0, time.UTC)},
		{Name: "build", Region: "testeast", Size: "Standard_B2s", PowerState: "VM running", LastChange: time.Date(2026, 11, 10, 1, 0, 0, 0, time.UTC)},
		{Name: "idle", Region: "testeast", Size: "Standard_B2s", PowerState: "VM deallocated", LastChange: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)},
		{Name: "gpu", Region: "testeast", Size: "Standard_NC6", PowerState: "VM running"},
		{Name: "far", Region: "mars", Size: "Standard_B2s", PowerState: "VM stopped"},
	}
	storages := []StorageInput{
		{Name: "home", Region: "testeast", Tier: "Premium", Redundancy: "Premium_LRS", ProvisionedGiB: 1024, PrivateEndpoints: []string{"homeacct-pe"}},
		{Name: "data", Region: "testeast", Tier: "Standard", Redundancy: "LRS", ProvisionedGiB: 500, UsedBytes: int64p(3 << 29)}, // 1.5 GiB
		{Name: "fresh", Region: "testeast", Tier: "Standard", Redundancy: "LRS", ProvisionedGiB: 100, UsageNote: "Azure has not reported it yet"},
	}
	return NewReport(tbl, age, "rg", vms, storages, reportNow)
}

func TestReportTotalIsExactlyTheSumOfItsPricedLines(t *testing.T) {
	r := sampleReport(t)
	var sum Money
	priced, notPriced := 0, 0
	for _, l := range r.Lines {
		if !l.Priced {
			notPriced++
			assert.Nil(t, l.Monthly, "%s %s: a not priced line has no amount, not a zero", l.Kind, l.Name)
			continue
		}
		priced++
		require.NotNil(t, l.Monthly)
		assert.Zero(t, l.Monthly.Money()%Money(microPerCent), "%s is rounded to the cent", l.Name)
		sum += l.Monthly.Money()
	}
	assert.Equal(t, sum, r.Total.Monthly.Money())
	assert.Equal(t, priced+notPriced, r.Total.Lines)
	assert.Equal(t, 3, notPriced, "gpu (unknown size), far (unknown region), fresh (usage unknown)")
	assert.Equal(t, notPriced, r.Total.NotPriced)
	// web 70.08 + build 30.37 + idle 0 + home 163.84 + its endpoint 7.30 + data 0.03
	assert.Equal(t, "$271.62", r.Total.Monthly.Money().String())
}

func TestReportLinesSayWhatIsNotPricedAndWhy(t *testing.T) {
	r := sampleReport(t)
	byName := map[string]Line{}
	for _, l := range r.Lines {
		byName[l.Name] = l
	}
	assert.Contains(t, byName["gpu"].Basis, `not priced: no price for VM size "Standard_NC6"`)
	assert.Contains(t, byName["far"].Basis, `not priced: no price for VM size "Standard_B2s" in mars: region "mars" is not in the price table`)
	assert.Contains(t, byName["far"].Basis, "fetch its prices with: azlin cost prices --refresh --region mars")
	assert.Contains(t, byName["fresh"].Basis, "not priced: billed by used space, which is unknown (Azure has not reported it yet)")
	assert.Contains(t, r.Notes, "3 of 9 lines are not priced and not in the total: see their basis.")

	idle := byName["idle"]
	require.True(t, idle.Priced)
	assert.Equal(t, Amount(0), *idle.Monthly)
	assert.Equal(t, "deallocated: no compute charge while it stays so ($0.0416/hour when running)", idle.Basis)

	pe := byName["homeacct-pe"]
	assert.Equal(t, KindPrivateEndpoint, pe.Kind)
	assert.Equal(t, "$7.30", pe.Monthly.Money().String())
	assert.Equal(t, "0.01", pe.Hourly.String())
	assert.Equal(t, "Standard blob (NFS 3.0), 1.5 GiB used", byName["data"].Detail)
}

func TestReportOrdersVMsThenStoragesWithTheirEndpoints(t *testing.T) {
	var names []string
	for _, l := range sampleReport(t).Lines {
		names = append(names, l.Name)
	}
	assert.Equal(t, []string{"build", "far", "gpu", "idle", "web", "data", "fresh", "home", "homeacct-pe"}, names)
}

func TestUnusedStorageSumsItsLinesWithItsEndpoints(t *testing.T) {
	r := sampleReport(t)
	r.AddUnusedStorage([]string{"fresh", "home"}, "14d", "azlin storage cleanup -g rg")
	u := r.UnusedStorage
	require.NotNil(t, u)
	assert.Equal(t, "$171.14", u.Monthly.Money().String(), "home $163.84 + its endpoint $7.30; fresh is not priced")
	assert.Equal(t, 1, u.NotPriced)
	assert.Contains(t, r.Notes, "Unused storage (no VM for 14d or more): fresh, home, costing $171.14/month and 1 line(s) not priced. "+
		"Review and delete it with: azlin storage cleanup -g rg")

	none := sampleReport(t)
	notes := len(none.Notes)
	none.AddUnusedStorage(nil, "14d", "azlin storage cleanup -g rg")
	assert.Nil(t, none.UnusedStorage)
	assert.Len(t, none.Notes, notes, "no unused storage: no note")
}

func TestRunningHours(t *testing.T) {
	before := time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC)
	since := time.Date(2026, 11, 10, 1, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, state string
		last        time.Time
		want        string
		exact       bool
	}{
		{"running all month", "running", before, "246", true}, // 10 days 6.5 hours, rounded down
		{"stopped but allocated is billed", "stopped", before, "246", true},
		{"started this month: a lower bound", "running", since, ">= 29", false},
		{"deallocated all month", "deallocated", before, "0", true},
		{"deallocated this month", "deallocated", since, ">= 0", false},
		{"no time from az", "running", time.Time{}, "unknown", false},
		{"no power state", "", before, "unknown", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := runningHours(tc.state, tc.last, reportNow)
			assert.Equal(t, tc.want, h.String())
			assert.Equal(t, tc.exact, h.Exact)
			assert.NotEmpty(t, h.Note)
		})
	}
}

func TestReportJSONGolden(t *testing.T) {
	got, err := json.MarshalIndent(sampleReport(t), "", "  ")
	require.NoError(t, err)
	golden(t, filepath.Join("testdata", "report.golden.json"), string(got)+"\n")
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./internal/cost -run %s -update to create it", t.Name())
	assert.Equal(t, string(want), got)
}

func TestNewBilledSumsByResourceExactly(t *testing.T) {
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), reportNow
	b, err := NewBilled(from, to, []UsageRow{
		{ResourceID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web", Name: "web", Currency: "USD", Cost: "1.004"},
		{ResourceID: "/subscriptions/s/resourcegroups/RG/providers/Microsoft.Compute/virtualMachines/WEB", Name: "WEB", Currency: "USD", Cost: "1.004"},
		{ResourceID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct", Name: "acct", Currency: "USD", Cost: "2.5E-03"},
	})
	require.NoError(t, err)
	require.True(t, b.Available)
	assert.Equal(t, "2026-11-01", b.From)
	assert.Equal(t, "2026-11-11", b.To)
	require.Len(t, b.Resources, 2, "ids differ only in case: one resource")
	assert.Equal(t, "$2.01", b.Resources[0].Cost.Money().String(), "1.004 + 1.004 = 2.008, rounded once")
	assert.Equal(t, "$0.00", b.Resources[1].Cost.Money().String())
	assert.Equal(t, b.Resources[0].Cost+b.Resources[1].Cost, *b.Total)

	_, err = NewBilled(from, to, []UsageRow{{ResourceID: "x", Currency: "USD", Cost: "1"}, {ResourceID: "y", Currency: "EUR", Cost: "1"}})
	assert.ErrorContains(t, err, "mixes currencies")
	_, err = NewBilled(from, to, []UsageRow{{ResourceID: "x", Cost: "a lot"}})
	assert.ErrorContains(t, err, `"a lot" is not a decimal number`)
}

func TestParseMoney(t *testing.T) {
	for in, want := range map[string]Money{"12.345678": 12_345_678, "0.0000005": 1, "1.5E-05": 15, "-0.25": -250_000, "0": 0} {
		got, err := ParseMoney(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
}

func TestAmountJSONIsAnExactDecimal(t *testing.T) {
	b, err := json.Marshal([]Amount{roundToCents(163_840_000), roundToCents(4_999), roundToCents(-1_005_000)})
	require.NoError(t, err)
	assert.Equal(t, "[163.84,0.00,-1.01]", string(b))
}

// A PremiumV2 storage's line is priced from its three meters: the detail
// names what is provisioned, the basis each meter's part.
func TestReportPricesPremiumV2FromItsMeters(t *testing.T) {
	r := NewReport(Default(), Age{}, "rg", nil, []StorageInput{
		{Name: "fast", Region: "eastus2", Tier: "PremiumV2", Redundancy: "PremiumV2_LRS", ProvisionedGiB: 1024, ProvisionedIOPS: 6000, ProvisionedMiBps: 300},
		{Name: "zoned", Region: "eastus2", Tier: "PremiumV2", Redundancy: "ZRS", ProvisionedGiB: 100, ProvisionedIOPS: 3100, ProvisionedMiBps: 110},
	}, reportNow)
	require.Len(t, r.Lines, 2)
	fast := r.Lines[0]
	assert.Equal(t, "fast", fast.Name)
	assert.Equal(t, "PremiumV2_LRS file share, 1024 GiB, 6000 IOPS, 300 MiB/s provisioned", fast.Detail)
	require.True(t, fast.Priced, fast.Basis)
	// 1024 x 0.000137 x 730 = 102.40768; 3000 x 0.000037 x 730 = 81.03; 200 x 0.000054 x 730 = 7.884
	assert.Equal(t, "$191.32", fast.Monthly.Money().String())
	assert.Contains(t, fast.Basis, "storage $102.41 + IOPS $81.03 + throughput $7.88")
	zoned := r.Lines[1]
	assert.False(t, zoned.Priced)
	assert.Contains(t, zoned.Basis, "no PremiumV2_ZRS (provisioned v2 SSD) file share price for eastus2: fetch its prices with: azlin cost prices --refresh --region eastus2")
}
