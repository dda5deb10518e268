package sharedhome

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/tags"
)

// Unit tests of Detach on recorded az output, as attach_test.go has for Attach.

var attachedTags = map[string]any{tags.Managed: "true", tags.Storage: stName}

func TestDetachAttachedVM(t *testing.T) {
	out := info("ok", "fstab", "", "attached", "0", "was_attached_to", nfsSource, "copied_entries", "10",
		"backup", "/home/azureuser.backup")
	calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{"vm": attachedTags}),
		vmShow(t, "VM running", attachedTags),
		runCommand(t, detachScript(t, target, false), out, ""),
		untagCall,
	)
	// Then the group again: no VM uses the storage now, so it is marked unused.
	calls = append(calls, groupReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{})...)
	calls = append(calls, markUnused)
	m, f := newManager(t, calls...)
	res, err := m.Detach(context.Background(), DetachRequest{ResourceGroup: rg, VM: "vm"})
	require.NoError(t, err)
	assert.False(t, res.Already)
	assert.Equal(t, "/home/azureuser.backup", res.Info["backup"])
	assert.Equal(t, []string{"vm run-command invoke", "tag update --resource-id", "tag update --resource-id"}, mutations(f),
		"the VM's tag goes after the home is local; the storage's unused record after the VM's tag")
	assert.Equal(t, acctID, f.Calls()[len(f.Calls())-1][3], "the record is on the storage account")
}

func TestDetachOfOneOfTwoVMsLeavesTheStorageInUse(t *testing.T) {
	out := info("ok", "fstab", "", "attached", "0", "was_attached_to", nfsSource, "copied_entries", "10", "backup", "none")
	other := vmTags{"vm2": attachedTags}
	calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{"vm": attachedTags}),
		vmShow(t, "VM running", attachedTags),
		runCommand(t, detachScript(t, target, false), out, ""),
		untagCall,
	)
	m, f := newManager(t, append(calls, groupReads(t, []any{account(t, storage.PrivateEndpoint)}, other)...)...)
	_, err := m.Detach(context.Background(), DetachRequest{ResourceGroup: rg, VM: "vm"})
	require.NoError(t, err)
	assert.Equal(t, []string{"vm run-command invoke", "tag update --resource-id"}, mutations(f), "vm2 still uses it: no unused record")
}

func TestDetachSaysWhenTheUnusedRecordFails(t *testing.T) {
	out := info("ok", "fstab", "", "attached", "0", "was_attached_to", nfsSource, "copied_entries", "10", "backup", "none")
	calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{"vm": attachedTags}),
		vmShow(t, "VM running", attachedTags),
		runCommand(t, detachScript(t, target, false), out, ""),
		untagCall,
	)
	calls = append(calls, groupReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{})...)
	fail := markUnused
	fail.Exit, fail.Stderr = 1, "ERROR: (AuthorizationFailed) The client does not have authorization to perform action 'Microsoft.Resources/tags/write'.\nCode: AuthorizationFailed"
	m, _ := newManager(t, append(calls, fail)...)
	var warned []string
	res, err := m.Detach(context.Background(), DetachRequest{ResourceGroup: rg, VM: "vm", Warn: func(s string) { warned = append(warned, s) }})
	require.NoError(t, err, "the VM has its local home: the detach is done")
	assert.False(t, res.Already)
	require.Len(t, warned, 1)
	assert.Contains(t, warned[0], "recording on storage shared-dev that no VM uses it since 2026-01-10T12:00:00Z (tag azlin-unused-since)")
	assert.Contains(t, warned[0], "azlin storage cleanup counts it as unused since it was created")
}

func TestDetachNotAttachedIsIdempotent(t *testing.T) {
	calls := []aztest.Call{
		vmShow(t, "VM running", nil),
		runCommand(t, detachScript(t, nfs.Target{}, false), info("ok", "check-attached", "", "attached", "0", "backup", "none"), ""),
	}
	m, f := newManager(t, calls...)
	res, err := m.Detach(context.Background(), DetachRequest{ResourceGroup: rg, VM: "vm"})
	require.NoError(t, err)
	assert.True(t, res.Already)
	assert.Equal(t, []string{"vm run-command invoke"}, mutations(f), "no tag change")
}

func TestDetachUntaggedButMountedIsADetach(t *testing.T) {
	// The tag was lost (removed by hand), the mount is there: the script
	// detaches, and the result must not say there was nothing to do.
	out := info("ok", "fstab", "", "attached", "0", "was_attached_to", nfsSource, "copied_entries", "10", "backup", "none")
	calls := []aztest.Call{
		vmShow(t, "VM running", nil),
		runCommand(t, detachScript(t, nfs.Target{}, false), out, ""),
	}
	m, _ := newManager(t, calls...)
	res, err := m.Detach(context.Background(), DetachRequest{ResourceGroup: rg, VM: "vm"})
	require.NoError(t, err)
	assert.False(t, res.Already)
}

func TestDetachWhenTheStorageIsAlreadyDeleted(t *testing.T) {
	// The tag names a storage the group no longer has: the script finds the
	// mount from fstab (no source given), and the tag is removed.
	out := info("ok", "fstab", "", "attached", "0", "was_attached_to", nfsSource, "copied_entries", "10", "backup", "/home/azureuser.backup")
	calls := append(groupReads(t, nil, vmTags{"vm": attachedTags}),
		vmShow(t, "VM running", attachedTags),
		runCommand(t, detachScript(t, nfs.Target{}, false), out, ""),
		untagCall,
	)
	m, _ := newManager(t, calls...)
	res, err := m.Detach(context.Background(), DetachRequest{ResourceGroup: rg, VM: "vm"})
	require.NoError(t, err)
	assert.False(t, res.Already)
}

func TestDetachBusyIsReportedNotForced(t *testing.T) {
	reason := "/home/azureuser is in use by: 390(sleep); stop them (log out) or run the detach again with --force to stop them; nothing changed -- rolled back: nothing had changed"
	calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{"vm": attachedTags}),
		vmShow(t, "VM running", attachedTags),
		runCommand(t, detachScript(t, target, false), info("fail", "busy", reason), ""),
	)
	m, f := newManager(t, calls...)
	_, err := m.Detach(context.Background(), DetachRequest{ResourceGroup: rg, VM: "vm"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `step "busy" failed: /home/azureuser is in use by: 390(sleep)`)
	assert.Contains(t, err.Error(), "--force")
	assert.Contains(t, err.Error(), "Nothing on the share was deleted")
	assert.Equal(t, []string{"vm run-command invoke"}, mutations(f), "the tag stays")
}

func TestDetachForceReachesTheScript(t *testing.T) {
	out := info("ok", "fstab", "", "stopped", "390(sleep)", "attached", "0", "was_attached_to", nfsSource, "backup", "none")
	calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{"vm": attachedTags}),
		vmShow(t, "VM running", attachedTags),
		runCommand(t, detachScript(t, target, true), out, ""),
		untagCall,
	)
	calls = append(calls, groupReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{})...)
	m, _ := newManager(t, append(calls, markUnused)...)
	res, err := m.Detach(context.Background(), DetachRequest{ResourceGroup: rg, VM: "vm", Force: true})
	require.NoError(t, err)
	assert.Equal(t, "390(sleep)", res.Info["stopped"])
}

func TestDetachRefusesAVMThatIsNotRunning(t *testing.T) {
	m, f := newManager(t, vmShow(t, "VM stopped", attachedTags))
	_, err := m.Detach(context.Background(), DetachRequest{ResourceGroup: rg, VM: "vm"})
	require.Error(t, err)
	assert.Equal(t, "VM vm is stopped; detaching runs a script on it, so start it first: az vm start -g rg -n vm", err.Error())
	assert.Empty(t, mutations(f))
}

func TestDetachCountsNotTheLeavingVMInARereadThatStillShowsIt(t *testing.T) {
	// A read right after the tag's removal may still show it (and a dry run
	// removes nothing): the VM that left is not counted.
	out := info("ok", "fstab", "", "attached", "0", "was_attached_to", nfsSource, "copied_entries", "10", "backup", "none")
	calls := append(groupReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{"vm": attachedTags}),
		vmShow(t, "VM running", attachedTags),
		runCommand(t, detachScript(t, target, false), out, ""),
		untagCall,
	)
	calls = append(calls, groupReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{"vm": attachedTags})...)
	m, f := newManager(t, append(calls, markUnused)...)
	_, err := m.Detach(context.Background(), DetachRequest{ResourceGroup: rg, VM: "vm"})
	require.NoError(t, err)
	assert.Len(t, mutations(f), 3, "run-command, the VM's tag, the storage's record")
}
