package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/guptarohit/asciigraph"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/azlin-dev/azlin/internal/output"
	"github.com/azlin-dev/azlin/internal/storage"
)

// storageUsageOptions are `azlin storage usage`'s argument and flag.
type storageUsageOptions struct {
	Name string
	Days int
}

// newStorageUsageCmd is `azlin storage usage`; runF, when not nil, replaces
// the run (tests of flag parsing).
func newStorageUsageCmd(a *app, runF func(*storageUsageOptions) error) *cobra.Command {
	var o storageUsageOptions
	cmd := &cobra.Command{
		Use:   "usage NAME [--days 30]",
		Short: "Chart a storage's used space over the last days",
		Long: joinLines(
			"Draw the space used on a storage over the last --days days (1 to 93), as Azure",
			"Monitor measured it, and, for Premium, its provisioned size as a second line.",
			"",
			"Azure measures capacity about once a day (an hourly grain, refreshed daily), so",
			"the chart has one value a day; a storage made today has none yet. Premium reads",
			"the share's FileCapacity metric, Standard the account's UsedCapacity.",
			"",
			"On a terminal wide enough for a chart it draws one; piped or narrow it prints",
			"one row per value (date, used, size). With -o json: {storage, share, unit,",
			"points: [{time, usedBytes}], provisionedBytes} (provisionedBytes is null for",
			"Standard, which has no provisioned size).",
		),
		Example: joinLines(
			"  azlin storage usage shared-dev",
			"  azlin storage usage shared-dev --days 7",
			"  azlin storage usage shared-dev -o json | jq '.points[-1].usedBytes'",
		),
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if runF != nil {
				return runF(&o)
			}
			return runStorageUsage(cmd.Context(), a, &o)
		},
	}
	cmd.Flags().IntVar(&o.Days, "days", 30, "how many days back (1-93)")
	return cmd
}

func runStorageUsage(ctx context.Context, a *app, o *storageUsageOptions) error {
	rg, err := a.storageTarget(o.Name)
	if err != nil {
		return err
	}
	if err := storage.CheckUsageDays(o.Days); err != nil {
		return err
	}
	m, err := a.storageManager(ctx)
	if err != nil {
		return err
	}
	u, err := m.Usage(ctx, rg, o.Name, o.Days)
	if err != nil {
		return err
	}
	p := a.Printer()
	if p.Format == output.FormatJSON {
		return p.JSON(u)
	}
	if len(u.Points) == 0 {
		p.Infof("No usage values for %s yet: Azure refreshes capacity about once a day.", o.Name)
		return nil
	}
	width := 0
	if p.Format == output.FormatTable && p.OutIsTTY {
		width = terminalWidth(a.stdout)
	}
	if chart := usageChart(u, o.Days, width); chart != "" {
		_, err := fmt.Fprint(p.Out, chart)
		return err
	}
	return p.Table(usageTable(u))
}

// minChartWidth: below it a chart says less than its rows.
const minChartWidth = 40

// usageChart draws u on a terminal of width columns: used space and, for
// Premium, the provisioned size, against days. "" when it would not fit
// (width 0: not a terminal) or there is only one value to draw.
func usageChart(u *storage.UsageSeries, days, width int) string {
	if width < minChartWidth || len(u.Points) < 2 {
		return ""
	}
	unit, div := chartUnit(u)
	used := make([]float64, len(u.Points))
	for i, pt := range u.Points {
		used[i] = float64(pt.UsedBytes) / div
	}
	// The legend is ours: asciigraph's prints colour codes, also with NO_COLOR.
	series, legend := [][]float64{used}, "─ used"
	if u.ProvisionedBytes != nil {
		size := make([]float64, len(used))
		for i := range size {
			size[i] = float64(*u.ProvisionedBytes) / div
		}
		series, legend = append(series, size), legend+"   · provisioned size ("+storage.FormatBytes(*u.ProvisionedBytes)+")"
	}
	first, last := u.Points[0].Time, u.Points[len(u.Points)-1].Time
	span := last.Sub(first).Hours() / 24
	const yLabels = 14 // room asciigraph takes for the axis labels
	chart := asciigraph.PlotMany(series,
		asciigraph.Height(10),
		asciigraph.Width(width-yLabels),
		asciigraph.LowerBound(0),
		asciigraph.SeriesChars(asciigraph.DefaultCharSet, asciigraph.CreateCharSet("·")),
		asciigraph.YAxisValueFormatter(func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + " " + unit }),
		asciigraph.XAxisRange(0, span),
		asciigraph.XAxisTickCount(min(5, len(u.Points))),
		asciigraph.XAxisValueFormatter(func(d float64) string {
			return first.Add(time.Duration(d * 24 * float64(time.Hour))).Format("Jan 2")
		}),
	)
	return fmt.Sprintf("%s: space used, last %d days (%d values: Azure measures about once a day)\n%s\n%s\n",
		u.Storage, days, len(u.Points), chart, legend)
}

// chartUnit picks the unit the largest value reads best in.
func chartUnit(u *storage.UsageSeries) (string, float64) {
	var top int64
	for _, p := range u.Points {
		top = max(top, p.UsedBytes)
	}
	if u.ProvisionedBytes != nil {
		top = max(top, *u.ProvisionedBytes)
	}
	switch {
	case top >= 1<<40:
		return "TiB", 1 << 40
	case top >= 1<<30:
		return "GiB", 1 << 30
	default:
		return "MiB", 1 << 20
	}
}

// usageTable is the rows form: one row per value.
func usageTable(u *storage.UsageSeries) output.Table {
	t := output.Table{Headers: []string{"TIME", "USED"}}
	if u.ProvisionedBytes != nil {
		t.Headers = append(t.Headers, "SIZE")
	}
	for _, p := range u.Points {
		row := []string{p.Time.UTC().Format("2006-01-02 15:04Z"), storage.FormatBytes(p.UsedBytes)}
		if u.ProvisionedBytes != nil {
			row = append(row, storage.FormatBytes(*u.ProvisionedBytes))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// terminalWidth is stdout's width in columns, or $COLUMNS, or 80.
func terminalWidth(f *os.File) int {
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
		return w
	}
	if n, err := strconv.Atoi(strings.TrimSpace(os.Getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	return 80
}
