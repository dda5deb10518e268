package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/cost"
	"github.com/azlin-dev/azlin/internal/output"
)

// costPricesOptions are `azlin cost prices`'s flags.
type costPricesOptions struct {
	Refresh bool
	Regions []string // --region, as given
}

// newCostPricesCmd is `azlin cost prices`; runF, when not nil, replaces the
// run (tests of flag parsing).
func newCostPricesCmd(a *app, runF func(*costPricesOptions) error) *cobra.Command {
	var o costPricesOptions
	cmd := &cobra.Command{
		Use:   "prices",
		Short: "Show the price table azlin estimates with, or refresh it from Azure",
		Long: joinLines(
			"Show the prices azlin uses for its estimates: where they come from, how old",
			"they are, and each region's prices. azlin ships a table in its binary; --refresh",
			"fetches current list prices from the public Azure Retail Prices API (no login",
			"needed) into a cache ($AZLIN_CONFIG_DIR/cache/prices.json, else",
			"~/.azlin/cache/prices.json) that every later command uses, laid over the",
			"built-in table: the regions fetched replace theirs, the others stay.",
			"",
			"Any command whose estimate needs a region the table has no price for fetches",
			"that region once by itself (5 s at most) into the same cache; a region fetched",
			"is not asked for again for 30 days. When the API cannot be reached the cache",
			"is left as it was, and the estimate says \"not priced\" and this command.",
			"",
			"--refresh fetches the built-in table's regions, those fetched before and your",
			"default_region;",
			"--region names others. AZLIN_PRICES_URL replaces the API's address (a mirror,",
			"or a local stand-in in tests).",
			"",
			"-o json prints {source, date, currency, fromCache, fetchedAt, ageDays,",
			"cachePath, notes, regions}.",
		),
		Example: joinLines(
			"  azlin cost prices",
			"  azlin cost prices --refresh",
			"  azlin cost prices --refresh --region westus2 --region northeurope",
		),
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(&o)
			}
			return runCostPrices(cmd.Context(), a, &o)
		},
	}
	cmd.Flags().BoolVar(&o.Refresh, "refresh", false, "fetch current prices from the Azure Retail Prices API into the cache")
	cmd.Flags().StringSliceVar(&o.Regions, "region", nil, "with --refresh: a region to fetch (repeatable; default: every region in use and default_region)")
	return cmd
}

// runCostPrices shows the price table in use, after refreshing it if asked.
func runCostPrices(ctx context.Context, a *app, o *costPricesOptions) error {
	refresh, regions := o.Refresh, o.Regions
	if !refresh && len(regions) > 0 {
		return clierr.Usagef("--region goes with --refresh")
	}
	wanted, err := refreshRegions(regions)
	if err != nil {
		return err
	}
	table, age, path := a.priceTable()
	p := a.Printer()
	if age.Warning != "" {
		p.Warnf("%s", age.Warning)
	}
	if refresh {
		if path == "" {
			return fmt.Errorf("no folder to keep the price cache in (set AZLIN_CONFIG_DIR); still using the %s", ageText(age))
		}
		if len(regions) == 0 {
			for _, r := range table.RegionNames() { // the regions fetched before, too
				wanted = appendRegion(wanted, r)
			}
			if cfg, err := a.Config(); err == nil && cfg.DefaultRegion != "" {
				wanted = appendRegion(wanted, cfg.DefaultRegion)
			}
		}
		if a.flags.dryRun {
			p.Infof("Would fetch prices for %s from %s into %s; nothing was changed.", strings.Join(wanted, ", "), cost.BaseURL(), path)
			return nil
		}
		stop := p.StartProgress("Fetching prices from " + cost.BaseURL())
		fresh, err := cost.Refresh(ctx, nil, "", wanted, path)
		if err != nil {
			stop.Fail("")
			return fmt.Errorf("refreshing prices failed: %w\nThe cache was not changed; azlin still uses the %s. Try again later: azlin cost prices --refresh",
				err, ageText(age))
		}
		stop.Done("")
		p.Successf("Prices for %d regions saved to %s.", len(fresh.Regions), path)
		table, age, _ = a.priceTable()
	}
	return printPrices(p, table, age, path)
}

// refreshRegions normalizes --region values ("West US 2" -> "westus2") and
// checks them before anything is fetched; none means the built-in regions.
func refreshRegions(flags []string) ([]string, error) {
	if len(flags) == 0 {
		return cost.DefaultRegions(), nil
	}
	var out []string
	for _, f := range flags {
		r := cost.NormRegion(f)
		if r == "" || strings.Trim(r, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return nil, clierr.Usagef("invalid --region %q: an Azure region name such as eastus or westeurope", f)
		}
		out = appendRegion(out, r)
	}
	return out, nil
}

func appendRegion(list []string, r string) []string {
	r = cost.NormRegion(r)
	if r == "" || slices.Contains(list, r) {
		return list
	}
	return append(list, r)
}

// pricesJSON is `cost prices -o json`.
type pricesJSON struct {
	Source    string                       `json:"source"`
	Date      string                       `json:"date"`
	Currency  string                       `json:"currency"`
	FromCache bool                         `json:"fromCache"`
	FetchedAt *time.Time                   `json:"fetchedAt"`
	AgeDays   int                          `json:"ageDays"`
	CachePath string                       `json:"cachePath"`
	Notes     []string                     `json:"notes"`
	Regions   map[string]cost.RegionPrices `json:"regions"`
}

func printPrices(p *output.Printer, t *cost.Table, age cost.Age, path string) error {
	p.Infof("Prices: %s", t.Source)
	p.Infof("In use: %s.", ageText(age))
	if p.Document() {
		j := pricesJSON{Source: t.Source, Date: t.Date, Currency: t.Currency, FromCache: age.FromCache, AgeDays: age.Days,
			CachePath: path, Notes: t.Notes, Regions: t.Regions}
		if j.Notes == nil {
			j.Notes = []string{}
		}
		if !t.FetchedAt.IsZero() {
			j.FetchedAt = &t.FetchedAt
		}
		return p.JSON(j)
	}
	tbl := output.Table{Headers: []string{"REGION", "ITEM", "PRICE", "UNIT"}}
	for _, r := range t.Rows() {
		tbl.Rows = append(tbl.Rows, []string{r.Region, r.Item, r.Price.Format(t.Currency), r.Unit})
	}
	return p.Table(tbl)
}
