package vmscript

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The parser on canned output: every local probe is listed in order, a
// failure carries its meaning, a missing probe is unknown (output cut), and
// the peer probe appears only when it ran.
func TestProbesParsesScriptInfo(t *testing.T) {
	ps := Probes(map[string]string{
		"probe_owner": "ok", "probe_flock": "ok", "probe_fcntl": "fail: [Errno 37] No locks available",
		"probe_mkfifo": "ok", "probe_unix_socket": "skip: /usr/bin/python3 is not installed", "probe_rename": "ok",
	})
	var names, statuses []string
	for _, p := range ps {
		names = append(names, p.Name)
		statuses = append(statuses, p.Status)
	}
	assert.Equal(t, []string{"owner", "flock", "fcntl", "mkfifo", "unix_socket", "hard_link", "rename"}, names)
	assert.Equal(t, []string{"ok", "ok", "fail", "ok", "skip", "unknown", "ok"}, statuses)
	assert.Equal(t, "[Errno 37] No locks available", ps[2].Detail)
	assert.Contains(t, ps[2].Meaning, "SQLite")
	assert.False(t, ps[2].OK())
	assert.True(t, ps[4].OK(), "a skipped probe is not a failure")
	assert.Empty(t, ps[0].Meaning, "no meaning for a probe that passed")
	assert.Equal(t, "not reported", ps[5].Detail)
	assert.Contains(t, ps[5].Meaning, "pnpm")

	withPeer := Probes(map[string]string{"probe_peer": "fail: the file the other VM wrote is not here (~/.azlin-check-peer-ab12cd34)"})
	require.Len(t, withPeer, 8)
	assert.Equal(t, "peer", withPeer[7].Name)
	assert.Equal(t, "fail", withPeer[7].Status)
	assert.Contains(t, withPeer[7].Meaning, "not on the same share")
}

func TestCheckScriptRefusesBadParams(t *testing.T) {
	for _, p := range []CheckParams{
		{Peer: PeerWrite, Token: "not-hex!"},
		{Peer: PeerRead},
		{Peer: "both", Token: "abcdef12"},
		{Token: "abcdef12"},
		{Home: "/home/../etc"},
	} {
		s, err := CheckScript(p)
		assert.Error(t, err, "%+v", p)
		assert.Empty(t, s)
	}
}

func checkScript(t *testing.T, p CheckParams) string {
	t.Helper()
	s, err := CheckScript(p)
	require.NoError(t, err)
	return s
}

func attachedEnv(t *testing.T, o envOpts) *nsEnv {
	t.Helper()
	o.installed = true
	e := newNSEnv(t, o)
	populateHome(t, e.home(), 1000, localKey+"\n")
	require.NoError(t, os.MkdirAll(e.share(premium.Account, premium.Share), 0o755))
	res, out := e.runScript("attach.sh", attachScript(t, premium, "T1"))
	require.True(t, res.OK, out)
	for _, p := range Probes(res.Info) {
		require.Equal(t, "ok", p.Status, "attach's self-test: %s %s", p.Name, p.Detail)
	}
	return e
}

// The self-test passes on a working share, and a file written on one VM is
// read (and removed) on the other; it leaves nothing behind.
func TestCheckPassesAndReadsFromASecondVM(t *testing.T) {
	vm1 := attachedEnv(t, envOpts{})
	vm2 := newNSEnv(t, envOpts{installed: true, shares: vm1.shares})
	populateHome(t, vm2.home(), 1000, otherVMKey+"\n")
	res, out := vm2.runScript("attach.sh", attachScript(t, premium, "T1"))
	require.True(t, res.OK, out)
	share := vm1.share(premium.Account, premium.Share)
	before := treeListing(t, share)

	res, out = vm1.runScript("check-write.sh", checkScript(t, CheckParams{Peer: PeerWrite, Token: "0123abcd"}))
	require.True(t, res.OK, out)
	assert.Equal(t, "/home/azureuser/.azlin-check-peer-0123abcd", res.Info["peer_written"])
	for _, p := range Probes(res.Info) {
		assert.Equal(t, "ok", p.Status, "%s: %s", p.Name, p.Detail)
	}
	res, out = vm2.runScript("check-read.sh", checkScript(t, CheckParams{Peer: PeerRead, Token: "0123abcd"}))
	require.True(t, res.OK, out)
	assert.Equal(t, "ok", res.Info["probe_peer"])
	assert.Equal(t, before, treeListing(t, share), "the self-test leaves nothing on the share")

	res, out = vm2.runScript("check-read-again.sh", checkScript(t, CheckParams{Peer: PeerRead, Token: "0123abcd"}))
	require.True(t, res.OK, out)
	assert.Equal(t, "fail: the file the other VM wrote is not here (~/.azlin-check-peer-0123abcd)", res.Info["probe_peer"])
}

// Probes forced to fail are reported as failed, each with what went wrong:
// tools that do not do what they claim (a flock that always succeeds, an ln
// that copies, a mkfifo that makes a plain file), then a read-only share.
func TestCheckReportsProbesForcedToFail(t *testing.T) {
	e := attachedEnv(t, envOpts{})
	fakes := map[string]string{
		"/usr/bin/flock":  "#!/bin/sh\n# claims every lock\nshift; shift; shift 2>/dev/null; exit 0\n",
		"/usr/bin/ln":     "#!/bin/sh\n# copies instead of linking\nexec cp \"$1\" \"$2\"\n",
		"/usr/bin/mkfifo": "#!/bin/sh\n: >\"$1\"\n",
	}
	for path, body := range fakes {
		fake := filepath.Join(e.dir, "fake", filepath.Base(path))
		e.writeFile(fake, body, 0o755)
		_, code := e.sh("mount --bind " + fake + " " + path)
		require.Equal(t, 0, code)
	}
	res, out := e.runScript("check.sh", checkScript(t, CheckParams{}))
	require.True(t, res.OK, out)
	got := map[string]string{}
	for _, p := range Probes(res.Info) {
		got[p.Name] = p.Status + " " + p.Detail
	}
	assert.Equal(t, map[string]string{
		"owner": "ok ", "fcntl": "ok ", "unix_socket": "ok ", "rename": "ok ",
		"flock":     "fail a second lock on the file was granted while the first was held",
		"hard_link": "fail the file has 1 links after ln, not 2",
		"mkfifo":    "fail not a FIFO after mkfifo",
	}, got)

	_, code := e.sh("umount /usr/bin/flock /usr/bin/ln /usr/bin/mkfifo && mount -o remount,bind,ro /home/azureuser")
	require.Equal(t, 0, code)
	res, out = e.runScript("check-ro.sh", checkScript(t, CheckParams{}))
	require.True(t, res.OK, out)
	for _, p := range Probes(res.Info) {
		assert.Equal(t, "fail", p.Status, p.Name)
		assert.Equal(t, "azureuser cannot make a folder in /home/azureuser", p.Detail)
		assert.NotEmpty(t, p.Meaning)
	}
	assert.True(t, strings.Contains(out, "probe_rename=fail"))
}

// The self-test needs the shared home.
func TestCheckRefusesALocalHome(t *testing.T) {
	e := newNSEnv(t, envOpts{installed: true})
	populateHome(t, e.home(), 1000, localKey+"\n")
	res, out := e.runScript("check.sh", checkScript(t, CheckParams{}))
	require.False(t, res.OK, out)
	assert.Equal(t, "check-attached", res.Step)
	assert.Contains(t, res.Reason, "/home/azureuser is not mounted from shared storage on this VM")
}
