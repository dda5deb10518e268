// Package cost holds azlin's one price table and turns it into estimates.
//
// Every price lives in data: the table embedded in the binary (prices.json,
// with its source and date) or a cache refreshed from the public Azure Retail
// Prices API. Code elsewhere never writes a price; it asks for an Estimate.
// Amounts are integers (Money, micro-units) and rounded only for display.
// A price the table does not have is reported as not priced, never as zero.
package cost

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// HoursPerMonth is Azure's convention for turning hourly prices into monthly
// ones (365 x 24 / 12 = 730); the Azure pricing calculator uses it too.
const HoursPerMonth = 730

// dateLayout is how a table's Date is written.
const dateLayout = "2006-01-02"

// Table is a set of list prices by region.
type Table struct {
	Source   string `json:"source"`   // where the prices came from
	Date     string `json:"date"`     // YYYY-MM-DD the prices were taken
	Currency string `json:"currency"` // ISO 4217 code, e.g. "USD"
	// Notes say, price by price, what was taken from where.
	Notes []string `json:"notes,omitempty"`
	// FetchedAt is set on tables fetched from the Retail Prices API.
	FetchedAt time.Time               `json:"fetched_at,omitzero"`
	Regions   map[string]RegionPrices `json:"regions"`

	builtinDate string    // Date as parsed: the date of the prices without a FetchedAt of their own
	od          *onDemand // set by FetchOnDemand
}

// RegionPrices are the prices known for one region. A missing entry means
// "not priced", never zero.
type RegionPrices struct {
	// PremiumFilesGiBMonth is Azure Files premium (provisioned v1) per
	// provisioned GiB-month, keyed by redundancy "LRS" or "ZRS".
	PremiumFilesGiBMonth map[string]Price `json:"premium_files_gib_month,omitempty"`
	// PremiumV2Files is Azure Files provisioned v2 on SSD (azlin's
	// PremiumV2 tier), keyed by redundancy "LRS" or "ZRS": three meters
	// billed by the hour on what is provisioned.
	PremiumV2Files map[string]V2Meters `json:"premium_v2_files,omitempty"`
	// BlobHotLRSGiBMonth is Blob storage standard hot LRS per used GiB-month.
	BlobHotLRSGiBMonth *Price `json:"blob_hot_lrs_gib_month,omitempty"`
	// VMHour is the Linux pay-as-you-go price per hour, keyed by VM size.
	VMHour map[string]Price `json:"vm_hour,omitempty"`
	// PrivateEndpointHour is the price of one private endpoint per hour.
	PrivateEndpointHour *Price `json:"private_endpoint_hour,omitempty"`
	// PrivateEndpointDataGB is the data processed through a private
	// endpoint per GB (first volume tier), keyed "ingress" or "egress". It
	// depends on traffic, so estimates name it and never add it in.
	PrivateEndpointDataGB map[string]Price `json:"private_endpoint_data_gb,omitempty"`
	// PublicIPHour is a Standard static IPv4 public IP (what az vm create
	// makes) per hour; billed while it exists, VM running or not.
	PublicIPHour *Price `json:"public_ip_hour,omitempty"`
	// ManagedDiskMonth is one managed disk per month, keyed by the tier the
	// API bills it as ("P4 LRS": a Premium SSD of up to 32 GiB).
	ManagedDiskMonth map[string]Price `json:"managed_disk_month,omitempty"`

	// FetchedAt is set on a region fetched from the Retail Prices API (a
	// refresh or on demand); zero for the built-in table's regions.
	FetchedAt time.Time `json:"fetched_at,omitzero"`
}

// V2Meters are the provisioned v2 SSD meters of one redundancy, per unit and
// hour as the Retail Prices API lists them (productName "Azure Files
// Provisioned v2", skuName "SSD LRS"/"SSD ZRS"): Provisioned Storage (per
// GiB), Provisioned IOPS (per IO/s) and Provisioned Throughput MiBPS (per
// MiB/s). The first IncludedIOPS and IncludedMiBps of every share are
// zero-priced: only what is provisioned above them is billed.
type V2Meters struct {
	GiBHour       Price `json:"gib_hour"`
	IOPSHour      Price `json:"iops_hour"`
	MiBpsHour     Price `json:"mibps_hour"`
	IncludedIOPS  int   `json:"included_iops"`
	IncludedMiBps int   `json:"included_mibps"`
}

//go:embed prices.json
var embedded []byte

var defaultTable = mustParseEmbedded()

func mustParseEmbedded() *Table {
	t, err := parseTable(embedded)
	if err != nil {
		panic("cost: the embedded prices.json is invalid: " + err.Error())
	}
	return t
}

// Default returns the price table shipped in the binary. Each call returns a
// fresh copy, so callers cannot change the shared one.
func Default() *Table {
	t, _ := parseTable(embedded) // checked at start-up by mustParseEmbedded
	return t
}

// DefaultRegions lists the regions of the built-in table, sorted: the regions
// worth refreshing when the user has not named others.
func DefaultRegions() []string { return defaultTable.RegionNames() }

// RegionNames lists the table's regions, sorted.
func (t *Table) RegionNames() []string {
	names := make([]string, 0, len(t.Regions))
	for r := range t.Regions {
		names = append(names, r)
	}
	slices.Sort(names)
	return names
}

// VMSizes lists every VM size priced in any region of the table, sorted.
func (t *Table) VMSizes() []string {
	var sizes []string
	for _, rp := range t.Regions {
		for s := range rp.VMHour {
			if !slices.Contains(sizes, s) {
				sizes = append(sizes, s)
			}
		}
	}
	slices.Sort(sizes)
	return sizes
}

func parseTable(b []byte) (*Table, error) {
	var t Table
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, err
	}
	if err := t.validate(); err != nil {
		return nil, err
	}
	t.builtinDate = t.Date
	return &t, nil
}

var (
	regionName   = regexp.MustCompile(`^[a-z0-9]+$`)
	currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)
)

func (t *Table) validate() error {
	switch {
	case strings.TrimSpace(t.Source) == "":
		return errors.New("price table has no source")
	case !currencyCode.MatchString(t.Currency):
		return fmt.Errorf("price table currency %q is not a currency code", t.Currency)
	case len(t.Regions) == 0:
		return errors.New("price table has no regions")
	}
	if _, err := time.Parse(dateLayout, t.Date); err != nil {
		return fmt.Errorf("price table date %q is not YYYY-MM-DD", t.Date)
	}
	for name, rp := range t.Regions {
		if !regionName.MatchString(name) {
			return fmt.Errorf("price table region %q is not an Azure region name", name)
		}
		for red := range rp.PremiumFilesGiBMonth {
			if red != "LRS" && red != "ZRS" {
				return fmt.Errorf("price table region %s: premium files redundancy %q is not LRS or ZRS", name, red)
			}
		}
		for red, m := range rp.PremiumV2Files {
			if red != "LRS" && red != "ZRS" {
				return fmt.Errorf("price table region %s: premium v2 files redundancy %q is not LRS or ZRS", name, red)
			}
			if m.IncludedIOPS < 0 || m.IncludedMiBps < 0 {
				return fmt.Errorf("price table region %s: premium v2 files %s: included IOPS or throughput is negative", name, red)
			}
		}
	}
	return nil
}

// CachePath is where the refreshed price table lives under azlin's config
// directory.
func CachePath(configDir string) string { return filepath.Join(configDir, "cache", "prices.json") }

// Age says how old the prices in use are and where they came from.
type Age struct {
	FromCache bool      // false: the built-in table
	Date      time.Time // when the prices were taken (built-in) or fetched (cache)
	Days      int       // whole days from Date to the moment Load ran
	// Warning says why an existing cache was ignored; empty when it was not.
	Warning string
}

// String reads like "built-in table of 2026-11-01" or "cache fetched 3 days ago".
func (a Age) String() string {
	var s string
	if a.FromCache {
		switch a.Days {
		case 0:
			s = "cache fetched today"
		case 1:
			s = "cache fetched 1 day ago"
		default:
			s = fmt.Sprintf("cache fetched %d days ago", a.Days)
		}
	} else {
		s = "built-in table of " + a.Date.Format(dateLayout)
	}
	if a.Warning != "" {
		s += " (" + a.Warning + ")"
	}
	return s
}

// Load returns the cached table at cachePath when it is present and valid,
// otherwise the built-in one. The returned table and Age are always usable.
// The error is non-nil only when a cache file exists but cannot be used; Age
// then carries the same reason as a warning, so a caller may just print Age.
func Load(cachePath string) (*Table, Age, error) { return LoadAt(cachePath, time.Now()) }

// LoadAt is Load with the current time given, for tests.
func LoadAt(cachePath string, now time.Time) (*Table, Age, error) {
	def := Default()
	c, err := readCache(cachePath)
	if err == nil {
		def.mergeCache(c)
		return def, Age{FromCache: true, Date: c.FetchedAt, Days: daysBetween(c.FetchedAt, now)}, nil
	}
	date, _ := time.Parse(dateLayout, def.Date)
	age := Age{Date: date, Days: daysBetween(date, now)}
	if errors.Is(err, fs.ErrNotExist) {
		return def, age, nil
	}
	age.Warning = "cache ignored: " + err.Error()
	return def, age, fmt.Errorf("price cache %s ignored: %w", cachePath, err)
}

// mergeCache lays the cache's regions over t's: a cached price replaces the
// built-in one, a price only the built-in table has stays. The table then
// carries the cache's source and date (the prices in use came from there or
// from regions the cache does not hold, whose basis says the built-in date).
func (t *Table) mergeCache(c *Table) {
	if c.Currency != t.Currency {
		*t = *c // prices in another currency cannot be mixed: the cache wins whole
		t.builtinDate = c.Date
		return
	}
	names := c.RegionNames()
	for _, name := range names {
		rp := c.Regions[name]
		if rp.FetchedAt.IsZero() {
			rp.FetchedAt = c.FetchedAt // a cache written before regions had their own date
		}
		t.Regions[name] = overlay(t.Regions[name], rp)
	}
	t.Source = fmt.Sprintf("%s (regions %s); other prices: the built-in table of %s", c.Source, strings.Join(names, ", "), t.builtinDate)
	t.Date, t.FetchedAt = c.Date, c.FetchedAt
	t.Notes = append(append([]string(nil), c.Notes...), t.Notes...)
}

func readCache(path string) (*Table, error) {
	if path == "" {
		return nil, fs.ErrNotExist
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := parseTable(b)
	if err != nil {
		return nil, err
	}
	if t.FetchedAt.IsZero() {
		return nil, errors.New("it has no fetch date")
	}
	return t, nil
}

func daysBetween(from, to time.Time) int {
	d := int(to.Sub(from).Hours() / 24)
	return max(d, 0)
}
