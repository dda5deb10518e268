package sharedhome

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/tags"
	"github.com/azlin-dev/azlin/internal/vmprov"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// Unit tests of ApplyLayout (`azlin storage layout set`) and Check (`azlin
// storage check`) on recorded az output, as sharedhome_test.go does for
// attach and detach. The second VM is vm-list.json's vm2. Scripts are
// nfsmount's; their stdout is what they print on a VM (info lines and the
// result marker of sh/layout-apply.sh, sh/check.sh, sh/probes.sh).

// ---- helpers for a second VM and the storage's own reads ----

// vmShowOf is vmShow for the VM named name: vm-show-d.json given the names
// vm-list.json records for that VM (id, NIC, computer name, OS disk, vmId)
// and its own private/public IP.
func vmShowOf(t *testing.T, name, power string, tags map[string]any) aztest.Call {
	t.Helper()
	c := vmShow(t, power, tags)
	if name == "vm" {
		return c
	}
	var listed map[string]any
	for _, v := range shape(t, "vm-list.json").([]any) {
		if v.(map[string]any)["name"] == name {
			listed = v.(map[string]any)
		}
	}
	require.NotNil(t, listed, "vm-list.json has no VM %s", name)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(c.Stdout), &m))
	for _, k := range []string{"id", "name", "networkProfile", "vmId"} {
		m[k] = listed[k]
	}
	m["osProfile"].(map[string]any)["computerName"] = name
	m["storageProfile"].(map[string]any)["osDisk"] = listed["storageProfile"].(map[string]any)["osDisk"]
	m["privateIps"], m["publicIps"], m["macAddresses"] = "10.0.0.5", "20.80.105.66", "00-22-48-48-95-D6"
	return call(js(t, m), "vm", "show", "-d", "-g", rg, "-n", name)
}

// runCommandOn is runCommand on the VM named name.
func runCommandOn(t *testing.T, name, script, stdout, stderr string) aztest.Call {
	t.Helper()
	c := runCommand(t, script, stdout, stderr)
	return call(c.Stdout, "vm", "run-command", "invoke", "-g", rg, "-n", name, "--command-id", "RunShellScript", "--scripts", script)
}

// ranOn are the VMs run-command was invoked on, in call order.
func ranOn(f *aztest.Fake) []string {
	var out []string
	for _, c := range f.Calls() {
		if len(c) > 6 && c[0] == "vm" && c[1] == "run-command" {
			out = append(out, c[6])
		}
	}
	return out
}

// steps records Progress calls, which ApplyLayout makes from one goroutine per VM.
type steps struct {
	mu  sync.Mutex
	got []string
}

func (s *steps) vm(vm, step string) { s.mu.Lock(); s.got = append(s.got, vm+": "+step); s.mu.Unlock() }
func (s *steps) one(step string)    { s.vm("", step) }
func (s *steps) list() []string     { s.mu.Lock(); defer s.mu.Unlock(); return slices.Clone(s.got) }

var (
	attached = map[string]any{tags.Managed: "true", tags.Storage: stName}
	// The captures' two VMs, both with their home on shared-dev.
	bothAttached = vmTags{"vm": attached, "vm2": attached}
)

// ---- layout ----

// devLayout makes two paths local to each VM and writes one setting file.
var devLayout = layout.Resolved{Name: "dev", Local: []string{".cache", ".vscode-server"},
	Files: []layout.SettingFile{{Path: "/etc/ssh/ssh_config.d/50-azlin.conf", Content: "# azlin: ssh control sockets\nHost *\n    ControlPath /run/user/%i/ssh-%C\n"}}}

func layoutScript(t *testing.T) string {
	t.Helper()
	s, err := vmscript.LayoutScript(vmscript.LayoutParams{Layout: devLayout, Timestamp: ts})
	require.NoError(t, err)
	return s
}

var (
	acctShow = []string{"storage", "account", "show", "-g", rg, "-n", acct}
	// account()'s tags, sorted, then the layout's: `--tags` replaces them all.
	layoutTagCall = mutation("storage", "account", "update", "-g", rg, "-n", acct, "--tags",
		"azlin-created=2026-01-02T03:04:05Z", "azlin-managed=true", "azlin-network=private-endpoint",
		"azlin-size-gib=100", "azlin-storage=shared-dev", "azlin-tier=Premium", "azlin-layout=dev")
)

// layoutReads are Find's two reads with the given VMs attached, then
// SetLayout's read of the account (the same body az prints for show and
// for each list entry).
func layoutReads(t *testing.T, tags vmTags) []aztest.Call {
	t.Helper()
	a := account(t, storage.PrivateEndpoint)
	return append(groupReads(t, []any{a}, tags), call(js(t, a), acctShow...))
}

// What sh/layout-apply.sh prints on a VM that had the default layout:
// its info lines, then the success marker of its last step.
func layoutOutput(moved string) string {
	return info("ok", "layout", "", "layout", "dev", "layout_previous", "developer", "layout_moved", moved)
}

func layoutReq(s *steps) LayoutRequest {
	return LayoutRequest{ResourceGroup: rg, Storage: stName, Layout: devLayout, Progress: s.vm}
}

const recordStep = ": recording layout dev on storage shared-dev (tag azlin-layout)"

func TestApplyLayoutRecordsTheTagThenAppliesOnEveryAttachedVM(t *testing.T) {
	calls := append(layoutReads(t, bothAttached),
		layoutTagCall,
		vmShow(t, "VM running", attached),
		vmShowOf(t, "vm2", "VM running", attached),
		runCommandOn(t, "vm", layoutScript(t), layoutOutput("~/.cache -> /var/lib/azlin-local/azureuser/.cache"), ""),
		runCommandOn(t, "vm2", layoutScript(t), layoutOutput("~/.vscode-server -> /var/lib/azlin-local/azureuser/.vscode-server"), ""),
	)
	m, f := newManager(t, calls...)
	var s steps
	st, results, err := m.ApplyLayout(context.Background(), layoutReq(&s))
	require.NoError(t, err)
	assert.Equal(t, "dev", st.Layout, "the storage now says its layout is dev")
	require.Len(t, results, 2)
	assert.Equal(t, "vm", results[0].VM)
	assert.Equal(t, "vm2", results[1].VM)
	for _, r := range results {
		require.NoError(t, r.Err, r.VM)
		assert.Equal(t, "dev", r.Info["layout"])
		assert.Equal(t, "developer", r.Info["layout_previous"])
	}
	assert.Equal(t, "~/.cache -> /var/lib/azlin-local/azureuser/.cache", results[0].Info["layout_moved"], "each VM's own report")
	assert.Equal(t, "~/.vscode-server -> /var/lib/azlin-local/azureuser/.vscode-server", results[1].Info["layout_moved"])

	// The tag is written before any VM changes: a VM attached later (or
	// started and set again) gets the storage's new layout.
	muts := mutations(f)
	require.Len(t, muts, 3)
	assert.Equal(t, "storage account update", muts[0])
	assert.ElementsMatch(t, []string{"vm", "vm2"}, ranOn(f))
	got := s.list()
	require.NotEmpty(t, got)
	assert.Equal(t, recordStep, got[0])
	assert.ElementsMatch(t, []string{recordStep, "vm: applying layout dev", "vm2: applying layout dev"}, got)
}

func TestApplyLayoutReportsAStoppedVMAndSkipsIt(t *testing.T) {
	calls := append(layoutReads(t, bothAttached),
		layoutTagCall,
		vmShow(t, "VM deallocated", attached),
		vmShowOf(t, "vm2", "VM running", attached),
		runCommandOn(t, "vm2", layoutScript(t), layoutOutput("~/.cache -> /var/lib/azlin-local/azureuser/.cache"), ""),
	)
	m, f := newManager(t, calls...)
	var s steps
	_, results, err := m.ApplyLayout(context.Background(), layoutReq(&s))
	require.NoError(t, err, "a stopped VM does not stop the others")
	require.Len(t, results, 2)
	require.Error(t, results[0].Err)
	assert.Equal(t, "VM vm is deallocated; start it (az vm start -g rg -n vm) and apply the layout again: azlin storage layout set shared-dev dev -g rg",
		results[0].Err.Error())
	assert.Nil(t, results[0].Info)
	assert.NoError(t, results[1].Err)
	assert.Equal(t, "dev", results[1].Info["layout"])
	assert.Equal(t, []string{"vm2"}, ranOn(f), "the stopped VM is not started nor run on")
	assert.Equal(t, "storage account update", mutations(f)[0], "the tag is written even so")
	assert.ElementsMatch(t, []string{recordStep, "vm2: applying layout dev"}, s.list())
}

func TestApplyLayoutScriptFailureOnOneVMLeavesTheOthers(t *testing.T) {
	reason := "another azlin attach/detach is still running on this VM after 300 s (lock /run/lock/azlin-vmscript.lock)"
	calls := append(layoutReads(t, bothAttached),
		layoutTagCall,
		vmShow(t, "VM running", attached),
		vmShowOf(t, "vm2", "VM running", attached),
		runCommandOn(t, "vm", layoutScript(t), info("fail", "lock", reason), ""),
		runCommandOn(t, "vm2", layoutScript(t), layoutOutput("~/.cache -> /var/lib/azlin-local/azureuser/.cache"), ""),
	)
	m, f := newManager(t, calls...)
	var s steps
	_, results, err := m.ApplyLayout(context.Background(), layoutReq(&s))
	require.NoError(t, err)
	require.Len(t, results, 2)

	var se *vmprov.ScriptError
	require.ErrorAs(t, results[0].Err, &se)
	assert.Equal(t, "vm", se.VM)
	assert.Equal(t, "lock", se.Step)
	assert.Equal(t, reason, se.Reason)
	assert.Equal(t, `on VM vm, step "lock" failed: `+reason+
		"\nNo file was deleted. Re-run when the cause is fixed: azlin storage layout set shared-dev dev -g rg", results[0].Err.Error())

	assert.NoError(t, results[1].Err, "vm2 is applied although vm failed")
	assert.Equal(t, "dev", results[1].Info["layout"])
	assert.ElementsMatch(t, []string{"vm", "vm2"}, ranOn(f))
	assert.Equal(t, "storage account update", mutations(f)[0], "the tag stays: a re-run applies the same layout")
}

func TestApplyLayoutWithoutAResultMarkerSaysTheOutcomeIsUnknown(t *testing.T) {
	calls := append(layoutReads(t, vmTags{"vm": attached}),
		layoutTagCall,
		vmShow(t, "VM running", attached),
		runCommandOn(t, "vm", layoutScript(t), "##azlin-info## layout=dev\n", "Killed\n"),
	)
	m, _ := newManager(t, calls...)
	_, results, err := m.ApplyLayout(context.Background(), LayoutRequest{ResourceGroup: rg, Storage: stName, Layout: devLayout})
	require.NoError(t, err)
	require.Len(t, results, 1)
	var se *vmprov.ScriptError
	require.ErrorAs(t, results[0].Err, &se)
	assert.Empty(t, se.Step)
	assert.Equal(t, "the script on VM vm ended without reporting a result (it was cut short or its output lost); its last error output: Killed"+
		"\nNo file was deleted. Re-run when the cause is fixed: azlin storage layout set shared-dev dev -g rg", results[0].Err.Error())
}

func TestApplyLayoutAlreadyRecordedWritesNoTagButStillApplies(t *testing.T) {
	// The tag says dev already (a set that failed on a VM, run again): no
	// account update, the script runs again (it is idempotent).
	a := account(t, storage.PrivateEndpoint)
	a["tags"].(map[string]any)[tags.Layout] = "dev"
	calls := append(groupReads(t, []any{a}, vmTags{"vm": attached}),
		call(js(t, a), acctShow...),
		vmShow(t, "VM running", attached),
		runCommandOn(t, "vm", layoutScript(t), info("ok", "layout", "", "layout", "dev"), ""),
	)
	m, f := newManager(t, calls...)
	st, results, err := m.ApplyLayout(context.Background(), LayoutRequest{ResourceGroup: rg, Storage: stName, Layout: devLayout})
	require.NoError(t, err)
	assert.Equal(t, "dev", st.Layout)
	require.Len(t, results, 1)
	assert.NoError(t, results[0].Err)
	assert.Equal(t, []string{"vm run-command invoke"}, mutations(f), "no storage account update")
}

func TestApplyLayoutTagFailureChangesNoVM(t *testing.T) {
	msg := "The client 'dev@example.com' with object id '0b9a4f7e-1c2d-4e3f-9a8b-7c6d5e4f3a2b' does not have authorization to perform action " +
		"'Microsoft.Storage/storageAccounts/write' over scope '/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct' " +
		"or the scope is invalid. If access was recently granted, please refresh your credentials."
	failed := layoutTagCall
	failed.Exit, failed.Stderr = 1, "ERROR: (AuthorizationFailed) "+msg+"\nCode: AuthorizationFailed\nMessage: "+msg+"\n"
	calls := append(layoutReads(t, bothAttached), failed) // no vm show, no run-command
	m, f := newManager(t, calls...)
	var s steps
	st, results, err := m.ApplyLayout(context.Background(), layoutReq(&s))
	require.Error(t, err)
	require.ErrorIs(t, err, azcli.ErrAuthorization)
	assert.Contains(t, err.Error(), "recording layout dev on storage shared-dev (account acct): az storage account update failed: (AuthorizationFailed) ")
	assert.Contains(t, err.Error(), "does not have authorization to perform action 'Microsoft.Storage/storageAccounts/write'")
	require.NotNil(t, st)
	assert.Equal(t, storage.DefaultLayout, st.Layout, "the storage still says its old layout")
	assert.Nil(t, results)
	assert.Empty(t, ranOn(f), "no VM was changed")
	assert.Equal(t, []string{recordStep}, s.list())
}

func TestApplyLayoutWithNoVMAttachedOnlyRecordsTheTag(t *testing.T) {
	// vm-list.json's VMs carry no azlin-storage tag.
	calls := append(layoutReads(t, nil), layoutTagCall)
	m, f := newManager(t, calls...)
	var s steps
	st, results, err := m.ApplyLayout(context.Background(), layoutReq(&s))
	require.NoError(t, err)
	assert.Equal(t, "dev", st.Layout)
	assert.Empty(t, results)
	assert.Equal(t, []string{"storage account update"}, mutations(f))
	assert.Len(t, f.Calls(), 4, "list accounts, list VMs, show the account, update it: no VM is read")
	assert.Equal(t, []string{recordStep}, s.list())
}

func TestApplyLayoutToMissingStorageChangesNothing(t *testing.T) {
	m, f := newManager(t, groupReads(t, nil, nil)...)
	st, results, err := m.ApplyLayout(context.Background(), LayoutRequest{ResourceGroup: rg, Storage: stName, Layout: devLayout})
	var nf *storage.NotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, "no storage named shared-dev in resource group rg (it has none). Create it with: azlin storage create shared-dev -g rg", err.Error())
	assert.Nil(t, st)
	assert.Nil(t, results)
	assert.Empty(t, mutations(f))
}

// ---- check ----

const token = "0123abcd89ef4567"

func checkScript(t *testing.T, peer vmscript.PeerMode) string {
	t.Helper()
	p := vmscript.CheckParams{Peer: peer}
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
		runCommandOn(t, "vm", checkScript(t, vmscript.PeerNone), info("ok", "probes", "", probeLines(nil)...), ""),
	)
	m, f := newManager(t, calls...)
	var s steps
	res, err := m.Check(context.Background(), checkReq(&s))
	require.NoError(t, err)
	assert.Equal(t, "vm", res.VM)
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
