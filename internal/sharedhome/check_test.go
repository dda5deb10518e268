package sharedhome

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/nfs"

	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/tags"
	"github.com/azlin-dev/azlin/internal/vmprov"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// Unit tests of Check (`azlin storage check`) on recorded az output, as
// attach_test.go has for Attach. Scripts are vmscript's; their stdout is what
// they print on a VM (info lines and the result marker of sh/check.sh and
// sh/probes.sh).

const token = "0123abcd89ef4567"

func checkScript(t *testing.T, peer vmscript.PeerMode) string {
	t.Helper()
	p := vmscript.CheckParams{Tier: nfs.Premium, Peer: peer}
	if peer != vmscript.PeerNone {
		p.Token = token
	}
	s, err := vmscript.CheckScript(p)
	require.NoError(t, err)
	assert.NotContains(t, s, "\nTS=", "the check script carries no clock: its argv is the same every second")
	return s
}

// probeLines are the probes' info lines as sh/probes.sh prints them, each
// "ok" unless given in fails (name -> "fail: WHY").
func probeLines(fails map[string]string) []string {
	var kv []string
	for _, n := range []string{"owner", "flock", "fcntl", "mkfifo", "unix_socket", "hard_link", "rename"} {
		v := "ok"
		if f, ok := fails[n]; ok {
			v = f
		}
		kv = append(kv, "probe_"+n, v)
	}
	return kv
}

func checkReq(s *steps) CheckRequest {
	return CheckRequest{ResourceGroup: rg, Storage: stName, VM: "vm", Token: token, Progress: s.one}
}

func probeStatuses(ps []vmscript.Probe) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name+"="+p.Status)
	}
	return out
}

var allLocalOK = []string{"owner=ok", "flock=ok", "fcntl=ok", "mkfifo=ok", "unix_socket=ok", "hard_link=ok", "rename=ok"}

func TestCheckAllProbesOK(t *testing.T) {
	calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{"vm": attached}),
		vmShow(t, "VM running", attached),
		runCommandOn(t, "vm", checkScript(t, vmscript.PeerNone), info("ok", "probes", "", append(probeLines(nil), "space", "107374182400 96636764160")...), ""),
	)
	m, f := newManager(t, calls...)
	var s steps
	res, err := m.Check(context.Background(), checkReq(&s))
	require.NoError(t, err)
	assert.Equal(t, "vm", res.VM)
	assert.Equal(t, &Space{SizeBytes: 100 << 30, FreeBytes: 90 << 30}, res.Space, "df's size and free bytes of the mount")
	assert.Equal(t, stName, res.Storage.Name)
	assert.Empty(t, res.Peer, "no other VM has this home")
	assert.Equal(t, allLocalOK, probeStatuses(res.Probes), "no peer probe without a peer")
	for _, p := range res.Probes {
		assert.True(t, p.OK(), p.Name)
		assert.Empty(t, p.Meaning, p.Name)
		assert.NotEmpty(t, p.Tests, p.Name)
	}
	assert.Equal(t, []string{"vm run-command invoke"}, mutations(f))
	assert.Equal(t, []string{": running the probes on VM vm"}, s.list())
}

func TestCheckOneProbeFailedTellsWhatItMeans(t *testing.T) {
	// Blob NFS 3.0 mounts with nolock: POSIX locks fail, as Python reports it.
	out := info("ok", "probes", "", probeLines(map[string]string{"fcntl": "fail: [Errno 37] No locks available"})...)
	calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{"vm": attached}),
		vmShow(t, "VM running", attached),
		runCommandOn(t, "vm", checkScript(t, vmscript.PeerNone), out, ""),
	)
	m, _ := newManager(t, calls...)
	res, err := m.Check(context.Background(), CheckRequest{ResourceGroup: rg, Storage: stName, VM: "vm"})
	require.NoError(t, err, "a failed probe is a result, not an error")
	assert.Equal(t, []string{"owner=ok", "flock=ok", "fcntl=fail", "mkfifo=ok", "unix_socket=ok", "hard_link=ok", "rename=ok"},
		probeStatuses(res.Probes))
	fcntl := res.Probes[2]
	assert.False(t, fcntl.OK())
	assert.Equal(t, "[Errno 37] No locks available", fcntl.Detail)
	assert.Contains(t, fcntl.Meaning, "POSIX locks do not work: SQLite")
	assert.Empty(t, res.Probes[1].Meaning, "only the failed probe explains itself")
}

func TestCheckPeerProbeWritesOnOneVMAndReadsOnTheOther(t *testing.T) {
	peerFile := "/home/azureuser/.azlin-check-peer-" + token
	writeOut := info("ok", "peer-write", "", append(probeLines(nil), "peer_written", peerFile)...)
	calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, bothAttached),
		vmShow(t, "VM running", attached),
		vmShowOf(t, "vm2", "VM running", attached),
		runCommandOn(t, "vm", checkScript(t, vmscript.PeerWrite), writeOut, ""),
		runCommandOn(t, "vm2", checkScript(t, vmscript.PeerRead), info("ok", "peer-read", "", "probe_peer", "ok"), ""),
	)
	m, f := newManager(t, calls...)
	var s steps
	res, err := m.Check(context.Background(), checkReq(&s))
	require.NoError(t, err)
	assert.Equal(t, "vm2", res.Peer)
	assert.Equal(t, append(slices.Clone(allLocalOK), "peer=ok"), probeStatuses(res.Probes))
	assert.Equal(t, []string{"vm", "vm2"}, ranOn(f), "write on vm first, then read on vm2")
	assert.Equal(t, []string{": running the probes on VM vm", ": reading on VM vm2 the file VM vm wrote"}, s.list())
}

func TestCheckPeerThatDoesNotSeeTheFileIsAFailedProbe(t *testing.T) {
	peerFile := "/home/azureuser/.azlin-check-peer-" + token
	writeOut := info("ok", "peer-write", "", append(probeLines(nil), "peer_written", peerFile)...)
	readOut := info("ok", "peer-read", "", "probe_peer", "fail: the file the other VM wrote is not here (~/.azlin-check-peer-"+token+")")
	calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, bothAttached),
		vmShow(t, "VM running", attached),
		vmShowOf(t, "vm2", "VM running", attached),
		runCommandOn(t, "vm", checkScript(t, vmscript.PeerWrite), writeOut, ""),
		runCommandOn(t, "vm2", checkScript(t, vmscript.PeerRead), readOut, ""),
	)
	m, _ := newManager(t, calls...)
	res, err := m.Check(context.Background(), checkReq(&steps{}))
	require.NoError(t, err)
	require.Len(t, res.Probes, 8)
	peer := res.Probes[7]
	assert.Equal(t, "peer", peer.Name)
	assert.Equal(t, "fail", peer.Status)
	assert.Equal(t, "the file the other VM wrote is not here (~/.azlin-check-peer-"+token+")", peer.Detail)
	assert.Contains(t, peer.Meaning, "not on the same share")
}

func TestCheckPeerReadThatFailsIsReportedOnThePeerProbe(t *testing.T) {
	// The read on vm2 fails (its home is not the share after all): the
	// local probes stand, the peer probe fails with vm2's reason on one line.
	peerFile := "/home/azureuser/.azlin-check-peer-" + token
	writeOut := info("ok", "peer-write", "", append(probeLines(nil), "peer_written", peerFile)...)
	reason := "/home/azureuser is not mounted from shared storage on this VM; attach it first (azlin storage attach)"
	calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, bothAttached),
		vmShow(t, "VM running", attached),
		vmShowOf(t, "vm2", "VM running", attached),
		runCommandOn(t, "vm", checkScript(t, vmscript.PeerWrite), writeOut, ""),
		runCommandOn(t, "vm2", checkScript(t, vmscript.PeerRead), info("fail", "check-attached", reason), ""),
		// The writer removes its own file, since the reader could not.
		runCommandOn(t, "vm", checkScript(t, vmscript.PeerRead), info("ok", "peer-read", "", "probe_peer", "ok"), ""),
	)
	m, f := newManager(t, calls...)
	res, err := m.Check(context.Background(), checkReq(&steps{}))
	require.NoError(t, err)
	assert.Equal(t, append(slices.Clone(allLocalOK), "peer=fail"), probeStatuses(res.Probes))
	assert.Equal(t, `the read on VM vm2 failed: on VM vm2, step "check-attached" failed: `+reason, res.Probes[7].Detail)
	assert.Equal(t, []string{"vm", "vm2", "vm"}, ranOn(f))
}

func TestCheckSkipsAPeerThatIsNotRunning(t *testing.T) {
	calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, bothAttached),
		vmShow(t, "VM running", attached),
		vmShowOf(t, "vm2", "VM deallocated", attached),
		runCommandOn(t, "vm", checkScript(t, vmscript.PeerNone), info("ok", "probes", "", probeLines(nil)...), ""),
	)
	m, f := newManager(t, calls...)
	res, err := m.Check(context.Background(), checkReq(&steps{}))
	require.NoError(t, err)
	assert.Empty(t, res.Peer)
	assert.Equal(t, allLocalOK, probeStatuses(res.Probes))
	assert.Equal(t, []string{"vm"}, ranOn(f), "nothing runs on the stopped VM")
}

func TestCheckRefusesAVMNotAttachedToTheStorage(t *testing.T) {
	for name, tags := range map[string]map[string]any{
		"no shared home":   {tags.Managed: "true"},
		"another storage":  {tags.Managed: "true", tags.Storage: "other-home"},
		"untagged and off": nil,
	} {
		t.Run(name, func(t *testing.T) {
			power := "VM running"
			if tags == nil {
				power = "VM deallocated" // the attach hint comes first: starting it would not help
			}
			listed := vmTags{"vm2": attached}
			if tags != nil {
				listed["vm"] = tags
			}
			calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, listed),
				vmShow(t, power, tags))
			m, f := newManager(t, calls...)
			res, err := m.Check(context.Background(), checkReq(&steps{}))
			require.Error(t, err)
			assert.Nil(t, res)
			want := `VM vm does not have storage shared-dev as its home (its record says ""); attach it first: azlin storage attach shared-dev --vm vm -g rg`
			if name == "another storage" {
				want = strings.Replace(want, `says ""`, `says "other-home"`, 1)
			}
			assert.Equal(t, want, err.Error())
			assert.Empty(t, mutations(f), "nothing ran")
			assert.Len(t, f.Calls(), 3, "reads only: accounts, VMs, the VM")
		})
	}
}

func TestCheckRefusesAStoppedVM(t *testing.T) {
	calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{"vm": attached}),
		vmShow(t, "VM stopped", attached))
	m, f := newManager(t, calls...)
	_, err := m.Check(context.Background(), checkReq(&steps{}))
	require.Error(t, err)
	assert.Equal(t, "VM vm is stopped; the self-test runs on it, so start it first: az vm start -g rg -n vm", err.Error())
	assert.Empty(t, mutations(f))
}

func TestCheckWithoutAResultMarkerIsAnError(t *testing.T) {
	// Cut short after two probes: no partial table is claimed.
	out := "##azlin-info## probe_owner=ok\n##azlin-info## probe_flock=ok\n"
	calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{"vm": attached}),
		vmShow(t, "VM running", attached),
		runCommandOn(t, "vm", checkScript(t, vmscript.PeerNone), out, "Killed\n"),
	)
	m, _ := newManager(t, calls...)
	res, err := m.Check(context.Background(), checkReq(&steps{}))
	require.Error(t, err)
	assert.Nil(t, res)
	var se *vmprov.ScriptError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "the self-test on VM vm did not finish: the script on VM vm ended without reporting a result "+
		"(it was cut short or its output lost); its last error output: Killed", err.Error())
}

func TestCheckOnAVMWhoseHomeIsNotMountedIsAnError(t *testing.T) {
	// Tagged, but the mount is gone: the script stops at check-attached.
	reason := "/home/azureuser is not mounted from shared storage on this VM; attach it first (azlin storage attach)"
	calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{"vm": attached}),
		vmShow(t, "VM running", attached),
		runCommandOn(t, "vm", checkScript(t, vmscript.PeerNone), info("fail", "check-attached", reason), ""),
	)
	m, _ := newManager(t, calls...)
	_, err := m.Check(context.Background(), checkReq(&steps{}))
	require.Error(t, err)
	assert.Equal(t, `the self-test on VM vm did not finish: on VM vm, step "check-attached" failed: `+reason, err.Error())
}
