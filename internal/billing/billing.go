// Package billing reads from Azure what the cost report needs and the VM and
// storage managers do not: when each VM's power last changed (its instance
// view) and what Azure billed the resource group (its usage data).
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

// usageRow is one row of `az consumption usage list`: az 2.x prints the
// legacy usage detail (instanceId, instanceName, pretaxCost as a string,
// currency); the modern shape's names are read too.
type usageRow struct {
	InstanceID            string   `json:"instanceId"`
	InstanceName          string   `json:"instanceName"`
	PretaxCost            flexible `json:"pretaxCost"`
	Currency              string   `json:"currency"`
	ResourceID            string   `json:"resourceId"`
	ResourceName          string   `json:"resourceName"`
	CostInBillingCurrency flexible `json:"costInBillingCurrency"`
	BillingCurrency       string   `json:"billingCurrency"`
}

// Billed reads what Azure billed the resource group from `from` to `to`
// (dates, UTC) with one `az consumption usage list` call. The usage data is
// the subscription's: rows are kept when their resource id is in rg. When
// Azure refuses (no access to billing data, an offer type without usage
// data, a failing az), the result is not an error but a Billed that says so;
// only a cancelled context is an error.
func Billed(ctx context.Context, az AZ, rg string, from, to time.Time) (*cost.Billed, error) {
	var rows []usageRow
	err := az.Read(ctx, &rows, "consumption", "usage", "list",
		"--start-date", from.Format("2006-01-02"), "--end-date", to.Format("2006-01-02"))
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return refused(from, to, err), nil
	}
	inGroup := "/resourcegroups/" + strings.ToLower(rg) + "/"
	var kept []cost.UsageRow
	for _, r := range rows {
		id, name, amount, cur := r.InstanceID, r.InstanceName, r.PretaxCost, r.Currency
		if id == "" {
			id, name, amount, cur = r.ResourceID, r.ResourceName, r.CostInBillingCurrency, r.BillingCurrency
		}
		if !strings.Contains(strings.ToLower(id), inGroup) {
			continue
		}
		if name == "" {
			name = id[strings.LastIndex(id, "/")+1:]
		}
		if amount == "" {
			amount = "0"
		}
		kept = append(kept, cost.UsageRow{ResourceID: id, Name: name, Currency: cur, Cost: string(amount)})
	}
	b, err := cost.NewBilled(from, to, kept)
	if err != nil {
		return refused(from, to, fmt.Errorf("reading Azure's usage data: %w", err)), nil
	}
	return b, nil
}

// refused explains why Azure gave no billed costs, and what would let it.
func refused(from, to time.Time, err error) *cost.Billed {
	why := err.Error()
	if errors.Is(err, azcli.ErrAuthorization) {
		why = "this account may not read the subscription's usage data (it needs a role such as Cost Management Reader or Billing Reader): " + why
	} else {
		why = "Azure did not return usage data (some subscription types, such as CSP or sponsored offers, have none through this API): " + why
	}
	return &cost.Billed{From: from.Format("2006-01-02"), To: to.Format("2006-01-02"), Reason: why}
}

// flexible is a JSON string or number kept as its decimal text: az prints
// pretaxCost as a string, other shapes print numbers.
type flexible string

func (f *flexible) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexible(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("not a number: %s", b)
	}
	*f = flexible(n.String())
	return nil
}
