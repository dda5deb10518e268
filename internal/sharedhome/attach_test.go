package sharedhome

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/cost"
	"github.com/azlin-dev/azlin/internal/network"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/tags"
	"github.com/azlin-dev/azlin/internal/testjson"
	"github.com/azlin-dev/azlin/internal/vmprov"
)

// Unit tests of Attach on recorded az output (testdata/README.md).
// The fake fails a test on any az call it does not list (so "nothing
// changed" means: no call but the listed reads) and on a listed call never
// made. Scripts are vmscript's (golden-tested there); here they must reach
// run-command exactly as generated for this storage and key.

func attachReq() AttachRequest {
	return AttachRequest{ResourceGroup: rg, Storage: stName, VMs: []string{"vm"}, Keys: []string{azlinKey}}
}

// The seeded attach's output, as the script prints it on a VM whose home
// had files and the share none.
var seededOutput = info("ok", "verify", "",
	"seeded_entries", "9", "already", "0", "source", nfsSource, "backup", "/home/azureuser.backup",
	"seeded", "yes", "keys_added", "0")

func TestAttachHappyPath(t *testing.T) {
	calls := append(attachReads(t, []any{account(t, storage.PrivateEndpoint)}, nil, 100, 1<<30),
		vmShow(t, "VM running", nil),
		nicShow(t, subnetID),
		peShow(t, subnetID),
		runCommand(t, attachScript(t), seededOutput, ""),
		tagCall,
	)
	m, f := newManager(t, calls...)
	var steps []string
	req := attachReq()
	req.Progress = func(vm, step string) { steps = append(steps, vm+": "+step) }

	st, results, err := m.Attach(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, acct, st.Account)
	require.Len(t, results, 1)
	r := results[0]
	require.NoError(t, r.Err)
	assert.Equal(t, "vm", r.VM)
	assert.False(t, r.Already)
	assert.Equal(t, "yes", r.Info["seeded"])
	assert.Equal(t, "/home/azureuser.backup", r.Info["backup"])
	// The script runs before the VM is tagged: the tag records a mount that exists.
	assert.Equal(t, []string{"vm run-command invoke", "tag update --resource-id"}, mutations(f))
	assert.Equal(t, []string{
		"vm: checking that the VM's subnet reaches the storage",
		"vm: moving the home onto the share (backup, copy, mount, fstab)",
		"vm: recording the shared home on the VM (tag azlin-storage)",
	}, steps)
}

func TestAttachAlreadyAttachedChangesNothingMore(t *testing.T) {
	tags := map[string]any{tags.Managed: "true", tags.Storage: stName}
	calls := append(attachReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{"vm": tags}, 100, 1<<30),
		vmShow(t, "VM running", tags),
		nicShow(t, subnetID),
		peShow(t, subnetID),
		runCommand(t, attachScript(t), info("ok", "verify", "", "already", "1", "source", nfsSource, "keys_added", "0", "fstab_changed", "0"), ""),
		// no tag call: the tag is there
	)
	m, f := newManager(t, calls...)
	_, results, err := m.Attach(context.Background(), attachReq())
	require.NoError(t, err)
	require.NoError(t, results[0].Err)
	assert.True(t, results[0].Already)
	assert.Equal(t, []string{"vm run-command invoke"}, mutations(f))
}

func TestAttachRefusesAVMThatIsNotRunning(t *testing.T) {
	calls := append(attachReads(t, []any{account(t, storage.PrivateEndpoint)}, nil, 100, 1<<30),
		vmShow(t, "VM deallocated", nil))
	m, f := newManager(t, calls...)
	_, results, err := m.Attach(context.Background(), attachReq())
	require.NoError(t, err)
	require.Error(t, results[0].Err)
	assert.Equal(t, "VM vm is deallocated; attaching runs a script on it, so start it first: az vm start -g rg -n vm", results[0].Err.Error())
	assert.Empty(t, mutations(f), "nothing changed")
}

func TestAttachRefusesAVMOnAnotherStorage(t *testing.T) {
	tags := map[string]any{tags.Managed: "true", tags.Storage: "other-home"}
	calls := append(attachReads(t, []any{account(t, storage.PrivateEndpoint)}, vmTags{"vm": tags}, 100, 1<<30),
		vmShow(t, "VM running", tags))
	m, f := newManager(t, calls...)
	_, results, err := m.Attach(context.Background(), attachReq())
	require.NoError(t, err)
	require.Error(t, results[0].Err)
	assert.Equal(t, "VM vm already has its home on storage other-home; detach it first: azlin storage detach --vm vm -g rg", results[0].Err.Error())
	assert.Empty(t, mutations(f), "nothing changed")
}

func TestAttachToMissingStorageChangesNothing(t *testing.T) {
	// The group holds an account, but not one of azlin's (no tags).
	other := testjson.At(t, shape(t, "storage-account-list.json"), 0)
	calls := append(groupReads(t, []any{other}, nil), vmShow(t, "VM running", nil))
	m, f := newManager(t, calls...)
	st, results, err := m.Attach(context.Background(), attachReq())
	var nf *storage.NotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, "no storage named shared-dev in resource group rg (it has none). Create it with: azlin storage create shared-dev -g rg", err.Error())
	assert.Nil(t, st)
	assert.Nil(t, results)
	assert.Empty(t, mutations(f), "nothing changed")
	assert.Len(t, f.Calls(), 3, "reads only: accounts, VMs, the VM")
}

func TestAttachScriptFailureNamesTheStepAndKeepsTheLocalHome(t *testing.T) {
	reason := "mounting " + nfsSource + " at /home/azureuser failed: mount.nfs: access denied by server while mounting " + nfsSource +
		" -- rolled back: moved /home/azureuser.backup back to /home/azureuser"
	calls := append(attachReads(t, []any{account(t, storage.PrivateEndpoint)}, nil, 100, 1<<30),
		vmShow(t, "VM running", nil),
		nicShow(t, subnetID),
		peShow(t, subnetID),
		runCommand(t, attachScript(t), info("fail", "mount-home", reason), ""),
		// no tag call: the VM has no shared home
	)
	m, f := newManager(t, calls...)
	_, results, err := m.Attach(context.Background(), attachReq())
	require.NoError(t, err)
	var se *vmprov.ScriptError
	require.ErrorAs(t, results[0].Err, &se)
	assert.Equal(t, "mount-home", se.Step)
	msg := results[0].Err.Error()
	assert.Contains(t, msg, `on VM vm, step "mount-home" failed: mounting `)
	assert.Contains(t, msg, "access denied by server")
	assert.Contains(t, msg, "VM vm keeps its local home")
	assert.Contains(t, msg, "azlin storage attach shared-dev --vm vm -g rg")
	assert.Equal(t, []string{"vm run-command invoke"}, mutations(f))
}

func TestAttachWithoutAResultMarkerDoesNotClaimARollback(t *testing.T) {
	// run-command returned, but the script printed no marker (cut short):
	// what the VM's home is now is unknown, and the error must not say
	// the script rolled back.
	calls := append(attachReads(t, []any{account(t, storage.PrivateEndpoint)}, nil, 100, 1<<30),
		vmShow(t, "VM running", nil),
		nicShow(t, subnetID),
		peShow(t, subnetID),
		runCommand(t, attachScript(t), "##azlin-info## seeded_entries=9\n", "Killed\n"),
	)
	m, _ := newManager(t, calls...)
	_, results, err := m.Attach(context.Background(), attachReq())
	require.NoError(t, err)
	require.Error(t, results[0].Err)
	msg := results[0].Err.Error()
	assert.Contains(t, msg, "ended without reporting a result")
	assert.NotContains(t, msg, "rolled back")
	assert.Contains(t, msg, "azlin storage attach shared-dev --vm vm -g rg", "the re-run that finishes the job")
}

func TestAttachServiceEndpointAddsEndpointAndRuleWhenMissing(t *testing.T) {
	// The subnet has another service endpoint: the update keeps it (the
	// list is replaced, so it must name both), then the account gets a rule.
	calls := append(attachReads(t, []any{account(t, storage.ServiceEndpoint)}, nil, 100, 1<<30),
		vmShow(t, "VM running", nil),
		nicShow(t, subnetID),
		subnetShow(t, "Microsoft.KeyVault"),
		mutation("network", "vnet", "subnet", "update", "-g", rg, "--vnet-name", "v", "-n", "s",
			"--service-endpoints", "Microsoft.KeyVault", "Microsoft.Storage"),
		mutation("storage", "account", "network-rule", "add", "-g", rg, "--account-name", acct, "--vnet-name", "v", "--subnet", "s"),
		runCommand(t, attachScript(t), seededOutput, ""),
		tagCall,
	)
	m, f := newManager(t, calls...)
	_, results, err := m.Attach(context.Background(), attachReq())
	require.NoError(t, err)
	require.NoError(t, results[0].Err)
	assert.Equal(t, []string{"network vnet subnet", "storage account network-rule", "vm run-command invoke", "tag update --resource-id"}, mutations(f),
		"network first, then the script, then the tag")
}

func TestAttachServiceEndpointLeavesANetworkThatAlreadyReaches(t *testing.T) {
	calls := append(attachReads(t, []any{account(t, storage.ServiceEndpoint, subnetID)}, nil, 100, 1<<30),
		vmShow(t, "VM running", nil),
		nicShow(t, subnetID),
		subnetShow(t, "Microsoft.Storage"),
		runCommand(t, attachScript(t), seededOutput, ""),
		tagCall,
	)
	m, f := newManager(t, calls...)
	_, results, err := m.Attach(context.Background(), attachReq())
	require.NoError(t, err)
	require.NoError(t, results[0].Err)
	assert.Equal(t, []string{"vm run-command invoke", "tag update --resource-id"}, mutations(f))
}

func TestAttachRefusesAPrivateEndpointVMInAnotherVNet(t *testing.T) {
	otherSubnet := strings.Replace(subnetID, "/virtualNetworks/v/", "/virtualNetworks/team-vnet/", 1)
	calls := append(attachReads(t, []any{account(t, storage.PrivateEndpoint)}, nil, 100, 1<<30),
		vmShow(t, "VM running", nil),
		nicShow(t, otherSubnet),
		peShow(t, subnetID),
	)
	m, f := newManager(t, calls...)
	_, results, err := m.Attach(context.Background(), attachReq())
	require.NoError(t, err)
	require.Error(t, results[0].Err)
	msg := results[0].Err.Error()
	assert.Contains(t, msg, "VM vm is in virtual network team-vnet, but storage shared-dev is reached through a private endpoint in v")
	assert.Contains(t, msg, "--network service-endpoint")
	assert.Empty(t, mutations(f), "nothing changed")
}

func TestAttachSeveralVMsReportsEachOne(t *testing.T) {
	// vm attaches; ghost does not exist: its result says so, vm is attached anyway.
	ghost := aztest.Call{Argv: []string{"vm", "show", "-d", "-g", rg, "-n", "ghost"}, Exit: 3,
		Stderr: strings.ReplaceAll(testjson.Str(t, shape(t, "storage-account-show-404.json"), "stderr"),
			"Microsoft.Storage/storageAccounts/acct", "Microsoft.Compute/virtualMachines/ghost")}
	calls := append(attachReads(t, []any{account(t, storage.PrivateEndpoint)}, nil, 100, 1<<30),
		vmShow(t, "VM running", nil), ghost,
		nicShow(t, subnetID),
		peShow(t, subnetID),
		runCommand(t, attachScript(t), seededOutput, ""),
		tagCall,
	)
	m, _ := newManager(t, calls...)
	req := attachReq()
	req.VMs = []string{"ghost", "vm"}
	_, results, err := m.Attach(context.Background(), req)
	require.NoError(t, err)
	require.Len(t, results, 2)
	assert.Equal(t, "ghost", results[0].VM)
	assert.Contains(t, results[0].Err.Error(), "there is no VM ghost in resource group rg")
	assert.Equal(t, "vm", results[1].VM)
	assert.NoError(t, results[1].Err)
}

// Attaching many VMs asks where the private endpoint is once, not per VM.
// overlapCheck is the fake seen through a gate: the NIC read waits (up to a
// bound) until the private endpoint read has begun, and says if it never did.
type overlapCheck struct {
	*aztest.Fake
	peStarted chan struct{}
	serial    bool
}

func (o *overlapCheck) Run(ctx context.Context, args []string) (azcli.Result, error) {
	switch strings.Join(args[:3], " ") {
	case "network private-endpoint show":
		close(o.peStarted)
	case "network nic show":
		select {
		case <-o.peStarted:
		case <-time.After(2 * time.Second):
			o.serial = true
		}
	}
	return o.Fake.Run(ctx, args)
}

// The private endpoint's place and the VM's NIC are two facts that need
// not wait for each other: both reads are under way at once.
func TestAttachReadsThePrivateEndpointBesideTheNIC(t *testing.T) {
	o := &overlapCheck{peStarted: make(chan struct{}), Fake: aztest.New(t, append(attachReads(t, []any{account(t, storage.PrivateEndpoint)}, nil, 100, 1<<30),
		vmShow(t, "VM running", nil), nicShow(t, subnetID), peShow(t, subnetID),
		runCommand(t, attachScript(t), seededOutput, ""), tagCall)...)}
	c := azcli.New(o, azcli.Options{Retry: azcli.RetryPolicy{MaxAttempts: 1}})
	m := &Manager{VMs: vmprov.NewManager(c), Storage: storage.NewManager(c, cost.Default()), Net: network.NewManager(c), Timestamp: ts}
	_, results, err := m.Attach(context.Background(), attachReq())
	require.NoError(t, err)
	require.NoError(t, results[0].Err)
	assert.False(t, o.serial, "the private endpoint was read only after the NIC, one after the other")
}

// A read that failed is not repeated for every VM of the command either.
func TestAFailedPrivateEndpointReadIsNotRepeatedPerVM(t *testing.T) {
	denied := "ERROR: (AuthorizationFailed) The client 'dev@contoso.onmicrosoft.com' does not have authorization to perform action " +
		"'Microsoft.Network/privateEndpoints/read' over scope '/subscriptions/" + sub + "/resourceGroups/rg'.\nCode: AuthorizationFailed\n"
	m, _ := newManager(t, aztest.Call{Argv: []string{"network", "private-endpoint", "show", "-g", rg, "-n", "acct-pe"}, Exit: 1, Stderr: denied})
	st := &storage.Storage{Name: stName, Account: acct, ResourceGroup: rg}
	for range 3 {
		_, err := m.privateEndpointSubnet(context.Background(), st)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Microsoft.Network/privateEndpoints/read")
	}
}

func TestPrivateEndpointSubnetIsReadOncePerCommand(t *testing.T) {
	m, _ := newManager(t, peShow(t, subnetID)) // a second read would be an unexpected call
	st := &storage.Storage{Name: stName, Account: acct, ResourceGroup: rg}
	for range 3 {
		id, err := m.privateEndpointSubnet(context.Background(), st)
		require.NoError(t, err)
		assert.Equal(t, subnetID, id)
	}
}

func TestAttachWarnsOfANearlyFullShareBeforeAnyVMChanges(t *testing.T) {
	for _, tc := range []struct {
		used int64
		want []string
	}{
		{90 << 30, []string{"storage shared-dev is 90% full (90GiB of 100GiB): make room first: azlin storage resize shared-dev --size SIZE"}},
		{89 << 30, nil},
	} {
		calls := append(attachReads(t, []any{account(t, storage.PrivateEndpoint)}, nil, 100, tc.used), vmShow(t, "VM deallocated", nil))
		m, _ := newManager(t, calls...)
		req := attachReq()
		var got []string
		req.Warn = func(msg string) { got = append(got, msg) }
		_, _, err := m.Attach(context.Background(), req)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, "%d bytes used", tc.used)
	}
}

func TestAttachRemovesTheUnusedRecord(t *testing.T) {
	a := account(t, storage.PrivateEndpoint)
	a["tags"].(map[string]any)[tags.UnusedSince] = "2026-01-05T08:00:00Z"
	calls := append(attachReads(t, []any{a}, nil, 100, 1<<30),
		vmShow(t, "VM running", nil),
		nicShow(t, subnetID),
		peShow(t, subnetID),
		runCommand(t, attachScript(t), seededOutput, ""),
		tagCall,
		markUsed("2026-01-05T08:00:00Z"),
	)
	m, f := newManager(t, calls...)
	st, results, err := m.Attach(context.Background(), attachReq())
	require.NoError(t, err)
	require.NoError(t, results[0].Err)
	assert.Equal(t, []string{"vm run-command invoke", "tag update --resource-id", "tag update --resource-id"}, mutations(f),
		"the storage's record goes once the VM's home is on it")
	assert.Nil(t, st.Unused)
}

func TestAttachThatFailsKeepsTheUnusedRecord(t *testing.T) {
	a := account(t, storage.PrivateEndpoint)
	a["tags"].(map[string]any)[tags.UnusedSince] = "2026-01-05T08:00:00Z"
	fail := runCommand(t, attachScript(t), info("fail", "mount", "mount.nfs: access denied"), "")
	calls := append(attachReads(t, []any{a}, nil, 100, 1<<30),
		vmShow(t, "VM running", nil),
		nicShow(t, subnetID),
		peShow(t, subnetID),
		fail,
	)
	m, f := newManager(t, calls...)
	_, results, err := m.Attach(context.Background(), attachReq())
	require.NoError(t, err)
	require.Error(t, results[0].Err)
	assert.Equal(t, []string{"vm run-command invoke"}, mutations(f), "no VM arrived: the storage is still unused")
}
