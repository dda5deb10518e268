package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/config"
	"github.com/azlin-dev/azlin/internal/cost"
	"github.com/azlin-dev/azlin/internal/costreport"
	"github.com/azlin-dev/azlin/internal/output"
)

// costOptions are `azlin cost`'s own flags.
type costOptions struct {
	By     string // vm, storage or all
	Actual bool
}

func (o costOptions) vms() bool      { return o.By != "storage" }
func (o costOptions) storages() bool { return o.By != "vm" }

// newCostCmd is `azlin cost`; runF, when not nil, replaces the run (tests of
// flag parsing).
func newCostCmd(a *app, runF func(*costOptions) error) *cobra.Command {
	var o costOptions
	cmd := &cobra.Command{
		Use:   "cost",
		Short: "Show what the resource group's azlin VMs and storage cost, with a total",
		Long: joinLines(
			"Estimate the monthly cost of every VM and azlin storage in the resource group,",
			"from azlin's price table (list prices; see azlin cost prices):",
			"",
			"  VMs        the size's hourly Linux price x 730 hours, if the VM stays in its",
			"             state; deallocated VMs cost nothing for compute. The hours billed",
			"             this month are shown as far as Azure tells: exact when the VM has",
			"             not changed state this month, else a lower bound (>= N).",
			"  Premium    the provisioned size (billed whether used or not).",
			"  Standard   the space used (as Azure last measured it).",
			"  OS disks   by the tier their type and size bill as (30 GiB Premium_LRS: P4),",
			"             and each VM's Standard public IP per hour: both billed whatever",
			"             the VM's state.",
			"  Private endpoints of the storage, per hour; the per-GB price of the data",
			"             they process is named in the basis, not added (it is traffic).",
			"",
			"Each line is rounded to the cent; the total is the sum of the lines as shown.",
			"A region the price table lacks is fetched from the Retail Prices API once",
			"(5 s at most) and cached; offline its lines say \"not priced\" and the command",
			"that fetches them. Anything without a price is never shown as zero and is",
			"left out of the total. Data transfer and disk operations are not included.",
			"",
			"Storage no VM has used for 14 days or more is named in a note, with what it",
			"costs per month and the command that cleans it up (azlin storage cleanup).",
			"",
			"--actual also reads what Azure billed the resource group this month, per",
			"resource: one Cost Management query of the group (az rest), when the account",
			"may read its cost data (a role such as Cost Management Reader). Azure's cost",
			"data lags by hours to a day.",
			"",
			"-o json prints the report as one object: resourceGroup, currency, asOf, prices,",
			"lines [{kind, name, detail, region, state, hoursThisMonth, priced, monthly,",
			"hourly, basis}], total {monthly, lines, notPriced}, notes, actual, and",
			"unusedStorage {storages, unusedFor, monthly, notPriced, command} when there is any.",
		),
		Example: joinLines(
			"  azlin cost",
			"  azlin cost --by storage -g my-rg",
			"  azlin cost --actual -o json",
			"  azlin cost prices --refresh",
		),
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(&o)
			}
			return runCost(cmd.Context(), a, &o)
		},
	}
	cmd.Flags().StringVar(&o.By, "by", "all", "what to show: vm, storage or all")
	cmd.Flags().BoolVar(&o.Actual, "actual", false, "also read what Azure billed the resource group this month")
	cmd.AddCommand(newCostPricesCmd(a, nil))
	return cmd
}

// runCost checks --by, then builds the cost report and prints it.
func runCost(ctx context.Context, a *app, o *costOptions) error {
	switch o.By {
	case "vm", "storage", "all":
	default:
		return clierr.Usagef("invalid --by %q: use vm, storage or all", o.By)
	}
	rg, err := a.ResourceGroup()
	if err != nil {
		return err
	}
	r, err := a.costReport(ctx, rg, *o, a.clock())
	if err != nil {
		return err
	}
	return printCostReport(a.Printer(), r)
}

// priceTable is the table in use (the refreshed cache, else the built-in
// one), how old it is, and where the cache lives ("" when no config folder).
func (a *app) priceTable() (*cost.Table, cost.Age, string) {
	dir, err := config.Dir()
	if err != nil {
		t, age, _ := cost.Load("")
		return t, age, ""
	}
	path := cost.CachePath(dir)
	t, age, _ := cost.Load(path) // a broken cache is in age.Warning
	return t, age, path
}

// onDemand makes t fetch a region it has no price for from the Retail
// Prices API when an estimate needs it (once, within cost.FetchTimeout),
// keeping what it fetched in the cache at path.
func (a *app) onDemand(t *cost.Table, path string) *cost.Table {
	p := a.Printer()
	t.FetchOnDemand(cost.OnDemand{CachePath: path, Fetching: func(region string) {
		p.Infof("Fetching prices for %s from %s (the price table lacks a price this estimate needs).", region, cost.BaseURL())
	}})
	return t
}

// ageText is "built-in table of 2026-11-25, 3 days old" or "cache fetched today".
func ageText(age cost.Age) string {
	s := age.String()
	if !age.FromCache {
		days := "0 days old"
		switch {
		case age.Days == 1:
			days = "1 day old"
		case age.Days > 1:
			days = strconv.Itoa(age.Days) + " days old"
		}
		s = strings.Replace(s, age.Date.Format("2006-01-02"), age.Date.Format("2006-01-02")+", "+days, 1)
	}
	return s
}

// costReport checks the az login, loads the price table (saying when it is
// stale or broken) and builds the report.
func (a *app) costReport(ctx context.Context, rg string, o costOptions, now time.Time) (*cost.Report, error) {
	c, err := a.Azure(ctx)
	if err != nil {
		return nil, err
	}
	table, age, path := a.priceTable()
	if age.Warning != "" {
		a.Printer().Warnf("%s", age.Warning)
	}
	a.onDemand(table, path)
	return costreport.Build(ctx, c, costreport.Request{ResourceGroup: rg, VMs: o.vms(), Storage: o.storages(), Actual: o.Actual,
		Prices: table, PricesAge: age, Now: now})
}

func printCostReport(p *output.Printer, r *cost.Report) error {
	p.Infof("Prices: %s (details: azlin cost prices; refresh: azlin cost prices --refresh).", ageText(ageOf(r.Prices)))
	if p.Document() {
		return p.JSON(r)
	}
	t := output.Table{Headers: []string{"KIND", "NAME", "DETAIL", "REGION", "STATE", "HOURS THIS MONTH", "MONTHLY"}}
	for _, l := range r.Lines {
		hours, monthly := "-", "not priced"
		if l.Kind == cost.KindVM {
			hours = l.Hours.String()
		}
		if l.Priced {
			monthly = l.Monthly.Money().Format(r.Currency)
		}
		state := l.State
		if state == "" {
			state = "-"
		}
		t.Rows = append(t.Rows, []string{l.Kind, l.Name, l.Detail, l.Region, state, hours, monthly})
	}
	summary := fmt.Sprintf("%d lines", r.Total.Lines)
	if r.Total.NotPriced > 0 {
		summary += fmt.Sprintf(", %d not priced", r.Total.NotPriced)
	}
	t.Rows = append(t.Rows, []string{"total", "", summary, "", "", "", r.Total.Monthly.Money().Format(r.Currency)})
	if len(r.Lines) == 0 {
		p.Infof("No azlin VMs or storage in resource group '%s'.", r.ResourceGroup)
	}
	if p.Format == output.FormatTable && p.OutIsTTY {
		if _, err := fmt.Fprintf(p.Out, "Estimated monthly cost in '%s' (%s list prices, if everything stays as it is now):\n", r.ResourceGroup, r.Currency); err != nil {
			return err
		}
	}
	if err := p.Table(t); err != nil {
		return err
	}
	for _, l := range r.Lines {
		if !l.Priced {
			p.Warnf("%s %s is %s", l.Kind, l.Name, l.Basis)
		}
	}
	for _, n := range r.Notes {
		p.Infof("Note: %s", n)
	}
	return printBilled(p, r)
}

// ageOf rebuilds the Age a report's price info describes, for ageText.
func ageOf(pi cost.PriceInfo) cost.Age {
	d, _ := time.Parse("2006-01-02", pi.Date)
	return cost.Age{FromCache: pi.FromCache, Date: d, Days: pi.AgeDays}
}

func printBilled(p *output.Printer, r *cost.Report) error {
	b := r.Actual
	if b == nil {
		return nil
	}
	if !b.Available {
		p.Warnf("No billed costs for %s to %s: %s. The estimates above stand.", b.From, b.To, b.Reason)
		return nil
	}
	cur := b.Currency
	if cur == "" {
		cur = r.Currency
	}
	t := output.Table{Headers: []string{"BILLED", "RESOURCE ID", "COST SO FAR"}}
	for _, res := range b.Resources {
		t.Rows = append(t.Rows, []string{res.Name, res.ID, res.Cost.Money().Format(cur)})
	}
	t.Rows = append(t.Rows, []string{"billed total", fmt.Sprintf("%s to %s", b.From, b.To), b.Total.Money().Format(cur)})
	if p.OutIsTTY && p.Format == output.FormatTable {
		if _, err := fmt.Fprintf(p.Out, "\nBilled by Azure from %s to %s (usage data can lag a day or more):\n", b.From, b.To); err != nil {
			return err
		}
	}
	return p.Table(t)
}
