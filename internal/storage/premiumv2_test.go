package storage

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/tags"
)

// PremiumV2 (Azure Files provisioned v2) on recorded az output: the account
// is az-shapes' storage-account-show.json with the PremiumV2_LRS SKU, the
// share its storage-share-rm-show.json with the provisioned v2 keys az 2.74
// prints (testdata/README.md).

func v2Account(t *testing.T, region string) map[string]any {
	return premiumAccount(t, func(m map[string]any) {
		m["sku"] = map[string]any{"name": "PremiumV2_LRS", "tier": "Premium"}
		m["location"] = region
		m["tags"].(map[string]any)[tags.Tier] = "PremiumV2"
	})
}

func v2Share(t *testing.T, quota, iops, mibps int, used any) map[string]any {
	s := premiumShare(t, quota, used)
	s["provisionedIops"] = iops
	s["provisionedBandwidthMibps"] = mibps
	s["includedBurstIops"] = nfs.BurstIOPS(iops)
	s["maxBurstCreditsForIops"] = (nfs.BurstIOPS(iops) - iops) * 3600
	s["nextAllowedQuotaDowngradeTime"] = "2026-01-03T03:04:05.0000000Z"
	s["nextAllowedProvisionedIopsDowngradeTime"] = "2026-01-03T04:00:00.0000000Z"
	s["nextAllowedProvisionedBandwidthDowngradeTime"] = "2026-01-02T03:04:05.0000000Z"
	return s
}

func TestCreateByDefaultIsPremiumV2WithAzuresRecommendationForTheSize(t *testing.T) {
	calls := freshPremiumCalls(t)
	for i, c := range calls {
		switch {
		case slices.Equal(c.Argv, argvCreatePremPE):
			argv := slices.Clone(argvCreatePremPE)
			argv[slices.Index(argv, "Premium_LRS")] = "PremiumV2_LRS"
			argv[slices.Index(argv, "azlin-tier=Premium")] = "azlin-tier=PremiumV2"
			calls[i] = mutation(argv...)
		case slices.Equal(c.Argv, argvShareCreate):
			calls[i] = mutation(append(slices.Clone(argvShareCreate),
				"--provisioned-iops", "3100", "--provisioned-bandwidth-mibps", "110")...)
		}
	}
	f := aztest.New(t, calls...)
	var steps []string
	// No --tier: PremiumV2 is the default (README, "Choosing a tier").
	got, err := newManager(t, f, nil).Create(context.Background(), createOpts(func(o *CreateOptions) {
		o.Progress = func(s string) { steps = append(steps, s) }
	}))
	require.NoError(t, err)
	assert.Equal(t, nfs.PremiumV2, got.Tier)
	assert.Equal(t, "NFS 4.1 (Azure Files)", got.Protocol)
	assert.True(t, got.EncryptionInTransit, "mounted like Premium: through AZNFS's TLS")
	assert.Equal(t, 3100, got.ProvisionedIOPS, "3000 + 1 x 100 GiB")
	assert.Equal(t, 110, got.ProvisionedMiBps, "100 + 0.1 x 100 GiB")
	assert.Equal(t, 10000, got.BurstIOPS)
	assert.Contains(t, steps, "Creating NFS share shared-dev (100GiB, 3100 IOPS, 110 MiB/s, NoRootSquash)")
	// eastus has no provisioned v2 price in the built-in table: said, not zero.
	require.False(t, got.Cost.Priced)
	assert.Equal(t, "NFS share", got.Cost.Items[0].What, "one reason, said once")
	assert.Contains(t, got.Cost.Items[0].Basis, "not priced: no PremiumV2_LRS (provisioned v2 SSD) file share price for eastus: "+
		"fetch its prices with: azlin cost prices --refresh --region eastus")
}

func TestCreatePremiumV2WithIOPSAndThroughputAndBadInput(t *testing.T) {
	for _, o := range []CreateOptions{
		createOpts(func(o *CreateOptions) { o.Tier, o.IOPS = nfs.PremiumV2, 2999 }),
		createOpts(func(o *CreateOptions) { o.Tier, o.MiBps = nfs.PremiumV2, 10341 }),
		createOpts(func(o *CreateOptions) { o.Tier, o.SizeGiB = nfs.PremiumV2, 31 }),
		createOpts(func(o *CreateOptions) { o.Tier, o.SizeGiB = nfs.PremiumV2, 262145 }),
		createOpts(func(o *CreateOptions) { o.Tier, o.IOPS = nfs.Premium, 5000 }),
		createOpts(func(o *CreateOptions) { o.Tier, o.MiBps = nfs.Standard, 200 }),
	} {
		f := aztest.New(t)
		_, err := newManager(t, f, nil).Create(context.Background(), o)
		require.Error(t, err, "%+v", o)
		assert.True(t, clierr.IsUsage(err), "%v", err)
		assert.Empty(t, f.Calls(), "refused before any az call: %v", err)
	}
	err := createOpts(func(o *CreateOptions) { o.Tier, o.IOPS = nfs.Premium, 5000 }).Validate()
	assert.ErrorContains(t, err, "--iops and --throughput are for the PremiumV2 tier")
	assert.NoError(t, createOpts(func(o *CreateOptions) { o.Tier, o.SizeGiB, o.IOPS, o.MiBps = nfs.PremiumV2, 32, 102400, 10340 }).Validate())
}

func TestStatusOfPremiumV2ShowsItsProvisioningAndMeters(t *testing.T) {
	f := aztest.New(t,
		ok(argvAcctList, js(t, []any{v2Account(t, "eastus2")})),
		ok(argvVMList, js(t, []any{})),
		ok(argvStats, js(t, v2Share(t, 1024, 6000, 300, 5*gib))),
		ok(fileMetricsArgv("7d"), seriesBody(t, testAcct, daily(0, 5.0*(1<<30)))),
	)
	s, err := newManager(t, f, nil).Status(context.Background(), "rg", testName)
	require.NoError(t, err)
	assert.Equal(t, nfs.PremiumV2, s.Tier)
	assert.Equal(t, 1024, s.SizeGiB)
	assert.Equal(t, 6000, s.ProvisionedIOPS)
	assert.Equal(t, 300, s.ProvisionedMiBps)
	assert.Equal(t, 18000, s.BurstIOPS)
	require.True(t, s.Cost.Priced, "%+v", s.Cost)
	var what []string
	for _, it := range s.Cost.Items {
		what = append(what, it.What+" "+it.Monthly)
	}
	// 1024 x 0.000137 x 730; (6000-3000) x 0.000037 x 730; (300-100) x 0.000054 x 730; the endpoint.
	assert.Equal(t, []string{"NFS share storage $102.41", "NFS share IOPS $81.03", "NFS share throughput $7.88", "private endpoint $7.30"}, what)
	assert.Equal(t, "$198.62", s.Cost.Monthly)
	assert.Contains(t, s.Cost.Items[1].Basis, "3000 IOPS (6000 provisioned, 3000 included)")
}

var argvUpdateV2 = []string{"storage", "share-rm", "update", "-g", "rg", "--storage-account", testAcct, "-n", testName}

func v2ResizeReads(t *testing.T, quota, iops, mibps int, used int64) []aztest.Call {
	return []aztest.Call{ok(argvAcctList, js(t, []any{v2Account(t, "eastus2")})), ok(argvStats, js(t, v2Share(t, quota, iops, mibps, used)))}
}

func TestResizePremiumV2ChangesOnlyWhatIsAskedWithTheCosts(t *testing.T) {
	f := aztest.New(t, append(v2ResizeReads(t, 1024, 4024, 203, 5*gib),
		mutation(append(slices.Clone(argvUpdateV2), "--provisioned-iops", "8000", "--provisioned-bandwidth-mibps", "150")...))...)
	m := newManager(t, f, nil)
	p, err := m.PlanResize(context.Background(), "rg", testName, ResizeRequest{IOPS: 8000, MiBps: 150})
	require.NoError(t, err)
	assert.Equal(t, Provision{SizeGiB: 1024, IOPS: 4024, MiBps: 203}, p.From)
	assert.Equal(t, Provision{SizeGiB: 1024, IOPS: 8000, MiBps: 150}, p.To)
	assert.Equal(t, []string{"IOPS"}, p.Increases())
	assert.Equal(t, []string{"throughput"}, p.Decreases())
	// before: 102.41 + 1024 x 0.02701 = 27.66 + 103 x 0.03942 = 4.06 + 7.30
	assert.Equal(t, "$141.43", p.CostBefore.Monthly)
	assert.Equal(t, "$246.73", p.CostAfter.Monthly) // 102.41 + 5000 x 0.02701 = 135.05 + 50 x 0.03942 = 1.97 + 7.30
	require.NoError(t, m.Resize(context.Background(), p))

	// The same provisioning again: nothing to do, no update.
	f = aztest.New(t, v2ResizeReads(t, 1024, 8000, 150, 5*gib)...)
	p, err = newManager(t, f, nil).PlanResize(context.Background(), "rg", testName, ResizeRequest{SizeGiB: 1024, IOPS: 8000, MiBps: 150})
	require.NoError(t, err)
	assert.True(t, p.AlreadyThere)

	// A size change keeps IOPS and throughput, and says what Azure would recommend.
	f = aztest.New(t, v2ResizeReads(t, 1024, 4024, 203, 5*gib)...)
	p, err = newManager(t, f, nil).PlanResize(context.Background(), "rg", testName, ResizeRequest{SizeGiB: 40})
	require.NoError(t, err, "40 GiB is within PremiumV2's 32 GiB floor and above the used 5 GiB + 10%")
	assert.Equal(t, Provision{SizeGiB: 40, IOPS: 4024, MiBps: 203}, p.To)
	assert.Equal(t, Provision{SizeGiB: 40, IOPS: 3040, MiBps: 104}, p.Recommended)
}

func TestResizePremiumV2DecreaseTooSoonSaysAzuresRule(t *testing.T) {
	update := append(slices.Clone(argvUpdateV2), "--provisioned-iops", "3000")
	f := aztest.New(t, append(v2ResizeReads(t, 1024, 6000, 300, gib), azErr(update, 1, "ContainerQuotaDowngradeNotAllowed",
		"Cannot downgrade quota at this moment. Please check share properties for the next allowed quota downgrade time."))...)
	m := newManager(t, f, nil)
	p, err := m.PlanResize(context.Background(), "rg", testName, ResizeRequest{IOPS: 3000})
	require.NoError(t, err)
	err = m.Resize(context.Background(), p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Azure refused to decrease the IOPS of storage shared-dev now: a PremiumV2 share's size, IOPS and throughput "+
		"may each grow at any time, but shrink only 24 hours after that quantity's last increase (the share says: not before 2026-01-03T04:00:00.0000000Z); "+
		"it stays 1TiB, 6000 IOPS, 300 MiB/s; run azlin storage resize shared-dev --iops 3000 again later")
}

func TestResizeRefusesWhatTheTierDoesNotHave(t *testing.T) {
	// Premium (v1): IOPS follow the size.
	f := aztest.New(t, ok(argvAcctList, js(t, []any{premiumAccount(t)})))
	_, err := newManager(t, f, nil).PlanResize(context.Background(), "rg", testName, ResizeRequest{IOPS: 5000})
	require.Error(t, err)
	assert.True(t, clierr.IsUsage(err))
	assert.Contains(t, err.Error(), "--iops and --throughput are for the PremiumV2 tier")
	// Premium's floor is 100 GiB even though PremiumV2's is 32.
	f = aztest.New(t, ok(argvAcctList, js(t, []any{premiumAccount(t)})))
	_, err = newManager(t, f, nil).PlanResize(context.Background(), "rg", testName, ResizeRequest{SizeGiB: 50})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid --size 50GiB for the Premium tier: it must be 100GiB to 100TiB")
	// Nothing asked, or out of every tier's range: before any az call.
	for _, r := range []ResizeRequest{{}, {SizeGiB: 31}, {SizeGiB: 262145}, {IOPS: 200000}, {MiBps: 99}} {
		f := aztest.New(t)
		_, err := newManager(t, f, nil).PlanResize(context.Background(), "rg", testName, r)
		require.Error(t, err, "%+v", r)
		assert.True(t, clierr.IsUsage(err))
		assert.Empty(t, f.Calls())
	}
}
