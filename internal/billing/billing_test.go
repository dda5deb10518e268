package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
)

// fakeAZ answers the expected calls in order with recorded output (or an
// error) and records what it was asked.
type fakeAZ struct {
	answers []answer
	calls   []string
}

type answer struct {
	want   string // the argv expected, joined by spaces
	stdout string
	err    error
}

func (f *fakeAZ) Read(ctx context.Context, out any, args ...string) error {
	got := strings.Join(args, " ")
	f.calls = append(f.calls, got)
	if len(f.calls) > len(f.answers) {
		return fmt.Errorf("unexpected az call: %s", got)
	}
	a := f.answers[len(f.calls)-1]
	if got != a.want {
		return fmt.Errorf("unexpected az call: %s\nwant: %s", got, a.want)
	}
	if a.err != nil {
		return a.err
	}
	return json.Unmarshal([]byte(a.stdout), out)
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

const sub = "9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203"

func TestLastChangesOneCallForAllVMs(t *testing.T) {
	az := &fakeAZ{answers: []answer{{
		want:   "vm get-instance-view --ids " + VMID(sub, "rg", "vm") + " " + VMID(sub, "rg", "vm2"),
		stdout: fixture(t, "vm-get-instance-view-ids.json"),
	}}}
	got, err := LastChanges(context.Background(), az, sub, "rg", []string{"vm", "vm2"})
	require.NoError(t, err)
	assert.Len(t, az.calls, 1)
	assert.Equal(t, map[string]time.Time{
		"vm":  time.Date(2026, 10, 28, 9, 14, 2, 107017000, time.UTC),
		"vm2": time.Date(2026, 11, 20, 17, 40, 11, 385120000, time.UTC),
	}, got)
}

func TestLastChangesReadsTheSingleObjectAzPrintsForOneID(t *testing.T) {
	var list []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(fixture(t, "vm-get-instance-view-ids.json")), &list))
	az := &fakeAZ{answers: []answer{{want: "vm get-instance-view --ids " + VMID(sub, "rg", "vm"), stdout: string(list[0])}}}
	got, err := LastChanges(context.Background(), az, sub, "rg", []string{"vm"})
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 10, 28, 9, 14, 2, 107017000, time.UTC), got["vm"])
}

func TestLastChangesWithoutVMsCallsNothing(t *testing.T) {
	az := &fakeAZ{}
	got, err := LastChanges(context.Background(), az, sub, "rg", nil)
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Empty(t, az.calls)
}

var (
	monthStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	today      = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
)

// The query azlin sends, as the Cost Management REST reference defines it
// (Query - Usage, api-version 2023-11-01).
const (
	queryBody = `{"type":"ActualCost","timeframe":"MonthToDate","dataset":{"granularity":"None",` +
		`"aggregation":{"totalCost":{"name":"PreTaxCost","function":"Sum"}},` +
		`"grouping":[{"type":"Dimension","name":"ResourceId"}]}}`
	queryCall = "rest --method post --url https://management.azure.com/subscriptions/" + sub +
		"/resourceGroups/rg/providers/Microsoft.CostManagement/query?api-version=2023-11-01 --body " + queryBody
	nextCall = "rest --method post --url https://management.azure.com/subscriptions/" + sub +
		"/resourceGroups/rg/providers/Microsoft.CostManagement/query?api-version=2023-11-01&$skiptoken=AQAAAA%3D%3D --body " + queryBody
)

func TestBilledQueriesTheGroupAndFollowsNextLink(t *testing.T) {
	az := &fakeAZ{answers: []answer{
		{want: queryCall, stdout: fixture(t, "cost-management-query.json")},
		{want: nextCall, stdout: fixture(t, "cost-management-query-page2.json")},
	}}
	b, err := Billed(context.Background(), az, sub, "rg", monthStart, today)
	require.NoError(t, err)
	require.True(t, b.Available, b.Reason)
	assert.Len(t, az.calls, 2, "one call per page, nothing else")
	assert.Equal(t, "USD", b.Currency)
	assert.Equal(t, "2026-11-01", b.From)
	assert.Equal(t, "2026-11-25", b.To)
	var names, costs []string
	for _, r := range b.Resources {
		names = append(names, r.Name)
		costs = append(costs, r.Cost.Money().String())
	}
	// Sorted by id: compute, network, storage. 1.5e-05 rounds to nothing.
	assert.Equal(t, []string{"vm", "privatelink.file.core.windows.net", "acct"}, names)
	assert.Equal(t, []string{"$2.30", "$0.00", "$0.54"}, costs)
	assert.Equal(t, "$2.84", b.Total.Money().String())
}

func TestBilledOfAGroupWithoutCostsIsZero(t *testing.T) {
	page := strings.Replace(fixture(t, "cost-management-query-page2.json"), `"rows": [`, `"rows": [], "unused": [`, 1)
	b, err := Billed(context.Background(), &fakeAZ{answers: []answer{{want: queryCall, stdout: page}}}, sub, "rg", monthStart, today)
	require.NoError(t, err)
	require.True(t, b.Available, b.Reason)
	assert.Empty(t, b.Resources)
	assert.Equal(t, "$0.00", b.Total.Money().String())
}

func TestBilledSaysPlainlyWhenTheAccountMayNotReadBilling(t *testing.T) {
	denied := fmt.Errorf("az rest failed: Forbidden: %w", azcli.ErrAuthorization)
	b, err := Billed(context.Background(), &fakeAZ{answers: []answer{{want: queryCall, err: denied}}}, sub, "rg", monthStart, today)
	require.NoError(t, err, "a refusal is an answer, not a failure")
	assert.False(t, b.Available)
	assert.Contains(t, b.Reason, "this account may not read the resource group's cost data (it needs a role such as Cost Management Reader or Billing Reader)")
	assert.Contains(t, b.Reason, "Forbidden")
	assert.Nil(t, b.Total)

	b, err = Billed(context.Background(), &fakeAZ{answers: []answer{{want: queryCall, err: errors.New("az rest failed: boom")}}}, sub, "rg", monthStart, today)
	require.NoError(t, err)
	assert.False(t, b.Available)
	assert.Contains(t, b.Reason, "Azure did not return cost data")
}

func TestBilledRefusesAnAnswerWithoutItsColumns(t *testing.T) {
	page := strings.Replace(fixture(t, "cost-management-query-page2.json"), `"ResourceId"`, `"ResourceType"`, 1)
	b, err := Billed(context.Background(), &fakeAZ{answers: []answer{{want: queryCall, stdout: page}}}, sub, "rg", monthStart, today)
	require.NoError(t, err)
	assert.False(t, b.Available)
	assert.Contains(t, b.Reason, "no ResourceId column")
}

func TestBilledStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Billed(ctx, &fakeAZ{answers: []answer{{want: queryCall, err: context.Canceled}}}, sub, "rg", monthStart, today)
	assert.ErrorIs(t, err, context.Canceled)
}
