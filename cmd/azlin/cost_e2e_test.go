//go:build localcloud

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/localcloud/testenv"
)

// End-to-end tests of `azlin cost`: the built azlin against the local cloud,
// VMs as records (no hosts). Two VMs (one running, one deallocated) and two
// storages (Premium and Standard, each with its private endpoint).

const emuSubscription = "9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203" // the emulator's login (az-shapes/account-show.json)

func costCloud(t *testing.T, opts ...testenv.Option) *testenv.Cloud {
	t.Helper()
	c := testenv.New(t, opts...)
	mustAz := func(args ...string) {
		t.Helper()
		r := c.Az(args...)
		require.Equal(t, 0, r.Exit, "az %s: %s", strings.Join(args, " "), r.Stderr)
	}
	mustAz("group", "create", "-n", "rg", "-l", "eastus")
	for _, args := range [][]string{
		{"storage", "create", "home-one", "-g", "rg", "--tier", "Premium", "--size", "1TB"},
		{"storage", "create", "data-two", "-g", "rg", "--tier", "Standard", "--size", "500GB"},
	} {
		r := c.Azlin(args...)
		require.Equal(t, 0, r.Exit, "azlin %s: %s", strings.Join(args, " "), r.Stderr)
	}
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk0c3QtdGVzdC1rZXktZm9yLWF6bGluLWNvc3QtZTJl test"
	mustAz("vm", "create", "-g", "rg", "-n", "vm-a", "--image", "Ubuntu2204", "--size", "Standard_D2s_v5",
		"--admin-username", "azureuser", "--ssh-key-values", key, "-l", "eastus")
	mustAz("vm", "create", "-g", "rg", "-n", "vm-b", "--image", "Ubuntu2204", "--size", "Standard_B2s",
		"--admin-username", "azureuser", "--ssh-key-values", key, "-l", "eastus")
	mustAz("vm", "deallocate", "-g", "rg", "-n", "vm-b")
	// A day passes: Azure reports a new account's used capacity only after
	// its first daily refresh.
	c.Env = append(c.Env, "AZEMU_CLOCK_OFFSET=25h")
	c.ResetLog()
	return c
}

// cents reads "$1,234.56" as 123456.
func cents(t *testing.T, s string) int64 {
	t.Helper()
	m := regexp.MustCompile(`^\$([0-9,]+)\.([0-9]{2})$`).FindStringSubmatch(s)
	require.NotNil(t, m, "not an amount: %q", s)
	n, err := strconv.ParseInt(strings.ReplaceAll(m[1], ",", "")+m[2], 10, 64)
	require.NoError(t, err)
	return n
}

func TestE2ECostListsEveryVMAndStorageAndTheirSum(t *testing.T) {
	c := costCloud(t)
	r := c.Azlin("cost", "-g", "rg")
	require.Equal(t, 0, r.Exit, r.Stderr)

	rows := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	got := map[string]string{}
	var sum int64
	for _, row := range rows[:len(rows)-1] {
		cells := strings.Split(row, "\t")
		require.Len(t, cells, 7, row)
		got[cells[0]+" "+cells[1]] = cells[6]
		sum += cents(t, cells[6])
	}
	total := strings.Split(rows[len(rows)-1], "\t")
	require.Equal(t, "total", total[0], "the last row is the total: %q", r.Stdout)
	assert.Equal(t, "10 lines", total[2])
	assert.Equal(t, sum, cents(t, total[6]), "the total is the sum of the rows")
	assert.Equal(t, "$266.38", total[6])

	assert.Equal(t, "$70.08", got["vm vm-a"], "D2s_v5 running: $0.096 x 730 h")
	assert.Equal(t, "$0.00", got["vm vm-b"], "deallocated: no compute")
	assert.Equal(t, "$163.84", got["storage home-one"], "1 TiB premium at $0.16")
	assert.Equal(t, "$0.00", got["storage data-two"], "Standard is billed by use; nothing is used yet")
	// The OS disk (30 GiB Premium_LRS: P4) and the Standard public IP are
	// billed whatever the VM's state, deallocated vm-b too.
	assert.Equal(t, "$3.65", got["public-ip vm-a public IP"], "$0.005 x 730 h")
	assert.Equal(t, "$3.65", got["public-ip vm-b public IP"])
	var disks int
	for k, v := range got {
		if strings.HasPrefix(k, "os-disk vm-") {
			disks++
			assert.Equal(t, "$5.28", v, "P4 LRS at $5.2795/month")
		}
	}
	assert.Equal(t, 2, disks)
	assert.Len(t, got, 10, "two VMs with their disks and IPs, two storages, two private endpoints: %v", got)
	var endpoints int
	for k, v := range got {
		if strings.HasPrefix(k, "private-endpoint ") {
			endpoints++
			assert.Equal(t, "$7.30", v)
		}
	}
	assert.Equal(t, 2, endpoints)
	assert.Contains(t, r.Stderr, "Prices: built-in table of ")

	// The reads ran once each: no az command line twice.
	seen := map[string]bool{}
	vmLists := 0
	for _, call := range c.Calls() {
		line := strings.Join(call.Argv, " ")
		assert.False(t, seen[line], "az called twice: %s", line)
		seen[line] = true
		if strings.HasPrefix(line, "vm list") {
			vmLists++
		}
	}
	assert.Equal(t, 1, vmLists, "the VMs (states and which storage is each one's home) are read once")
}

func TestE2ECostByLimitsWhatIsReadAndBadByIsAUsageError(t *testing.T) {
	c := costCloud(t)
	r := c.Azlin("cost", "-g", "rg", "--by", "storage")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.NotContains(t, r.Stdout, "vm-a")
	assert.Contains(t, r.Stdout, "storage\thome-one\t")
	for _, call := range c.Calls() {
		assert.NotEqual(t, []string{"vm", "list", "-d"}, call.Argv[:min(3, len(call.Argv))], "--by storage does not read the VMs' states")
		assert.NotEqual(t, "get-instance-view", call.Argv[1])
	}

	c.ResetLog()
	r = c.Azlin("cost", "-g", "rg", "--by", "disks")
	assert.Equal(t, 2, r.Exit)
	assert.Contains(t, r.Stderr, `invalid --by "disks": use vm, storage or all`)
	assert.Empty(t, c.Calls(), "bad input: no az call")
}

func TestE2EStorageCreateDryRunShowsTheEstimate(t *testing.T) {
	c := costCloud(t)
	r := c.Azlin("storage", "create", "plan-only", "-g", "rg", "--tier", "Premium", "--size", "1TB", "--dry-run")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Contains(t, r.Stdout+r.Stderr, "Est. cost: $171.14/month (NFS share $163.84 + private endpoint $7.30)")

	// The default tier, PremiumV2, has no built-in price in eastus: said, with the way to get one.
	r = c.Azlin("storage", "create", "plan-only", "-g", "rg", "--size", "1TB", "--dry-run")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Contains(t, r.Stdout+r.Stderr, "Est. cost: not priced (NFS share not priced: no PremiumV2_LRS (provisioned v2 SSD) file share price for eastus: ")
	assert.Contains(t, r.Stdout+r.Stderr, "azlin cost prices --refresh --region eastus")
}

// faults writes an AZEMU_FAULTS file answering the given commands.
func faults(t *testing.T, rules ...map[string]any) testenv.Option {
	t.Helper()
	b, err := json.Marshal(rules)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "faults.json")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return testenv.WithEnv("AZEMU_FAULTS=" + path)
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return strings.ReplaceAll(string(b), "{{SUB}}", emuSubscription)
}

// The emulator has no `vm get-instance-view`; a fault rule answers it with
// az's shape, so the report can show hours.
func instanceViews(t *testing.T) map[string]any {
	return map[string]any{"prefix": []string{"vm", "get-instance-view"}, "exit": 0, "stdout": readTestdata(t, "cost-instance-views.json")}
}

func TestE2ECostJSONGolden(t *testing.T) {
	c := costCloud(t, faults(t, instanceViews(t)))
	r := c.Azlin("cost", "-g", "rg", "-o", "json")
	require.Equal(t, 0, r.Exit, r.Stderr)

	var rep struct {
		Lines []struct {
			Priced  bool            `json:"priced"`
			Monthly json.RawMessage `json:"monthly"`
		} `json:"lines"`
		Total struct {
			Monthly json.RawMessage `json:"monthly"`
		} `json:"total"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &rep))
	var sum int64
	for _, l := range rep.Lines {
		sum += cents(t, "$"+string(l.Monthly))
	}
	assert.Equal(t, sum, cents(t, "$"+string(rep.Total.Monthly)))

	// Normalize what changes with the clock.
	out := regexp.MustCompile(`"asOf": "[^"]+"`).ReplaceAllString(r.Stdout, `"asOf": "NOW"`)
	out = regexp.MustCompile(`"ageDays": \d+`).ReplaceAllString(out, `"ageDays": N`)
	out = regexp.MustCompile(`"hours": [1-9]\d*`).ReplaceAllString(out, `"hours": HOURS_SINCE_MONTH_START`)
	out = regexp.MustCompile(`"since": "\d{4}-\d\d-01T00:00:00Z"`).ReplaceAllString(out, `"since": "MONTH_START"`)
	out = regexp.MustCompile(`_OsDisk_1_[0-9a-f]{32}`).ReplaceAllString(out, `_OsDisk_1_ID`) // az vm create's random suffix
	assert.Equal(t, golden(t, filepath.Join("testdata", "cost-report.golden.json"), out), out)
}

var update = flag.Bool("update", false, "rewrite the golden files under testdata from the current output")

// golden returns the expected content of the golden file at path, after
// rewriting it with got when the tests run with -update.
func golden(t *testing.T, path, got string) string {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "create it with: go test -tags localcloud ./cmd/azlin -run %s -update", t.Name())
	return string(want)
}

// costQuery asks the local cloud's Cost Management what the group cost this
// month per resource, as azlin does (one call, the group's scope).
func costQuery(t *testing.T, c *testenv.Cloud) map[string]float64 {
	t.Helper()
	var res struct {
		Properties struct {
			Rows [][]any `json:"rows"`
		} `json:"properties"`
	}
	c.AzJSON(&res, "rest", "--method", "post", "--url", "https://management.azure.com/subscriptions/"+emuSubscription+
		"/resourceGroups/rg/providers/Microsoft.CostManagement/query?api-version=2023-11-01", "--body",
		`{"type":"ActualCost","timeframe":"MonthToDate","dataset":{"granularity":"None","aggregation":{"totalCost":{"name":"PreTaxCost","function":"Sum"}},"grouping":[{"type":"Dimension","name":"ResourceId"}]}}`)
	out := map[string]float64{}
	for _, r := range res.Properties.Rows {
		out[r[1].(string)] = r[0].(float64)
	}
	return out
}

func TestE2ECostActualShowsWhatAzureBilled(t *testing.T) {
	c := costCloud(t, faults(t, instanceViews(t))) // a day has passed since the resources were made
	r := c.Azlin("cost", "-g", "rg", "--actual", "-o", "json")
	require.Equal(t, 0, r.Exit, r.Stderr)
	var rest []string
	for _, call := range c.Calls() {
		if call.Argv[0] == "rest" || call.Argv[0] == "consumption" {
			rest = append(rest, strings.Join(call.Argv[:3], " "))
		}
	}
	assert.Equal(t, []string{"rest --method post"}, rest, "one Cost Management query of the group, no usage list")
	var rep struct {
		Actual struct {
			Available bool            `json:"available"`
			Reason    string          `json:"reason"`
			Total     json.RawMessage `json:"total"`
			Resources []struct {
				Name string          `json:"name"`
				ID   string          `json:"id"`
				Cost json.RawMessage `json:"cost"`
			} `json:"resources"`
		} `json:"actual"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &rep))
	require.True(t, rep.Actual.Available, rep.Actual.Reason)

	// Every billed resource of the group, each as Cost Management sums it
	// (within a cent: the clock moves between the two queries).
	billed := costQuery(t, c)
	vmA := "/subscriptions/" + emuSubscription + "/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm-a"
	require.Positive(t, billed[vmA], "the emulator bills the running VM: %v", billed)
	var ids []string
	var sum int64
	for _, res := range rep.Actual.Resources {
		ids = append(ids, res.ID)
		got := cents(t, "$"+string(res.Cost))
		want := int64(math.Round(billed[res.ID] * 100))
		assert.True(t, got >= want-1 && got <= want+1, "%s: %d cents billed, Cost Management says %d", res.ID, got, want)
		sum += got
	}
	assert.Len(t, ids, len(billed))
	assert.Contains(t, ids, vmA)
	assert.Equal(t, sum, cents(t, "$"+string(rep.Actual.Total)), "the total adds up as shown")

	r = c.Azlin("cost", "-g", "rg", "--actual")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Regexp(t, `(?m)^vm-a\t`+regexp.QuoteMeta(vmA)+`\t\$\d+\.\d\d$`, r.Stdout)
	assert.Regexp(t, `(?m)^billed total\t\d{4}-\d\d-01 to \d{4}-\d\d-\d\d\t\$\d+\.\d\d$`, r.Stdout)
}

func TestE2ECostActualSaysWhenTheAccountMayNotReadBilling(t *testing.T) {
	// az rest's HTTP error around ARM's 403 body.
	denied := fmt.Sprintf(`ERROR: Forbidden({"error":{"code":"AuthorizationFailed","message":"The client 'dev@contoso.onmicrosoft.com' with object id `+
		`'5f1c2b3a-9d8e-4f7a-b6c5-d4e3f2a1b0c9' does not have authorization to perform action `+
		`'Microsoft.CostManagement/query/action' over scope '/subscriptions/%s/resourceGroups/rg' or the scope is invalid. `+
		`If access was recently granted, please refresh your credentials."}})`+"\n", emuSubscription)
	refuse := map[string]any{"prefix": []string{"rest"}, "exit": 1, "stderr": denied}
	c := costCloud(t, faults(t, refuse))
	r := c.Azlin("cost", "-g", "rg", "--actual")
	require.Equal(t, 0, r.Exit, "the estimates still stand: %s", r.Stderr)
	assert.Regexp(t, `(?m)^total\t\t10 lines\t\t\t\t\$266\.38$`, r.Stdout)
	assert.Contains(t, r.Stderr, "Warning: No billed costs for ")
	assert.Contains(t, r.Stderr, "this account may not read the resource group's cost data (it needs a role such as Cost Management Reader or Billing Reader)")
	assert.Contains(t, r.Stderr, "The estimates above stand.")

	r = c.Azlin("cost", "-g", "rg", "--actual", "-o", "json")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Contains(t, r.Stdout, `"available": false`)
}

// retailPage is one Retail Prices API page holding the rows a refresh of
// westus2 keeps (shapes as in internal/cost/testdata/retail).
const retailPage = `{"BillingCurrency":"USD","CustomerEntityId":"Default","CustomerEntityType":"Retail","Items":[
 {"currencyCode":"USD","tierMinimumUnits":0.0,"retailPrice":0.01,"unitPrice":0.01,"armRegionName":"Global","location":"Global","effectiveStartDate":"2019-10-01T00:00:00Z","meterId":"m1","meterName":"Standard Private Endpoint","productId":"p1","skuId":"s1","productName":"Virtual Network Private Link","skuName":"Standard","serviceName":"Virtual Network","serviceId":"x","serviceFamily":"Networking","unitOfMeasure":"1 Hour","type":"Consumption","isPrimaryMeterRegion":true,"armSkuName":""},
 {"currencyCode":"USD","tierMinimumUnits":0.0,"retailPrice":0.17,"unitPrice":0.17,"armRegionName":"westus2","location":"US West 2","effectiveStartDate":"2024-01-01T00:00:00Z","meterId":"m2","meterName":"Premium LRS Provisioned","productId":"p2","skuId":"s2","productName":"Premium Files","skuName":"Premium LRS","serviceName":"Storage","serviceId":"x","serviceFamily":"Storage","unitOfMeasure":"1 GiB/Month","type":"Consumption","isPrimaryMeterRegion":true,"armSkuName":""},
 {"currencyCode":"USD","tierMinimumUnits":0.0,"retailPrice":0.1,"unitPrice":0.1,"armRegionName":"westus2","location":"US West 2","effectiveStartDate":"2024-01-01T00:00:00Z","meterId":"m3","meterName":"D2s v5","productId":"p3","skuId":"s3","productName":"Virtual Machines Dsv5 Series","skuName":"D2s v5","serviceName":"Virtual Machines","serviceId":"x","serviceFamily":"Compute","unitOfMeasure":"1 Hour","type":"Consumption","isPrimaryMeterRegion":true,"armSkuName":"Standard_D2s_v5"}
],"NextPageLink":null,"Count":3}`

func TestE2ECostPricesShowsAndRefreshesTheTable(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, `{"Error":"service unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(retailPage))
	}))
	defer srv.Close()
	c := testenv.New(t, testenv.WithEnv("AZLIN_PRICES_URL="+srv.URL))
	cache := filepath.Join(c.ConfigDir, "cache", "prices.json")

	r := c.Azlin("cost", "prices")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Contains(t, r.Stdout, "eastus\tVM Standard_D2s_v5 (Linux)\t$0.096\thour\n")
	assert.Contains(t, r.Stdout, "eastus\tPremium file share LRS (provisioned v1)\t$0.16\tGiB-month provisioned\n")
	assert.Regexp(t, `In use: built-in table of \d{4}-\d\d-\d\d, \d+ days? old\.`, r.Stderr)
	assert.Empty(t, c.Calls(), "prices need no az")

	// The API fails: nothing is written and azlin says what it still uses.
	r = c.Azlin("cost", "prices", "--refresh", "--region", "westus2")
	assert.Equal(t, 1, r.Exit)
	assert.Contains(t, r.Stderr, "refreshing prices failed: ")
	assert.Contains(t, r.Stderr, "HTTP 503")
	assert.Regexp(t, `azlin still uses the built-in table of \d{4}-\d\d-\d\d, \d+ days? old`, r.Stderr)
	assert.NoFileExists(t, cache)

	fail.Store(false)
	r = c.Azlin("cost", "prices", "--refresh", "--region", "westus2")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Contains(t, r.Stderr, "Prices for 1 regions saved to "+cache)
	// The fetched prices, beside the built-in regions (the cache is laid over them).
	assert.Contains(t, r.Stdout, "westus2\tPremium file share LRS (provisioned v1)\t$0.17\tGiB-month provisioned\n"+
		"westus2\tVM Standard_D2s_v5 (Linux)\t$0.10\thour\n"+
		"westus2\tPrivate endpoint\t$0.01\thour\n")
	assert.Contains(t, r.Stdout, "eastus\tPremium file share LRS (provisioned v1)\t$0.16\tGiB-month provisioned\n")
	assert.FileExists(t, cache)

	r = c.Azlin("cost", "prices", "-o", "json")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Contains(t, r.Stdout, `"fromCache": true`)
	assert.Contains(t, r.Stderr, "In use: cache fetched today.")

	r = c.Azlin("cost", "prices", "--region", "westus2")
	assert.Equal(t, 2, r.Exit, "--region without --refresh")
	r = c.Azlin("cost", "prices", "--refresh", "--region", "west us/2")
	assert.Equal(t, 2, r.Exit, "a bad region fails before any fetch")
}

// When the one VM list fails, the report fails with its error (the storage
// lines, which wait for that list, do not hang nor read it again).
func TestE2ECostFailsWithTheVMListsError(t *testing.T) {
	denied := fmt.Sprintf("ERROR: (AuthorizationFailed) The client 'dev@contoso.onmicrosoft.com' with object id "+
		"'5f1c2b3a-9d8e-4f7a-b6c5-d4e3f2a1b0c9' does not have authorization to perform action "+
		"'Microsoft.Compute/virtualMachines/read' over scope '/subscriptions/%s/resourceGroups/rg' or the scope is invalid. "+
		"If access was recently granted, please refresh your credentials.\nCode: AuthorizationFailed\n", emuSubscription)
	refuse := map[string]any{"prefix": []string{"vm", "list"}, "exit": 1, "stderr": denied}
	c := costCloud(t, faults(t, refuse))
	r := c.Azlin("cost", "-g", "rg")
	assert.Equal(t, 1, r.Exit, r.Stderr)
	assert.Contains(t, r.Stderr, "Microsoft.Compute/virtualMachines/read")
	assert.Empty(t, r.Stdout)
}
