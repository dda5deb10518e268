package azemu

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/azlin-dev/azlin/localcloud/azrules"
)

// Capacity metrics as Azure Monitor has them for a storage account.
//
// "Azure Storage monitoring data reference" (learn.microsoft.com,
// storage/common/monitor-storage-reference, and storage/files/
// storage-files-monitoring-reference): capacity metrics have the time grain
// PT1H and "are refreshed daily (up to 24 hours)". UsedCapacity is on the
// account; FileCapacity, FileCount and FileShareCount on
// <account>/fileServices/default (FileCapacity and FileCount split by the
// FileShare dimension); BlobCapacity on <account>/blobServices/default.
//
// The emulator keeps the worst case the docs allow: an account's first
// value appears 24 hours after its creation (rounded down to the hour), and
// then one value a day at that hour. Each hour of the asked timespan is a
// data point, as Azure Monitor lists every PT1H interval; hours without a
// value print their aggregates as null, as az does. A value is the bytes (or
// count) at the moment the emulator is first asked about that refresh, kept
// in the account's record, so a value stays the same for the day.
const ruleCapacityDaily = "capacity-metrics-daily"

func init() {
	azrules.Known[ruleCapacityDaily] = "capacity metrics (UsedCapacity, FileCapacity, ...) have no value in an account's first day, then one a day"
	register("monitor metrics list", metricsList)
}

// capacityRefresh is how often capacity metrics get a value.
const capacityRefresh = 24 * time.Hour

// capacityMetric is one metric of the catalogue below.
type capacityMetric struct {
	service     string // "" (the account), "fileServices" or "blobServices"
	display     string
	description string
	unit        string
	dimension   string // the dimension the emulator splits by ("" for none)
	// measure gives the value, for one dimension value ("" for all).
	measure func(c *cmdCtx, acct map[string]any, dim string) float64
}

// capacityMetrics: names, display names, descriptions and units as Azure
// Monitor's supported-metrics list for Microsoft.Storage/storageAccounts
// (and its fileServices and blobServices) gives them.
var capacityMetrics = map[string]capacityMetric{
	"UsedCapacity": {"", "Used capacity",
		"The amount of storage used by the storage account. For standard storage accounts, it's the sum of capacity used by blob, table, file, and queue. For premium storage accounts and Blob storage accounts, it is the same as BlobCapacity or FileCapacity.",
		"Bytes", "", func(c *cmdCtx, a map[string]any, _ string) float64 {
			return fileBytes(c, a, "") + blobBytes(c, a)
		}},
	"FileCapacity": {"fileServices", "File Capacity", "The amount of File storage used by the storage account.",
		"Bytes", "FileShare", fileBytes},
	"FileCount": {"fileServices", "File Count", "The number of files in the storage account.",
		"Count", "FileShare", func(c *cmdCtx, a map[string]any, share string) float64 {
			var n int
			for _, s := range accountShares(c, a, share) {
				n += dirFiles(c.st.shareDir(str(a, "name"), s))
			}
			return float64(n)
		}},
	"FileShareCount": {"fileServices", "File Share Count", "The number of file shares in the storage account.",
		"Count", "", func(c *cmdCtx, a map[string]any, _ string) float64 {
			return float64(len(accountShares(c, a, "")))
		}},
	"BlobCapacity": {"blobServices", "Blob Capacity", "The amount of storage used by the storage account's Blob service in bytes.",
		"Bytes", "", func(c *cmdCtx, a map[string]any, _ string) float64 { return blobBytes(c, a) }},
}

func fileBytes(c *cmdCtx, a map[string]any, share string) float64 {
	var n int64
	for _, s := range accountShares(c, a, share) {
		n += dirBytes(c.st.shareDir(str(a, "name"), s))
	}
	return float64(n)
}

func blobBytes(c *cmdCtx, a map[string]any) float64 {
	entries, _ := os.ReadDir(filepath.Dir(c.st.containerDir(str(a, "name"), "x")))
	var n int64
	for _, e := range entries {
		n += dirBytes(c.st.containerDir(str(a, "name"), e.Name()))
	}
	return float64(n)
}

// accountShares lists the account's share names (only share, if given and
// it exists).
func accountShares(c *cmdCtx, a map[string]any, share string) []string {
	recs, _ := c.st.list(str(a, "id") + "/fileServices/default/shares")
	var out []string
	for _, s := range recs {
		if share == "" || strings.EqualFold(share, str(s, "name")) {
			out = append(out, str(s, "name"))
		}
	}
	return out
}

// dirFiles counts the regular files under dir.
func dirFiles(dir string) int {
	var n int
	walkFiles(dir, func(os.FileInfo) { n++ })
	return n
}

var filterRe = regexp.MustCompile(`^\s*(\w+)\s+eq\s+'([^']*)'\s*$`)

// metricsList answers `az monitor metrics list --resource ID --metrics ...`.
func metricsList(c *cmdCtx) (any, error) {
	unlock, err := c.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	resource := c.inv.str("--resource")
	acctID, service := resource, ""
	for _, s := range []string{"fileServices", "blobServices"} {
		if suffix := "/" + s + "/default"; strings.HasSuffix(strings.ToLower(resource), strings.ToLower(suffix)) {
			acctID, service = resource[:len(resource)-len(suffix)], s
		}
	}
	a, err := c.st.get(acctID)
	if err != nil {
		return nil, err
	}
	if a == nil || !strings.Contains(strings.ToLower(acctID), "/microsoft.storage/storageaccounts/") {
		return nil, armError("ResourceNotFound", "The Resource '"+resource+"' was not found.")
	}
	namespace := "Microsoft.Storage/storageAccounts"
	if service != "" {
		namespace += "/" + service
	}
	dimName, dimValue, err := c.metricsFilter()
	if err != nil {
		return nil, err
	}
	end := now()
	if t := c.inv.str("--end-time"); t != "" {
		if end, err = time.Parse(time.RFC3339, t); err != nil {
			return nil, cliError("azemu: --end-time %q: %v", t, err)
		}
	}
	offset, err := parseOffset(orDefault(c.inv.str("--offset"), "1h"))
	if err != nil {
		return nil, err
	}
	// Whole hours, as the PT1H grain lists them, the current one included.
	end = end.Truncate(time.Hour)
	start := end.Add(-offset)
	aggs := c.inv.list("--aggregation")
	if len(aggs) == 0 {
		aggs = []string{"Average"} // capacity metrics' default aggregation
	}
	changed := false
	var series []any
	for _, name := range splitNames(c.inv.list("--metrics")) {
		m, ok := capacityMetrics[name]
		if !ok || m.service != service {
			return nil, armError("BadRequest", fmt.Sprintf("Failed to find metric configuration for provider: Microsoft.Storage, resource Type: %s, metric: %s, Valid metrics: %s",
				strings.TrimPrefix(namespace, "Microsoft.Storage/"), name, strings.Join(metricNames(service), ",")))
		}
		if dimName != "" && !strings.EqualFold(dimName, m.dimension) {
			return nil, cliError("azemu: the emulator splits %s by %q only, not %q", name, m.dimension, dimName)
		}
		var timeseries []any
		if dimName == "" {
			timeseries = append(timeseries, c.capacitySeries(a, name, m, "", aggs, start, end, &changed))
		} else {
			for _, share := range accountShares(c, a, strings.Trim(dimValue, "*")) {
				timeseries = append(timeseries, c.capacitySeries(a, name, m, share, aggs, start, end, &changed))
			}
		}
		if timeseries == nil {
			timeseries = []any{}
		}
		series = append(series, map[string]any{
			"displayDescription": m.description,
			"errorCode":          "Success",
			"id":                 resource + "/providers/Microsoft.Insights/metrics/" + name,
			"name":               map[string]any{"localizedValue": m.display, "value": name},
			"resourceGroup":      str(a, "resourceGroup"),
			"timeseries":         timeseries,
			"type":               "Microsoft.Insights/metrics",
			"unit":               m.unit,
		})
	}
	if changed {
		if err := c.st.put(str(a, "id"), a); err != nil {
			return nil, err
		}
	}
	if series == nil {
		series = []any{}
	}
	return map[string]any{
		"cost":           float64(0),
		"interval":       "PT1H",
		"namespace":      namespace,
		"resourceregion": str(a, "location"),
		"timespan":       start.Format("2006-01-02T15:04:05Z") + "/" + end.Format("2006-01-02T15:04:05Z"),
		"value":          series,
	}, nil
}

// metricsFilter reads `--filter "FileShare eq 'x'"` or `--dimension
// FileShare` (az turns the latter into "FileShare eq '*'").
func (c *cmdCtx) metricsFilter() (name, value string, err error) {
	if f := c.inv.str("--filter"); f != "" {
		m := filterRe.FindStringSubmatch(f)
		if m == nil {
			return "", "", cliError("azemu: the emulator reads --filter \"DIMENSION eq 'VALUE'\" only, not %q", f)
		}
		return m[1], m[2], nil
	}
	if d := c.inv.list("--dimension"); len(d) > 0 {
		return d[0], "*", nil
	}
	return "", "", nil
}

// capacitySeries is one timeseries: a point per hour from start to end, a
// value only at the refresh hours (every hour with the rule off).
func (c *cmdCtx) capacitySeries(a map[string]any, name string, m capacityMetric, dim string, aggs []string,
	start, end time.Time, changed *bool) map[string]any {
	first, every := created(a).Truncate(time.Hour).Add(capacityRefresh), capacityRefresh
	daily := azrules.On(c.env, ruleCapacityDaily)
	if !daily {
		first, every = created(a).Truncate(time.Hour), time.Hour
	}
	var data []any
	for h := start; !h.After(end); h = h.Add(time.Hour) {
		point := map[string]any{"average": nil, "count": nil, "maximum": nil, "minimum": nil, "total": nil,
			"timeStamp": h.Format("2006-01-02T15:04:05+00:00")}
		if !h.Before(first) && h.Sub(first)%every == 0 {
			v := m.measure(c, a, dim)
			if daily {
				v = snapshot(a, name+"|"+dim+"|"+h.Format(time.RFC3339), v, changed)
			}
			for _, agg := range aggs {
				if key := strings.ToLower(agg); key == "count" {
					point[key] = float64(1)
				} else {
					point[key] = v
				}
			}
		}
		data = append(data, point)
	}
	meta := []any{}
	if dim != "" {
		meta = append(meta, map[string]any{"name": map[string]any{"localizedValue": m.dimension, "value": m.dimension}, "value": dim})
	}
	if data == nil {
		data = []any{}
	}
	return map[string]any{"data": data, "metadatavalues": meta}
}

// snapshot returns the value kept for key, keeping v when there is none:
// a refresh's value does not change once it has been seen.
func snapshot(a map[string]any, key string, v float64, changed *bool) float64 {
	kept, _ := emu(a)["capacity"].(map[string]any)
	if kept == nil {
		kept = map[string]any{}
		emu(a)["capacity"] = kept
	}
	if old, ok := kept[key].(float64); ok {
		return old
	}
	kept[key] = v
	*changed = true
	return v
}

func metricNames(service string) []string {
	var out []string
	for n, m := range capacityMetrics {
		if m.service == service {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// splitNames splits --metrics values, which az also takes comma-separated.
func splitNames(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				out = append(out, n)
			}
		}
	}
	return out
}

// parseOffset reads az's --offset: a number and a unit (d, h or m), e.g. 1d.
func parseOffset(s string) (time.Duration, error) {
	units := map[byte]time.Duration{'d': 24 * time.Hour, 'h': time.Hour, 'm': time.Minute}
	if len(s) >= 2 {
		if u, ok := units[s[len(s)-1]]; ok {
			if n, err := strconv.Atoi(s[:len(s)-1]); err == nil && n > 0 {
				return time.Duration(n) * u, nil
			}
		}
	}
	return 0, cliError("azemu: --offset %q: the emulator reads a number and d, h or m (e.g. 1d)", s)
}
