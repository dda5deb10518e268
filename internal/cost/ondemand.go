package cost

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// This file fetches, the moment an estimate needs it, a region the table has
// no price for: one fetch of that region's meters (queries at once, a short
// timeout), merged into the cache so that no later command asks again. When
// the API cannot be reached the estimate says "not priced" and the command
// that fetches the prices.

// FetchTimeout bounds an on-demand fetch of one region: an estimate is not
// what the command is for, so it must not hold the command up long.
const FetchTimeout = 5 * time.Second

// RegionMaxAge is how long a region fetched from the API counts as current:
// a price it lacks is not asked for again before then (the API has none), and
// a price it has is used as it is. List prices change about monthly.
const RegionMaxAge = 30 * 24 * time.Hour

// OnDemand says how a table fetches the regions it lacks.
type OnDemand struct {
	BaseURL   string        // the Retail Prices API; "" = BaseURL()
	CachePath string        // where fetched regions are merged; "" = kept for this run only
	HTTP      *http.Client  // nil = a plain client
	Timeout   time.Duration // one region's whole fetch; 0 = FetchTimeout
	Now       func() time.Time
	// Fetching, when set, is told each region before it is fetched (a
	// progress line: the command waits on the network).
	Fetching func(region string)
}

type onDemand struct {
	cfg   OnDemand
	mu    sync.Mutex       // held for a lookup and its fetch: one fetch per region, estimates wait for it
	tried map[string]error // regions fetched (or failed) in this run
}

// FetchOnDemand makes t fetch, the first time an estimate needs a price t
// lacks, that region's prices from the Retail Prices API.
func (t *Table) FetchOnDemand(o OnDemand) {
	if o.Timeout <= 0 {
		o.Timeout = FetchTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{}
	}
	t.od = &onDemand{cfg: o, tried: map[string]error{}}
}

// RefreshCommand is the command that fetches a region's prices into the cache.
func RefreshCommand(region string) string {
	return "azlin cost prices --refresh --region " + region
}

// lookup finds a region's prices for an estimate that needs has. When the
// region lacks the price (or its fetched prices are older than RegionMaxAge)
// and on-demand fetching is on, the region is fetched once per run. The
// missing string, when not "", is why the price is not there (for the
// estimate's reason).
//
// sizes are VM sizes the estimate needs: a fetch asks for them beside the
// table's own (a size no table lists would otherwise never be asked for).
func (t *Table) lookup(region string, has func(RegionPrices) bool, sizes ...string) (rp RegionPrices, name string, ok bool, missing string) {
	name = NormRegion(region)
	if t.od == nil {
		rp, ok = t.Regions[name]
		return t.attribute(name, rp, has), name, ok && has(rp), t.missing(name, ok, rp, nil)
	}
	od := t.od
	od.mu.Lock()
	defer od.mu.Unlock()
	rp, ok = t.Regions[name]
	fresh := !rp.FetchedAt.IsZero() && od.cfg.Now().Sub(rp.FetchedAt) < RegionMaxAge
	stale := !rp.FetchedAt.IsZero() && !fresh
	if (ok && has(rp) && !stale) || fresh || !regionName.MatchString(name) {
		return t.attribute(name, rp, has), name, ok && has(rp), t.missing(name, ok, rp, nil)
	}
	err, tried := od.tried[name]
	if !tried {
		err = t.fetchNow(name, sizes)
		od.tried[name] = err
	}
	rp, ok = t.Regions[name]
	return t.attribute(name, rp, has), name, ok && has(rp), t.missing(name, ok, rp, err)
}

// attribute makes rp's FetchedAt say where the price an estimate needs came
// from: when it was fetched, or zero when it is the built-in table's (a
// region fetched from an API that lacks a price keeps the built-in one, and
// its basis must not claim the API for it).
func (t *Table) attribute(name string, rp RegionPrices, has func(RegionPrices) bool) RegionPrices {
	if t.fetched == nil {
		return rp // no built-in prices beneath: the region's own date says it
	}
	rp.FetchedAt = time.Time{}
	if f, ok := t.fetched[name]; ok && has(f) {
		rp.FetchedAt = f.FetchedAt
	}
	return rp
}

// missing says why region has no price: not in the table, the API had none
// when the region was fetched, or the fetch failed; always with the command
// that fetches it.
func (t *Table) missing(name string, inTable bool, rp RegionPrices, fetchErr error) string {
	fix := RefreshCommand(name)
	switch {
	case fetchErr != nil:
		return fmt.Sprintf("the Retail Prices API could not be reached for %s (%v); fetch its prices with: %s", name, fetchErr, fix)
	case !rp.FetchedAt.IsZero():
		return fmt.Sprintf("the Retail Prices API listed no such price for %s when azlin fetched it on %s; fetch again with: %s",
			name, rp.FetchedAt.UTC().Format(dateLayout), fix)
	case !inTable:
		return fmt.Sprintf("region %q is not in the price table (it has %s); fetch its prices with: %s", name, strings.Join(t.RegionNames(), ", "), fix)
	}
	return "fetch its prices with: " + fix
}

// fetchNow fetches one region into t (and the cache). Called with od.mu held.
func (t *Table) fetchNow(region string, sizes []string) error {
	od := t.od
	if od.cfg.Fetching != nil {
		od.cfg.Fetching(region)
	}
	c, err := newRetailClient(od.cfg.HTTP, od.cfg.BaseURL)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), od.cfg.Timeout)
	defer cancel()
	now := od.cfg.Now().UTC()
	asked := t.VMSizes()
	for _, s := range sizes {
		if !slices.ContainsFunc(asked, func(a string) bool { return strings.EqualFold(a, s) }) {
			asked = append(asked, s)
		}
	}
	rp, err := c.fetchRegion(ctx, region, meters(asked), now)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return fmt.Errorf("no answer within %s", od.cfg.Timeout)
		}
		return err
	}
	rp.FetchedAt = now // also when the API has no price here: do not ask again
	t.Regions[region] = overlay(t.Regions[region], rp)
	if t.fetched == nil {
		t.fetched = map[string]RegionPrices{}
	}
	t.fetched[region] = rp
	if od.cfg.CachePath == "" {
		return nil
	}
	fresh := c.newTable(now)
	fresh.Regions[region] = rp
	// The prices are in use for this run whatever happens to the cache; a
	// cache that cannot be written only means the next run fetches again.
	_ = mergeIntoCache(od.cfg.CachePath, fresh)
	return nil
}

// mergeIntoCache writes fresh's regions into the cache at path, keeping the
// cached regions fresh does not have. A broken cache is replaced.
func mergeIntoCache(path string, fresh *Table) error {
	merged := fresh
	if old, err := readCache(path); err == nil {
		merged = &Table{Source: fresh.Source, Date: fresh.Date, Currency: fresh.Currency, Notes: fresh.Notes,
			FetchedAt: fresh.FetchedAt, Regions: map[string]RegionPrices{}}
		if old.Currency == fresh.Currency {
			for name, rp := range old.Regions {
				if rp.FetchedAt.IsZero() {
					rp.FetchedAt = old.FetchedAt // written before regions had their own date
				}
				merged.Regions[name] = rp
			}
		}
		for name, rp := range fresh.Regions {
			merged.Regions[name] = rp
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		merged = fresh
	}
	return writeAtomic(path, merged)
}

// normRegion is Azure's spelling of a region: "East US" -> "eastus".
// NormRegion is a region as the Retail Prices API names it ("East US" -> "eastus").
func NormRegion(region string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(region), " ", ""))
}

// sourceOf says where a region's prices came from, for an estimate's basis.
func (t *Table) sourceOf(rp RegionPrices) string {
	if !rp.FetchedAt.IsZero() {
		return "Retail Prices API, fetched " + rp.FetchedAt.UTC().Format(dateLayout)
	}
	return "price table of " + t.builtinDate
}
