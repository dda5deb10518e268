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

// fakeAZ answers one expected call with recorded output (or an error) and
// records what it was asked.
type fakeAZ struct {
	want   string // the argv expected, joined by spaces
	stdout string
	err    error
	calls  []string
}

func (f *fakeAZ) Read(ctx context.Context, out any, args ...string) error {
	got := strings.Join(args, " ")
	f.calls = append(f.calls, got)
	if got != f.want {
		return fmt.Errorf("unexpected az call: %s\nwant: %s", got, f.want)
	}
	if f.err != nil {
		return f.err
	}
	return json.Unmarshal([]byte(f.stdout), out)
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

const sub = "9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203"

func TestLastChangesOneCallForAllVMs(t *testing.T) {
	az := &fakeAZ{
		want:   "vm get-instance-view --ids " + VMID(sub, "rg", "vm") + " " + VMID(sub, "rg", "vm2"),
		stdout: fixture(t, "vm-get-instance-view-ids.json"),
	}
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
	az := &fakeAZ{want: "vm get-instance-view --ids " + VMID(sub, "rg", "vm"), stdout: string(list[0])}
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

const usageCall = "consumption usage list --start-date 2026-11-01 --end-date 2026-11-25"

func TestBilledKeepsTheResourceGroupsRowsAndSumsThem(t *testing.T) {
	az := &fakeAZ{want: usageCall, stdout: fixture(t, "consumption-usage-list.json")}
	b, err := Billed(context.Background(), az, "rg", monthStart, today)
	require.NoError(t, err)
	require.True(t, b.Available, b.Reason)
	assert.Equal(t, "USD", b.Currency)
	var names, costs []string
	for _, r := range b.Resources {
		names = append(names, r.Name)
		costs = append(costs, r.Cost.Money().String())
	}
	// vm: 1.152 + 1.152 (one id written in two cases); acct: 0.5376; the
	// row in another resource group is left out.
	assert.Equal(t, []string{"vm", "acct"}, names)
	assert.Equal(t, []string{"$2.30", "$0.54"}, costs)
	assert.Equal(t, "$2.84", b.Total.Money().String())
}

func TestBilledSaysPlainlyWhenTheAccountMayNotReadBilling(t *testing.T) {
	denied := fmt.Errorf("az consumption usage list failed: (AuthorizationFailed) The client does not have authorization: %w", azcli.ErrAuthorization)
	b, err := Billed(context.Background(), &fakeAZ{want: usageCall, err: denied}, "rg", monthStart, today)
	require.NoError(t, err, "a refusal is an answer, not a failure")
	assert.False(t, b.Available)
	assert.Contains(t, b.Reason, "this account may not read the subscription's usage data (it needs a role such as Cost Management Reader or Billing Reader)")
	assert.Contains(t, b.Reason, "AuthorizationFailed")
	assert.Nil(t, b.Total)

	b, err = Billed(context.Background(), &fakeAZ{want: usageCall, err: errors.New("az consumption usage list failed: boom")}, "rg", monthStart, today)
	require.NoError(t, err)
	assert.False(t, b.Available)
	assert.Contains(t, b.Reason, "Azure did not return usage data")
}

func TestBilledStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Billed(ctx, &fakeAZ{want: usageCall, err: context.Canceled}, "rg", monthStart, today)
	assert.ErrorIs(t, err, context.Canceled)
}
