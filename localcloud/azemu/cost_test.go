package azemu_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/testjson"
)

// az 2.74's consumption module (consumption/custom.py,
// transform_usage_output) drops every usage row without usageStart, and the
// usage details API 2023-05-01 it calls sends none, so the command prints [].
func TestConsumptionUsageListIsEmptyAsOnAz274(t *testing.T) {
	c := newCloud(t)
	c.base()
	r := c.run("consumption", "usage", "list", "--start-date", "2026-11-01", "--end-date", "2026-11-25")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "[]", strings.TrimSpace(r.stdout))
	assert.Contains(t, r.stderr, "This command is in preview and under development.")
}

// Cost Management "Query - Usage" (learn.microsoft.com rest/api/cost-management/query/usage):
// POST {scope}/providers/Microsoft.CostManagement/query answers
// properties.columns [{name, type}] and properties.rows, with nextLink.
func TestCostManagementQueryGroupsTheGroupsResourcesByID(t *testing.T) {
	c := newCloud(t)
	c.base()
	c.ok("vm", "create", "-g", "rg", "-n", "vm1", "--image", "Ubuntu2204", "--ssh-key-values", "ssh-rsa AAAAB3Nza k", "-o", "none")
	url := "https://management.azure.com/subscriptions/9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203/resourceGroups/rg/providers/Microsoft.CostManagement/query?api-version=2023-11-01"
	body := `{"type":"ActualCost","timeframe":"Custom","timePeriod":{"from":"2026-01-01T00:00:00Z","to":"2099-01-01T00:00:00Z"},
	  "dataset":{"granularity":"None","aggregation":{"totalCost":{"name":"Cost","function":"Sum"}},
	  "grouping":[{"type":"Dimension","name":"ResourceId"}]}}`
	c.env["AZEMU_CLOCK_OFFSET"] = "48h" // two days of each resource's life
	q := c.obj("rest", "--method", "post", "--url", url, "--body", body)
	assert.Equal(t, "Microsoft.CostManagement/query", q["type"])
	props := testjson.Obj(t, q, "properties")
	assert.Contains(t, props, "nextLink")
	cols := testjson.List(t, props, "columns")
	var names []string
	for i := range cols {
		names = append(names, testjson.Str(t, testjson.Obj(t, cols, i), "name"))
	}
	assert.Equal(t, []string{"Cost", "ResourceId", "Currency"}, names)
	rows := testjson.List(t, props, "rows")
	byID := map[string]float64{}
	for i := range rows {
		row := testjson.List(t, rows, i)
		byID[row[1].(string)] = row[0].(float64)
		assert.Equal(t, "USD", row[2])
	}
	vm := "/subscriptions/9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm1"
	require.Contains(t, byID, vm)
	assert.InDelta(t, 2*2.304, byID[vm], 0.05, "two days of the VM at the emulator's daily price") // cost:allow: the emulator's figure
	assert.Contains(t, byID, "/subscriptions/9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203/resourcegroups/rg/providers/microsoft.storage/storageaccounts/acct")

	daily := strings.Replace(strings.Replace(body, `"None"`, `"Daily"`, 1), `"grouping":[{"type":"Dimension","name":"ResourceId"}]`, `"grouping":[]`, 1)
	props = testjson.Obj(t, c.obj("rest", "--method", "post", "--url", url, "--body", daily), "properties")
	cols = testjson.List(t, props, "columns")
	assert.Equal(t, "UsageDate", testjson.Str(t, testjson.Obj(t, cols, 1), "name"))
	assert.GreaterOrEqual(t, len(testjson.List(t, props, "rows")), 2, "one row per day")

	r := c.run("rest", "--method", "post", "--url", strings.Replace(url, "/rg/", "/nope/", 1), "--body", body)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `ERROR: Not Found({"error":{"code":"ResourceGroupNotFound"`)
}
