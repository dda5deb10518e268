package storage

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/tags"
	"github.com/azlin-dev/azlin/internal/testjson"
)

var (
	argvAcctList = []string{"storage", "account", "list", "-g", "rg"}
	argvVMList   = []string{"vm", "list", "-g", "rg"}
	argvStats    = []string{"storage", "share-rm", "show", "-g", "rg", "--storage-account", testAcct, "-n", testName, "--expand", "stats"}
)

func metricsArgv(acct string) []string { return metricsArgvDays(acct, "1d") }

func metricsArgvDays(acct, offset string) []string {
	return []string{"monitor", "metrics", "list", "--resource",
		"/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/" + acct,
		"--metrics", "UsedCapacity", "--aggregation", "Average", "--interval", "1h", "--offset", offset}
}

// fileMetricsArgv is the Premium share's FileCapacity series.
func fileMetricsArgv(offset string) []string {
	return []string{"monitor", "metrics", "list", "--resource",
		"/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/" + testAcct + "/fileServices/default",
		"--metrics", "FileCapacity", "--filter", "FileShare eq '" + testName + "'", "--aggregation", "Average", "--interval", "1h", "--offset", offset}
}

// metricsBody: `az monitor metrics list` with hourly UsedCapacity averages
// (nil = no sample yet). See testdata/README.md for the shape's source.
func metricsBody(t *testing.T, acct string, averages ...any) string {
	var pts []sample
	for i, a := range averages {
		pts = append(pts, sample{"2026-01-02T0" + string(rune('0'+i)) + ":00:00+00:00", a})
	}
	return seriesBody(t, acct, pts...)
}

// sample is one point of a series body: az's timeStamp and the average.
type sample struct {
	at      string
	average any
}

// daily is a sample n days after 2026-01-01 03:00.
func daily(n int, average any) sample {
	return sample{time.Date(2026, 1, 1+n, 3, 0, 0, 0, time.UTC).Format("2006-01-02T15:04:05+00:00"), average}
}

func seriesBody(t *testing.T, acct string, pts ...sample) string {
	var data []any
	for _, p := range pts {
		data = append(data, map[string]any{"average": p.average, "count": nil, "maximum": nil, "minimum": nil, "total": nil,
			"timeStamp": p.at})
	}
	id := "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/" + acct
	return js(t, map[string]any{
		"cost": 0, "interval": "1:00:00", "namespace": "Microsoft.Storage/storageAccounts", "resourceregion": "eastus",
		"timespan": "2026-01-01T03:04:05Z/2026-01-02T03:04:05Z",
		"value": []any{map[string]any{
			"displayDescription": "The amount of storage used by the storage account.", "errorCode": "Success", "errorMessage": nil,
			"id": id + "/providers/Microsoft.Insights/metrics/UsedCapacity", "name": map[string]any{"localizedValue": "Used capacity", "value": "UsedCapacity"},
			"resourceGroup": "rg", "timeseries": []any{map[string]any{"data": data, "metadatavalues": []any{}}},
			"type": "Microsoft.Insights/metrics", "unit": "Bytes",
		}},
	})
}

// vmList is az-shapes/vm-list.json (vm, vm2) with tags per VM name.
func vmList(t *testing.T, tags map[string]map[string]any) string {
	vms := testjson.List(t, shape(t, "vm-list.json"))
	for i := range vms {
		m := testjson.Obj(t, vms, i)
		if tg, ok := tags[testjson.Str(t, m, "name")]; ok {
			m["tags"] = tg
		}
	}
	return js(t, vms)
}

// groupCalls: a group with a Premium storage (shared-dev), a Standard one
// (ml-data), and an account that is not azlin's; vm uses shared-dev.
func groupCalls(t *testing.T) []aztest.Call {
	other := obj(t, "storage-account-show.json") // "acct", no azlin tags
	return []aztest.Call{
		ok(argvAcctList, js(t, []any{standardAccount(t, "ml-data"), other, premiumAccount(t)})),
		ok(argvVMList, vmList(t, map[string]map[string]any{"vm": {tags.Storage: testName}, "vm2": {"env": "dev"}})),
	}
}

func TestListReadsTheGroupOnceAndEachStorageOnce(t *testing.T) {
	ml := AccountName(testSub, testRG, "ml-data")
	calls := append(groupCalls(t),
		ok(argvStats, js(t, premiumShare(t, 1024, 45*(int64(1)<<30)))),
		ok(metricsArgv(ml), metricsBody(t, ml, 2.0*(1<<40), 2.1*(1<<40), nil)),
	)
	f := aztest.New(t, calls...) // each call listed once: a second call for a fact fails the test
	got, err := newManager(t, f, nil).List(context.Background(), "rg")
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Len(t, f.Calls(), 4)

	assert.Equal(t, "ml-data", got[0].Name)
	assert.Equal(t, nfs.Standard, got[0].Tier)
	assert.Equal(t, 500, got[0].SizeGiB)
	require.NotNil(t, got[0].UsedBytes)
	assert.Equal(t, "2.1TiB", FormatBytes(*got[0].UsedBytes), "the latest sample that has a value")
	assert.True(t, got[0].NearlyFull, "2.1 TiB used of a 500 GiB cap")
	assert.Nil(t, got[0].Trend, "list shows no trend")
	assert.Empty(t, got[0].ConnectedVMs)
	assert.Equal(t, []string{"azlin-vnet/azlin-subnet"}, got[0].Network.VNetRules)

	assert.Equal(t, testName, got[1].Name)
	assert.Equal(t, 1024, got[1].SizeGiB, "the share's quota")
	assert.Equal(t, "45GiB", FormatBytes(*got[1].UsedBytes))
	assert.Equal(t, 4, got[1].Utilization())
	assert.False(t, got[1].NearlyFull)
	assert.Equal(t, []string{"vm"}, got[1].ConnectedVMs)
	assert.Equal(t, []string{testAcct + "-pe (Approved)"}, got[1].Network.PrivateEndpoints)
	assert.Equal(t, "$171.14", got[1].Cost.Monthly, "1 TiB at $0.16 + a private endpoint")
}

func TestListEmptyGroup(t *testing.T) {
	f := aztest.New(t, ok(argvAcctList, "[]"), ok(argvVMList, "[]"))
	got, err := newManager(t, f, nil).List(context.Background(), "rg")
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestListShowsAnUnfinishedStorageInsteadOfFailing(t *testing.T) {
	f := aztest.New(t, ok(argvAcctList, js(t, []any{premiumAccount(t)})), ok(argvVMList, "[]"),
		notFound(t, argvStats, "Microsoft.Storage/storageAccounts/"+testAcct+"/fileServices/default/shares/"+testName))
	got, err := newManager(t, f, nil).List(context.Background(), "rg")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Nil(t, got[0].UsedBytes)
	assert.Contains(t, got[0].UsageNote, "azlin storage create shared-dev -g rg")
}

func TestListErrors(t *testing.T) {
	t.Run("group missing", func(t *testing.T) {
		f := aztest.New(t, errShape(t, "storage-account-show-404-rg.json", argvAcctList, "nosuchrg", "rg"),
			errShape(t, "storage-account-show-404-rg.json", argvVMList, "nosuchrg", "rg"))
		_, err := newManager(t, f, nil).List(context.Background(), "rg")
		require.ErrorIs(t, err, azcli.ErrResourceGroupNotFound)
		assert.Contains(t, err.Error(), "resource group rg does not exist")
	})
	for _, code := range []string{"AuthorizationFailed", "TooManyRequests", "InternalServerError"} {
		t.Run("usage read "+code, func(t *testing.T) {
			f := aztest.New(t, ok(argvAcctList, js(t, []any{premiumAccount(t)})), ok(argvVMList, "[]"), azErr(argvStats, 1, code, "no"))
			_, err := newManager(t, f, nil).List(context.Background(), "rg")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "reading NFS share shared-dev")
		})
	}
}

func TestStatusUnknownNameListsTheNamesThereAre(t *testing.T) {
	f := aztest.New(t, groupCalls(t)...)
	_, err := newManager(t, f, nil).Status(context.Background(), "rg", "nope")
	var nf *NotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, "no storage named nope in resource group rg (it has: ml-data, shared-dev). Create it with: azlin storage create nope -g rg", err.Error())
}

func TestStatusPremium(t *testing.T) {
	calls := append(groupCalls(t), ok(argvStats, js(t, premiumShare(t, 1024, 45*(int64(1)<<30)))),
		ok(fileMetricsArgv("7d"), seriesBody(t, testAcct, daily(0, nil), daily(1, 30.0*(1<<30)), daily(7, 44.0*(1<<30)))))
	f := aztest.New(t, calls...)
	s, err := newManager(t, f, nil).Status(context.Background(), "rg", testName)
	require.NoError(t, err)
	assert.Len(t, f.Calls(), 4, "group (2 calls at once) + the share and its last week's series (at once)")
	assert.Equal(t, "+14GiB in 6 days; full in about 420 days at this rate", s.Trend.Text)
	assert.False(t, s.NearlyFull)
	assert.Equal(t, []string{"vm"}, s.ConnectedVMs)
	assert.Equal(t, "NoRootSquash", s.RootSquash)
	assert.Equal(t, testAcct+".file.core.windows.net:/"+testAcct+"/shared-dev", s.Endpoint)
	assert.Equal(t, "Disabled", s.Network.PublicNetworkAccess)
	assert.Equal(t, testTime, s.Created)
}

func TestStatusStandardWithoutUsageYet(t *testing.T) {
	ml := AccountName(testSub, testRG, "ml-data")
	calls := append(groupCalls(t), ok(metricsArgvDays(ml, "7d"), metricsBody(t, ml, nil)))
	f := aztest.New(t, calls...)
	s, err := newManager(t, f, nil).Status(context.Background(), "rg", "ml-data")
	require.NoError(t, err)
	assert.Len(t, f.Calls(), 3, "one metric call gives the usage and the trend")
	assert.Equal(t, "not enough data yet: Azure refreshes capacity about once a day", s.Trend.Text)
	assert.Nil(t, s.UsedBytes)
	assert.Equal(t, -1, s.Utilization())
	assert.False(t, s.Cost.Priced)
	assert.Equal(t, "not reported yet (Azure refreshes capacity daily)", s.UsageNote)
}

func TestPlanDeleteRefusesWhileVMsAreConnected(t *testing.T) {
	calls := append(groupCalls(t), ok(argvStats, js(t, premiumShare(t, 100, 0))))
	f := aztest.New(t, calls...)
	_, err := newManager(t, f, nil).PlanDelete(context.Background(), "rg", testName)
	var ce *ConnectedError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "Nothing was deleted")
	assert.Contains(t, err.Error(), "\n  azlin storage detach --vm vm -g rg")
	for _, c := range f.Calls() {
		assert.NotContains(t, strings.Join(c, " "), "delete")
	}
}

func TestDeleteRemovesEndpointThenAccount(t *testing.T) {
	calls := []aztest.Call{
		ok(argvAcctList, js(t, []any{premiumAccount(t)})),
		ok(argvVMList, vmList(t, nil)),
		ok(argvStats, js(t, premiumShare(t, 100, int64(5368709120)))),
		mutation("network", "private-endpoint", "dns-zone-group", "delete", "-g", "rg", "--endpoint-name", testAcct+"-pe", "-n", "default"),
		notFound(t, []string{"network", "private-endpoint", "delete", "-g", "rg", "-n", testAcct + "-pe"}, "Microsoft.Network/privateEndpoints/x"),
		mutation("storage", "account", "delete", "-g", "rg", "-n", testAcct, "--yes"),
	}
	f := aztest.New(t, calls...)
	m := newManager(t, f, nil)
	p, err := m.PlanDelete(context.Background(), "rg", testName)
	require.NoError(t, err)
	assert.Equal(t, []string{testAcct + "-pe"}, p.PrivateEndpoints)
	assert.Equal(t, "5GiB", FormatBytes(*p.Storage.UsedBytes))
	require.NoError(t, m.Delete(context.Background(), p, nil), "an endpoint already gone is fine")
	got := lines(f.Calls())
	assert.Equal(t, "storage account delete -g rg -n "+testAcct+" --yes", got[len(got)-1], "the account goes last")
}

func TestDeleteFailureSaysHowToFinish(t *testing.T) {
	calls := []aztest.Call{
		ok(argvAcctList, js(t, []any{premiumAccount(t)})),
		ok(argvVMList, "[]"),
		ok(argvStats, js(t, premiumShare(t, 100, 0))),
		mutation("network", "private-endpoint", "dns-zone-group", "delete", "-g", "rg", "--endpoint-name", testAcct+"-pe", "-n", "default"),
		mutation("network", "private-endpoint", "delete", "-g", "rg", "-n", testAcct+"-pe"),
		azErr([]string{"storage", "account", "delete", "-g", "rg", "-n", testAcct, "--yes"}, 1, "AuthorizationFailed", "no rights"),
	}
	m := newManager(t, aztest.New(t, calls...), nil)
	p, err := m.PlanDelete(context.Background(), "rg", testName)
	require.NoError(t, err)
	err = m.Delete(context.Background(), p, nil)
	require.ErrorIs(t, err, azcli.ErrAuthorization)
	assert.Contains(t, err.Error(), "re-run azlin storage delete shared-dev -g rg")
}

func TestDeleteUnknownName(t *testing.T) {
	f := aztest.New(t, ok(argvAcctList, "[]"), ok(argvVMList, "[]"))
	_, err := newManager(t, f, nil).PlanDelete(context.Background(), "rg", testName)
	var nf *NotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Contains(t, err.Error(), "it has none")
}
