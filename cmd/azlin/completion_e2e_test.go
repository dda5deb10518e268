//go:build localcloud

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/namecache"
	"github.com/azlin-dev/azlin/localcloud/testenv"
)

// End-to-end: completion through the built azlin's __complete, the cache
// written by `azlin list`, and the real detached refresh process reading
// the local cloud.
func TestE2ECompletionOfVMNamesAndItsBackgroundRefresh(t *testing.T) {
	c := testenv.New(t)
	mustAz := func(args ...string) {
		t.Helper()
		r := c.Az(args...)
		require.Equal(t, 0, r.Exit, "az %s: %s", strings.Join(args, " "), r.Stderr)
	}
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZha2Uga2V5IGZvciB0ZXN0cw test"
	vmCreate := func(name string) {
		mustAz("vm", "create", "-g", "rg", "-n", name, "--image", "Ubuntu2204", "--admin-username", "azureuser", "--ssh-key-values", key)
	}
	mustAz("group", "create", "-n", "rg", "-l", "eastus")
	vmCreate("worker-1")
	vmCreate("worker-2")
	vmCreate("build")

	r := c.Azlin("list", "-g", "rg")
	require.Equal(t, 0, r.Exit, r.Stderr)
	c.ResetLog()
	r = c.Azlin("__complete", "ssh", "-g", "rg", "w")
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Equal(t, "worker-1\nworker-2\n:4\n", r.Stdout, "the names azlin list saw, filtered by the prefix")
	assert.Empty(t, c.Calls(), "a completion from a fresh cache calls no az")

	// A VM appears elsewhere, and the cache grows old.
	vmCreate("worker-3")
	cache := namecache.In(c.ConfigDir)
	scope := namecache.Scope{Group: "rg"}
	old, found := cache.Read(scope, namecache.VMs)
	require.True(t, found)
	require.NoError(t, cache.Write(scope, namecache.VMs, old.Names, time.Now().Add(-namecache.StaleAfter-time.Minute)))
	c.ResetLog()
	// Every az call now takes as long as a real one's start-up (1.5 s): the
	// refresh needs seconds, and the completion must not wait for it.
	c.Env = append(c.Env, "AZEMU_LATENCY_MS=1500")

	start := time.Now()
	r = c.Azlin("__complete", "ssh", "-g", "rg", "w")
	took := time.Since(start)
	require.Equal(t, 0, r.Exit, r.Stderr)
	assert.Equal(t, "worker-1\nworker-2\n:4\n", r.Stdout, "the stale names, at once")
	assert.Less(t, took, time.Second, "a completion never waits for az")
	e, _ := cache.Read(scope, namecache.VMs)
	assert.Equal(t, old.Names, e.Names, "the refresh is still running when the completion has answered")

	// The refresh runs on its own and rewrites the cache.
	require.Eventually(t, func() bool {
		e, _ = cache.Read(scope, namecache.VMs)
		return len(e.Names) == 4
	}, 60*time.Second, 50*time.Millisecond, "the background refresh never updated %s", cache.Dir)
	assert.Equal(t, []string{"build", "worker-1", "worker-2", "worker-3"}, e.Names)
	assert.False(t, e.Stale(time.Now()))
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(cache.Dir, "rg.refreshing"))
		return os.IsNotExist(err)
	}, 10*time.Second, 50*time.Millisecond, "the refresh released its claim")
	var argvs []string
	for _, call := range c.Calls() {
		argvs = append(argvs, strings.Join(call.Argv, " "))
	}
	assert.Len(t, argvs, 3, "the refresh: login check, storage account list, vm list: %q", argvs)

	r = c.Azlin("__complete", "ssh", "-g", "rg", "worker-")
	assert.Equal(t, "worker-1\nworker-2\nworker-3\n:4\n", r.Stdout)

	// The storage list was refreshed along with the VMs.
	st, found := cache.Read(scope, namecache.Storages)
	require.True(t, found)
	assert.Equal(t, []string{}, st.Names)
}
