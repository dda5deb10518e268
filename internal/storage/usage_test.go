package storage

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/clierr"
)

const gib = int64(1) << 30

func TestUsageReadsTheSeriesAndTheSizeAtOnceAndNoVMs(t *testing.T) {
	calls := []aztest.Call{
		ok(argvAcctList, js(t, []any{premiumAccount(t)})),
		ok(fileMetricsArgv("30d"), seriesBody(t, testAcct, daily(0, nil), daily(1, 1.0*(1<<30)), sample{"2026-01-02T04:00:00+00:00", nil},
			daily(2, 3.0*(1<<30)))),
		ok(argvStats, js(t, premiumShare(t, 200, 3*gib))),
	}
	f := aztest.New(t, calls...)
	u, err := newManager(t, f, nil).Usage(context.Background(), "rg", testName, 30)
	require.NoError(t, err)
	assert.Len(t, f.Calls(), 3, "no az vm list: the chart shows no VMs")
	assert.Equal(t, &UsageSeries{Storage: testName, Share: testName, Unit: "bytes", Points: []UsagePoint{
		{Time: time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC), UsedBytes: gib},
		{Time: time.Date(2026, 1, 3, 3, 0, 0, 0, time.UTC), UsedBytes: 3 * gib},
	}, ProvisionedBytes: ptr(200 * gib)}, u, "the hours without a value are left out")
}

func TestUsageStandardHasNoProvisionedSize(t *testing.T) {
	ml := AccountName(testSub, testRG, "ml-data")
	f := aztest.New(t, ok(argvAcctList, js(t, []any{standardAccount(t, "ml-data")})),
		ok(metricsArgvDays(ml, "5d"), metricsBody(t, ml, nil, nil)))
	u, err := newManager(t, f, nil).Usage(context.Background(), "rg", "ml-data", 5)
	require.NoError(t, err)
	assert.Nil(t, u.ProvisionedBytes)
	assert.Equal(t, []UsagePoint{}, u.Points, "a new account: no value yet, an empty list in JSON")
}

func TestUsageDaysAreCheckedBeforeAnyCall(t *testing.T) {
	for _, d := range []int{0, -1, 94} {
		_, err := newManager(t, aztest.New(t), nil).Usage(context.Background(), "rg", testName, d)
		assert.True(t, clierr.IsUsage(err), "--days %d: %v", d, err)
	}
}

func TestTrendOf(t *testing.T) {
	day := func(n int, used int64) UsagePoint {
		return UsagePoint{Time: time.Date(2026, 1, 1+n, 3, 0, 0, 0, time.UTC), UsedBytes: used}
	}
	for _, tc := range []struct {
		name        string
		points      []UsagePoint
		provisioned *int64
		want        string
		fullIn      *int
	}{
		{"no values", nil, ptr(100 * gib), "not enough data yet: Azure refreshes capacity about once a day", nil},
		{"one value", []UsagePoint{day(3, gib)}, ptr(100 * gib), "not enough data yet: Azure refreshes capacity about once a day", nil},
		{"growing Premium", []UsagePoint{day(0, 5*gib), day(3, 10*gib), day(10, 20*gib), day(17, 32*gib)}, ptr(100 * gib),
			"+12GiB in 7 days; full in about 40 days at this rate", ptrInt(40)},
		{"growing Standard: no size to fill", []UsagePoint{day(0, gib), day(1, 2*gib)}, nil, "+1GiB in 1 day", nil},
		{"shrinking", []UsagePoint{day(0, 3*gib), day(2, gib)}, ptr(100 * gib), "-2GiB in 2 days", nil},
		{"flat", []UsagePoint{day(0, gib), day(5, gib)}, ptr(100 * gib), "no change in 5 days", nil},
		{"over the size", []UsagePoint{day(0, 90*gib), day(1, 101*gib)}, ptr(100 * gib), "+11GiB in 1 day; full now", ptrInt(0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := TrendOf(tc.points, tc.provisioned)
			assert.Equal(t, tc.want, got.Text)
			assert.Equal(t, tc.fullIn, got.FullInDays)
		})
	}
}

func ptr(n int64) *int64 { return &n }
func ptrInt(n int) *int  { return &n }
