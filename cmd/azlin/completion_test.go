package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/namecache"
)

// Completion goes through Cobra's own entry point, `azlin __complete ARGS
// PREFIX`, which the shell scripts of `azlin completion bash|zsh|fish` call:
// it prints one candidate per line and ":DIRECTIVE" last (4 is
// ShellCompDirectiveNoFileComp).

// completionEnv gives the test a config folder and records the refreshes a
// completion starts instead of starting processes.
func completionEnv(t *testing.T) (namecache.Cache, *[]namecache.Scope) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AZLIN_CONFIG_DIR", dir)
	t.Setenv("AZLIN_RESOURCE_GROUP", "")
	var started []namecache.Scope
	old := startRefresh
	startRefresh = func(_ *app, s namecache.Scope) error { started = append(started, s); return nil }
	t.Cleanup(func() { startRefresh = old })
	return namecache.In(dir), &started
}

// complete runs `azlin __complete args...` with an az that must not be called.
func complete(t *testing.T, args ...string) (candidates []string, directive string) {
	t.Helper()
	fake := aztest.New(t) // any az call fails the test: completion never waits on az
	out, stderr, code := runWith(t, t.Context(), fake, append([]string{"__complete"}, args...)...)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, fake.Calls())
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) > 1 {
		candidates = lines[:len(lines)-1]
	}
	return candidates, lines[len(lines)-1]
}

func TestCompleteVMAndStorageNamesFromTheCache(t *testing.T) {
	cache, started := completionEnv(t)
	rg := namecache.Scope{Group: "rg"}
	now := time.Now()
	require.NoError(t, cache.Write(rg, namecache.VMs, []string{"worker-1", "worker-2", "build"}, now))
	require.NoError(t, cache.Write(rg, namecache.Storages, []string{"shared-dev", "scratch"}, now))

	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"ssh", "-g", "rg", ""}, []string{"build", "worker-1", "worker-2"}},
		{[]string{"ssh", "-g", "rg", "w"}, []string{"worker-1", "worker-2"}},
		{[]string{"ssh", "-g", "rg", "worker-1", ""}, nil}, // after the VM: nothing
		{[]string{"delete", "-g", "rg", "b"}, []string{"build"}},
		{[]string{"allow-ssh", "-g", "rg", "worker-"}, []string{"worker-1", "worker-2"}},
		{[]string{"storage", "status", "-g", "rg", ""}, []string{"scratch", "shared-dev"}},
		{[]string{"storage", "delete", "-g", "rg", "sh"}, []string{"shared-dev"}},
		{[]string{"storage", "check", "-g", "rg", "s"}, []string{"scratch", "shared-dev"}},
		{[]string{"storage", "layout", "show", "-g", "rg", "sc"}, []string{"scratch"}},
		{[]string{"storage", "attach", "-g", "rg", "sha"}, []string{"shared-dev"}},
		{[]string{"storage", "attach", "shared-dev", "-g", "rg", "--vm", "worker-"}, []string{"worker-1", "worker-2"}},
		{[]string{"storage", "detach", "-g", "rg", "--vm", ""}, []string{"build", "worker-1", "worker-2"}},
		{[]string{"new", "-g", "rg", "--shared-home", "s"}, []string{"scratch", "shared-dev"}},
		{[]string{"ssh", "-g", "RG", "b"}, []string{"build"}}, // group names are not case-sensitive
	} {
		got, directive := complete(t, c.args...)
		assert.Equal(t, c.want, got, "%v", c.args)
		assert.Equal(t, ":4", directive, "%v: no file names", c.args)
	}
	assert.Empty(t, *started, "a fresh cache starts no refresh")
}

func TestCompletionTakesTheGroupFromTheEnvironment(t *testing.T) {
	cache, _ := completionEnv(t)
	require.NoError(t, cache.Write(namecache.Scope{Group: "team-rg"}, namecache.VMs, []string{"w1"}, time.Now()))
	t.Setenv("AZLIN_RESOURCE_GROUP", "team-rg")
	got, _ := complete(t, "ssh", "")
	assert.Equal(t, []string{"w1"}, got)
}

func TestStaleCacheAnswersAtOnceAndRefreshesInTheBackground(t *testing.T) {
	cache, started := completionEnv(t)
	rg := namecache.Scope{Group: "rg"}
	require.NoError(t, cache.Write(rg, namecache.VMs, []string{"worker-1"}, time.Now().Add(-namecache.StaleAfter-time.Minute)))

	got, _ := complete(t, "ssh", "-g", "rg", "w")
	assert.Equal(t, []string{"worker-1"}, got, "the old names, at once")
	assert.Equal(t, []namecache.Scope{rg}, *started, "one refresh of the group")

	got, _ = complete(t, "ssh", "-g", "rg", "w")
	assert.Equal(t, []string{"worker-1"}, got)
	assert.Len(t, *started, 1, "a refresh under way is not started again")

	cache.Release(rg) // the refresh ended
	complete(t, "ssh", "-g", "rg", "--subscription", "dev-sub", "w")
	assert.Equal(t, namecache.Scope{Group: "rg", Subscription: "dev-sub"}, (*started)[1], "--subscription is passed on")
}

func TestMissingCacheSaysSoAndRefreshes(t *testing.T) {
	_, started := completionEnv(t)
	got, directive := complete(t, "storage", "status", "-g", "rg", "")
	require.Len(t, got, 1)
	assert.True(t, strings.HasPrefix(got[0], "_activeHelp_ no storage names cached yet for rg"), got[0])
	assert.Equal(t, ":4", directive)
	assert.Equal(t, []namecache.Scope{{Group: "rg"}}, *started)

	got, _ = complete(t, "ssh", "")
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "no resource group")
	assert.Len(t, *started, 1, "no group, no refresh")
}

func TestListsRememberTheNames(t *testing.T) {
	cache, _ := completionEnv(t)
	list := aztest.Call{Argv: []string{"vm", "list", "-d", "-g", "rg"}, StdoutFile: vmTestdata + "vm-list-d-managed.json"}
	_, stderr, code := runWith(t, t.Context(), aztest.New(t, callAccountShow, list), "list", "-g", "rg")
	require.Equal(t, 0, code, stderr)
	e, found := cache.Read(namecache.Scope{Group: "rg"}, namecache.VMs)
	require.True(t, found)
	assert.Equal(t, []string{"vm", "vm2"}, e.Names)
	assert.WithinDuration(t, time.Now(), e.Updated, time.Minute)

	_, stderr, code = runWith(t, t.Context(), aztest.New(t, stGroupCalls(t)...), "storage", "list", "-g", "rg")
	require.Equal(t, 0, code, stderr)
	e, found = cache.Read(namecache.Scope{Group: "rg"}, namecache.Storages)
	require.True(t, found)
	assert.Equal(t, []string{"shared-dev"}, e.Names)
}

func TestRefreshNamesWritesBothLists(t *testing.T) {
	cache, _ := completionEnv(t)
	rg := namecache.Scope{Group: "rg"}
	claimed, err := cache.ClaimRefresh(rg, time.Now())
	require.NoError(t, err)
	require.True(t, claimed)
	fake := aztest.New(t, stGroupCalls(t)[:3]...) // account show, storage account list, vm list: nothing else
	_, stderr, code := runWith(t, t.Context(), fake, refreshNamesCmd, "-g", "rg")
	require.Equal(t, 0, code, stderr)
	vms, _ := cache.Read(rg, namecache.VMs)
	assert.Equal(t, []string{"vm", "vm2"}, vms.Names)
	st, _ := cache.Read(rg, namecache.Storages)
	assert.Equal(t, []string{"shared-dev"}, st.Names)
	claimed, _ = cache.ClaimRefresh(rg, time.Now())
	assert.True(t, claimed, "the refresh released its claim")
}

func TestCompletionCommandIsThere(t *testing.T) {
	out, stderr, code := runWith(t, t.Context(), aztest.New(t), "completion", "bash")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "__start_azlin")
	out, _, _ = runWith(t, t.Context(), aztest.New(t), "--help")
	assert.NotContains(t, out, refreshNamesCmd, "the refresh command is hidden")
}

func TestDeleteTakesTheVMOutOfTheCache(t *testing.T) {
	vmEnv(t)
	cache := namecache.In(os.Getenv("AZLIN_CONFIG_DIR"))
	rg := namecache.Scope{Group: "rg"}
	listed := time.Now().Add(-time.Minute)
	require.NoError(t, cache.Write(rg, namecache.VMs, []string{"vm", "vm2"}, listed))
	calls := append(append([]aztest.Call{callAccountShow, callShowManaged}, deleteCalls...), homeLeftCalls(t, "[]")...)
	fake := aztest.New(t, append(calls, callMarkUnused)...)
	_, stderr, code := runVMCmd(t, fake, "delete", "vm", "-g", "rg", "--yes")
	require.Equal(t, 0, code, stderr)
	e, _ := cache.Read(rg, namecache.VMs)
	assert.Equal(t, []string{"vm2"}, e.Names, "the next TAB no longer offers the deleted VM")
	assert.True(t, e.Updated.Equal(listed.UTC()), "the list is as old as the last full read")
}
