package config

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/clierr"
)

func TestResolveResourceGroupOrder(t *testing.T) {
	withConfig := &Config{DefaultResourceGroup: "from-config"}
	cases := []struct {
		name, flag, env string
		cfg             *Config
		want, source    string
	}{
		{"flag wins over all", "from-flag", "from-env", withConfig, "from-flag", SourceFlag},
		{"env wins over config", "", "from-env", withConfig, "from-env", SourceEnv},
		{"config last", "", "", withConfig, "from-config", SourceConfig},
		{"nil config is fine", "", "from-env", nil, "from-env", SourceEnv},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvResourceGroup, tc.env)
			got, src, err := ResolveResourceGroup(tc.flag, tc.cfg)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.source, src)
		})
	}
}

func TestResolveResourceGroupNoneSaysHowToSetOne(t *testing.T) {
	t.Setenv(EnvResourceGroup, "")
	_, _, err := ResolveResourceGroup("", &Config{})
	require.Error(t, err)
	assert.True(t, clierr.IsUsage(err))
	assert.Equal(t, "no resource group given: pass -g NAME, export AZLIN_RESOURCE_GROUP=NAME, or run: azlin config set default_resource_group NAME", err.Error())
}

func TestResolveResourceGroupValidatesWinnerAndNamesItsSource(t *testing.T) {
	t.Setenv(EnvResourceGroup, "bad name")
	_, _, err := ResolveResourceGroup("", &Config{DefaultResourceGroup: "fine"})
	require.Error(t, err)
	assert.True(t, clierr.IsUsage(err))
	assert.Contains(t, err.Error(), `invalid resource group name "bad name" (from AZLIN_RESOURCE_GROUP)`)
}

func TestResolveRegionOrder(t *testing.T) {
	calls := 0
	lookup := func() (string, error) { calls++; return "uksouth", nil }

	got, err := ResolveRegion("westus3", &Config{DefaultRegion: "eastus"}, lookup)
	require.NoError(t, err)
	assert.Equal(t, "westus3", got)

	got, err = ResolveRegion("", &Config{DefaultRegion: "eastus"}, lookup)
	require.NoError(t, err)
	assert.Equal(t, "eastus", got)
	assert.Equal(t, 0, calls, "the resource group is not asked when flag or config decides")

	got, err = ResolveRegion("", &Config{}, lookup)
	require.NoError(t, err)
	assert.Equal(t, "uksouth", got)
	assert.Equal(t, 1, calls)
}

func TestResolveRegionErrors(t *testing.T) {
	_, err := ResolveRegion("West US", nil, nil)
	require.Error(t, err)
	assert.True(t, clierr.IsUsage(err))
	assert.Contains(t, err.Error(), `did you mean "westus"`)

	_, err = ResolveRegion("", nil, nil)
	require.Error(t, err)
	assert.True(t, clierr.IsUsage(err))
	assert.Contains(t, err.Error(), "pass --region REGION")

	notFound := errors.New("(ResourceGroupNotFound) Resource group 'rg' could not be found.")
	_, err = ResolveRegion("", &Config{}, func() (string, error) { return "", notFound })
	require.ErrorIs(t, err, notFound)
	assert.False(t, clierr.IsUsage(err), "an az failure is not a usage error")

	_, err = ResolveRegion("", &Config{}, func() (string, error) { return "", nil })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reports no region")
}
