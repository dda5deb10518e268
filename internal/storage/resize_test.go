package storage

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/nfs"
)

var argvUpdate = func(quota string) []string {
	return []string{"storage", "share-rm", "update", "-g", "rg", "--storage-account", testAcct, "-n", testName, "--quota", quota}
}

func resizeReads(t *testing.T, quota int, used int64) []aztest.Call {
	return []aztest.Call{ok(argvAcctList, js(t, []any{premiumAccount(t)})), ok(argvStats, js(t, premiumShare(t, quota, used)))}
}

func TestResizeGrowsWithTheCostBeforeAndAfter(t *testing.T) {
	f := aztest.New(t, append(resizeReads(t, 100, 5*gib), mutation(argvUpdate("200")...))...)
	m := newManager(t, f, nil)
	p, err := m.PlanResize(context.Background(), "rg", testName, ResizeRequest{SizeGiB: 200})
	require.NoError(t, err)
	assert.Equal(t, 100, p.FromGiB)
	assert.Equal(t, "$23.30", p.CostBefore.Monthly, "100 GiB at $0.16 + a private endpoint")
	assert.Equal(t, "$39.30", p.CostAfter.Monthly)
	require.NoError(t, m.Resize(context.Background(), p))
	assert.Len(t, f.Calls(), 3, "no az vm list; one update")
}

func TestResizeToTheSameSizeWritesNothing(t *testing.T) {
	f := aztest.New(t, resizeReads(t, 300, 5*gib)...)
	m := newManager(t, f, nil)
	p, err := m.PlanResize(context.Background(), "rg", testName, ResizeRequest{SizeGiB: 300})
	require.NoError(t, err)
	assert.True(t, p.AlreadyThere)
	require.NoError(t, m.Resize(context.Background(), p))
	assert.Len(t, f.Calls(), 2)
}

func TestResizeNeverShrinksBelowTheUsedSpaceAndAMargin(t *testing.T) {
	assert.Equal(t, 100, SmallestSize(nfs.Premium, 0), "Premium's 100 GiB floor")
	assert.Equal(t, 221, SmallestSize(nfs.Premium, 200*gib+gib/2), "200.5 GiB + 10% = 220.55, rounded up")
	assert.Equal(t, 112, SmallestSize(nfs.Premium, 101*gib), "101 GiB + 10.1 GiB, rounded up")

	f := aztest.New(t, resizeReads(t, 500, 200*gib)...)
	_, err := newManager(t, f, nil).PlanResize(context.Background(), "rg", testName, ResizeRequest{SizeGiB: 210})
	require.Error(t, err)
	assert.True(t, clierr.IsUsage(err))
	assert.Contains(t, err.Error(), "storage shared-dev holds 200GiB: it may shrink to 220GiB at the least")
	assert.Len(t, f.Calls(), 2, "refused before any change")

	f = aztest.New(t, append(resizeReads(t, 500, 200*gib), mutation(argvUpdate("220")...))...)
	m := newManager(t, f, nil)
	p, err := m.PlanResize(context.Background(), "rg", testName, ResizeRequest{SizeGiB: 220})
	require.NoError(t, err)
	require.NoError(t, m.Resize(context.Background(), p))
}

func TestResizeExplainsAzuresDayAfterAnIncrease(t *testing.T) {
	f := aztest.New(t, append(resizeReads(t, 500, gib), azErr(argvUpdate("300"), 1, "ContainerQuotaDowngradeNotAllowed",
		"Cannot downgrade quota at this moment. Please check share properties for the next allowed quota downgrade time."))...)
	m := newManager(t, f, nil)
	p, err := m.PlanResize(context.Background(), "rg", testName, ResizeRequest{SizeGiB: 300})
	require.NoError(t, err)
	err = m.Resize(context.Background(), p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a Premium share may shrink only 24 hours after its last increase; it stays 500GiB; run azlin storage resize shared-dev --size 300GiB again later")
}

func TestResizeStandardHasNoSize(t *testing.T) {
	f := aztest.New(t, ok(argvAcctList, js(t, []any{standardAccount(t, "ml-data")})))
	_, err := newManager(t, f, nil).PlanResize(context.Background(), "rg", "ml-data", ResizeRequest{SizeGiB: 200})
	require.Error(t, err)
	assert.True(t, clierr.IsUsage(err))
	assert.Contains(t, err.Error(), "has no provisioned size")
}
