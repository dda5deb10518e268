package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/testjson"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// Command-level tests of `azlin new --shared-home` and of the attach/detach
// commands' input checks, with az answered from recorded shapes
// (testdata/vm and testdata/storage; run-command's from
// testdata/sharedhome, see its README.md). The az sequences of attach and
// detach themselves are tested in internal/sharedhome.

// shStatusCall is the poll of a new VM's cloud-init attach result
// (vmscript.CloudInitStatusScript) answered with what the result file holds.
func shStatusCall(t *testing.T, result string) aztest.Call {
	t.Helper()
	b, err := os.ReadFile("testdata/sharedhome/vm-run-command-invoke.json")
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	testjson.Obj(t, m, "value", 0)["message"] = "Enable succeeded: \n[stdout]\n" + result + "\n[stderr]\n"
	return aztest.Call{Argv: []string{"vm", "run-command", "invoke", "-g", "rg", "-n", "vm", "--command-id", "RunShellScript",
		"--scripts", vmscript.CloudInitStatusScript()}, Stdout: stJSON(t, m)}
}

// shNewCalls are the calls of `new --shared-home shared-dev --name vm -g rg`
// up to the VM answering on SSH.
func shNewCalls(t *testing.T, cfgDir string) []aztest.Call {
	return []aztest.Call{
		callAccountShow,
		{Argv: []string{"group", "show", "-n", "rg"}, StdoutFile: vmTestdata + "group-show.json"},
		{Argv: []string{"vm", "show", "-g", "rg", "-n", "vm"}, Exit: 3, Stderr: stderrNotFound},
		{Argv: []string{"storage", "account", "list", "-g", "rg"}, Stdout: stJSON(t, []any{stAccount(t)})},
		{Argv: []string{"vm", "list", "-g", "rg"}, Stdout: stVMs(t)},
		{Argv: []string{"network", "vnet", "show", "-g", "rg", "-n", "azlin-vnet"}, StdoutFile: vmTestdata + "network-vnet-show.json"},
		callNSGShow,
		{Argv: createArgv(cfgDir), StdoutFile: vmTestdata + "vm-create.json"},
		{Argv: []string{"vm", "show", "-d", "-g", "rg", "-n", "vm"}, StdoutFile: vmTestdata + "vm-show-d.json"},
	}
}

// shTag records the shared home on the VM: a tags patch, not a VM write.
var shTag = aztest.Call{Argv: []string{"tag", "update", "--resource-id",
	"/subscriptions/9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
	"--operation", "Merge", "--tags", "azlin-storage=shared-dev"}}

func TestNewSharedHomeWaitsForTheMountAndTagsTheVM(t *testing.T) {
	cfgDir := vmEnv(t)
	probeOnly(t, "20.80.105.65")
	source := stAcct + ".file.core.windows.net:/" + stAcct + "/shared-dev"
	result := "##azlin-info## seeded_entries=5\n##azlin-info## already=0\n##azlin-info## source=" + source +
		"\n##azlin-info## backup=/home/azureuser.backup\n##azlin-info## seeded=yes\n##azlin-info## keys_added=0\n" +
		"##azlin-result## status=ok step=verify reason=\n"
	fake := aztest.New(t, append(shNewCalls(t, cfgDir), shStatusCall(t, result), shTag)...)
	stdout, stderr, code := runVMCmd(t, fake, "new", "--shared-home", "shared-dev", "--name", "vm", "-g", "rg")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "vm\trunning\tStandard_DS1_v2\t20.80.105.65\teastus\tshared-dev\n", stdout)
	assert.Contains(t, stderr, "cloud-init is mounting the shared home shared-dev")
	assert.Contains(t, stderr, "✓ VM vm is ready at 20.80.105.65")

	calls := fake.Calls()
	require.Len(t, calls, 11)
	assert.Equal(t, "vm run-command invoke", strings.Join(calls[9][:3], " "))
	assert.Equal(t, shTag.Argv, calls[10], "the tag comes after the mount's result")

	// The VM was given the attach script for this storage, run from runcmd.
	doc, err := os.ReadFile(filepath.Join(cfgDir, "cloud-init", "vm.yaml"))
	require.NoError(t, err)
	assert.Contains(t, cloudInitAttachScript(t, doc), "NFS_SOURCE="+source)
	assert.Contains(t, string(doc), vmscript.CloudInitRunnerFile)
	assert.Contains(t, string(doc), "nfs-common")
}

func TestNewSharedHomeMountFailureKeepsTheVMAndSaysHowToFinish(t *testing.T) {
	cfgDir := vmEnv(t)
	probeOnly(t, "20.80.105.65")
	result := "##azlin-result## status=fail step=mount-staging reason=mounting " + stAcct +
		".file.core.windows.net:/" + stAcct + "/shared-dev at /run/azlin/staging failed: mount.nfs: access denied by server -- rolled back: nothing had changed\n"
	// No tag and no delete: the fake fails the test on any call not listed.
	fake := aztest.New(t, append(shNewCalls(t, cfgDir), shStatusCall(t, result))...)
	stdout, stderr, code := runVMCmd(t, fake, "new", "--shared-home", "shared-dev", "--name", "vm", "-g", "rg")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, `mounting the shared home on VM vm failed: step "mount-staging" failed: mounting `)
	assert.Contains(t, stderr, "access denied by server")
	assert.Contains(t, stderr, "The VM works with its local home; to move it onto the share: azlin storage attach shared-dev --vm vm -g rg")
}

func TestNewSharedHomeWithMissingStorageCreatesNoVM(t *testing.T) {
	cfgDir := vmEnv(t)
	fake := aztest.New(t,
		callAccountShow,
		aztest.Call{Argv: []string{"group", "show", "-n", "rg"}, StdoutFile: vmTestdata + "group-show.json"},
		aztest.Call{Argv: []string{"vm", "show", "-g", "rg", "-n", "vm"}, Exit: 3, Stderr: stderrNotFound},
		aztest.Call{Argv: []string{"storage", "account", "list", "-g", "rg"}, Stdout: "[]"},
		aztest.Call{Argv: []string{"vm", "list", "-g", "rg"}, Stdout: stVMs(t)},
	)
	stdout, stderr, code := runVMCmd(t, fake, "new", "--shared-home", "shared-dev", "--name", "vm", "-g", "rg")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "no storage named shared-dev in resource group rg (it has none). Create it with: azlin storage create shared-dev -g rg")
	assert.Contains(t, stderr, "No VM was created")
	_, err := os.Stat(filepath.Join(cfgDir, "azlin_ed25519"))
	assert.True(t, os.IsNotExist(err), "no SSH key made for a VM that is not created")
}

func TestAttachAndDetachBadInputIsExit2WithoutAz(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"storage", "attach", "shared-dev", "-g", "rg"}, "name at least one VM with --vm"},
		{[]string{"storage", "attach", "Shared_Dev", "--vm", "a", "-g", "rg"}, "invalid storage name"},
		{[]string{"storage", "attach", "shared-dev", "--vm", "bad name", "-g", "rg"}, "VM name"},
		{[]string{"storage", "attach", "--vm", "a", "-g", "rg"}, "accepts 1 arg"},
		{[]string{"storage", "detach", "-g", "rg"}, "name the VM with --vm"},
		{[]string{"storage", "detach", "--vm", "-x", "-g", "rg"}, "VM name"},
	} {
		fake := aztest.New(t) // any az call fails the test
		_, stderr, code := runStorageCmd(t, fake, c.args...)
		assert.Equal(t, 2, code, "%v: %s", c.args, stderr)
		assert.Contains(t, stderr, c.says, "%v", c.args)
		assert.Empty(t, fake.Calls(), "%v made az calls", c.args)
	}
}
