package azcli_test

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
)

func TestReadDecodesAzJSON(t *testing.T) {
	fake := aztest.New(t, aztest.Call{
		Argv: []string{"storage", "account", "show", "-g", "rg", "-n", "acct"}, Exit: 0,
		StdoutFile: "testdata/storage-account-show.json", Source: "az-shapes/storage-account-show.json",
	})
	var acct struct {
		Name                   string `json:"name"`
		Kind                   string `json:"kind"`
		EnableHTTPSTrafficOnly bool   `json:"enableHttpsTrafficOnly"`
		Sku                    struct{ Name, Tier string }
		NetworkRuleSet         struct {
			DefaultAction string `json:"defaultAction"`
		} `json:"networkRuleSet"`
	}
	require.NoError(t, azcli.New(fake, azcli.Options{}).Read(context.Background(), &acct, "storage", "account", "show", "-g", "rg", "-n", "acct"))
	assert.Equal(t, "acct", acct.Name)
	assert.Equal(t, "FileStorage", acct.Kind)
	assert.Equal(t, "Premium_LRS", acct.Sku.Name)
	assert.False(t, acct.EnableHTTPSTrafficOnly)
	assert.Equal(t, "Deny", acct.NetworkRuleSet.DefaultAction)
}

func TestReadSendsOutputFlagsAndSubscription(t *testing.T) {
	var got []string
	r := runnerFunc(func(_ context.Context, args []string) (azcli.Result, error) {
		got = args
		return azcli.Result{Stdout: []byte("5368709120\n")}, nil
	})
	var used int64
	c := azcli.New(r, azcli.Options{Subscription: "Contoso Dev"})
	require.NoError(t, c.Read(context.Background(), &used, "storage", "share-rm", "stats", "-g", "rg", "--storage-account", "acct", "-n", "share"))
	assert.Equal(t, int64(5368709120), used, "share-rm stats prints a bare number")
	assert.Equal(t, []string{"storage", "share-rm", "stats", "-g", "rg", "--storage-account", "acct", "-n", "share",
		"--output", "json", "--only-show-errors", "--subscription", "Contoso Dev"}, got)

	// Flags the caller set already are not repeated.
	require.NoError(t, c.Read(context.Background(), nil, "account", "show", "-o", "json", "--subscription", "other"))
	assert.Equal(t, []string{"account", "show", "-o", "json", "--subscription", "other", "--only-show-errors"}, got)
}

func TestReadOutputErrors(t *testing.T) {
	fake := aztest.New(t,
		aztest.Call{Argv: []string{"storage", "account", "delete", "-n", "a"}, Exit: 0},
		aztest.Call{Argv: []string{"storage", "account", "show", "-n", "a"}, Exit: 0},
		aztest.Call{Argv: []string{"storage", "account", "list"}, Exit: 0, Stdout: "not json"},
	)
	c := azcli.New(fake, azcli.Options{})
	assert.NoError(t, c.Mutate(context.Background(), nil, "storage", "account", "delete", "-n", "a"), "no output is fine when none is wanted")
	var v map[string]any
	assert.EqualError(t, c.Read(context.Background(), &v, "storage", "account", "show", "-n", "a"),
		"az storage account show printed nothing where JSON was expected")
	err := c.Read(context.Background(), &v, "storage", "account", "list")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "az storage account list: cannot read its output: invalid character")
}

type runnerFunc func(ctx context.Context, args []string) (azcli.Result, error)

func (f runnerFunc) Run(ctx context.Context, args []string) (azcli.Result, error) {
	return f(ctx, args)
}

func TestDryRunPrintsMutationsQuotedAndRunsOnlyReads(t *testing.T) {
	fake := aztest.New(t, aztest.Call{
		Argv: []string{"storage", "account", "show", "-g", "my rg", "-n", "acct", "--subscription", "Contoso Dev"}, Exit: 0,
		StdoutFile: "testdata/storage-account-show.json",
	}) // only the read: a mutation that ran would be an unexpected call
	var out bytes.Buffer
	c := azcli.New(fake, azcli.Options{DryRun: true, DryRunOut: &out, Subscription: "Contoso Dev"})
	require.True(t, c.DryRun())

	var acct struct{ Name string }
	require.NoError(t, c.Read(context.Background(), &acct, "storage", "account", "show", "-g", "my rg", "-n", "acct"))
	assert.Equal(t, "acct", acct.Name, "reads run under dry-run")

	mutation := []string{"storage", "account", "update", "-g", "my rg", "-n", "acct", "--tags", "azlin-name=it's mine", `note="quoted"`, "plain=ok"}
	var res struct{ Name string }
	require.NoError(t, c.Mutate(context.Background(), &res, mutation...))
	assert.Empty(t, res.Name, "nothing was run, nothing decoded")
	assert.Equal(t, [][]string{{"storage", "account", "show", "-g", "my rg", "-n", "acct", "--subscription", "Contoso Dev"}}, fake.Calls())

	line := out.String()
	assert.Equal(t, `az storage account update -g 'my rg' -n acct --tags 'azlin-name=it'"'"'s mine' 'note="quoted"' plain=ok`+
		" --output json --only-show-errors --subscription 'Contoso Dev'\n", line)

	// The printed line, run by a shell, gives az exactly the argv azlin would have run.
	words, err := exec.Command("sh", "-c", "az() { printf '%s\\n' \"$@\"; }; "+line).Output()
	require.NoError(t, err)
	want := append(append([]string{}, mutation...), "--output", "json", "--only-show-errors", "--subscription", "Contoso Dev")
	assert.Equal(t, want, strings.Split(strings.TrimSuffix(string(words), "\n"), "\n"))
}

func TestDryRunHidesSecrets(t *testing.T) {
	var out bytes.Buffer
	c := azcli.New(aztest.New(t), azcli.Options{DryRun: true, DryRunOut: &out})
	require.NoError(t, c.Mutate(context.Background(), nil, "storage", "share", "create", "--account-key", "c2VjcmV0", "-n", "s"))
	assert.Equal(t, "az storage share create --account-key REDACTED -n s --output json --only-show-errors\n", out.String())
}

func TestDebugLogsEveryCallRedacted(t *testing.T) {
	const key = "c2VjcmV0a2V5MTIzNA=="
	const sas = "https://acct.file.core.windows.net/share?sv=2022-11-02&sp=rl&sig=AbCdEf%2Bsecret%3D"
	server := sample(t, "server", 0)
	fake := aztest.New(t,
		aztest.Call{Argv: []string{"storage", "share", "list", "--account-key", key, "--account-name", "acct"}, Exit: 0, Stdout: "[]"},
		aztest.Call{Argv: []string{"storage", "copy", "--source", sas}, Exit: 3, Stderr: "ERROR: (ResourceNotFound) gone\n"},
		server, server,
	)
	var dbg bytes.Buffer
	var s sleeps
	c := azcli.New(fake, azcli.Options{Debug: &dbg, Retry: azcli.RetryPolicy{MaxAttempts: 2, Sleep: s.sleep}})
	ctx := context.Background()
	require.NoError(t, c.Read(ctx, nil, "storage", "share", "list", "--account-key", key, "--account-name", "acct"))
	require.Error(t, c.Read(ctx, nil, "storage", "copy", "--source", sas))
	require.Error(t, c.Read(ctx, nil, server.Argv...))

	log := dbg.String()
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	require.Len(t, lines, 5, log) // one per az call (4), one retry note
	assert.Regexp(t, `^az storage share list --account-key REDACTED --account-name acct --output json --only-show-errors  # exit 0, \d+s$`, lines[0])
	assert.Regexp(t, `^az storage copy --source 'https://acct.file.core.windows.net/share\?sv=2022-11-02&sp=rl&sig=REDACTED' .*# exit 3, `, lines[1])
	assert.Regexp(t, `^az storage account show -g rg -n acct .*# exit 1, `, lines[2])
	assert.Regexp(t, `^# retrying in \d.*\(attempt 2 of 2\)$`, lines[3])
	assert.Regexp(t, `# exit 1, `, lines[4])
	assert.NotContains(t, log, "c2VjcmV0a2V5")
	assert.NotContains(t, log, "AbCdEf")
}

func TestNoDebugOutputWhenOff(t *testing.T) {
	// Debug nil must not panic or print; the call still works.
	fake := aztest.New(t, aztest.Call{Argv: []string{"group", "show", "-n", "rg"}, Exit: 0, Stdout: "{}"})
	assert.NoError(t, azcli.New(fake, azcli.Options{}).Read(context.Background(), nil, "group", "show", "-n", "rg"))
}

func TestEnsureLoggedInRunsAccountShowOnceForConcurrentCallers(t *testing.T) {
	fake := aztest.Load(t, "testdata/login.json") // one `account show`: a second would fail the test
	c := azcli.New(fake, azcli.Options{})
	var wg sync.WaitGroup
	accounts := make([]azcli.Account, 16)
	errs := make([]error, 16)
	for i := range accounts {
		wg.Go(func() { accounts[i], errs[i] = c.EnsureLoggedIn(context.Background()) })
	}
	wg.Wait()
	for i := range accounts {
		require.NoError(t, errs[i])
		assert.Equal(t, "9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203", accounts[i].ID)
		assert.Equal(t, "Contoso Dev", accounts[i].Name)
		assert.Equal(t, "3c9f8e7d-6b5a-4c3d-8e2f-1a0b9c8d7e6f", accounts[i].TenantID)
		assert.Equal(t, "dev@contoso.onmicrosoft.com", accounts[i].User.Name)
		assert.Equal(t, "user", accounts[i].User.Type)
	}
	assert.Len(t, fake.Calls(), 1)
}

func TestEnsureLoggedInRemembersNotLoggedIn(t *testing.T) {
	fake := aztest.New(t, sample(t, "not-logged-in", 1))
	c := azcli.New(fake, azcli.Options{})
	_, err1 := c.EnsureLoggedIn(context.Background())
	_, err2 := c.EnsureLoggedIn(context.Background())
	assert.ErrorIs(t, err1, azcli.ErrNotLoggedIn)
	assert.EqualError(t, err1, "az account show failed: Please run 'az login' to setup account.")
	assert.Same(t, err1, err2)
	assert.Len(t, fake.Calls(), 1)
}

func TestEnsureLoggedInDoesNotRememberACancelledCheck(t *testing.T) {
	fake := aztest.Load(t, "testdata/login.json")
	c := azcli.New(fake, azcli.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.EnsureLoggedIn(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	acct, err := c.EnsureLoggedIn(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "Contoso Dev", acct.Name)
}
