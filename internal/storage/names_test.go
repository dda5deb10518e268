package storage

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/nfs"
)

func TestValidateName(t *testing.T) {
	for _, good := range []string{"abc", "shared-dev", "a1-b2-c3", "x23456789012345678901234567890123456789012345678901234567890123"} {
		assert.NoError(t, ValidateName(good), good)
	}
	for bad, why := range map[string]string{
		"ab":         "3-63",
		"-abc":       "starting and ending",
		"abc-":       "starting and ending",
		"a--b":       "single hyphens",
		"Shared-Dev": `did you mean "shared-dev"`,
		"a_b":        "lowercase letters, digits",
		"a b":        "lowercase letters, digits",
		"x234567890123456789012345678901234567890123456789012345678901234": "3-63",
	} {
		err := ValidateName(bad)
		require.Error(t, err, bad)
		assert.True(t, clierr.IsUsage(err))
		assert.Contains(t, err.Error(), why, bad)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{
		"100GB": 100, "100gb": 100, "100GiB": 100, "512gib": 512, "1TB": 1024, "1tib": 1024, "2TiB": 2048, "1.5TB": 1536, " 200 GB ": 200,
	} {
		got, err := ParseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"100", "100MB", "GB", "-1GB", "0.1TB", "1.5GB", "1e3GB", "ten GB"} {
		_, err := ParseSize(bad)
		require.Error(t, err, bad)
		assert.True(t, clierr.IsUsage(err), bad)
	}
}

func TestCheckSize(t *testing.T) {
	assert.NoError(t, CheckSize(nfs.Premium, 100))
	assert.NoError(t, CheckSize(nfs.Premium, 102400))
	assert.ErrorContains(t, CheckSize(nfs.Premium, 99), "100GiB to 100TiB")
	assert.ErrorContains(t, CheckSize(nfs.Premium, 102401), "100GiB to 100TiB")
	assert.NoError(t, CheckSize(nfs.Standard, 10))
	assert.Error(t, CheckSize(nfs.Standard, 0))
}

func TestParseTierNetworkRootSquashRedundancy(t *testing.T) {
	tier, err := nfs.ParseTier("premium")
	require.NoError(t, err)
	assert.Equal(t, nfs.Premium, tier)
	tier, err = nfs.ParseTier("STANDARD")
	require.NoError(t, err)
	assert.Equal(t, nfs.Standard, tier)
	_, err = nfs.ParseTier("hot")
	assert.True(t, clierr.IsUsage(err))

	mode, err := ParseNetworkMode("service-endpoint")
	require.NoError(t, err)
	assert.Equal(t, ServiceEndpoint, mode)
	_, err = ParseNetworkMode("public")
	assert.True(t, clierr.IsUsage(err))

	rs, err := ParseRootSquash("rootsquash")
	require.NoError(t, err)
	assert.Equal(t, "RootSquash", rs)
	_, err = ParseRootSquash("squash")
	assert.True(t, clierr.IsUsage(err))

	red, err := ParseRedundancy("zrs")
	require.NoError(t, err)
	assert.Equal(t, "ZRS", red)
}

func TestAccountName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	a := AccountName(testSub, "rg", "shared-dev")
	assert.Equal(t, a, AccountName(testSub, "RG", "shared-dev"), "resource group names are case-insensitive in Azure")
	assert.Regexp(t, valid, a)
	assert.Regexp(t, `^shareddev[a-z2-7]{8}$`, a)
	assert.NotEqual(t, a, AccountName(testSub, "rg2", "shared-dev"))
	assert.NotEqual(t, a, AccountName("00000000-0000-0000-0000-000000000000", "rg", "shared-dev"))
	assert.NotEqual(t, a, AccountName(testSub, "rg", "shareddev"), "the hash is of the name as given")
	long := AccountName(testSub, "rg", "a-very-long-storage-name-that-goes-on-and-on-for-sixty-three-c")
	assert.Regexp(t, valid, long)
	assert.Len(t, long, 24)
	assert.Regexp(t, valid, AccountName(testSub, "rg", "abc"))
}

func TestFormat(t *testing.T) {
	assert.Equal(t, "100GiB", FormatGiB(100))
	assert.Equal(t, "1TiB", FormatGiB(1024))
	assert.Equal(t, "1536GiB", FormatGiB(1536))
	assert.Equal(t, "0B", FormatBytes(0))
	assert.Equal(t, "5GiB", FormatBytes(5<<30))
	assert.Equal(t, "1.5MiB", FormatBytes(3<<19))
	assert.Equal(t, "45GiB", FormatBytes(45<<30))
	assert.Equal(t, "2.1TiB", FormatBytes(2_308_974_418_330))
}
