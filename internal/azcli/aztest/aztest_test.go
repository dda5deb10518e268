package aztest_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
)

// fakeTB is a testing.TB that records failures instead of failing the real
// test, so these tests can check that the fixture runner does fail.
type fakeTB struct {
	testing.TB // the real test, for Name, TempDir, ...

	mu       sync.Mutex
	errs     []string
	failed   bool
	cleanups []func()
}

func newFakeTB(t *testing.T) *fakeTB { return &fakeTB{TB: t} }

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
	f.failed = true
}
func (f *fakeTB) Error(args ...any)                 { f.Errorf("%s", fmt.Sprint(args...)) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.Errorf(format, args...); runtime.Goexit() }
func (f *fakeTB) Fatal(args ...any)                 { f.Error(args...); runtime.Goexit() }
func (f *fakeTB) FailNow()                          { f.Fail(); runtime.Goexit() }
func (f *fakeTB) Fail()                             { f.mu.Lock(); f.failed = true; f.mu.Unlock() }
func (f *fakeTB) Failed() bool                      { f.mu.Lock(); defer f.mu.Unlock(); return f.failed }
func (f *fakeTB) Logf(string, ...any)               {}
func (f *fakeTB) Log(...any)                        {}
func (f *fakeTB) Cleanup(fn func())                 { f.mu.Lock(); f.cleanups = append(f.cleanups, fn); f.mu.Unlock() }

// finish runs the cleanups, as the testing package does when a test ends.
func (f *fakeTB) finish() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func (f *fakeTB) errors() string { f.mu.Lock(); defer f.mu.Unlock(); return strings.Join(f.errs, "\n") }

// stopsTest runs fn as a test body and reports whether it stopped the test (FailNow).
func stopsTest(fn func()) bool {
	finished := make(chan bool)
	go func() {
		stopped := true
		defer func() { finished <- stopped }()
		fn()
		stopped = false
	}()
	return <-finished
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

var show = []string{"storage", "account", "show", "-g", "rg", "-n", "acct"}

func TestReplayFromFixtureFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "bodies/acct.json", `{"name":"acct"}`)
	path := writeFile(t, dir, "scenario.json", `{
  "source": "test",
  "calls": [
    {"argv": ["storage","account","show","-g","rg","-n","acct"], "exit": 0, "stdout_file": "bodies/acct.json", "source": "az-shapes"},
    {"argv": ["storage","account","delete","-g","rg","-n","acct","--yes"], "exit": 3, "stderr": "ERROR: (ResourceNotFound) gone\n"}
  ]
}`)
	tb := newFakeTB(t)
	fake := aztest.Load(tb, path)
	c := azcli.New(fake, azcli.Options{})

	var acct struct{ Name string }
	require.NoError(t, c.Read(context.Background(), &acct, show...))
	assert.Equal(t, "acct", acct.Name, "stdout_file is read relative to the fixture's folder")
	err := c.Mutate(context.Background(), nil, "storage", "account", "delete", "-g", "rg", "-n", "acct", "--yes")
	assert.ErrorIs(t, err, azcli.ErrNotFound)
	assert.Equal(t, [][]string{show, {"storage", "account", "delete", "-g", "rg", "-n", "acct", "--yes"}}, fake.Calls(),
		"calls are recorded without the output flags the Client added")

	tb.finish()
	assert.False(t, tb.Failed(), tb.errors())
}

func TestSameArgvIsAnsweredInFixtureOrderAlsoConcurrently(t *testing.T) {
	const n = 20
	calls := make([]aztest.Call, n)
	for i := range calls {
		calls[i] = aztest.Call{Argv: show, Exit: 0, Stdout: fmt.Sprint(i + 1)}
	}
	tb := newFakeTB(t)
	fake := aztest.New(tb, calls...)

	first, err := fake.Run(context.Background(), append(slices.Clone(show), "-o", "json"))
	require.NoError(t, err)
	assert.Equal(t, "1", string(first.Stdout), "first in, first out")

	got := make([]string, n-1)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			res, err := fake.Run(context.Background(), show)
			assert.NoError(t, err)
			got[i] = string(res.Stdout)
		})
	}
	wg.Wait()
	slices.SortFunc(got, func(a, b string) int { return cmp.Compare(atoi(t, a), atoi(t, b)) })
	want := make([]string, n-1)
	for i := range want {
		want[i] = fmt.Sprint(i + 2)
	}
	assert.Equal(t, want, got, "each entry answers exactly one call")
	tb.finish()
	assert.False(t, tb.Failed(), tb.errors())
}

func TestUnexpectedCallFailsAndPrintsAnEntryToPaste(t *testing.T) {
	tb := newFakeTB(t)
	fake := aztest.New(tb, aztest.Call{Argv: show, Exit: 0, Stdout: "{}"})
	c := azcli.New(fake, azcli.Options{Retry: azcli.RetryPolicy{MaxAttempts: 1}})

	unexpected := []string{"storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", "my share", "--quota", "1024"}
	var done sync.WaitGroup
	done.Go(func() { // from another goroutine: must not stop it, only fail the test
		err := c.Mutate(context.Background(), nil, unexpected...)
		assert.ErrorContains(t, err, "aztest: unexpected az call: az storage share-rm create")
	})
	done.Wait()

	require.True(t, tb.Failed(), "an unexpected call fails the test")
	msg := tb.errors()
	assert.Contains(t, msg, "unexpected az call")
	assert.Contains(t, msg, "az storage share-rm create -g rg --storage-account acct -n 'my share' --quota 1024")
	// The last line is a Call entry, ready to paste into the fixture.
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	var entry aztest.Call
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &entry), msg)
	assert.Equal(t, aztest.Call{Argv: unexpected}, entry, "the entry's argv has no output flags")

	// A listed call made more often than listed is unexpected too.
	tb2 := newFakeTB(t)
	fake2 := aztest.New(tb2, aztest.Call{Argv: show, Exit: 0})
	_, err := fake2.Run(context.Background(), show)
	require.NoError(t, err)
	assert.False(t, tb2.Failed())
	_, err = fake2.Run(context.Background(), show)
	assert.Error(t, err)
	assert.Contains(t, tb2.errors(), "called more often than listed")
}

func TestUnusedEntriesFailTheTestAtCleanup(t *testing.T) {
	tb := newFakeTB(t)
	fake := aztest.New(tb,
		aztest.Call{Argv: show, Exit: 0},
		aztest.Call{Argv: []string{"storage", "account", "delete", "-n", "acct"}, Exit: 0},
		aztest.Call{Argv: show, Exit: 0},
	)
	_, err := fake.Run(context.Background(), show)
	require.NoError(t, err)
	assert.False(t, tb.Failed(), "nothing is wrong until the test ends")

	tb.finish()
	require.True(t, tb.Failed())
	assert.Contains(t, tb.errors(), "2 fixture call(s) in inline fixture never made")
	assert.Contains(t, tb.errors(), "az storage account delete -n acct")
	assert.Contains(t, tb.errors(), "az storage account show -g rg -n acct")
}

func TestMalformedFixtureFailsAtLoad(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ body, want string }{
		"not json":          {`{"calls": [`, "is not valid"},
		"unknown key":       {`{"calls": [{"argv": ["group","show"], "stdot": "{}"}]}`, `unknown field "stdot"`},
		"empty argv":        {`{"calls": [{"exit": 0}]}`, "call 1: argv is empty"},
		"argv with az":      {`{"calls": [{"argv": ["az","group","show"]}]}`, `must not start with "az"`},
		"stdout twice":      {`{"calls": [{"argv": ["group","show"], "stdout": "{}", "stdout_file": "x.json"}]}`, "both stdout and stdout_file"},
		"missing file":      {`{"calls": [{"argv": ["group","show"]}, {"argv": ["group","list"], "stdout_file": "nope.json"}]}`, "call 2 (az group list): stdout_file: open"},
		"two JSON objects":  {`{"calls": []} {"calls": []}`, "data after its JSON object"},
		"no such fixture":   {"", "reading fixture"},
		"wrong type for ex": {`{"calls": [{"argv": ["group","show"], "exit": "0"}]}`, "is not valid"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "missing.json")
			if tc.body != "" {
				path = writeFile(t, dir, strings.ReplaceAll(name, " ", "-")+".json", tc.body)
			}
			tb := newFakeTB(t)
			assert.True(t, stopsTest(func() { aztest.Load(tb, path) }), "Load stops the test")
			assert.True(t, tb.Failed())
			assert.Contains(t, tb.errors(), tc.want)
			assert.Contains(t, tb.errors(), path)
		})
	}
}

func TestRunAfterCancelDoesNotUseAnEntry(t *testing.T) {
	tb := newFakeTB(t)
	fake := aztest.New(tb, aztest.Call{Argv: show, Exit: 0})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := fake.Run(ctx, show)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = fake.Run(context.Background(), show)
	assert.NoError(t, err)
	tb.finish()
	assert.False(t, tb.Failed(), tb.errors())
}

func atoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}
