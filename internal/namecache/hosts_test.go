package namecache

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHostsAreKeptPerScopeAndVM(t *testing.T) {
	c := In(t.TempDir())
	s := Scope{Group: "RG"}
	_, found := c.Host(s, "dev-1")
	assert.False(t, found)

	require.NoError(t, c.SetHost(s, "dev-1", "20.1.2.3", t0))
	require.NoError(t, c.SetHost(s, "dev-2", "20.1.2.4", t0))
	h, found := c.Host(Scope{Group: "rg"}, "dev-1") // group names are not case-sensitive
	require.True(t, found)
	assert.Equal(t, Host{Address: "20.1.2.3", Updated: t0}, h)
	_, found = c.Host(Scope{Group: "rg", Subscription: "other"}, "dev-1")
	assert.False(t, found, "another subscription is apart")
	_, found = c.Host(Scope{Group: "rg2"}, "dev-1")
	assert.False(t, found, "another group is apart")

	require.NoError(t, c.SetHost(s, "dev-1", "20.1.2.9", t0))
	h, _ = c.Host(s, "dev-1")
	assert.Equal(t, "20.1.2.9", h.Address, "replaced")

	require.NoError(t, c.ForgetHost(s, "dev-1"))
	_, found = c.Host(s, "dev-1")
	assert.False(t, found)
	h, found = c.Host(s, "dev-2")
	assert.True(t, found, "the other VM stays")
	assert.Equal(t, "20.1.2.4", h.Address)
	require.NoError(t, c.ForgetHost(s, "nope"), "forgetting what is not there is fine")

	// A damaged file is no address, and the next write replaces it.
	require.NoError(t, os.WriteFile(c.hostsPath(s), []byte("{"), 0o600))
	_, found = c.Host(s, "dev-2")
	assert.False(t, found)
	require.NoError(t, c.SetHost(s, "dev-2", "20.1.2.4", t0))
	_, found = c.Host(s, "dev-2")
	assert.True(t, found)
}

func TestHostKeyAliasNamesOneVMOfOneScope(t *testing.T) {
	a := HostKeyAlias(Scope{Group: "rg"}, "dev-1")
	assert.Regexp(t, `^dev-1\.[0-9a-f]{12}\.azlin$`, a)
	assert.Equal(t, a, HostKeyAlias(Scope{Group: "RG"}, "dev-1"), "group names are not case-sensitive")
	assert.NotEqual(t, a, HostKeyAlias(Scope{Group: "rg"}, "dev-2"))
	assert.NotEqual(t, a, HostKeyAlias(Scope{Group: "rg2"}, "dev-1"))
	assert.NotEqual(t, a, HostKeyAlias(Scope{Group: "rg", Subscription: "s"}, "dev-1"))
	assert.NotContains(t, HostKeyAlias(Scope{Group: "my rg(*)"}, "x"), " ", "no character known_hosts treats specially")
}
