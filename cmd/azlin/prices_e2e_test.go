//go:build localcloud

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/localcloud/testenv"
)

// End-to-end tests of prices fetched on demand: the built-in table has no
// swedencentral; the local cloud's stand-in of the Retail Prices API has
// (test prices: Premium LRS $0.187/GiB-month; the private endpoint at the Global $0.01/hour).

func TestE2EStorageCreateInARegionMissingFromTheTableFetchesItsPrice(t *testing.T) {
	c := testenv.New(t)
	require.Equal(t, 0, c.Az("group", "create", "-n", "rg", "-l", "swedencentral").Exit)

	r := c.Azlin("storage", "create", "home", "-g", "rg", "--region", "swedencentral", "--tier", "Premium", "--size", "1TB")
	require.Equal(t, 0, r.Exit, r.Stderr)
	// 1024 x 0.187 = 191.488, from the stand-in.
	assert.Contains(t, r.Stdout, "Est. cost: $198.79/month (NFS share $191.49 + private endpoint $7.30)")
	assert.Contains(t, r.Stderr, "Fetching prices for swedencentral from "+c.Prices.URL())
	first := c.Prices.Requests()
	require.NotEmpty(t, first)
	for _, f := range first {
		assert.Contains(t, f, "swedencentral", "only the region asked for")
	}
	assert.LessOrEqual(t, len(first), 3, "one query per service: %q", first)

	// The region is in the cache now: status prices it without asking again,
	// and its basis says where the price came from.
	cache := filepath.Join(c.ConfigDir, "cache", "prices.json")
	require.FileExists(t, cache)
	r = c.Azlin("storage", "status", "home", "-g", "rg", "-o", "json")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Len(t, c.Prices.Requests(), len(first), "a cached region is not fetched again")
	var st struct {
		Cost struct {
			Monthly string `json:"monthly"`
			Items   []struct{ What, Basis string }
		} `json:"cost"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &st), r.Stdout)
	assert.Equal(t, "$198.79", st.Cost.Monthly)
	require.NotEmpty(t, st.Cost.Items)
	assert.Contains(t, st.Cost.Items[0].Basis, "x $0.187/GiB-month (Premium_LRS, swedencentral; Retail Prices API, fetched ")
	last := st.Cost.Items[len(st.Cost.Items)-1]
	assert.Contains(t, last.Basis, "plus data processed at $0.01/GB in or out (Standard Data Processed), not included")

	// cost prices lists the fetched region beside the built-in ones.
	r = c.Azlin("cost", "prices")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Contains(t, r.Stdout, "swedencentral\tPremium file share LRS (provisioned v1)\t$0.187\tGiB-month provisioned\n")
	assert.Contains(t, r.Stdout, "eastus\tPremium file share LRS (provisioned v1)\t$0.16\tGiB-month provisioned\n")
}

func TestE2EOfflineEstimateSaysNotPricedAndTheCommandThatFixesIt(t *testing.T) {
	c := testenv.New(t)
	c.Prices.SetDown(true)
	require.Equal(t, 0, c.Az("group", "create", "-n", "rg", "-l", "swedencentral").Exit)

	r := c.Azlin("storage", "create", "home", "-g", "rg", "--region", "swedencentral", "--tier", "Premium", "--size", "1TB")
	require.Equal(t, 0, r.Exit, "an estimate is not what the command is for: %s", r.Stderr)
	assert.Contains(t, r.Stdout, "Est. cost: not priced (NFS share not priced: no Premium_LRS file share price for swedencentral: "+
		"the Retail Prices API could not be reached for swedencentral")
	assert.Contains(t, r.Stdout, "fetch its prices with: azlin cost prices --refresh --region swedencentral")
	assert.NoFileExists(t, filepath.Join(c.ConfigDir, "cache", "prices.json"))

	// The command named fixes it once the API answers.
	c.Prices.SetDown(false)
	r = c.Azlin("cost", "prices", "--refresh", "--region", "swedencentral")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Contains(t, r.Stdout, "swedencentral\tPremium file share LRS (provisioned v1)\t$0.187\tGiB-month provisioned\n")
	n := len(c.Prices.Requests())
	r = c.Azlin("storage", "status", "home", "-g", "rg")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Contains(t, r.Stdout, "$198.79/month")
	assert.Len(t, c.Prices.Requests(), n, "refreshed: nothing fetched on demand")

	// A refresh of everything includes the region fetched before.
	r = c.Azlin("cost", "prices", "--refresh", "--dry-run")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Regexp(t, `Would fetch prices for [a-z0-9, ]*eastus, [a-z0-9, ]*swedencentral`, r.Stderr)
}

func TestE2ENewEstimateIncludesTheOSDiskAndPublicIP(t *testing.T) {
	c := testenv.New(t)
	require.Equal(t, 0, c.Az("group", "create", "-n", "rg", "-l", "swedencentral").Exit)
	r := c.Azlin("new", "--name", "vm1", "-g", "rg", "--region", "swedencentral", "--size", "Standard_D2s_v5", "--dry-run")
	require.Equal(t, 0, r.Exit, r.Stderr)
	out := r.Stdout + r.Stderr
	// 0.1042 x 730 = 76.066; P4 5.81; 0.0052 x 730 = 3.796.
	assert.Contains(t, out, "Cost of Standard_D2s_v5 in swedencentral: about $0.10/hour, $76.07/month if left running ($0.1042/hour x 730")
	assert.Contains(t, out, "OS disk $5.81/month (30 GiB Premium_LRS (Premium SSD), billed as tier P4 LRS at $5.81/month (swedencentral; Retail Prices API, fetched ")
	assert.Contains(t, out, "public IP $3.80/month")
	assert.Contains(t, out, "In all: about $85.67/month if left running.")
	_, err := os.Stat(filepath.Join(c.ConfigDir, "cache", "prices.json"))
	assert.NoError(t, err, "the fetched region is cached")
	for _, f := range c.Prices.Requests() {
		assert.False(t, strings.Contains(f, "eastus"), "only swedencentral was fetched: %s", f)
	}
}
