package aztest_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/testjson"
)

const (
	realSub    = "9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203"
	realTenant = "3c9f8e7d-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
	realKey    = "Zm9vYmFyYmF6cXV4c2VjcmV0a2V5MTIzNDU2Nzg5MA=="
	publicIP   = "52.170.12.34"
)

type runnerFunc func(ctx context.Context, args []string) (azcli.Result, error)

func (f runnerFunc) Run(ctx context.Context, args []string) (azcli.Result, error) {
	return f(ctx, args)
}

func readShape(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", name))
	require.NoError(t, err)
	return string(data)
}

// fakeAz stands in for the real az behind a Recorder.
func fakeAz(t *testing.T) runnerFunc {
	accountShow := readShape(t, "account-show.json")
	accountJSON := readShape(t, "storage-account-show.json")
	return func(_ context.Context, args []string) (azcli.Result, error) {
		switch strings.Join(azcli.TrimOutputFlags(args)[:3], " ") {
		case "account show --subscription":
			return azcli.Result{Stdout: []byte(accountShow)}, nil
		case "storage account show":
			return azcli.Result{Stdout: []byte(accountJSON)}, nil
		case "storage account keys":
			return azcli.Result{Stdout: []byte(`[{"creationTime":"2025-11-05T04:15:55.572302+00:00","keyName":"key1","permissions":"FULL","value":"` + realKey + `"}]`)}, nil
		case "vm list-ip-addresses -g":
			return azcli.Result{Stdout: []byte(`[{"virtualMachine":{"name":"vm","network":{"privateIpAddresses":["10.0.0.4"],"publicIpAddresses":[{"ipAddress":"` + publicIP + `","name":"vmPublicIP"}]}}}]`)}, nil
		case "storage share list":
			return azcli.Result{ExitCode: 3, Stderr: []byte("ERROR: (ResourceNotFound) The Resource 'Microsoft.Storage/storageAccounts/acct' under subscription '" + realSub + "' was not found.\n")}, nil
		}
		t.Errorf("fake az: unexpected %q", args)
		return azcli.Result{ExitCode: 1}, nil
	}
}

// scenario is the az traffic of one test, run through a Client.
func scenario(t *testing.T, r azcli.Runner, sub string) []any {
	c := azcli.New(r, azcli.Options{Subscription: sub, Retry: azcli.RetryPolicy{MaxAttempts: 1}})
	ctx := context.Background()
	var acct, sa, keys, ips any
	require.NoError(t, c.Read(ctx, &acct, "account", "show"))
	require.NoError(t, c.Read(ctx, &sa, "storage", "account", "show", "-g", "rg", "-n", "acct"))
	require.NoError(t, c.Read(ctx, &keys, "storage", "account", "keys", "list", "-g", "rg", "-n", "acct"))
	require.NoError(t, c.Read(ctx, &ips, "vm", "list-ip-addresses", "-g", "rg", "-n", "vm"))
	err := c.Read(ctx, nil, "storage", "share", "list", "--account-name", "acct", "--account-key", realKey)
	require.ErrorIs(t, err, azcli.ErrNotFound)
	return []any{acct, sa, keys, ips, err.Error()}
}

func TestRecorderWritesAScrubbedFixtureThatReplays(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "scenario.json")
	tb := newFakeTB(t)
	recorded := scenario(t, aztest.Recorder(tb, fakeAz(t), path), realSub)
	assert.Equal(t, realSub, testjson.Obj(t, recorded, 0)["id"], "the recorder passes real output to the test")
	tb.finish()
	require.False(t, tb.Failed(), tb.errors())

	// Nothing identifying or secret is left in any written file.
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	require.Len(t, files, 2, "the fixture and the large storage account body: %v", files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, secret := range []string{realSub, realTenant, realKey, publicIP, "dev@contoso.onmicrosoft.com"} {
			assert.NotContains(t, string(data), secret, f)
		}
	}

	var fixture struct {
		Source string
		Calls  []aztest.Call
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &fixture))
	require.Len(t, fixture.Calls, 5)
	const subPlaceholder = "00000000-0000-0000-0000-000000000001"
	assert.Equal(t, []string{"account", "show", "--subscription", subPlaceholder}, fixture.Calls[0].Argv, "argv without output flags, ids scrubbed")
	var acct azcli.Account
	require.NoError(t, json.Unmarshal([]byte(fixture.Calls[0].Stdout), &acct))
	assert.Equal(t, subPlaceholder, acct.ID, "the same id gets the same placeholder everywhere")
	assert.Equal(t, "00000000-0000-0000-0000-000000000002", acct.TenantID)
	assert.Equal(t, "user1@example.com", acct.User.Name)
	assert.Equal(t, "scenario-2.out.json", fixture.Calls[1].StdoutFile, "large output goes to a file of its own")
	body, err := os.ReadFile(filepath.Join(dir, "scenario-2.out.json"))
	require.NoError(t, err)
	assert.Contains(t, string(body), "/subscriptions/"+subPlaceholder+"/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct")
	assert.Contains(t, fixture.Calls[2].Stdout, `"value":"REDACTED"`)
	assert.Contains(t, fixture.Calls[3].Stdout, `"privateIpAddresses":["10.0.0.4"]`, "private addresses stay")
	assert.Contains(t, fixture.Calls[3].Stdout, `"ipAddress":"203.0.113.1"`)
	assert.Equal(t, []string{"storage", "share", "list", "--account-name", "acct", "--account-key", "REDACTED", "--subscription", subPlaceholder}, fixture.Calls[4].Argv)
	assert.Equal(t, 3, fixture.Calls[4].Exit)
	assert.Contains(t, fixture.Calls[4].Stderr, "under subscription '"+subPlaceholder+"'")

	// The written fixture replays the same scenario (with the placeholders) without a failure.
	tb2 := newFakeTB(t)
	fake := aztest.Load(tb2, path)
	replayed := scenario(t, fake, subPlaceholder)
	tb2.finish()
	assert.False(t, tb2.Failed(), tb2.errors())
	assert.Equal(t, subPlaceholder, testjson.Obj(t, replayed, 0)["id"])
	assert.Equal(t, "acct", testjson.Obj(t, replayed, 1)["name"])
	assert.Contains(t, replayed[4], "az storage share list failed: (ResourceNotFound)")
}

func TestRecorderDoesNotOverwriteAFixtureWhenTheTestFailed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scenario.json")
	tb := newFakeTB(t)
	r := aztest.Recorder(tb, fakeAz(t), path)
	_, err := r.Run(context.Background(), []string{"account", "show", "--subscription", realSub})
	require.NoError(t, err)
	tb.Fail()
	tb.finish()
	assert.NoFileExists(t, path)
}

func TestReplayRecordsWithTheRealRunnerWhenAsked(t *testing.T) {
	dir := t.TempDir()
	az := filepath.Join(dir, "az")
	require.NoError(t, os.WriteFile(az, []byte("#!/bin/sh\necho '{\"name\": \"rg\", \"id\": \"/subscriptions/"+realSub+"/resourceGroups/rg\"}'\n"), 0o755))
	path := filepath.Join(dir, "group.json")

	t.Setenv(aztest.EnvRecord, "1")
	t.Setenv(azcli.EnvAzPath, az)
	tb := newFakeTB(t)
	r := aztest.Replay(tb, path)
	require.IsType(t, &aztest.Recording{}, r)
	var g struct{ Name string }
	require.NoError(t, azcli.New(r, azcli.Options{}).Read(context.Background(), &g, "group", "show", "-n", "rg"))
	assert.Equal(t, "rg", g.Name)
	tb.finish()
	require.False(t, tb.Failed(), tb.errors())

	// Without AZLIN_RECORD the same call replays the file just written.
	t.Setenv(aztest.EnvRecord, "")
	t.Setenv(azcli.EnvAzPath, filepath.Join(dir, "no-such-az"))
	tb2 := newFakeTB(t)
	r2 := aztest.Replay(tb2, path)
	require.IsType(t, &aztest.Fake{}, r2)
	require.NoError(t, azcli.New(r2, azcli.Options{}).Read(context.Background(), &g, "group", "show", "-n", "rg"))
	assert.Equal(t, "rg", g.Name)
	tb2.finish()
	assert.False(t, tb2.Failed(), tb2.errors())
}
