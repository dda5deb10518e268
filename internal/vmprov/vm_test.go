package vmprov

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/tags"
)

func vmNotFound(argv []string, name string) aztest.Call {
	return aztest.Call{Argv: argv, Exit: 3, Stderr: fmt.Sprintf(stderrVMNotFound, name, name)}
}

func TestShowDetails(t *testing.T) {
	m, _ := newTestManager(t, aztest.Call{Argv: []string{"vm", "show", "-d", "-g", "rg", "-n", "vm"}, StdoutFile: "testdata/vm-show-d.json"})
	vm, err := m.Show(context.Background(), "rg", "vm", true)
	require.NoError(t, err)
	assert.Equal(t, VM{
		ID:   "/subscriptions/9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
		Name: "vm", ResourceGroup: "rg", Region: "eastus", Size: "Standard_DS1_v2",
		PowerState: "VM running", ProvisioningState: "Succeeded",
		PublicIP: "20.80.105.65", PrivateIP: "10.0.0.4", Tags: map[string]string{},
		NICs: []string{"vmVMNic"}, OSDisk: "vm_OsDisk_1_e9de1371626b437bafcb304eb5c5b6cd",
		OSDiskSKU: "Premium_LRS", OSDiskGiB: 30, // what the cost report prices the disk by
	}, vm)
	assert.Equal(t, "running", vm.State())
	assert.True(t, vm.Running())
	assert.False(t, vm.Managed())
}

func TestShowMissingVMSaysWhatToDo(t *testing.T) {
	argv := []string{"vm", "show", "-d", "-g", "rg", "-n", "nope"}
	m, _ := newTestManager(t, vmNotFound(argv, "nope"))
	_, err := m.Show(context.Background(), "rg", "nope", true)
	assert.ErrorIs(t, err, azcli.ErrNotFound)
	assert.Contains(t, err.Error(), "there is no VM nope in resource group rg (azlin list")
}

func TestListOneCallSortedWithStatesAndSharedHome(t *testing.T) {
	m, fake := newTestManager(t, aztest.Call{Argv: []string{"vm", "list", "-d", "-g", "rg"}, StdoutFile: "testdata/vm-list-d-managed.json"})
	vms, err := m.List(context.Background(), "rg")
	require.NoError(t, err)
	require.Len(t, vms, 2)
	assert.Len(t, fake.Calls(), 1)
	assert.Equal(t, []string{"vm", "vm2"}, []string{vms[0].Name, vms[1].Name}, "sorted by name")
	assert.Equal(t, "running", vms[0].State())
	assert.Equal(t, "20.80.105.65", vms[0].PublicIP)
	assert.Equal(t, "", vms[0].SharedHome())
	assert.Equal(t, "deallocated", vms[1].State())
	assert.Equal(t, "", vms[1].PublicIP, "a deallocated VM has no public IP")
	assert.Equal(t, "shared-dev", vms[1].SharedHome())
}

func TestListOfUnknownResourceGroup(t *testing.T) {
	m, _ := newTestManager(t, aztest.Call{Argv: []string{"vm", "list", "-d", "-g", "nosuchrg"}, Exit: 3, Stderr: stderrRGNotFound})
	_, err := m.List(context.Background(), "nosuchrg")
	assert.ErrorIs(t, err, azcli.ErrResourceGroupNotFound)
	assert.Contains(t, err.Error(), "az group create -n nosuchrg")
}

func TestCheckNameFree(t *testing.T) {
	ctx := context.Background()
	show := []string{"vm", "show", "-g", "rg", "-n", "vm"}

	m, _ := newTestManager(t, aztest.Call{Argv: show, StdoutFile: "testdata/vm-show.json"})
	err := m.CheckNameFree(ctx, "rg", "vm")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a VM named vm already exists in resource group rg")
	assert.Contains(t, err.Error(), "nothing was created")

	m, _ = newTestManager(t, vmNotFound(show, "vm"))
	assert.NoError(t, m.CheckNameFree(ctx, "rg", "vm"))

	m, _ = newTestManager(t, aztest.Call{Argv: []string{"vm", "show", "-g", "nosuchrg", "-n", "vm"}, Exit: 3, Stderr: stderrRGNotFound})
	err = m.CheckNameFree(ctx, "nosuchrg", "vm")
	assert.ErrorIs(t, err, azcli.ErrResourceGroupNotFound)
}

func wantCreateArgv(dataPath string, extra ...string) []string {
	return append([]string{"vm", "create", "-g", "rg", "-n", "dev-1",
		"--image", "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest", "--size", "Standard_D2s_v5",
		"--admin-username", "azureuser", "--ssh-key-values", "/keys/azlin_ed25519.pub",
		"--custom-data", dataPath,
		"--vnet-name", "azlin-vnet", "--subnet", "azlin-subnet",
		"--public-ip-address", "dev-1PublicIP", "--nsg", "azlin-vnet-nsg", "--nsg-rule", "NONE", "--os-disk-name", "dev-1_OsDisk",
		"--tags", "azlin-managed=true", "owner=me", "-l", "eastus"}, extra...)
}

func testSpec(dataPath string) CreateSpec {
	return CreateSpec{ResourceGroup: "rg", Name: "dev-1", Region: "eastus", Size: "Standard_D2s_v5",
		PublicKeyPath: "/keys/azlin_ed25519.pub", CustomDataPath: dataPath, VNet: "azlin-vnet", Subnet: "azlin-subnet",
		Tags: map[string]string{"owner": "me", tags.Managed: "ignored"}}
}

func TestCreateArgvAndCustomData(t *testing.T) {
	dataPath := filepath.Join(t.TempDir(), "cloud-init", "dev-1.yaml")
	m, fake := newTestManager(t, aztest.Call{Argv: wantCreateArgv(dataPath), StdoutFile: "testdata/vm-create.json"})
	require.NoError(t, m.Create(context.Background(), testSpec(dataPath), PlainCloudConfig("dev-1")))
	assert.Equal(t, [][]string{wantCreateArgv(dataPath)}, fake.Calls())

	doc, err := os.ReadFile(dataPath)
	require.NoError(t, err)
	want, _ := PlainCloudConfig("dev-1").Render()
	assert.Equal(t, string(want), string(doc), "the custom data az gets is the rendered cloud-init")
	fi, _ := os.Stat(dataPath)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestCreateNoWait(t *testing.T) {
	dataPath := filepath.Join(t.TempDir(), "d.yaml")
	spec := testSpec(dataPath)
	spec.NoWait = true
	m, _ := newTestManager(t, aztest.Call{Argv: wantCreateArgv(dataPath, "--no-wait")})
	require.NoError(t, m.Create(context.Background(), spec, PlainCloudConfig("dev-1")))
}

func TestCreateFailureSaysWhatMayExist(t *testing.T) {
	dataPath := filepath.Join(t.TempDir(), "d.yaml")
	m, _ := newTestManager(t, aztest.Call{Argv: wantCreateArgv(dataPath), Exit: 1,
		Stderr: "ERROR: (QuotaExceeded) Operation could not be completed as it results in exceeding approved standardDSv5Family Cores quota.\nCode: QuotaExceeded\n"})
	err := m.Create(context.Background(), testSpec(dataPath), PlainCloudConfig("dev-1"))
	assert.ErrorIs(t, err, azcli.ErrQuotaExceeded)
	assert.Contains(t, err.Error(), "creating VM dev-1 failed")
	assert.Contains(t, err.Error(), "azlin delete dev-1")
}

func TestPlanDeleteUsesAzureNamesAndRefusesForeignVMs(t *testing.T) {
	ctx := context.Background()
	show := []string{"vm", "show", "-g", "rg", "-n", "vm"}

	m, _ := newTestManager(t, aztest.Call{Argv: show, StdoutFile: "testdata/vm-show-managed.json"})
	p, err := m.PlanDelete(ctx, "rg", "vm")
	require.NoError(t, err)
	require.NotNil(t, p.VM)
	assert.Equal(t, "shared-dev", p.VM.SharedHome())
	assert.Equal(t, []string{"vmVMNic"}, p.NICs)
	assert.Equal(t, "vm_OsDisk_1_e9de1371626b437bafcb304eb5c5b6cd", p.OSDisk, "the disk's real name, from Azure")
	assert.Equal(t, "vmPublicIP", p.PublicIP)

	m, _ = newTestManager(t, aztest.Call{Argv: show, StdoutFile: "testdata/vm-show.json"})
	_, err = m.PlanDelete(ctx, "rg", "vm")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not created by azlin")

	m, _ = newTestManager(t, vmNotFound(show, "vm"))
	p, err = m.PlanDelete(ctx, "rg", "vm")
	require.NoError(t, err)
	assert.Nil(t, p.VM)
	assert.Equal(t, DeletePlan{ResourceGroup: "rg", Name: "vm", NICs: []string{"vmVMNic"}, OSDisk: "vm_OsDisk", PublicIP: "vmPublicIP"}, p)
}

var (
	argvVMDelete   = []string{"vm", "delete", "-g", "rg", "-n", "vm", "--yes"}
	argvNICDelete  = []string{"network", "nic", "delete", "-g", "rg", "-n", "vmVMNic"}
	argvDiskDelete = []string{"disk", "delete", "-g", "rg", "-n", "vm_OsDisk_1_e9de1371626b437bafcb304eb5c5b6cd", "--yes"}
	argvPIPDelete  = []string{"network", "public-ip", "delete", "-g", "rg", "-n", "vmPublicIP"}
)

func managedPlan(t *testing.T) DeletePlan {
	m, _ := newTestManager(t, aztest.Call{Argv: []string{"vm", "show", "-g", "rg", "-n", "vm"}, StdoutFile: "testdata/vm-show-managed.json"})
	p, err := m.PlanDelete(context.Background(), "rg", "vm")
	require.NoError(t, err)
	return p
}

func TestDeleteRemovesVMThenItsParts(t *testing.T) {
	m, fake := newTestManager(t,
		aztest.Call{Argv: argvVMDelete}, aztest.Call{Argv: argvNICDelete}, aztest.Call{Argv: argvDiskDelete},
		aztest.Call{Argv: argvPIPDelete})
	var steps []string
	require.NoError(t, m.Delete(context.Background(), managedPlan(t), func(s string) { steps = append(steps, s) }))

	calls := fake.Calls()
	require.Len(t, calls, 4)
	assert.Equal(t, argvVMDelete, calls[0], "the VM goes first: its disk and NIC are in use until then")
	assert.ElementsMatch(t, [][]string{argvNICDelete, argvDiskDelete}, calls[1:3])
	assert.Equal(t, argvPIPDelete, calls[3], "the IP only after the NIC that uses it")
	assert.Equal(t, []string{
		"Deleting VM vm",
		"Deleting network interface vmVMNic, OS disk vm_OsDisk_1_e9de1371626b437bafcb304eb5c5b6cd",
		"Deleting public IP vmPublicIP",
	}, steps)
}

func TestDeleteIsIdempotent(t *testing.T) {
	// Re-run after the VM is gone: only leftovers are deleted, and parts
	// already gone (az exit 3, ResourceNotFound) count as removed.
	p := DeletePlan{ResourceGroup: "rg", Name: "vm", NICs: []string{"vmVMNic"}, OSDisk: "vm_OsDisk", PublicIP: "vmPublicIP"}
	disk := []string{"disk", "delete", "-g", "rg", "-n", "vm_OsDisk", "--yes"}
	m, fake := newTestManager(t,
		aztest.Call{Argv: argvNICDelete, Exit: 3, Stderr: "ERROR: (ResourceNotFound) The Resource 'Microsoft.Network/networkInterfaces/vmVMNic' under resource group 'rg' was not found.\nCode: ResourceNotFound\n"},
		aztest.Call{Argv: disk}, aztest.Call{Argv: argvPIPDelete})
	require.NoError(t, m.Delete(context.Background(), p, nil))
	assert.False(t, slices.ContainsFunc(fake.Calls(), func(c []string) bool { return c[0] == "vm" }), "no vm delete for a VM that is gone")
}

func TestDeleteFailureSaysWhatIsGoneAndHowToFinish(t *testing.T) {
	m, fake := newTestManager(t,
		aztest.Call{Argv: argvVMDelete}, aztest.Call{Argv: argvDiskDelete},
		aztest.Call{Argv: argvNICDelete, Exit: 1, Stderr: "ERROR: (AuthorizationFailed) The client does not have authorization to perform action 'Microsoft.Network/networkInterfaces/delete'.\nCode: AuthorizationFailed\n"})
	err := m.Delete(context.Background(), managedPlan(t), nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, azcli.ErrAuthorization)
	assert.Contains(t, err.Error(), "deleting network interface vmVMNic")
	assert.Contains(t, err.Error(), "Already removed: VM vm.")
	assert.Contains(t, err.Error(), "Run the same azlin delete again")
	assert.Len(t, fake.Calls(), 3, "the public IP is not tried while the NIC holding it remains")
}

func TestWaitReadyPollsUntilRunningThenProbes(t *testing.T) {
	show := []string{"vm", "show", "-d", "-g", "rg", "-n", "vm"}
	m, fake := newTestManager(t,
		aztest.Call{Argv: show, StdoutFile: "testdata/vm-show-d-starting.json"},
		aztest.Call{Argv: show, StdoutFile: "testdata/vm-show-d.json"})
	probes := 0
	var steps []string
	vm, err := m.WaitReady(context.Background(), "rg", "vm", WaitOptions{
		Interval: time.Millisecond,
		Probe: func(ctx context.Context, ip string) error {
			assert.Equal(t, "20.80.105.65", ip)
			probes++
			if probes < 3 {
				return errors.New("connection refused")
			}
			return nil
		},
		Progress: func(s string) { steps = append(steps, s) },
	})
	require.NoError(t, err)
	assert.Equal(t, "20.80.105.65", vm.PublicIP)
	assert.Equal(t, 3, probes)
	assert.Len(t, fake.Calls(), 2, "no az calls while waiting for SSH")
	assert.Equal(t, []string{"VM starting", "VM running at 20.80.105.65; waiting for SSH"}, steps)
}

func TestWaitReadyTimesOutSayingLastState(t *testing.T) {
	show := []string{"vm", "show", "-d", "-g", "rg", "-n", "vm"}
	m, _ := newTestManager(t, aztest.Call{Argv: show, StdoutFile: "testdata/vm-show-d.json"})
	_, err := m.WaitReady(context.Background(), "rg", "vm", WaitOptions{
		Timeout: 50 * time.Millisecond, Interval: 10 * time.Millisecond,
		Probe: func(context.Context, string) error { return errors.New("connection refused") },
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "VM vm did not become reachable within 50ms")
	assert.Contains(t, err.Error(), "waiting for SSH")
	assert.Contains(t, err.Error(), "connection refused")
}

func TestProbeSSH(t *testing.T) {
	serve := func(greeting string) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Write([]byte(greeting))
				c.Close()
			}
		}()
		return l.Addr().String()
	}
	ctx := context.Background()
	assert.NoError(t, probeSSHAddr(ctx, serve("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")))
	err := probeSSHAddr(ctx, serve("HTTP/1.1 400 Bad Request\r\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not as an SSH server")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	l.Close()
	assert.Error(t, probeSSHAddr(ctx, closed))
}

func TestSSHArgsPutOptionsBeforeDestination(t *testing.T) {
	args := SSHArgs(SSHTarget{KeyPath: "/k/azlin_ed25519", KnownHosts: "/cfg dir/known_hosts", Host: "127.0.1.2", Command: []string{"ls", "-la", "--", "x"}})
	assert.Equal(t, []string{
		"-i", "/k/azlin_ed25519",
		"-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=accept-new",
		"-o", `UserKnownHostsFile="/cfg dir/known_hosts"`,
		"-o", "ConnectTimeout=20",
		"--", "azureuser@127.0.1.2", "ls", "-la", "--", "x",
	}, args)
	interactive := SSHArgs(SSHTarget{KeyPath: "k", KnownHosts: "kh", Host: "h"})
	assert.Equal(t, "azureuser@h", interactive[len(interactive)-1])
	assert.False(t, strings.Contains(strings.Join(interactive, " "), "-t "), "ssh decides on a tty itself")
}

// azlin's own sessions never prompt, and end when the VM stops answering.
func TestRunSSHIsBatchAndReportsARefusedKey(t *testing.T) {
	batch := SSHArgs(SSHTarget{KeyPath: "k", KnownHosts: "kh", Host: "h", Batch: true, Command: []string{"true"}})
	assert.Equal(t, []string{"-o", "BatchMode=yes", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4", "--", "azureuser@h", "true"}, batch[10:])

	dir := t.TempDir()
	fake := filepath.Join(dir, "ssh")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\necho \"$@\" >"+dir+"/argv\necho 'azureuser@h: Permission denied (publickey).' >&2\nexit 255\n"), 0o755))
	_, err := RunSSH(fake)(context.Background(), SSHTarget{KeyPath: "k", KnownHosts: "kh", Host: "h", Command: []string{"true"}})
	var se *SSHError
	require.ErrorAs(t, err, &se)
	assert.True(t, se.Refused())
	assert.Equal(t, "ssh to h exited with status 255: azureuser@h: Permission denied (publickey).", err.Error())
	argv, _ := os.ReadFile(filepath.Join(dir, "argv"))
	assert.Contains(t, string(argv), "BatchMode=yes", "RunSSH always runs in batch mode")
	assert.False(t, (&SSHError{Exit: 255, Stderr: "connect to host h port 22: Connection timed out"}).Refused())
}

func TestForgetHost(t *testing.T) {
	kh := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, ForgetHost(context.Background(), kh, "127.0.1.2"), "no file yet is fine")
	require.NoError(t, os.WriteFile(kh, []byte(
		"127.0.1.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOld/old/old/old/old/old/old/old/old/old/old/o\n"+
			"127.0.1.3 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeep/keep/keep/keep/keep/keep/keep/keep/kee\n"), 0o600))
	require.NoError(t, ForgetHost(context.Background(), kh, "127.0.1.2"))
	got, _ := os.ReadFile(kh)
	assert.NotContains(t, string(got), "127.0.1.2 ")
	assert.Contains(t, string(got), "127.0.1.3 ")
	_, err := os.Stat(kh + ".old")
	assert.True(t, os.IsNotExist(err))
}

// A VM's key goes by its alias, not its address; a pinned session accepts
// only a key already known, and marks that it connected.
func TestSSHArgsPinTheKeyOfTheVMNamed(t *testing.T) {
	args := SSHArgs(SSHTarget{KeyPath: "k", KnownHosts: "kh", HostKeyAlias: "dev-1.0123456789ab.azlin", Pinned: true,
		ConnectedMarker: "/tmp/azlin ssh%1/connected", ConnectTimeout: 8 * time.Second, Host: "20.1.2.3"})
	assert.Equal(t, []string{
		"-i", "k",
		"-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile=kh",
		"-o", "HostKeyAlias=dev-1.0123456789ab.azlin",
		"-o", "CheckHostIP=no",
		"-o", "ConnectTimeout=8",
		"-o", "PermitLocalCommand=yes",
		"-o", "LocalCommand=touch '/tmp/azlin ssh%%1/connected'",
		"-o", "ControlPath=none",
		"--", "azureuser@20.1.2.3",
	}, args)
}

func TestKnowsHostFindsAnAlias(t *testing.T) {
	ctx := context.Background()
	kh := filepath.Join(t.TempDir(), "known_hosts")
	known, err := KnowsHost(ctx, kh, "dev-1.0123456789ab.azlin")
	require.NoError(t, err, "no file yet is fine")
	assert.False(t, known)
	require.NoError(t, os.WriteFile(kh, []byte(
		"dev-1.0123456789ab.azlin ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOld/old/old/old/old/old/old/old/old/old/old/o\n"), 0o600))
	known, err = KnowsHost(ctx, kh, "dev-1.0123456789ab.azlin")
	require.NoError(t, err)
	assert.True(t, known)
	known, err = KnowsHost(ctx, kh, "dev-2.0123456789ab.azlin")
	require.NoError(t, err)
	assert.False(t, known)
	require.NoError(t, ForgetHost(ctx, kh, "dev-1.0123456789ab.azlin"))
	known, _ = KnowsHost(ctx, kh, "dev-1.0123456789ab.azlin")
	assert.False(t, known, "forgotten")
}
