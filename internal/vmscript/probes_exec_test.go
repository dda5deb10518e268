//go:build localcloud

package vmscript

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/nfs"
)

// The self-test script run for real in a namespace (see ns_test.go).

func checkScript(t *testing.T, p CheckParams) string {
	t.Helper()
	if p.Tier == "" {
		p.Tier = nfs.Premium
	}
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
		if p.Name == "tls" {
			assert.Regexp(t, `^skip: the storage is not encrypted in transit \(plain NFS from \S+\)$`, res.Info["probe_tls"])
			continue
		}
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

// A storage encrypted in transit must be mounted through AZNFS's TLS tunnel
// (from 127.0.0.1); a clear-text mount of it fails the tls probe.
func TestCheckFailsTLSForAClearTextMount(t *testing.T) {
	e := attachedEnv(t, envOpts{})
	res, out := e.runScript("check.sh", checkScript(t, CheckParams{TLS: true}))
	require.True(t, res.OK, out)
	assert.Regexp(t, `^fail: /home/azureuser is mounted in clear text from \S+, not through AZNFS's TLS tunnel$`, res.Info["probe_tls"])
	var tls Probe
	for _, p := range Probes(res.Info) {
		if p.Name == "tls" {
			tls = p
		}
	}
	assert.Equal(t, "fail", tls.Status)
	assert.Contains(t, tls.Meaning, "re-run azlin storage attach")
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
		if p.Name != "tls" { // not asked for here (TestCheckFailsTLSForAClearTextMount)
			got[p.Name] = p.Status + " " + p.Detail
		}
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
		if p.Name == "tls" {
			continue
		}
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
