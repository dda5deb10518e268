package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli/aztest"
)

// resizeCalls: login, the group's accounts, shared-dev's share (1 TiB, 45 GiB used).
func resizeCalls(t *testing.T, more ...aztest.Call) []aztest.Call {
	g := stGroupCalls(t)
	return append([]aztest.Call{g[0], g[1], g[3]}, more...)
}

var resizeUpdate = []string{"storage", "share-rm", "update", "-g", "rg", "--storage-account", stAcct, "-n", "shared-dev", "--quota", "2048"}

func TestStorageResizeShowsTheCostsAndNeedsYesWithoutATerminal(t *testing.T) {
	f := aztest.New(t, resizeCalls(t)...)
	_, stderr, code := runStorageCmd(t, f, "storage", "resize", "shared-dev", "--size", "2TB", "-g", "rg")
	assert.Equal(t, 2, code, stderr)
	assert.Contains(t, stderr, "Grow storage shared-dev from 1TiB to 2TiB (45GiB used)")
	assert.Contains(t, stderr, "Est. cost now:   $171.14/month (NFS share $163.84 + private endpoint $7.30)")
	assert.Contains(t, stderr, "Est. cost after: $334.98/month (NFS share $327.68 + private endpoint $7.30)")
	assert.Contains(t, stderr, "pass --yes")

	f = aztest.New(t, resizeCalls(t, aztest.Call{Argv: resizeUpdate})...)
	_, stderr, code = runStorageCmd(t, f, "storage", "resize", "shared-dev", "--size", "2TB", "-g", "rg", "--yes")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "Storage shared-dev is now 2TiB")
}

func TestStorageResizeSameSizeAndDryRun(t *testing.T) {
	f := aztest.New(t, resizeCalls(t)...)
	_, stderr, code := runStorageCmd(t, f, "storage", "resize", "shared-dev", "--size", "1TB", "-g", "rg")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "Storage shared-dev is already 1TiB: nothing to change")

	f = aztest.New(t, resizeCalls(t)...)
	out, stderr, code := runStorageCmd(t, f, "storage", "resize", "shared-dev", "--size", "2TB", "-g", "rg", "--dry-run")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out+stderr, "az storage share-rm update -g rg --storage-account "+stAcct+" -n shared-dev --quota 2048")
	assert.Contains(t, stderr, "nothing was changed")
}

func TestStorageResizeBadInputIsExit2WithoutAz(t *testing.T) {
	for _, args := range [][]string{
		{"storage", "resize", "shared-dev", "-g", "rg"},
		// Below PremiumV2's 32 GiB and above its 256 TiB: no Azure Files share has
		// those sizes. (50GB and 101TB are PremiumV2 sizes: the storage's tier,
		// read from Azure, decides; see TestStorageResizeChecksTheStoragesTier.)
		{"storage", "resize", "shared-dev", "--size", "20GB", "-g", "rg"},
		{"storage", "resize", "shared-dev", "--size", "300TB", "-g", "rg"},
		{"storage", "resize", "shared-dev", "--iops", "1000", "-g", "rg"},
		{"storage", "resize", "shared-dev", "--throughput", "20000", "-g", "rg"},
		{"storage", "resize", "shared-dev", "--iops", "0", "-g", "rg"},
		{"storage", "resize", "Bad_Name", "--size", "1TB", "-g", "rg"},
	} {
		f := aztest.New(t)
		_, stderr, code := runStorageCmd(t, f, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Empty(t, f.Calls(), "%v", args)
	}
}

// A Premium (provisioned v1) storage keeps v1's rules: 100 GiB at the least,
// and no IOPS of their own. Refused after reading it, before any change.
func TestStorageResizeChecksTheStoragesTier(t *testing.T) {
	g := stGroupCalls(t)
	for _, args := range [][]string{
		{"storage", "resize", "shared-dev", "--size", "50GB", "-g", "rg"},
		{"storage", "resize", "shared-dev", "--iops", "5000", "-g", "rg"},
	} {
		f := aztest.New(t, g[0], g[1])
		_, stderr, code := runStorageCmd(t, f, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Len(t, f.Calls(), 2, "login and the account list, nothing more")
	}
	f := aztest.New(t, g[0], g[1])
	_, stderr, _ := runStorageCmd(t, f, "storage", "resize", "shared-dev", "--size", "50GB", "-g", "rg")
	assert.Contains(t, stderr, "invalid --size 50GiB for the Premium tier: it must be 100GiB to 100TiB")
}
