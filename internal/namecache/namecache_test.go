package namecache

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func TestWriteThenRead(t *testing.T) {
	c := In(t.TempDir())
	s := Scope{Group: "My-RG"}
	_, found := c.Read(s, VMs)
	assert.False(t, found)
	require.NoError(t, c.Write(s, VMs, []string{"worker-2", "worker-1", "worker-2"}, t0))
	e, found := c.Read(Scope{Group: "my-rg"}, VMs) // group names are not case-sensitive
	require.True(t, found)
	assert.Equal(t, []string{"worker-1", "worker-2"}, e.Names, "sorted, once each")
	assert.Equal(t, t0, e.Updated)
	_, found = c.Read(s, Storages)
	assert.False(t, found, "kinds are apart")
	_, found = c.Read(Scope{Group: "my-rg", Subscription: "other"}, VMs)
	assert.False(t, found, "a subscription given by --subscription is apart")

	require.NoError(t, c.Write(s, VMs, nil, t0.Add(time.Minute)))
	e, found = c.Read(s, VMs)
	require.True(t, found)
	assert.Equal(t, []string{}, e.Names, "an empty group is a known answer")
	leftovers, _ := filepath.Glob(filepath.Join(c.Dir, ".names-*"))
	assert.Empty(t, leftovers, "no temporary file stays")
}

func TestAddAndRemoveKeepTheListsTime(t *testing.T) {
	c := In(t.TempDir())
	s := Scope{Group: "rg"}
	require.NoError(t, c.Add(s, VMs, "new-vm"))
	_, found := c.Read(s, VMs)
	assert.False(t, found, "one name is not the group's list: no list is made")

	require.NoError(t, c.Write(s, VMs, []string{"a", "b"}, t0))
	require.NoError(t, c.Add(s, VMs, "c"))
	require.NoError(t, c.Remove(s, VMs, "a"))
	e, _ := c.Read(s, VMs)
	assert.Equal(t, []string{"b", "c"}, e.Names)
	assert.Equal(t, t0, e.Updated, "as fresh as the last full read")
}

func TestStale(t *testing.T) {
	e := Entry{Updated: t0}
	assert.False(t, e.Stale(t0.Add(StaleAfter-time.Second)))
	assert.True(t, e.Stale(t0.Add(StaleAfter)))
}

func TestAGarbledFileIsNoCache(t *testing.T) {
	c := In(t.TempDir())
	s := Scope{Group: "rg"}
	require.NoError(t, os.MkdirAll(c.Dir, 0o700))
	require.NoError(t, os.WriteFile(c.path(s, VMs), []byte("{not json"), 0o600))
	_, found := c.Read(s, VMs)
	assert.False(t, found)
}

func TestOneRefreshAtATime(t *testing.T) {
	c := In(t.TempDir())
	s := Scope{Group: "rg"}
	ok, err := c.ClaimRefresh(s, time.Now())
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = c.ClaimRefresh(s, time.Now())
	require.NoError(t, err)
	assert.False(t, ok, "a second TAB starts no second refresh")
	ok, _ = c.ClaimRefresh(Scope{Group: "other"}, time.Now())
	assert.True(t, ok, "another group refreshes on its own")

	ok, _ = c.ClaimRefresh(s, time.Now().Add(RefreshTimeout+time.Second))
	assert.True(t, ok, "a claim older than the refresh's timeout is abandoned")

	c.Release(s)
	ok, _ = c.ClaimRefresh(s, time.Now())
	assert.True(t, ok, "released")
}

func TestComplete(t *testing.T) {
	names := []string{"scratch", "shared-dev", "worker-1"}
	assert.Equal(t, []string{"scratch", "shared-dev"}, Complete(names, "s"))
	assert.Equal(t, names, Complete(names, ""))
	assert.Empty(t, Complete(names, "x"))
}
