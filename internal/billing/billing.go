// Package billing reads from Azure what the cost report needs and the VM and
// storage managers do not: when each VM's power last changed (its instance
// view) and what Azure billed the resource group (Cost Management).
//
// It talks to Azure only through AZ (an *azcli.Client) and never prints.
package billing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/cost"
)

// AZ is what billing needs of azcli.Client.
type AZ interface {
	Read(ctx context.Context, out any, args ...string) error
}

// VMID is the ARM id of a VM.
func VMID(subscription, rg, name string) string {
	return "/subscriptions/" + subscription + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachines/" + name
}

// instanceView is the part of `az vm get-instance-view` azlin reads: the VM
// object with its instanceView (statuses: ProvisioningState/... with the
// time the last operation completed, PowerState/... without a time).
type instanceView struct {
	Name         string `json:"name"`
	InstanceView *struct {
		Statuses []struct {
			Code string `json:"code"`
			Time string `json:"time"`
		} `json:"statuses"`
	} `json:"instanceView"`
}

// LastChanges reads, in one `az vm get-instance-view --ids ...` call for all
// of them, when each VM's last operation completed. A VM az gives no time
// for is left out of the map.
func LastChanges(ctx context.Context, az AZ, subscription, rg string, names []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if len(names) == 0 {
		return out, nil
	}
	args := []string{"vm", "get-instance-view", "--ids"}
	for _, n := range names {
		args = append(args, VMID(subscription, rg, n))
	}
	var raw json.RawMessage
	if err := az.Read(ctx, &raw, args...); err != nil {
		return nil, err
	}
	// az prints one object for one id and a list for several.
	var views []instanceView
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
		var v instanceView
		if err := json.Unmarshal(t, &v); err != nil {
			return nil, fmt.Errorf("reading az vm get-instance-view's output: %w", err)
		}
		views = []instanceView{v}
	} else if err := json.Unmarshal(raw, &views); err != nil {
		return nil, fmt.Errorf("reading az vm get-instance-view's output: %w", err)
	}
	for _, v := range views {
		if v.InstanceView == nil {
			continue
		}
		for _, s := range v.InstanceView.Statuses {
			if !strings.HasPrefix(s.Code, "ProvisioningState/") || s.Time == "" {
				continue
			}
			if t, err := time.Parse(time.RFC3339Nano, s.Time); err == nil {
				out[v.Name] = t.UTC()
			}
		}
	}
	return out, nil
}

// costQuery is azlin's Cost Management query: what the resource group cost
// this month so far, summed per resource (REST "Query - Usage", api-version
// 2023-11-01). ActualCost is what the invoice shows; PreTaxCost is the cost
// column the API's examples aggregate. It goes to az as one argument: it
// holds no blanks and none of cmd.exe's metacharacters, so it passes through
// az.cmd on Windows unchanged.
const costQuery = `{"type":"ActualCost","timeframe":"MonthToDate","dataset":{"granularity":"None",` +
	`"aggregation":{"totalCost":{"name":"PreTaxCost","function":"Sum"}},` +
	`"grouping":[{"type":"Dimension","name":"ResourceId"}]}}`

// queryURL is the Cost Management query of one resource group: its scope
// alone, so Azure does not page the whole subscription's usage.
func queryURL(subscription, rg string) string {
	return "https://management.azure.com/subscriptions/" + subscription + "/resourceGroups/" + rg +
		"/providers/Microsoft.CostManagement/query?api-version=2023-11-01"
}

// maxPages bounds the nextLink chain: a resource group's per-resource sums
// fit in one page (1000 rows) unless it holds thousands of resources.
const maxPages = 20

// queryResult is what `az rest` prints for the query: the response body,
// columns [{name, type}] and rows in column order, nextLink when more rows
// follow (POSTed again with the same body).
type queryResult struct {
	Properties struct {
		NextLink *string `json:"nextLink"`
		Columns  []struct {
			Name string `json:"name"`
		} `json:"columns"`
		Rows [][]json.RawMessage `json:"rows"`
	} `json:"properties"`
}

// Billed reads what Azure billed the resource group from the first of the
// month to now, with one Cost Management query of the group (`az rest`, one
// call per page). When Azure refuses (no access to cost data, an offer type
// without it, a failing az), the result is not an error but a Billed that
// says so; only a cancelled context is an error.
func Billed(ctx context.Context, az AZ, subscription, rg string, from, to time.Time) (*cost.Billed, error) {
	var kept []cost.UsageRow
	url := queryURL(subscription, rg)
	for page := 0; url != ""; page++ {
		if page == maxPages {
			return refused(from, to, fmt.Errorf("Cost Management answered more than %d pages", maxPages)), nil
		}
		var res queryResult
		if err := az.Read(ctx, &res, "rest", "--method", "post", "--url", url, "--body", costQuery); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			return refused(from, to, err), nil
		}
		rows, err := res.usageRows()
		if err != nil {
			return refused(from, to, fmt.Errorf("reading Azure's cost data: %w", err)), nil
		}
		kept = append(kept, rows...)
		url = ""
		if res.Properties.NextLink != nil {
			url = *res.Properties.NextLink
		}
	}
	b, err := cost.NewBilled(from, to, kept)
	if err != nil {
		return refused(from, to, fmt.Errorf("reading Azure's cost data: %w", err)), nil
	}
	return b, nil
}

// usageRows reads the rows by column name (the API puts the aggregated cost
// first and Currency last, but names are what it documents).
func (r queryResult) usageRows() ([]cost.UsageRow, error) {
	col := map[string]int{}
	for i, c := range r.Properties.Columns {
		col[strings.ToLower(c.Name)] = i
	}
	costAt, ok := col["pretaxcost"]
	if !ok {
		if costAt, ok = col["cost"]; !ok {
			return nil, errors.New("no cost column in the answer")
		}
	}
	idAt, ok := col["resourceid"]
	if !ok {
		return nil, errors.New("no ResourceId column in the answer")
	}
	curAt, hasCur := col["currency"]
	var out []cost.UsageRow
	for _, row := range r.Properties.Rows {
		var u cost.UsageRow
		var n json.Number
		if costAt >= len(row) || json.Unmarshal(row[costAt], &n) != nil {
			return nil, fmt.Errorf("a row without a numeric cost: %s", joinRaw(row))
		}
		if idAt >= len(row) || json.Unmarshal(row[idAt], &u.ResourceID) != nil || u.ResourceID == "" {
			return nil, fmt.Errorf("a row without a resource id: %s", joinRaw(row))
		}
		if hasCur && curAt < len(row) {
			_ = json.Unmarshal(row[curAt], &u.Currency) // absent: the report's currency
		}
		u.Cost = n.String()
		u.Name = u.ResourceID[strings.LastIndex(u.ResourceID, "/")+1:]
		out = append(out, u)
	}
	return out, nil
}

func joinRaw(row []json.RawMessage) string {
	parts := make([]string, len(row))
	for i, v := range row {
		parts[i] = string(v)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// refused explains why Azure gave no billed costs, and what would let it.
func refused(from, to time.Time, err error) *cost.Billed {
	why := err.Error()
	if errors.Is(err, azcli.ErrAuthorization) {
		why = "this account may not read the resource group's cost data (it needs a role such as Cost Management Reader or Billing Reader): " + why
	} else {
		why = "Azure did not return cost data (some subscription types, such as CSP or sponsored offers, have none through the Cost Management API): " + why
	}
	return &cost.Billed{From: from.Format("2006-01-02"), To: to.Format("2006-01-02"), Reason: why}
}
