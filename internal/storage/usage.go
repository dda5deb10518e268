package storage

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/nfs"
)

// Usage over time comes from Azure Monitor's capacity metrics: FileCapacity
// of the account's file service split by the FileShare dimension (Premium),
// the account's UsedCapacity (Standard: the account holds only azlin's one
// container). Azure refreshes them about once a day on an hourly grain
// (docs/azure-facts.md, capacity metrics), so a series has at most one
// value a day and hours between refreshes have none.

// MaxUsageDays is the longest series asked for: Azure Monitor keeps
// platform metrics for 93 days.
const MaxUsageDays = 93

// NearlyFullPercent is the utilization from which a storage is flagged.
const NearlyFullPercent = 90

// trendDays is the window of status's one-line trend.
const trendDays = 7

// noTrendYet is the trend with fewer than two values.
const noTrendYet = "not enough data yet: Azure refreshes capacity about once a day"

// UsagePoint is one value Azure measured.
type UsagePoint struct {
	Time      time.Time `json:"time"`
	UsedBytes int64     `json:"usedBytes"`
}

// UsageSeries is `azlin storage usage`: used space over time and, for
// Premium, the provisioned size (nil for Standard, which has none).
type UsageSeries struct {
	Storage          string       `json:"storage"`
	Share            string       `json:"share"`
	Unit             string       `json:"unit"`
	Points           []UsagePoint `json:"points"`
	ProvisionedBytes *int64       `json:"provisionedBytes"`
}

// Trend is the used space's change over the last days, in one line. With
// fewer than two values DeltaBytes and Days are 0 and Text says why.
type Trend struct {
	Text       string `json:"text"`
	DeltaBytes int64  `json:"deltaBytes"`
	Days       int    `json:"days"`
	// FullInDays: at this rate, when the share is full (Premium, growing).
	FullInDays *int `json:"fullInDays,omitempty"`
}

// CheckUsageDays validates --days before any az call.
func CheckUsageDays(days int) error {
	if days < 1 || days > MaxUsageDays {
		return clierr.Usagef("invalid --days %d: it must be 1 to %d (Azure Monitor keeps metrics for %d days)", days, MaxUsageDays, MaxUsageDays)
	}
	return nil
}

// Usage reads one storage's used space over the last days: the group's
// account list, then at once the metric series and (Premium) the share's
// provisioned size. VMs are not read: the chart does not show them.
func (m *Manager) Usage(ctx context.Context, rg, name string, days int) (*UsageSeries, error) {
	if err := CheckUsageDays(days); err != nil {
		return nil, err
	}
	s, a, err := m.lookup(ctx, rg, name, noVMs)
	if err != nil {
		return nil, err
	}
	u := &UsageSeries{Storage: name, Share: name, Unit: "bytes", Points: []UsagePoint{}}
	var g errgroup.Group
	g.Go(func() (err error) {
		u.Points, err = m.readSeries(ctx, s, a.ID, days)
		return err
	})
	if s.Tier.AzureFiles() {
		g.Go(func() error {
			_, err := m.fillUsage(ctx, s, a.ID, days)
			u.ProvisionedBytes = s.provisionedBytes()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return u, nil
}

// provisionedBytes is a Premium share's size in bytes (nil for Standard,
// which has no provisioned size, and for a missing share).
func (s *Storage) provisionedBytes() *int64 {
	if !s.Tier.AzureFiles() || s.shareMissing {
		return nil
	}
	b := int64(s.SizeGiB) << 30
	return &b
}

// noVMs is a VMReader for views that show no VMs: it saves `az vm list`.
func noVMs(context.Context) ([]GroupVM, error) { return nil, nil }

// seriesArgs is the one metric query of a storage's used space.
func seriesArgs(s *Storage, accountID string, days int) []string {
	offset := strconv.Itoa(days) + "d"
	if s.Tier.AzureFiles() {
		return []string{"monitor", "metrics", "list", "--resource", accountID + "/fileServices/default", "--metrics", "FileCapacity",
			"--filter", "FileShare eq '" + s.Name + "'", "--aggregation", "Average", "--interval", "1h", "--offset", offset}
	}
	return []string{"monitor", "metrics", "list", "--resource", accountID, "--metrics", "UsedCapacity",
		"--aggregation", "Average", "--interval", "1h", "--offset", offset}
}

// readSeries reads the values Azure has for the last days, oldest first.
func (m *Manager) readSeries(ctx context.Context, s *Storage, accountID string, days int) ([]UsagePoint, error) {
	var mt metrics
	if err := m.c.Read(ctx, &mt, seriesArgs(s, accountID, days)...); err != nil {
		return nil, fmt.Errorf("reading the used capacity of storage account %s: %w", s.Account, err)
	}
	return mt.points()
}

// TrendOf is the change between the first and last values of the last
// trendDays days; with a provisioned size and growth, when it is full.
func TrendOf(points []UsagePoint, provisionedBytes *int64) Trend {
	if len(points) == 0 {
		return Trend{Text: noTrendYet}
	}
	last := points[len(points)-1]
	first := last
	for _, p := range points {
		if !p.Time.Before(last.Time.Add(-trendDays * 24 * time.Hour)) {
			first = p
			break
		}
	}
	if !first.Time.Before(last.Time) {
		return Trend{Text: noTrendYet}
	}
	days := max(1, int(math.Round(last.Time.Sub(first.Time).Hours()/24)))
	t := Trend{DeltaBytes: last.UsedBytes - first.UsedBytes, Days: days}
	switch {
	case t.DeltaBytes == 0:
		t.Text = fmt.Sprintf("no change in %s", dayWord(days))
	case t.DeltaBytes > 0:
		t.Text = fmt.Sprintf("+%s in %s", FormatBytes(t.DeltaBytes), dayWord(days))
	default:
		t.Text = fmt.Sprintf("-%s in %s", FormatBytes(-t.DeltaBytes), dayWord(days))
	}
	if t.DeltaBytes > 0 && provisionedBytes != nil {
		left := *provisionedBytes - last.UsedBytes
		n := 0
		if left > 0 {
			n = int(math.Ceil(float64(left) / (float64(t.DeltaBytes) / float64(days))))
		}
		t.FullInDays = &n
		if n == 0 {
			t.Text += "; full now"
		} else {
			t.Text += fmt.Sprintf("; full in about %s at this rate", dayWord(n))
		}
	}
	return t
}

func dayWord(n int) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

// FullnessWarning is what attach and new say before adding a VM to a
// nearly full storage ("" when it is not).
func (s *Storage) FullnessWarning() string {
	if !s.NearlyFull {
		return ""
	}
	next := "azlin storage resize " + s.Name + " --size SIZE"
	if s.Tier == nfs.Standard {
		next = "delete files (Standard has no provisioned size; its cap is azlin's record)"
	}
	return fmt.Sprintf("storage %s is %d%% full (%s of %s): make room first: %s", s.Name, s.Utilization(),
		FormatBytes(*s.UsedBytes), FormatGiB(s.SizeGiB), next)
}
