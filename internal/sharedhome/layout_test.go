package sharedhome

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/tags"
	"github.com/azlin-dev/azlin/internal/testjson"
	"github.com/azlin-dev/azlin/internal/vmprov"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// Unit tests of ApplyLayout (`azlin storage layout set`) on recorded az
// output, as attach_test.go has for Attach. The second VM is vm-list.json's
// vm2. Scripts are vmscript's; their stdout is what they print on a VM (info
// lines and the result marker of sh/layout-apply.sh).

// devLayout makes two paths local to each VM and writes one setting file.
var devLayout = layout.Resolved{Name: "dev", Local: []string{".cache", ".vscode-server"},
	Files: []layout.SettingFile{{Path: "/etc/ssh/ssh_config.d/50-azlin.conf", Content: "# azlin: ssh control sockets\nHost *\n    ControlPath /run/user/%i/ssh-%C\n"}}}

func layoutScript(t *testing.T) string {
	t.Helper()
	s, err := vmscript.LayoutScript(vmscript.LayoutParams{Tier: nfs.Premium, Layout: devLayout, Timestamp: ts})
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
	testjson.Obj(t, a, "tags")[tags.Layout] = "dev"
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
