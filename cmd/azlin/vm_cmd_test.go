package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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
	"github.com/azlin-dev/azlin/internal/namecache"
	"github.com/azlin-dev/azlin/internal/vmprov"
)

const vmTestdata = "testdata/vm/"

// vmEnv gives the test its own config folder and no resource group from
// the environment, and returns the config folder.
func vmEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AZLIN_CONFIG_DIR", dir)
	t.Setenv("AZLIN_RESOURCE_GROUP", "")
	t.Setenv(azcli.EnvAzureConfigDir, t.TempDir()) // no az profile: az's current subscription is unknown
	ip := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "203.0.113.7") }))
	t.Cleanup(ip.Close)
	t.Setenv("AZLIN_PUBLIC_IP_URL", ip.URL)
	return dir
}

// callNSGShow answers `az network nsg show` with an NSG whose azlin-ssh rule
// already allows the caller (203.0.113.7, as vmEnv's IP server says): no write.
var callNSGShow = aztest.Call{Argv: []string{"network", "nsg", "show", "-g", "rg", "-n", "azlin-vnet-nsg"},
	Stdout: `{"name": "azlin-vnet-nsg", "location": "eastus", "resourceGroup": "rg", "securityRules": [{"name": "azlin-ssh",
 "access": "Allow", "direction": "Inbound", "protocol": "Tcp", "priority": 900, "destinationPortRange": "22",
 "sourceAddressPrefix": "203.0.113.7/32"}], "type": "Microsoft.Network/networkSecurityGroups"}`}

// runVMCmd runs azlin in-process with its az calls answered by fake, and
// stdin given (not a terminal).
func runVMCmd(t *testing.T, fake azcli.Runner, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runVMCmdCtx(t, context.Background(), fake, args...)
}

func runVMCmdCtx(t *testing.T, ctx context.Context, fake azcli.Runner, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runWith(t, ctx, fake, args...)
}

var (
	callAccountShow = aztest.Call{Argv: []string{"account", "show"}, StdoutFile: vmTestdata + "account-show.json"}
	stderrNotFound  = "ERROR: (ResourceNotFound) The Resource 'Microsoft.Compute/virtualMachines/vm' under resource group 'rg' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix\nCode: ResourceNotFound\nMessage: The Resource 'Microsoft.Compute/virtualMachines/vm' under resource group 'rg' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix\n"
)

// probeOnly makes `new` accept SSH at ip without touching the network.
func probeOnly(t *testing.T, ip string) {
	old := probeSSH
	probeSSH = func(ctx context.Context, got string) error {
		assert.Equal(t, ip, got)
		return nil
	}
	t.Cleanup(func() { probeSSH = old })
}

func createArgv(cfgDir string, extra ...string) []string {
	return append([]string{"vm", "create", "-g", "rg", "-n", "vm",
		"--image", vmprov.DefaultImage, "--size", "Standard_D2s_v5",
		"--admin-username", "azureuser", "--ssh-key-values", filepath.Join(cfgDir, "azlin_ed25519.pub"),
		"--custom-data", filepath.Join(cfgDir, "cloud-init", "vm.yaml"),
		"--vnet-name", "azlin-vnet", "--subnet", "azlin-subnet",
		"--public-ip-address", "vmPublicIP", "--nsg", "azlin-vnet-nsg", "--nsg-rule", "NONE", "--os-disk-name", "vm_OsDisk",
		"--tags", "azlin-managed=true", "-l", "eastus"}, extra...)
}

// A VM must be in its VNet's region: new says so before az would fail at
// the network interface, and creates nothing.
func TestNewRefusesARegionOtherThanTheVNets(t *testing.T) {
	vmEnv(t)
	fake := aztest.New(t,
		callAccountShow,
		aztest.Call{Argv: []string{"vm", "show", "-g", "rg", "-n", "vm"}, Exit: 3, Stderr: stderrNotFound},
		aztest.Call{Argv: []string{"network", "vnet", "show", "-g", "rg", "-n", "azlin-vnet"}, StdoutFile: vmTestdata + "network-vnet-show.json"},
	)
	_, stderr, code := runVMCmd(t, fake, "new", "--name", "vm", "-g", "rg", "--region", "westus2")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "virtual network azlin-vnet is in eastus, but the VM would be in westus2")
	assert.Contains(t, stderr, "Use --region eastus")
	assert.Contains(t, stderr, "No VM was created")
}

func TestNewCreatesWaitsAndPrintsTheVM(t *testing.T) {
	cfgDir := vmEnv(t)
	probeOnly(t, "20.80.105.65")
	// An earlier VM of this name left its address and host key: the new VM
	// has another key, so both are forgotten.
	scope := namecache.Scope{Group: "rg"}
	alias := namecache.HostKeyAlias(scope, "vm")
	require.NoError(t, namecache.In(cfgDir).SetHost(scope, "vm", "20.80.105.1", time.Now()))
	kh := filepath.Join(cfgDir, "known_hosts")
	require.NoError(t, os.WriteFile(kh, []byte(alias+" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOf/old\n"+
		"dev-2.0123456789ab.azlin ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOf/dev2\n"), 0o600))
	fake := aztest.New(t,
		callAccountShow,
		aztest.Call{Argv: []string{"group", "show", "-n", "rg"}, StdoutFile: vmTestdata + "group-show.json"},
		aztest.Call{Argv: []string{"vm", "show", "-g", "rg", "-n", "vm"}, Exit: 3, Stderr: stderrNotFound},
		aztest.Call{Argv: []string{"network", "vnet", "show", "-g", "rg", "-n", "azlin-vnet"}, StdoutFile: vmTestdata + "network-vnet-show.json"},
		callNSGShow,
		aztest.Call{Argv: createArgv(cfgDir), StdoutFile: vmTestdata + "vm-create.json"},
		aztest.Call{Argv: []string{"vm", "show", "-d", "-g", "rg", "-n", "vm"}, StdoutFile: vmTestdata + "vm-show-d.json"},
	)
	stdout, stderr, code := runVMCmd(t, fake, "new", "--name", "vm", "-g", "rg")
	require.Equal(t, 0, code, stderr)
	// Not a terminal: one tab-separated row, no header.
	assert.Equal(t, "vm\trunning\tStandard_DS1_v2\t20.80.105.65\teastus\t-\n", stdout)
	assert.Contains(t, stderr, "Cost of Standard_D2s_v5 in eastus: about $0.10/hour, $70.08/month")
	assert.Contains(t, stderr, "Created azlin's SSH key "+filepath.Join(cfgDir, "azlin_ed25519"))
	assert.Contains(t, stderr, "✓ VM vm is ready at 20.80.105.65")
	assert.Contains(t, stderr, "azlin ssh vm")

	// The calls in order: the name check comes before anything is created.
	// (The login check runs beside the first reads: its place varies.)
	calls := slices.DeleteFunc(fake.Calls(), func(argv []string) bool { return slices.Equal(argv, callAccountShow.Argv) })
	require.Len(t, calls, 6)
	assert.Equal(t, []string{"vm", "show", "-g", "rg", "-n", "vm"}, calls[1])
	assert.Equal(t, createArgv(cfgDir), calls[4])

	fi, err := os.Stat(filepath.Join(cfgDir, "azlin_ed25519"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	doc, err := os.ReadFile(filepath.Join(cfgDir, "cloud-init", "vm.yaml"))
	require.NoError(t, err)
	want, _ := vmprov.PlainCloudConfig("vm").Render()
	assert.Equal(t, string(want), string(doc))

	_, found := namecache.In(cfgDir).Host(scope, "vm")
	assert.False(t, found)
	known, _ := os.ReadFile(kh)
	assert.NotContains(t, string(known), alias)
	assert.Contains(t, string(known), "dev-2.0123456789ab.azlin", "other VMs' keys stay")
}

func TestNewNoWaitReturnsOnceAccepted(t *testing.T) {
	cfgDir := vmEnv(t)
	fake := aztest.New(t,
		callAccountShow,
		aztest.Call{Argv: []string{"vm", "show", "-g", "rg", "-n", "vm"}, Exit: 3, Stderr: stderrNotFound},
		aztest.Call{Argv: []string{"network", "vnet", "show", "-g", "rg", "-n", "azlin-vnet"}, StdoutFile: vmTestdata + "network-vnet-show.json"},
		callNSGShow,
		aztest.Call{Argv: createArgv(cfgDir, "--no-wait")},
	)
	stdout, stderr, code := runVMCmd(t, fake, "new", "--name", "vm", "-g", "rg", "--region", "eastus", "--no-wait", "-o", "json")
	require.Equal(t, 0, code, stderr)
	var got []vmView
	require.NoError(t, json.Unmarshal([]byte(stdout), &got), stdout)
	assert.Equal(t, []vmView{{Name: "vm", State: "creating", Size: "Standard_D2s_v5", Region: "eastus", ResourceGroup: "rg"}}, got)
	assert.Contains(t, stderr, "still being provisioned")
	assert.Contains(t, stderr, "azlin list -g rg")
}

func TestNewWithTakenNameCreatesNothing(t *testing.T) {
	cfgDir := vmEnv(t)
	fake := aztest.New(t,
		callAccountShow,
		aztest.Call{Argv: []string{"vm", "show", "-g", "rg", "-n", "vm"}, StdoutFile: vmTestdata + "vm-show.json"},
	)
	stdout, stderr, code := runVMCmd(t, fake, "new", "--name", "vm", "-g", "rg", "--region", "eastus")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "Error: a VM named vm already exists in resource group rg")
	assert.Contains(t, stderr, "azlin delete vm")
	_, err := os.Stat(filepath.Join(cfgDir, "azlin_ed25519"))
	assert.True(t, os.IsNotExist(err), "no key is made for a VM that is not created")
}

func TestNewRefusesBadInputBeforeAnyAzCall(t *testing.T) {
	vmEnv(t)
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"new", "--name", "Dev_1", "-g", "rg"}, 2, `VM name "Dev_1" contains 'D'`},
		{[]string{"new", "--name", "-dev", "-g", "rg"}, 2, "hyphen"},
		{[]string{"new", "--name", "dev", "--size", "Standard D2", "-g", "rg"}, 2, "is not a VM size"},
		{[]string{"new", "--name", "dev", "--region", "West US", "-g", "rg"}, 2, "region"},
		{[]string{"new", "--name", "dev", "-g", "rg", "--shared-home", "Shared_Dev"}, 2, "invalid storage name"},
		{[]string{"new", "--name", "dev", "-g", "rg", "--shared-home", "shared-dev", "--no-wait"}, 2, "cannot be combined with --no-wait"},
		{[]string{"new", "--name", "dev"}, 2, "no resource group given"},
	} {
		fake := aztest.New(t) // any az call fails the test
		_, stderr, code := runVMCmd(t, fake, c.args...)
		assert.Equal(t, c.code, code, "%v: %s", c.args, stderr)
		assert.Contains(t, stderr, c.says, "%v", c.args)
		assert.Empty(t, fake.Calls(), "%v made az calls", c.args)
	}
}

func TestListShowsEveryVMFromOneCall(t *testing.T) {
	vmEnv(t)
	list := aztest.Call{Argv: []string{"vm", "list", "-d", "-g", "rg"}, StdoutFile: vmTestdata + "vm-list-d-managed.json"}
	fake := aztest.New(t, callAccountShow, list)
	stdout, stderr, code := runVMCmd(t, fake, "list", "-g", "rg")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t,
		"vm\trunning\tStandard_DS1_v2\t20.80.105.65\teastus\t-\n"+
			"vm2\tdeallocated\tStandard_DS1_v2\t-\teastus\tshared-dev\n", stdout)
	assert.Len(t, fake.Calls(), 2)

	fake = aztest.New(t, callAccountShow, list)
	stdout, _, code = runVMCmd(t, fake, "list", "-g", "rg", "-o", "json")
	require.Equal(t, 0, code)
	var got []map[string]string
	require.NoError(t, json.Unmarshal([]byte(stdout), &got))
	assert.Equal(t, []map[string]string{
		{"name": "vm", "state": "running", "size": "Standard_DS1_v2", "publicIp": "20.80.105.65", "privateIp": "10.0.0.4", "region": "eastus", "resourceGroup": "rg", "sharedHome": ""},
		{"name": "vm2", "state": "deallocated", "size": "Standard_DS1_v2", "publicIp": "", "privateIp": "10.0.0.6", "region": "eastus", "resourceGroup": "rg", "sharedHome": "shared-dev"},
	}, got)
}

func TestListEmpty(t *testing.T) {
	vmEnv(t)
	empty := aztest.Call{Argv: []string{"vm", "list", "-d", "-g", "rg"}, Stdout: "[]\n"}
	stdout, stderr, code := runVMCmd(t, aztest.New(t, callAccountShow, empty), "list", "-g", "rg")
	assert.Equal(t, 0, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "No VMs in resource group rg. Create one: azlin new --name NAME")
	stdout, _, _ = runVMCmd(t, aztest.New(t, callAccountShow, empty), "list", "-g", "rg", "-o", "json")
	assert.Equal(t, "[]\n", stdout)
}

// fakeSSH installs a stand-in ssh that records its arguments and exits
// with code; it returns the file the arguments are written to.
func fakeSSH(t *testing.T, code string) string {
	t.Helper()
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > " + argsFile + "\necho remote-output\nexit " + code + "\n"
	bin := filepath.Join(dir, "ssh")
	require.NoError(t, os.WriteFile(bin, []byte(script), 0o755))
	t.Setenv(envSSHPath, bin)
	return argsFile
}

func withKey(t *testing.T, cfgDir string) string {
	t.Helper()
	k, _, err := vmprov.EnsureKeyPair(context.Background(), filepath.Join(cfgDir, "azlin_ed25519"))
	require.NoError(t, err)
	return k.Private
}

var callShowD = aztest.Call{Argv: []string{"vm", "show", "-d", "-g", "rg", "-n", "vm"}, StdoutFile: vmTestdata + "vm-show-d.json"}

func TestSSHRunsSSHWithAzlinKeyAndOwnKnownHosts(t *testing.T) {
	cfgDir := vmEnv(t)
	key := withKey(t, cfgDir)
	argsFile := fakeSSH(t, "0")
	fake := aztest.New(t, callAccountShow, callShowD)
	stdout, stderr, code := runVMCmd(t, fake, "ssh", "vm", "-g", "rg", "--", "ls", "-la", "/home")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "remote-output\n", stdout, "ssh's output goes straight to azlin's stdout")
	args, err := os.ReadFile(argsFile)
	require.NoError(t, err)
	assert.Equal(t, strings.Join([]string{
		"-i", key,
		"-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=accept-new",
		"-o", "UserKnownHostsFile=" + filepath.Join(cfgDir, "known_hosts"),
		"-o", "HostKeyAlias=" + namecache.HostKeyAlias(namecache.Scope{Group: "rg"}, "vm"),
		"-o", "CheckHostIP=no",
		"-o", "ConnectTimeout=20",
		"--", "azureuser@20.80.105.65", "ls", "-la", "/home",
	}, "\n")+"\n", string(args))
}

func TestSSHPassesRemoteFailureOn(t *testing.T) {
	cfgDir := vmEnv(t)
	withKey(t, cfgDir)
	fakeSSH(t, "7")
	_, stderr, code := runVMCmd(t, aztest.New(t, callAccountShow, callShowD), "ssh", "vm", "-g", "rg", "--", "exit", "7")
	assert.Equal(t, 7, code, "the remote command's exit status is azlin's")
	assert.NotContains(t, stderr, "Error:", "like ssh, azlin adds nothing to a remote command's own failure")
	assert.Equal(t, 7, (&remoteExitError{vm: "vm", code: 7}).ExitCode())

	fakeSSH(t, "255")
	_, stderr, code = runVMCmd(t, aztest.New(t, callAccountShow, callShowD), "ssh", "vm", "-g", "rg")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "ssh could not connect to VM vm at 20.80.105.65")
}

func TestSSHRefusesAStoppedVM(t *testing.T) {
	cfgDir := vmEnv(t)
	withKey(t, cfgDir)
	argsFile := fakeSSH(t, "0")
	show := aztest.Call{Argv: []string{"vm", "show", "-d", "-g", "rg", "-n", "vm2"}, StdoutFile: vmTestdata + "vm-show-d-deallocated.json"}
	_, stderr, code := runVMCmd(t, aztest.New(t, callAccountShow, show), "ssh", "vm2", "-g", "rg", "--", "true")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "VM vm2 is deallocated, not running; start it: az vm start -g rg -n vm2")
	_, err := os.Stat(argsFile)
	assert.True(t, os.IsNotExist(err), "ssh was not run")
}

func TestSSHArgumentErrors(t *testing.T) {
	vmEnv(t)
	for _, args := range [][]string{{"ssh"}, {"ssh", "vm", "hostname"}, {"ssh", "--", "hostname"}, {"ssh", "Bad_Name"}} {
		fake := aztest.New(t)
		_, stderr, code := runVMCmd(t, fake, append(args, "-g", "rg")...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Contains(t, stderr, "azlin ssh --help", "%v", args)
	}
}

var deleteCalls = []aztest.Call{
	{Argv: []string{"vm", "delete", "-g", "rg", "-n", "vm", "--yes"}},
	{Argv: []string{"network", "nic", "delete", "-g", "rg", "-n", "vmVMNic"}},
	{Argv: []string{"disk", "delete", "-g", "rg", "-n", "vm_OsDisk_1_e9de1371626b437bafcb304eb5c5b6cd", "--yes"}},
	{Argv: []string{"network", "public-ip", "delete", "-g", "rg", "-n", "vmPublicIP"}},
}

var callShowManaged = aztest.Call{Argv: []string{"vm", "show", "-g", "rg", "-n", "vm"}, StdoutFile: vmTestdata + "vm-show-managed.json"}

// homeLeftCalls are the reads after deleting a VM whose home was on
// shared-dev: the group's storage and the VMs left (vms, az vm list's JSON).
func homeLeftCalls(t *testing.T, vms string) []aztest.Call {
	return []aztest.Call{
		{Argv: []string{"storage", "account", "list", "-g", "rg"}, Stdout: stJSON(t, []any{stAccount(t)})},
		{Argv: []string{"vm", "list", "-g", "rg"}, Stdout: vms},
	}
}

// callMarkUnused records shared-dev as unused since runWith's clock.
var callMarkUnused = aztest.Call{Argv: []string{"tag", "update", "--resource-id",
	"/subscriptions/" + stSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/" + stAcct,
	"--operation", "Merge", "--tags", "azlin-unused-since=2025-11-25T12:00:00Z"}}

func TestDeleteRemovesVMAndItsParts(t *testing.T) {
	cfgDir := vmEnv(t)
	ci := filepath.Join(cfgDir, "cloud-init", "vm.yaml")
	require.NoError(t, os.MkdirAll(filepath.Dir(ci), 0o700))
	require.NoError(t, os.WriteFile(ci, []byte("#cloud-config\n"), 0o600))
	calls := append([]aztest.Call{callAccountShow, callShowManaged}, deleteCalls...)
	// It was shared-dev's last VM: the storage is recorded unused from now.
	calls = append(append(calls, homeLeftCalls(t, "[]")...), callMarkUnused)
	fake := aztest.New(t, calls...)
	stdout, stderr, code := runVMCmd(t, fake, "delete", "vm", "-g", "rg", "--yes")
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "shared storage shared-dev: the files there stay")
	assert.Contains(t, stderr, "✓ Deleted VM vm and its disk, network interface and public IP")
	assert.NotContains(t, stderr, "Warning")
	assert.Len(t, fake.Calls(), 9)
	_, err := os.Stat(ci)
	assert.True(t, os.IsNotExist(err), "the VM's cloud-init copy goes with it")
}

func TestDeleteOfAVMWhoseStorageHasOthersLeavesItInUse(t *testing.T) {
	vmEnv(t)
	others := strings.Replace(stVMs(t), `"name":"vm"`, `"name":"vm2"`, 1)
	require.Contains(t, others, `"vm2"`)
	calls := append(append([]aztest.Call{callAccountShow, callShowManaged}, deleteCalls...), homeLeftCalls(t, others)...)
	fake := aztest.New(t, calls...)
	_, stderr, code := runVMCmd(t, fake, "delete", "vm", "-g", "rg", "--yes")
	require.Equal(t, 0, code, stderr)
	assert.Len(t, fake.Calls(), 8, "vm2 still uses shared-dev: no tag update")
}

func TestDeleteSaysWhenTheUnusedRecordFails(t *testing.T) {
	vmEnv(t)
	fail := callMarkUnused
	fail.Exit, fail.Stderr = 1, "ERROR: (AuthorizationFailed) The client does not have authorization to perform action 'Microsoft.Resources/tags/write'.\nCode: AuthorizationFailed\n"
	calls := append(append([]aztest.Call{callAccountShow, callShowManaged}, deleteCalls...), homeLeftCalls(t, "[]")...)
	fake := aztest.New(t, append(calls, fail)...)
	_, stderr, code := runVMCmd(t, fake, "delete", "vm", "-g", "rg", "--yes")
	require.Equal(t, 0, code, "the VM is deleted: %s", stderr)
	assert.Contains(t, stderr, "Warning: recording on storage shared-dev that no VM uses it since 2025-11-25T12:00:00Z")
	assert.Contains(t, stderr, "azlin storage cleanup counts it as unused since it was created")
}

func TestDeleteWithoutYesWhenNotInteractiveDeletesNothing(t *testing.T) {
	vmEnv(t)
	fake := aztest.New(t, callAccountShow, callShowManaged)
	_, stderr, code := runVMCmd(t, fake, "delete", "vm", "-g", "rg")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "pass --yes")
	assert.Len(t, fake.Calls(), 2, "only reads")
}

func TestDeleteRefusesVMsAzlinDidNotCreate(t *testing.T) {
	vmEnv(t)
	fake := aztest.New(t, callAccountShow, aztest.Call{Argv: []string{"vm", "show", "-g", "rg", "-n", "vm"}, StdoutFile: vmTestdata + "vm-show.json"})
	_, stderr, code := runVMCmd(t, fake, "delete", "vm", "-g", "rg", "--yes")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "was not created by azlin")
}

func TestDeleteDryRunPrintsTheAzCommands(t *testing.T) {
	vmEnv(t)
	fake := aztest.New(t, callAccountShow, callShowManaged)
	stdout, stderr, code := runVMCmd(t, fake, "delete", "vm", "-g", "rg", "--yes", "--dry-run")
	require.Equal(t, 0, code, stderr)
	for _, c := range deleteCalls {
		assert.Contains(t, stdout, "az "+strings.Join(c.Argv, " ")+" --output json --only-show-errors\n")
	}
	assert.Contains(t, stderr, "Dry run: nothing was deleted")
}

func TestNewDryRunPrintsTheCreateAndCreatesNothing(t *testing.T) {
	cfgDir := vmEnv(t)
	fake := aztest.New(t,
		callAccountShow,
		aztest.Call{Argv: []string{"vm", "show", "-g", "rg", "-n", "vm"}, Exit: 3, Stderr: stderrNotFound},
		aztest.Call{Argv: []string{"network", "vnet", "show", "-g", "rg", "-n", "azlin-vnet"}, StdoutFile: vmTestdata + "network-vnet-show.json"},
		callNSGShow,
	)
	stdout, stderr, code := runVMCmd(t, fake, "new", "--name", "vm", "-g", "rg", "--region", "eastus", "--dry-run")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "az vm create -g rg -n vm ")
	assert.Contains(t, stdout, " --custom-data "+filepath.Join(cfgDir, "cloud-init", "vm.yaml")+" ")
	assert.Contains(t, stderr, "Would create azlin's SSH key")
	assert.Contains(t, stderr, "Dry run: nothing was created")
	_, err := os.Stat(filepath.Join(cfgDir, "azlin_ed25519"))
	assert.True(t, os.IsNotExist(err), "no key is made in a dry run")
}

// interruptAt stands for Ctrl+C arriving while az runs a command starting
// with prefix: it cancels the command's context and fails that call as a
// killed az would.
type interruptAt struct {
	azcli.Runner
	prefix []string
	cancel context.CancelFunc
}

func (r interruptAt) Run(ctx context.Context, args []string) (azcli.Result, error) {
	if len(args) >= len(r.prefix) && slices.Equal(args[:len(r.prefix)], r.prefix) {
		r.cancel()
		return azcli.Result{}, ctx.Err()
	}
	return r.Runner.Run(ctx, args)
}

func TestNewInterruptedSaysWhatMayStillBeProvisioning(t *testing.T) {
	vmEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fake := aztest.New(t,
		callAccountShow,
		aztest.Call{Argv: []string{"vm", "show", "-g", "rg", "-n", "vm"}, Exit: 3, Stderr: stderrNotFound},
		aztest.Call{Argv: []string{"network", "vnet", "show", "-g", "rg", "-n", "azlin-vnet"}, StdoutFile: vmTestdata + "network-vnet-show.json"},
		callNSGShow,
	)
	_, stderr, code := runVMCmdCtx(t, ctx, interruptAt{Runner: fake, prefix: []string{"vm", "create"}, cancel: cancel},
		"new", "--name", "vm", "-g", "rg", "--region", "eastus")
	assert.Equal(t, 130, code)
	assert.Contains(t, stderr, "Interrupted.")
	assert.Contains(t, stderr, "Azure may still be creating it")
	assert.Contains(t, stderr, "See it: azlin list -g rg; delete it: azlin delete vm -g rg")
}
