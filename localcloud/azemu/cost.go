package azemu

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/azlin-dev/azlin/localcloud/azrules"
)

// Cost commands as the current az has them.
//
// `az consumption usage list`: az 2.57 moved the command to the usage
// details API 2023-05-01, whose rows carry no usageStart, and failed on
// every row with the traceback "'usageStart'"; the fix that az 2.74 ships
// (consumption/custom.py, transform_usage_output) drops each row without
// usageStart or usageEnd, so the command now prints an empty list for any
// date range, with its preview warning. (azlin's `cost --actual` reads the
// Cost Management query below instead.)
const ruleConsumptionEmpty = "consumption-usage-empty"

func init() {
	azrules.Known[ruleConsumptionEmpty] = "az consumption usage list prints [] (az 2.74 drops every usage row: none has usageStart)"
	register("consumption usage list", consumptionUsageList)
	register("rest", restCall)
}

func consumptionUsageList(c *cmdCtx) (any, error) {
	if !azrules.On(c.env, ruleConsumptionEmpty) {
		return nil, cliError("azemu: 'az consumption usage list' is emulated only as az 2.74 has it (rule %s)", ruleConsumptionEmpty)
	}
	// The preview notice as az 2.57+ prints it for this command.
	c.warn("This command is in preview and under development. Reference and support levels: https://aka.ms/CLI_refstatus")
	return []any{}, nil
}

// dailyPrice is what one resource of a type costs per day in the local
// cloud, in USD. These are the emulator's figures, chosen to be of the
// order of Azure's list prices for azlin's defaults; they are not Azure's
// prices (so each line carries cost:allow: azlin's prices live in
// internal/cost, these only feed the emulated Cost Management). Types not
// listed cost nothing.
var dailyPrice = map[string]float64{
	"microsoft.compute/virtualmachines":       2.304,  // 0.096 an hour; cost:allow
	"microsoft.compute/disks":                 0.16,   // cost:allow
	"microsoft.storage/storageaccounts":       0.50,   // cost:allow
	"microsoft.network/publicipaddresses":     0.12,   // cost:allow
	"microsoft.network/privateendpoints":      0.24,   // cost:allow
	"microsoft.network/privatednszones":       0.0167, // cost:allow
	"microsoft.network/networkinterfaces":     0,
	"microsoft.network/virtualnetworks":       0,
	"microsoft.network/networksecuritygroups": 0,
}

// restCall answers `az rest` for the one API the emulator serves: the Cost
// Management query of a resource group ("Query - Usage", REST API
// 2023-11-01: POST {scope}/providers/Microsoft.CostManagement/query). az
// rest prints the response body; an HTTP error is "ERROR: <reason>(<body>)",
// exit 1 (azure/cli/core/util.py send_raw_request raises HTTPError, a
// CLIError).
func restCall(c *cmdCtx) (any, error) {
	u, err := url.Parse(c.inv.str("--url"))
	if err != nil || !strings.EqualFold(u.Host, "management.azure.com") {
		return nil, cliError("azemu: az rest is emulated for https://management.azure.com only, not %q", c.inv.str("--url"))
	}
	path := strings.TrimSuffix(u.Path, "/")
	const query = "/providers/microsoft.costmanagement/query"
	if !strings.HasSuffix(strings.ToLower(path), query) || !strings.EqualFold(orDefault(c.inv.str("--method"), "get"), "post") {
		return nil, cliError("azemu: az rest is emulated for POST .../providers/Microsoft.CostManagement/query only, not %s %s",
			orDefault(c.inv.str("--method"), "get"), path)
	}
	if u.Query().Get("api-version") == "" {
		return nil, httpError("Bad Request", "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
	}
	var q costQuery
	if err := json.Unmarshal([]byte(c.inv.str("--body")), &q); err != nil {
		return nil, httpError("Bad Request", "BadRequest", "Invalid query definition: "+err.Error())
	}
	unlock, err := c.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	rg, err := c.costScope(path[:len(path)-len(query)])
	if err != nil {
		return nil, err
	}
	from, to, err := q.period(now())
	if err != nil {
		return nil, err
	}
	to = minTime(to, now()) // nothing is billed ahead
	return c.costRows(rg, q, from, to)
}

// costQuery is the part of the query definition the emulator reads.
type costQuery struct {
	Type       string `json:"type"`
	Timeframe  string `json:"timeframe"`
	TimePeriod *struct {
		From time.Time `json:"from"`
		To   time.Time `json:"to"`
	} `json:"timePeriod"`
	Dataset struct {
		Granularity string `json:"granularity"`
		Aggregation map[string]struct {
			Name     string `json:"name"`
			Function string `json:"function"`
		} `json:"aggregation"`
		Grouping []struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"grouping"`
	} `json:"dataset"`
}

func httpError(reason, code, message string) *azError {
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": message}})
	return &azError{exit: 1, stderr: fmt.Sprintf("ERROR: %s(%s)\n", reason, body)}
}

// costScope checks the scope /subscriptions/{sub}/resourceGroups/{rg} and
// returns the group's name as stored.
func (c *cmdCtx) costScope(scope string) (string, error) {
	parts := strings.Split(strings.Trim(scope, "/"), "/")
	if len(parts) != 4 || !strings.EqualFold(parts[0], "subscriptions") || !strings.EqualFold(parts[2], "resourceGroups") {
		return "", cliError("azemu: the emulator answers cost queries of a resource group only, not scope %q", scope)
	}
	if !strings.EqualFold(parts[1], subscriptionID) {
		return "", httpError("Not Found", "SubscriptionNotFound", fmt.Sprintf("The subscription '%s' could not be found.", parts[1]))
	}
	g, err := c.st.get(groupID(parts[3]))
	if err != nil {
		return "", err
	}
	if g == nil {
		return "", httpError("Not Found", "ResourceGroupNotFound", fmt.Sprintf("Resource group '%s' could not be found.", parts[3]))
	}
	return str(g, "name"), nil
}

// period is the query's time range: MonthToDate (from the first of the
// month, UTC) or Custom (timePeriod).
func (q costQuery) period(t time.Time) (time.Time, time.Time, error) {
	switch strings.ToLower(q.Timeframe) {
	case "monthtodate":
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC), t, nil
	case "custom":
		if q.TimePeriod == nil {
			return time.Time{}, time.Time{}, httpError("Bad Request", "BadRequest", "Invalid query definition: timePeriod is required when timeframe is Custom.")
		}
		return q.TimePeriod.From.UTC(), q.TimePeriod.To.UTC(), nil
	}
	return time.Time{}, time.Time{}, cliError("azemu: the emulator answers timeframe MonthToDate or Custom only, not %q", q.Timeframe)
}

// costRows prices every resource of the group for the part of [from, to)
// it existed, per day (granularity Daily) or in all (None), grouped by
// ResourceId, ResourceType or not at all.
func (c *cmdCtx) costRows(rg string, q costQuery, from, to time.Time) (any, error) {
	var costCol string
	for _, a := range q.Dataset.Aggregation {
		if !strings.EqualFold(a.Function, "Sum") {
			return nil, httpError("Bad Request", "BadRequest", "Invalid query definition: aggregation function must be Sum.")
		}
		costCol = a.Name
	}
	if costCol == "" {
		costCol = "Cost"
	}
	daily := strings.EqualFold(q.Dataset.Granularity, "Daily")
	if !daily && q.Dataset.Granularity != "" && !strings.EqualFold(q.Dataset.Granularity, "None") {
		return nil, cliError("azemu: the emulator answers granularity None or Daily only, not %q", q.Dataset.Granularity)
	}
	var groupBy []string
	for _, g := range q.Dataset.Grouping {
		switch {
		case strings.EqualFold(g.Name, "ResourceId"):
			groupBy = append(groupBy, "ResourceId")
		case strings.EqualFold(g.Name, "ResourceType"):
			groupBy = append(groupBy, "ResourceType")
		default:
			return nil, cliError("azemu: the emulator groups by ResourceId or ResourceType only, not %q", g.Name)
		}
	}
	recs, err := c.st.readAll(c.st.relPath(groupID(rg)) + "/providers/*/*/*.json")
	if err != nil {
		return nil, err
	}
	type key struct {
		date  int
		group string
	}
	sums := map[key]float64{}
	groupVals := map[string][]any{}
	for _, r := range recs {
		price, ok := dailyPrice[strings.ToLower(str(r, "type"))]
		if !ok || price == 0 {
			continue
		}
		var vals []any
		for _, g := range groupBy {
			if g == "ResourceId" {
				vals = append(vals, strings.ToLower(str(r, "id")))
			} else {
				vals = append(vals, strings.ToLower(str(r, "type")))
			}
		}
		gk := fmt.Sprint(vals...)
		groupVals[gk] = vals
		start := created(r)
		if start.Before(from) {
			start = from
		}
		for day := from.Truncate(24 * time.Hour); day.Before(to); day = day.Add(24 * time.Hour) {
			lo, hi := maxTime(day, start), minTime(day.Add(24*time.Hour), to)
			if !hi.After(lo) {
				continue
			}
			k := key{group: gk}
			if daily {
				k.date = day.Year()*10000 + int(day.Month())*100 + day.Day()
			}
			sums[k] += price * hi.Sub(lo).Hours() / 24
		}
	}
	cols := []any{map[string]any{"name": costCol, "type": "Number"}}
	for _, g := range groupBy {
		cols = append(cols, map[string]any{"name": g, "type": "String"})
	}
	if daily {
		cols = append(cols, map[string]any{"name": "UsageDate", "type": "Number"})
	}
	cols = append(cols, map[string]any{"name": "Currency", "type": "String"})
	keys := make([]key, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].date != keys[j].date {
			return keys[i].date < keys[j].date
		}
		return keys[i].group < keys[j].group
	})
	rows := []any{}
	for _, k := range keys {
		row := []any{math.Round(sums[k]*1000000) / 1000000}
		row = append(row, groupVals[k.group]...)
		if daily {
			row = append(row, float64(k.date))
		}
		rows = append(rows, append(row, "USD"))
	}
	id := strings.TrimPrefix(groupID(rg), "/") + "/providers/Microsoft.CostManagement/query/" + newUUID()
	return map[string]any{
		"eTag": nil, "id": id, "location": nil, "name": id[strings.LastIndex(id, "/")+1:], "sku": nil,
		"type":       "Microsoft.CostManagement/query",
		"properties": map[string]any{"columns": cols, "nextLink": nil, "rows": rows},
	}, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
