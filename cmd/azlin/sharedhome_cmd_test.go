package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/namecache"
	"github.com/azlin-dev/azlin/internal/testjson"
	"github.com/azlin-dev/azlin/internal/vmprov"
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
		{Argv: []string{"storage", "share-rm", "show", "-g", "rg", "--storage-account", stAcct, "-n", "shared-dev", "--expand", "stats"},
			Stdout: stShareStats(t, 45<<30)},
		{Argv: []string{"network", "vnet", "show", "-g", "rg", "-n", "azlin-vnet"}, StdoutFile: vmTestdata + "network-vnet-show.json"},
		callNSGShow,
		{Argv: createArgv(cfgDir), StdoutFile: vmTestdata + "vm-create.json"},
		{Argv: []string{"vm", "show", "-d", "-g", "rg", "-n", "vm"}, StdoutFile: vmTestdata + "vm-show-d.json"},
	}
}

// sshAnswers replaces the SSH session new waits in: it records the target
// and answers with stdout and err.
func sshAnswers(t *testing.T, stdout string, err error) *[]vmprov.SSHTarget {
	var got []vmprov.SSHTarget
	old := sshSession
	sshSession = func(ctx context.Context, tg vmprov.SSHTarget) (string, error) {
		got = append(got, tg)
		return stdout, err
	}
	t.Cleanup(func() { sshSession = old })
	return &got
}

// shTag records the shared home on the VM: a tags patch, not a VM write.
var shTag = aztest.Call{Argv: []string{"tag", "update", "--resource-id",
	"/subscriptions/9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
	"--operation", "Merge", "--tags", "azlin-storage=shared-dev"}}

func TestNewSharedHomeWarnsOfANearlyFullShareBeforeTheVM(t *testing.T) {
	cfgDir := vmEnv(t)
	calls := shNewCalls(t, cfgDir)
	for i := range calls {
		if calls[i].Argv[1] == "share-rm" {
			calls[i].Stdout = stShareStats(t, 950<<30) // of 1 TiB: 93%
		}
	}
	calls = calls[:len(calls)-2] // stop at the create: the warning came first
	calls = append(calls, aztest.Call{Argv: createArgv(cfgDir), Exit: 1, Stderr: "ERROR: (BadRequest) stop here\n"})
	_, stderr, _ := runVMCmd(t, aztest.New(t, calls...), "new", "--shared-home", "shared-dev", "--name", "vm", "-g", "rg")
	assert.Contains(t, stderr, "storage shared-dev is 93% full (950GiB of 1TiB): make room first: azlin storage resize shared-dev --size SIZE")
	assert.Less(t, strings.Index(stderr, "93% full"), strings.Index(stderr, "stop here"))
}

func TestNewSharedHomeWaitsForTheMountAndTagsTheVM(t *testing.T) {
	cfgDir := vmEnv(t)
	probeOnly(t, "20.80.105.65")
	source := stAcct + ".file.core.windows.net:/" + stAcct + "/shared-dev"
	result := "##azlin-info## seeded_entries=5\n##azlin-info## already=0\n##azlin-info## source=" + source +
		"\n##azlin-info## backup=/home/azureuser.backup\n##azlin-info## seeded=yes\n##azlin-info## keys_added=0\n" +
		"##azlin-result## status=ok step=verify reason=\n"
	sessions := sshAnswers(t, "##azlin-cloud-init## waited 0\n"+result, nil)
	fake := aztest.New(t, append(shNewCalls(t, cfgDir), shTag)...) // no run-command: SSH waited
	stdout, stderr, code := runVMCmd(t, fake, "new", "--shared-home", "shared-dev", "--name", "vm", "-g", "rg")
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, stderr, "full", "45 GiB of 1 TiB")
	assert.Equal(t, "vm\trunning\tStandard_DS1_v2\t20.80.105.65\teastus\tshared-dev\n", stdout)
	assert.Contains(t, stderr, "cloud-init is mounting the shared home shared-dev")
	assert.Contains(t, stderr, "✓ VM vm is ready at 20.80.105.65")
	assert.NotContains(t, stderr, "run-command")

	calls := fake.Calls()
	require.Len(t, calls, 11, "the share's usage is read beside the VM name check")
	assert.Equal(t, shTag.Argv, calls[10], "the tag comes after the mount's result")
	// One session, with azlin's key and known_hosts (the key learnt under
	// the VM's alias), that waits as long as --timeout.
	require.Len(t, *sessions, 1)
	assert.Equal(t, vmprov.SSHTarget{KeyPath: filepath.Join(cfgDir, "azlin_ed25519"), KnownHosts: filepath.Join(cfgDir, "known_hosts"),
		HostKeyAlias: namecache.HostKeyAlias(namecache.Scope{Group: "rg"}, "vm"), Host: "20.80.105.65", Command: []string{vmscript.CloudInitWaitScript(10 * time.Minute)}, Batch: true}, (*sessions)[0])

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
	sshAnswers(t, "##azlin-cloud-init## waited 1\n"+result, nil)
	fake := aztest.New(t, shNewCalls(t, cfgDir)...)
	stdout, stderr, code := runVMCmd(t, fake, "new", "--shared-home", "shared-dev", "--name", "vm", "-g", "rg")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, `mounting the shared home on VM vm failed: step "mount-staging" failed: mounting `)
	assert.Contains(t, stderr, "access denied by server")
	assert.Contains(t, stderr, "The VM works with its local home; to move it onto the share: azlin storage attach shared-dev --vm vm -g rg")
}

// SSH does not get through (an NSG closes port 22 to this machine): new
// says so and asks through run-command instead, at Azure's pace.
func TestNewSharedHomeFallsBackToRunCommandWhenSSHFails(t *testing.T) {
	cfgDir := vmEnv(t)
	probeOnly(t, "20.80.105.65")
	sshAnswers(t, "", errors.New("ssh to 20.80.105.65 exited with status 255: Connection timed out"))
	result := "##azlin-info## seeded=yes\n##azlin-result## status=ok step=verify reason=\n"
	fake := aztest.New(t, append(shNewCalls(t, cfgDir), shStatusCall(t, result), shTag)...)
	_, stderr, code := runVMCmd(t, fake, "new", "--shared-home", "shared-dev", "--name", "vm", "-g", "rg")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "could not wait for the shared home over SSH (ssh to 20.80.105.65 exited with status 255: Connection timed out); "+
		"asking VM vm through Azure's run-command every 20s instead")
	assert.Len(t, fake.Calls(), 12, "the NSG read and rule, the create, and one run-command for the result")
}

// sshd refuses the key for a moment while the attach swaps the home: new
// logs in again instead of falling back to run-command.
func TestNewSharedHomeLogsInAgainWhileTheHomeIsSwapped(t *testing.T) {
	cfgDir := vmEnv(t)
	probeOnly(t, "20.80.105.65")
	refused := &vmprov.SSHError{Host: "20.80.105.65", Exit: 255, Stderr: "azureuser@20.80.105.65: Permission denied (publickey)."}
	answers := []error{refused, nil}
	old := sshSession
	sshSession = func(ctx context.Context, tg vmprov.SSHTarget) (string, error) {
		err := answers[0]
		answers = answers[1:]
		return "##azlin-cloud-init## waited 0\n##azlin-result## status=ok step=verify reason=\n", err
	}
	t.Cleanup(func() { sshSession = old })
	fake := aztest.New(t, append(shNewCalls(t, cfgDir), shTag)...) // no run-command
	_, stderr, code := runVMCmd(t, fake, "new", "--shared-home", "shared-dev", "--name", "vm", "-g", "rg")
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, answers, "logged in twice")
	assert.NotContains(t, stderr, "over SSH")
}

// A cloud-init that ends (status error) without running the attach, or a
// wait that runs out of time, is said, with the command that finishes.
func TestNewSharedHomeSaysWhatCloudInitDidWithoutAResult(t *testing.T) {
	for _, tc := range []struct{ out, says string }{
		{"##azlin-cloud-init## waited 1\n##azlin-cloud-init## pending\n", "cloud-init finished on VM vm (status error) without running the shared home's attach"},
		{"##azlin-cloud-init## waited 124\n##azlin-cloud-init## pending\n", "the shared home was not mounted on VM vm within 10m0s"},
	} {
		cfgDir := vmEnv(t)
		probeOnly(t, "20.80.105.65")
		sshAnswers(t, tc.out, nil)
		_, stderr, code := runVMCmd(t, aztest.New(t, shNewCalls(t, cfgDir)...), "new", "--shared-home", "shared-dev", "--name", "vm", "-g", "rg")
		assert.Equal(t, 1, code)
		assert.Contains(t, stderr, tc.says)
		assert.Contains(t, stderr, "azlin storage attach shared-dev --vm vm -g rg")
	}
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
