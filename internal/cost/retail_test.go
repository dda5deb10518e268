package cost

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakePrices serves the recorded-shape pages in testdata/retail the way the
// Retail Prices API does: by $filter, with a second storage page reached
// through NextPageLink ($skip).
type fakePrices struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	filters []string // every $filter asked, in order
	// failSecondStoragePage makes the NextPageLink page answer 503.
	failSecondStoragePage bool
	// nextPageLink, when set, replaces the storage page's NextPageLink.
	nextPageLink string
}

func newFakePrices(t *testing.T) *fakePrices {
	f := &fakePrices{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakePrices) serve(w http.ResponseWriter, r *http.Request) {
	filter := r.URL.Query().Get("$filter")
	f.mu.Lock()
	f.filters = append(f.filters, filter)
	f.mu.Unlock()
	if r.URL.Path != "/api/retail/prices" {
		http.NotFound(w, r)
		return
	}
	page := ""
	switch {
	case strings.Contains(filter, "serviceName eq 'Virtual Network'"):
		page = "private-endpoint.json"
	case !strings.Contains(filter, "armRegionName eq 'westus2'"):
		_, _ = w.Write([]byte(`{"BillingCurrency":"USD","CustomerEntityId":"Default","CustomerEntityType":"Retail","Items":[],"NextPageLink":null,"Count":0}`))
		return
	case strings.Contains(filter, "serviceName eq 'Storage'") && r.URL.Query().Get("$skip") == "100":
		if f.failSecondStoragePage {
			http.Error(w, `{"Error":{"Code":"ServiceUnavailable","Message":"try later"}}`, http.StatusServiceUnavailable)
			return
		}
		page = "storage-westus2-page2.json"
	case strings.Contains(filter, "serviceName eq 'Storage'"):
		page = "storage-westus2-page1.json"
	case strings.Contains(filter, "serviceName eq 'Virtual Machines'"):
		page = "vm-westus2.json"
	default:
		http.Error(w, "unexpected filter", http.StatusBadRequest)
		return
	}
	b, err := os.ReadFile(filepath.Join("testdata", "retail", page))
	require.NoError(f.t, err)
	body := strings.ReplaceAll(string(b), "{{BASE}}", f.url())
	if f.nextPageLink != "" {
		body = strings.Replace(body, f.url()+"?$filter", f.nextPageLink+"?$filter", 1)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write([]byte(body))
}

func (f *fakePrices) url() string { return f.srv.URL + "/api/retail/prices" }

func TestRefreshFollowsNextPageLinkAndWritesTheCache(t *testing.T) {
	f := newFakePrices(t)
	cache := filepath.Join(t.TempDir(), "cache", "prices.json")

	tbl, err := Refresh(context.Background(), f.srv.Client(), f.url(), []string{"westus2", "uksouth"}, cache)
	require.NoError(t, err)

	// The storage query was paged: page 1 gave Premium Files, page 2 the blob price.
	assert.True(t, slicesHasPrefix(f.filters, "serviceName eq 'Storage' and armRegionName eq 'westus2' and priceType eq 'Consumption' and "+
		"((productName eq 'Premium Files' and (skuName eq 'Premium LRS' or skuName eq 'Premium ZRS')) or "+
		"(productName eq 'Azure Files Provisioned v2' and (skuName eq 'SSD LRS' or skuName eq 'SSD ZRS')) or "+
		"(productName eq 'General Block Blob v2 Hierarchical Namespace' and (skuName eq 'Hot LRS' and meterName eq 'Hot LRS Data Stored')) or "+
		"(productName eq 'Premium SSD Managed Disks' and (meterName eq 'P1 LRS Disk' or "), "filters: %q", f.filters)
	assert.Contains(t, f.filters, "serviceName eq 'Storage' and armRegionName eq 'westus2'") // the NextPageLink
	files := tbl.PremiumFiles("westus2", "LRS", 1024)
	require.True(t, files.Priced, files.Reason)
	assert.Equal(t, "$174.08", files.Monthly.String()) // 1024 x 0.17, not the snapshot or reservation rows
	assert.Equal(t, "$217.60", tbl.PremiumFiles("westus2", "ZRS", 1024).Monthly.String())
	// Provisioned v2 SSD: the paid meters, with the included IOPS and
	// throughput read from either shape the API gives them in.
	v2 := tbl.PremiumV2Files("westus2", "LRS", 100, 3100, 110)
	require.True(t, v2.Total.Priced, v2.Total.Reason)
	assert.Equal(t, "$10.95", v2.Storage.Monthly.String()) // 100 x 0.00015 x 730
	assert.Equal(t, "$2.92", v2.IOPS.Monthly.String())     // (3100-3000) x 0.00004 x 730, not the Free meter
	assert.Equal(t, "$0.44", v2.Throughput.Monthly.String())
	assert.Equal(t, "$14.31", v2.Total.Monthly.String())
	zrs := tbl.PremiumV2Files("westus2", "ZRS", 100, 3100, 110)
	require.True(t, zrs.Total.Priced, zrs.Total.Reason)
	assert.Equal(t, "$3.65", zrs.IOPS.Monthly.String()) // 100 above the zero-priced first tier of 3000
	assert.Equal(t, "$0.58", zrs.Throughput.Monthly.String())
	assert.Contains(t, zrs.Throughput.Basis, "110 provisioned, 100 included")
	blob := tbl.StandardBlob("westus2", 1000)
	require.True(t, blob.Priced, blob.Reason)
	assert.Equal(t, "$19.60", blob.Monthly.String()) // hierarchical-namespace meter, first tier

	// VMs: the Linux consumption row, not Windows, Spot, Low Priority or Dev/Test.
	vm := tbl.VM("westus2", "Standard_D2s_v5")
	require.True(t, vm.Priced, vm.Reason)
	assert.Equal(t, Money(99_500), vm.Hourly)
	assert.Equal(t, "$30.37", tbl.VM("westus2", "Standard_B2s").Monthly.String())
	assert.False(t, tbl.VM("westus2", "Standard_E4s_v5").Priced, "a size the API did not list stays unpriced")
	vmFilter := "serviceName eq 'Virtual Machines' and armRegionName eq 'westus2' and priceType eq 'Consumption' and (armSkuName eq 'Standard_B2ms'"
	assert.True(t, slicesHasPrefix(f.filters, vmFilter), "filters: %q", f.filters)

	// The private endpoint's Global price applies to every region asked.
	assert.Equal(t, "$7.30", tbl.PrivateEndpoint("westus2").Monthly.String())
	assert.Equal(t, "$7.30", tbl.PrivateEndpoint("uksouth").Monthly.String())
	assert.False(t, tbl.VM("uksouth", "Standard_B2s").Priced)
	assert.False(t, tbl.PremiumFiles("eastus", "LRS", 100).Priced, "regions not refreshed are not in the cache")

	// The cache is private, complete and what Load now returns.
	info, err := os.Stat(cache)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(cache), ".prices-*"))
	assert.Empty(t, leftovers, "no temporary file left behind")

	loaded, age, err := LoadAt(cache, time.Now().Add(49*time.Hour))
	require.NoError(t, err)
	assert.True(t, age.FromCache)
	assert.Equal(t, "cache fetched 2 days ago", age.String())
	assert.Contains(t, loaded.Source, "Azure Retail Prices API")
	assert.Equal(t, files.Monthly, loaded.PremiumFiles("westus2", "LRS", 1024).Monthly)
}

func slicesHasPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func TestRefreshFailingPageLeavesTheCacheAndTableUsable(t *testing.T) {
	f := newFakePrices(t)
	f.failSecondStoragePage = true
	cache := writeCache(t, validCache)
	before, err := os.ReadFile(cache)
	require.NoError(t, err)

	tbl, err := Refresh(context.Background(), f.srv.Client(), f.url(), []string{"westus2"}, cache)
	require.Error(t, err)
	assert.Nil(t, tbl)
	assert.Contains(t, err.Error(), "page 2")
	assert.Contains(t, err.Error(), "HTTP 503")

	after, err := os.ReadFile(cache)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "cache untouched")

	old, age, err := LoadAt(cache, time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, "cache fetched 7 days ago", age.String())
	assert.Equal(t, "$170.00", old.PremiumFiles("westus2", "LRS", 1000).Monthly.String())
}

func TestRefreshOfflineKeepsTheBuiltInTable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL + "/api/retail/prices"
	srv.Close() // nothing listens there any more
	cache := filepath.Join(t.TempDir(), "prices.json")

	_, err := Refresh(context.Background(), nil, base, []string{"eastus"}, cache)
	require.Error(t, err)
	_, statErr := os.Stat(cache)
	assert.True(t, os.IsNotExist(statErr), "no cache written")

	tbl, age, err := Load(cache)
	require.NoError(t, err)
	assert.Equal(t, "built-in table of "+Default().Date, age.String())
	assert.True(t, tbl.PremiumFiles("eastus", "LRS", 1024).Priced)
}

func TestRefreshRefusesANextPageLinkToAnotherHost(t *testing.T) {
	f := newFakePrices(t)
	f.nextPageLink = "https://elsewhere.example/api/retail/prices"
	cache := filepath.Join(t.TempDir(), "prices.json")
	_, err := Refresh(context.Background(), f.srv.Client(), f.url(), []string{"westus2"}, cache)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refusing NextPageLink")
	assert.NoFileExists(t, cache)
}

func TestRefreshWithNoMatchingPricesWritesNothing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"BillingCurrency":"USD","CustomerEntityId":"Default","Items":[],"NextPageLink":null,"Count":0}`))
	}))
	t.Cleanup(srv.Close)
	cache := filepath.Join(t.TempDir(), "prices.json")
	_, err := Refresh(context.Background(), srv.Client(), srv.URL, []string{"eastus"}, cache)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no matching prices")
	assert.NoFileExists(t, cache)
}

func TestRefreshChecksItsArguments(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct {
		base    string
		regions []string
		cache   string
	}{
		"no regions":      {"http://127.0.0.1:1/", nil, filepath.Join(dir, "p.json")},
		"odata injection": {"http://127.0.0.1:1/", []string{"eastus' or 1 eq 1"}, filepath.Join(dir, "p.json")},
		"upper-case":      {"http://127.0.0.1:1/", []string{"EastUS"}, filepath.Join(dir, "p.json")},
		"not http":        {"file:///etc/passwd", []string{"eastus"}, filepath.Join(dir, "p.json")},
		"no cache path":   {"http://127.0.0.1:1/", []string{"eastus"}, ""},
	} {
		_, err := Refresh(context.Background(), nil, c.base, c.regions, c.cache)
		assert.Error(t, err, name)
	}
}

func TestBaseURLCanBeOverridden(t *testing.T) {
	t.Setenv(PricesURLEnv, "")
	assert.Equal(t, "https://prices.azure.com/api/retail/prices", BaseURL())
	t.Setenv(PricesURLEnv, "http://127.0.0.1:9/prices")
	assert.Equal(t, "http://127.0.0.1:9/prices", BaseURL())
}

func TestSameOriginTreatsTheDefaultPortAsImplicit(t *testing.T) {
	base := mustURL(t, "https://prices.azure.com/api/retail/prices")
	assert.True(t, sameOrigin(mustURL(t, "https://prices.azure.com:443/api/retail/prices?$skip=100"), base))
	assert.False(t, sameOrigin(mustURL(t, "http://prices.azure.com/api/retail/prices"), base))
	assert.False(t, sameOrigin(mustURL(t, "https://prices.azure.com.evil.example/api"), base))
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

func TestFollowLinkEncodesSpacesAndStaysOnTheAPIHost(t *testing.T) {
	base := mustURL(t, "https://prices.azure.com/api/retail/prices")
	got, err := followLink("https://prices.azure.com:443/api/retail/prices?$filter=serviceName eq 'Storage'&$skip=100", base)
	require.NoError(t, err)
	assert.Equal(t, "https://prices.azure.com:443/api/retail/prices?$filter=serviceName%20eq%20'Storage'&$skip=100", got)
	_, err = followLink("https://127.0.0.2/api/retail/prices?$skip=100", base)
	assert.Error(t, err)
}
