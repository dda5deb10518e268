package cost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// DefaultPricesURL is the public, unauthenticated Azure Retail Prices API.
const DefaultPricesURL = "https://prices.azure.com/api/retail/prices"

// PricesURLEnv overrides DefaultPricesURL (tests point it at a local server).
const PricesURLEnv = "AZLIN_PRICES_URL"

// BaseURL is the Retail Prices API address to use: $AZLIN_PRICES_URL or the
// public one.
func BaseURL() string {
	if u := strings.TrimSpace(os.Getenv(PricesURLEnv)); u != "" {
		return u
	}
	return DefaultPricesURL
}

// Limits that keep a misbehaving server from running a refresh forever.
const (
	maxPages        = 50
	maxPageBytes    = 16 << 20
	refreshCurrency = "USD" // the API's default; the only currency Microsoft calls a retail price
)

// retailPage is one page of the API's answer.
type retailPage struct {
	BillingCurrency string       `json:"BillingCurrency"`
	Items           []retailItem `json:"Items"`
	NextPageLink    string       `json:"NextPageLink"`
	Count           int          `json:"Count"`
}

// retailItem is one price row; only the fields azlin reads.
type retailItem struct {
	CurrencyCode         string  `json:"currencyCode"`
	TierMinimumUnits     float64 `json:"tierMinimumUnits"`
	RetailPrice          Price   `json:"retailPrice"`
	ArmRegionName        string  `json:"armRegionName"`
	EffectiveStartDate   string  `json:"effectiveStartDate"`
	MeterName            string  `json:"meterName"`
	ProductName          string  `json:"productName"`
	SkuName              string  `json:"skuName"`
	ServiceName          string  `json:"serviceName"`
	UnitOfMeasure        string  `json:"unitOfMeasure"`
	Type                 string  `json:"type"`
	IsPrimaryMeterRegion bool    `json:"isPrimaryMeterRegion"`
	ArmSkuName           string  `json:"armSkuName"`
}

// Refresh fetches current list prices for regions from the Retail Prices API
// at baseURL (BaseURL() when empty) and merges them into the cache at
// cachePath atomically (temporary file, then rename; mode 0600): the regions
// fetched replace what the cache had for them, other cached regions stay.
// The meters fetched are the table's (meters), VM sizes those of the built-in
// table. On any failure nothing is written: the previous cache (or the
// built-in table) stays in use, and Load says how old it is. The table
// returned holds the fetched regions only.
func Refresh(ctx context.Context, httpClient *http.Client, baseURL string, regions []string, cachePath string) (*Table, error) {
	if len(regions) == 0 {
		return nil, errors.New("no regions to refresh")
	}
	for _, r := range regions {
		if !regionName.MatchString(r) {
			return nil, fmt.Errorf("region %q is not an Azure region name (lower-case letters and digits)", r)
		}
	}
	if cachePath == "" {
		return nil, errors.New("no cache path to write prices to")
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 2 * time.Minute}
	}
	c, err := newRetailClient(httpClient, baseURL)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	t := c.newTable(now)
	for _, region := range regions {
		rp, err := c.fetchRegion(ctx, region, meters(defaultTable.VMSizes()), now)
		if err != nil {
			return nil, err
		}
		if rp.hasPrices() {
			t.Regions[region] = rp
		}
	}
	if len(t.Regions) == 0 {
		return nil, fmt.Errorf("the Retail Prices API at %s returned no matching prices for %s; cache left unchanged",
			c.base, strings.Join(regions, ", "))
	}
	if err := t.validate(); err != nil {
		return nil, err
	}
	if err := mergeIntoCache(cachePath, t); err != nil {
		return nil, err
	}
	return t, nil
}

// newRetailClient checks baseURL ("" = BaseURL()).
func newRetailClient(httpClient *http.Client, baseURL string) (*retailClient, error) {
	if baseURL == "" {
		baseURL = BaseURL()
	}
	base, err := url.Parse(baseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("prices URL %q is not an http(s) URL", baseURL)
	}
	return &retailClient{http: httpClient, base: base}, nil
}

// newTable is an empty table of prices fetched now from the API.
func (c *retailClient) newTable(now time.Time) *Table {
	return &Table{
		Source: fmt.Sprintf("Azure Retail Prices API (%s), list prices of type Consumption in %s, fetched %s",
			c.base, refreshCurrency, now.Format(time.RFC3339)),
		Date:      now.Format(dateLayout),
		Currency:  refreshCurrency,
		FetchedAt: now,
		Notes: []string{
			"Premium Files: productName '" + premiumFilesProduct + "', skuName 'Premium LRS'/'Premium ZRS', meterName containing 'Provisioned', per GiB-month.",
			"Premium Files provisioned v2: productName '" + premiumV2Product + "', skuName 'SSD LRS'/'SSD ZRS', meters Provisioned Storage, Provisioned IOPS and Provisioned Throughput MiBPS, per unit-hour; the zero-priced first IOPS and MiB/s are each share's included amount.",
			"Blob hot LRS: productName '" + blobProduct + "', meterName '" + blobMeter + "', first volume tier, per GiB-month of used space.",
			fmt.Sprintf("VMs: Linux pay-as-you-go rows (no 'Windows', 'Spot' or 'Low Priority'), per hour; monthly = %d hours.", HoursPerMonth),
			"Private endpoint: productName '" + privateLinkProduct + "', meterName '" + privateEndpointMeter + "', per hour, and 'Standard Data Processed - Ingress'/'- Egress' per GB (a 'Global' price unless the region has its own).",
			"Public IP: productName '" + publicIPProduct + "', meterName '" + publicIPMeter + "', per hour. Managed disks: meterName '<tier> LRS Disk', per month.",
		},
		Regions: map[string]RegionPrices{},
	}
}

// fetchRegion asks the API for ms in region, one query per service, all at
// once, and keeps the prices it found, stamped with now.
func (c *retailClient) fetchRegion(ctx context.Context, region string, ms []meter, now time.Time) (RegionPrices, error) {
	qs := queries(region, ms)
	results := make([][]retailItem, len(qs))
	g, gctx := errgroup.WithContext(ctx)
	for i, q := range qs {
		g.Go(func() (err error) {
			results[i], err = c.fetch(gctx, q)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return RegionPrices{}, err
	}
	rp := regionFromItems(region, slices.Concat(results...), ms)
	if rp.hasPrices() {
		rp.FetchedAt = now
	}
	return rp, nil
}

// quote makes an OData string literal; a quote inside is doubled, as OData escapes it.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// v2Meters reads the three provisioned v2 SSD meters of one redundancy; all
// three or nothing. The API gives a meter's included amount either as a
// zero-priced first tier (tierMinimumUnits 0, the paid tier starting at the
// included amount) or as a separate zero-priced "Free" meter; in the second
// shape the included amounts are Azure's pricing page's, 3000 IOPS and 100
// MiB/s (the shape seen so far in public records).
func v2Meters(storage []retailItem, red string) (V2Meters, bool) {
	sku := "SSD " + red
	meter := func(name string, unit func(string) bool) (Price, int, bool) {
		var paid *retailItem
		for i := range storage {
			it := &storage[i]
			if it.Type != "Consumption" || it.CurrencyCode != refreshCurrency || it.ProductName != premiumV2Product ||
				it.SkuName != sku || it.MeterName != sku+" "+name || !unit(it.UnitOfMeasure) || it.RetailPrice == 0 {
				continue
			}
			if paid == nil || it.TierMinimumUnits < paid.TierMinimumUnits ||
				(it.TierMinimumUnits == paid.TierMinimumUnits && better(it, paid)) {
				paid = it
			}
		}
		if paid == nil {
			return 0, 0, false
		}
		return paid.RetailPrice, int(paid.TierMinimumUnits), true
	}
	perHour := func(u string) bool { return u == "1/Hour" || u == "1 Hour" }
	perGiBHour := func(u string) bool { return u == "1 GiB/Hour" || u == "1 GB/Hour" }
	gib, _, ok1 := meter("Provisioned Storage", perGiBHour)
	iops, freeIOPS, ok2 := meter("Provisioned IOPS", perHour)
	mibps, freeMiBps, ok3 := meter("Provisioned Throughput MiBPS", perHour)
	if !ok1 || !ok2 || !ok3 {
		return V2Meters{}, false
	}
	if freeIOPS == 0 {
		freeIOPS = v2IncludedIOPS
	}
	if freeMiBps == 0 {
		freeMiBps = v2IncludedMiBps
	}
	return V2Meters{GiBHour: gib, IOPSHour: iops, MiBpsHour: mibps, IncludedIOPS: freeIOPS, IncludedMiBps: freeMiBps}, true
}

// The IOPS and throughput every provisioned v2 SSD share has at no charge
// (the "Free" meters; the minimums of nfs's tier table), used when the API
// shows them as a meter of their own rather than as a zero-priced tier.
const (
	v2IncludedIOPS  = 3000
	v2IncludedMiBps = 100
)

// linuxOnDemand keeps the plain Linux meter of a VM size: not Windows, not
// Spot or Low Priority, not Cloud Services.
func linuxOnDemand(it retailItem) bool {
	for _, s := range []string{it.ProductName, it.MeterName, it.SkuName} {
		if strings.Contains(s, "Windows") || strings.Contains(s, "Spot") || strings.Contains(s, "Low Priority") {
			return false
		}
	}
	return strings.HasPrefix(it.ProductName, "Virtual Machines ")
}

// pick returns the price of the matching row: consumption, USD, first volume
// tier; the primary meter region and then the latest effective date win when
// several rows match.
func pick(items []retailItem, match func(retailItem) bool) (Price, bool) {
	var best *retailItem
	for i := range items {
		it := &items[i]
		if it.Type != "Consumption" || it.CurrencyCode != refreshCurrency || it.TierMinimumUnits != 0 || !match(*it) {
			continue
		}
		if best == nil || better(it, best) {
			best = it
		}
	}
	if best == nil {
		return 0, false
	}
	return best.RetailPrice, true
}

func better(a, b *retailItem) bool {
	if a.IsPrimaryMeterRegion != b.IsPrimaryMeterRegion {
		return a.IsPrimaryMeterRegion
	}
	return a.EffectiveStartDate > b.EffectiveStartDate // RFC 3339 strings sort by time
}

type retailClient struct {
	http *http.Client
	base *url.URL
}

// fetch runs one $filter query and follows NextPageLink to the last page.
func (c *retailClient) fetch(ctx context.Context, filter string) ([]retailItem, error) {
	next := c.base.String() + sep(c.base) + "$filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")
	var items []retailItem
	for page := 1; next != ""; page++ {
		if page > maxPages {
			return nil, fmt.Errorf("Retail Prices API: more than %d pages for %s", maxPages, filter)
		}
		p, err := c.page(ctx, next)
		if err != nil {
			return nil, fmt.Errorf("Retail Prices API page %d of %q: %w", page, filter, err)
		}
		items = append(items, p.Items...)
		next = ""
		if p.NextPageLink != "" {
			if next, err = followLink(p.NextPageLink, c.base); err != nil {
				return nil, err
			}
		}
	}
	return items, nil
}

// followLink checks that a NextPageLink stays on the API's own host and
// returns it ready to request (spaces in its query encoded).
func followLink(link string, base *url.URL) (string, error) {
	u, err := url.Parse(link)
	if err != nil || !sameOrigin(u, base) {
		return "", fmt.Errorf("Retail Prices API: refusing NextPageLink %q (not on %s)", link, base.Host)
	}
	u.RawQuery = strings.ReplaceAll(u.RawQuery, " ", "%20")
	return u.String(), nil
}

func sep(u *url.URL) string {
	if u.RawQuery == "" {
		return "?"
	}
	return "&"
}

// sameOrigin compares scheme, host and port; the real API writes its own
// port explicitly ("prices.azure.com:443") in NextPageLink.
func sameOrigin(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if u.Scheme == "https" {
			return "443"
		}
		return "80"
	}
	return a.Scheme == b.Scheme && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func (c *retailClient) page(ctx context.Context, u string) (*retailPage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, snippet(body))
	}
	if len(body) > maxPageBytes {
		return nil, fmt.Errorf("page larger than %d bytes", maxPageBytes)
	}
	var p retailPage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("unreadable answer: %w", err)
	}
	return &p, nil
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// writeAtomic writes t to path through a temporary file in the same folder,
// so a reader sees the old cache or the new one, never half of one.
func writeAtomic(path string, t *Table) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".prices-*.json")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
