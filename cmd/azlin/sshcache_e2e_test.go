//go:build localcloud

package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/namecache"
	"github.com/azlin-dev/azlin/localcloud/testenv"
)

// azArgvs are the az calls logged since the last ResetLog, one string each.
func azArgvs(c *testenv.Cloud) []string {
	var argvs []string
	for _, call := range c.Calls() {
		argvs = append(argvs, strings.Join(call.Argv, " "))
	}
	return argvs
}

// assertLoginCheckAndRead checks that argvs are the login check and one read
// starting with read, in either order: the login check runs beside a
// command's first read (docs/design-choices.md, "What runs at once").
func assertLoginCheckAndRead(t *testing.T, argvs []string, read string) {
	t.Helper()
	require.Len(t, argvs, 2, "%q", argvs)
	if strings.HasPrefix(argvs[0], read) {
		argvs = []string{argvs[1], argvs[0]}
	}
	assert.True(t, strings.HasPrefix(argvs[0], "account show"), "%q", argvs)
	assert.True(t, strings.HasPrefix(argvs[1], read), "%q", argvs)
}

// newVMAt creates VM name and returns its public IP.
func newVMAt(t *testing.T, c *testenv.Cloud, name string) string {
	t.Helper()
	r := azlinOK(t, c, "new", "--name", name, "-g", "rg", "--region", "eastus")
	m := regexp.MustCompile(`(?m)^` + name + `\trunning\t\S+\t(\S+)\t`).FindStringSubmatch(r.Stdout)
	require.NotNil(t, m, "new prints the VM: %q", r.Stdout)
	return m[1]
}

// A second `azlin ssh` makes no az call: the address and the pinned host
// key from the first one are enough. A remote command that fails, even
// with ssh's own 255, ran once and is not run again.
func TestE2ESSHAgainMakesNoAzCall(t *testing.T) {
	c := newVMCloud(t)
	ip := newVMAt(t, c, "a")
	scope := namecache.Scope{Group: "rg"}
	cache := namecache.In(c.ConfigDir)
	_, found := cache.Host(scope, "a")
	assert.False(t, found, "new remembers no address: the host key is learnt by the first ssh")

	c.ResetLog()
	r := azlinOK(t, c, "ssh", "a", "-g", "rg", "--", "hostname")
	assert.Equal(t, "a\n", r.Stdout)
	argvs := azArgvs(c)
	require.Len(t, argvs, 2, "the first time: the login check and one read: %q", argvs)
	assertLoginCheckAndRead(t, argvs, "vm show -d -g rg -n a")
	h, found := cache.Host(scope, "a")
	require.True(t, found)
	assert.Equal(t, ip, h.Address)

	c.ResetLog()
	r = azlinOK(t, c, "ssh", "a", "-g", "rg", "--", "hostname")
	assert.Equal(t, "a\n", r.Stdout)
	assert.Empty(t, azArgvs(c), "the second time: no az process at all")
	assert.Empty(t, r.Stderr)

	c.ResetLog()
	r = c.Azlin("ssh", "a", "-g", "rg", "--", "echo ran >>/tmp/runs; exit 255")
	assert.Equal(t, 1, r.Exit, "ssh's 255 is azlin's error: %s", r.Stderr)
	assert.Contains(t, r.Stderr, "ssh could not connect to VM a at "+ip+", or the connection broke")
	assert.NotContains(t, r.Stderr, "asking Azure", "ssh had connected: nothing is tried again")
	r = c.Azlin("ssh", "a", "-g", "rg", "--", "false")
	assert.Equal(t, 1, r.Exit)
	assert.Empty(t, azArgvs(c))
	r = azlinOK(t, c, "ssh", "a", "-g", "rg", "--", "cat", "/tmp/runs")
	assert.Equal(t, "ran\n", r.Stdout, "the command ran once")

	// Deleting the VM with azlin drops its address and its key.
	azlinOK(t, c, "delete", "a", "-g", "rg", "--yes")
	_, found = cache.Host(scope, "a")
	assert.False(t, found)
}

// A remembered address that answers with another host key is never
// connected to: azlin asks Azure again and connects to the VM named.
// Here the cache says VM a is at b's address, as after a deallocated VM's
// address went to another VM.
func TestE2ESSHCachedAddressWithAnotherKeyLooksUpAgain(t *testing.T) {
	c := newVMCloud(t)
	ipA, ipB := newVMAt(t, c, "a"), newVMAt(t, c, "b")
	require.NotEqual(t, ipA, ipB)
	azlinOK(t, c, "ssh", "a", "-g", "rg", "--", "true")
	azlinOK(t, c, "ssh", "b", "-g", "rg", "--", "true")
	scope := namecache.Scope{Group: "rg"}
	cache := namecache.In(c.ConfigDir)
	require.NoError(t, cache.SetHost(scope, "a", ipB, time.Now()))

	c.ResetLog()
	r := azlinOK(t, c, "ssh", "a", "-g", "rg", "--", "hostname")
	assert.Equal(t, "a\n", r.Stdout, "the VM named, not the host at the remembered address")
	assert.Contains(t, r.Stderr, "VM a did not answer at "+ipB+", where azlin last reached it (the host there has another host key); asking Azure where it is now.")
	assert.NotContains(t, r.Stderr, "IDENTIFICATION HAS CHANGED", "ssh's alarm about the address azlin then left is held back")
	argvs := azArgvs(c)
	require.Len(t, argvs, 2, "%q", argvs)
	assertLoginCheckAndRead(t, argvs, "vm show -d -g rg -n a")
	h, _ := cache.Host(scope, "a")
	assert.Equal(t, ipA, h.Address, "the address Azure reported is remembered")

	// An address where nothing listens (the VM moved): refused, then Azure.
	require.NoError(t, cache.SetHost(scope, "a", "127.0.0.1", time.Now()))
	c.ResetLog()
	r = azlinOK(t, c, "ssh", "a", "-g", "rg", "--", "hostname")
	assert.Equal(t, "a\n", r.Stdout)
	assert.Contains(t, r.Stderr, "VM a did not answer at 127.0.0.1")
	assert.Len(t, azArgvs(c), 2)

	// A VM deleted outside azlin: its address stops answering, Azure says
	// it is gone, and azlin forgets it.
	d := c.Az("vm", "delete", "-g", "rg", "-n", "b", "--yes")
	require.Equal(t, 0, d.Exit, d.Stderr)
	r = c.Azlin("ssh", "b", "-g", "rg", "--", "hostname")
	assert.Equal(t, 1, r.Exit, "%s", r.Stderr)
	assert.Contains(t, r.Stderr, "there is no VM b in resource group rg")
	_, found := cache.Host(scope, "b")
	assert.False(t, found)
}

// A caller whose public address changed: azlin ssh says plainly that the
// address is not let in, with the command that lets it in; that command
// fixes it, and running it again changes nothing.
func TestE2ESSHFromAChangedAddressNamesAllowSSH(t *testing.T) {
	c := newVMCloud(t)
	newVMAt(t, c, "a")
	azlinOK(t, c, "ssh", "a", "-g", "rg", "--", "true")

	c.SetCallerIP("198.51.100.20")
	// On Azure the NSG drops the new address's packets at once; the local
	// cloud applies a caller's change at its next az call.
	require.Equal(t, 0, c.Az("group", "show", "-n", "rg").Exit)

	c.ResetLog()
	r := c.Azlin("ssh", "a", "-g", "rg", "--", "hostname")
	assert.Equal(t, 1, r.Exit, "stdout %q stderr %s", r.Stdout, r.Stderr)
	assert.Empty(t, r.Stdout)
	assert.Contains(t, r.Stderr, "your address 198.51.100.20/32 is not let in")
	assert.Contains(t, r.Stderr, "lets SSH in only from "+testenv.DefaultCallerIP+"/32 (rule azlin-ssh)")
	assert.Contains(t, r.Stderr, "Let it in: azlin allow-ssh a -g rg\n")
	argvs := azArgvs(c)
	require.Len(t, argvs, 3, "login check, the VM, and one read of the rule, only now that ssh failed: %q", argvs)
	assert.True(t, strings.HasPrefix(argvs[2], "network nsg rule show -g rg --nsg-name azlin-vnet-nsg -n azlin-ssh"), argvs[2])

	r = azlinOK(t, c, "allow-ssh", "a", "-g", "rg")
	assert.Equal(t, "a\t198.51.100.20/32\ttrue\t"+testenv.DefaultCallerIP+"/32, 198.51.100.20/32\n", r.Stdout)
	assert.Contains(t, r.Stderr, "SSH to VM a is now let in from 198.51.100.20/32")
	r = azlinOK(t, c, "ssh", "a", "-g", "rg", "--", "hostname")
	assert.Equal(t, "a\n", r.Stdout)

	// Again: nothing to change, no write; --query shapes its document.
	c.ResetLog()
	r = azlinOK(t, c, "allow-ssh", "a", "-g", "rg", "-o", "json")
	var v allowSSHView
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &v))
	assert.False(t, v.Changed)
	assert.Equal(t, []string{testenv.DefaultCallerIP + "/32", "198.51.100.20/32"}, v.Sources)
	for _, argv := range azArgvs(c) {
		assert.NotContains(t, argv, "update", "no write")
	}
	r = azlinOK(t, c, "allow-ssh", "a", "-g", "rg", "--query", "sources[1]", "-o", "tsv")
	assert.Equal(t, "198.51.100.20/32\n", r.Stdout)
}
