package vmscript

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/nfs"
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
		{Tier: nfs.Premium, Peer: PeerWrite, Token: "not-hex!"},
		{Tier: nfs.Premium, Peer: PeerRead},
		{Tier: nfs.Premium, Peer: "both", Token: "abcdef12"},
		{Tier: nfs.Premium, Token: "abcdef12"},
		{Tier: nfs.Premium, Home: "/home/../etc"},
		{}, // no tier
	} {
		s, err := CheckScript(p)
		assert.Error(t, err, "%+v", p)
		assert.Empty(t, s)
	}
}
