//go:build localcloud

package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/vmprov"
	"github.com/azlin-dev/azlin/localcloud/testenv"
)

// End-to-end: the built azlin against the local cloud, whose VMs are real
// hosts (root, Linux). testenv tears every host down when the test ends.

func newVMCloud(t *testing.T) *testenv.Cloud {
	t.Helper()
	c := testenv.New(t, testenv.WithHosts())
	r := c.Az("group", "create", "-n", "rg", "-l", "eastus")
	require.Equal(t, 0, r.Exit, "az group create: %s", r.Stderr)
	return c
}

func azlinOK(t *testing.T, c *testenv.Cloud, args ...string) testenv.Result {
	t.Helper()
	r := c.Azlin(args...)
	require.Equal(t, 0, r.Exit, "azlin %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Stdout, r.Stderr)
	return r
}

func TestE2EVMLifecycle(t *testing.T) {
	c := newVMCloud(t)

	r := azlinOK(t, c, "new", "--name", "a", "-g", "rg", "--region", "eastus")
	row := regexp.MustCompile(`^a\trunning\tStandard_D2s_v5\t(127\.\d+\.\d+\.\d+)\teastus\t-\n$`).FindStringSubmatch(r.Stdout)
	require.NotNil(t, row, "new prints the VM as a row: %q", r.Stdout)
	ip := row[1]
	assert.Contains(t, r.Stderr, "VM a is ready at "+ip)

	r = azlinOK(t, c, "ssh", "a", "-g", "rg", "--", "hostname")
	assert.Equal(t, "a\n", r.Stdout)

	r = c.Azlin("ssh", "a", "-g", "rg", "--", "false")
	assert.Equal(t, 1, r.Exit, "the remote status is azlin's: %s", r.Stderr)

	// cloud-init ran: the marker files of the plain cloud-config are there
	// once its final stage is done (`new` returns when SSH works, as on Azure).
	r = azlinOK(t, c, "ssh", "a", "-g", "rg", "--", "cloud-init", "status", "--wait", ">/dev/null;", "cat", vmprov.ManagedMarker, "&&", "test", "-f", vmprov.DoneMarker, "&&", "id", "-u")
	assert.Equal(t, "managed-by=azlin\nvm=a\n1000\n", r.Stdout)

	r = azlinOK(t, c, "list", "-g", "rg")
	assert.Equal(t, "a\trunning\tStandard_D2s_v5\t"+ip+"\teastus\t-\n", r.Stdout)

	// A taken name fails before anything is created: the only az calls are
	// the login check and one read.
	c.ResetLog()
	r = c.Azlin("new", "--name", "a", "-g", "rg", "--region", "eastus")
	assert.Equal(t, 1, r.Exit)
	assert.Contains(t, r.Stderr, "a VM named a already exists in resource group rg")
	var argvs []string
	for _, call := range c.Calls() {
		argvs = append(argvs, strings.Join(call.Argv, " "))
	}
	assertLoginCheckAndRead(t, argvs, "vm show -g rg -n a")

	// Remote scripts through run-command: the result marker decides.
	m := vmManagerFor(t, c)
	ctx := context.Background()
	res, _, _, err := m.RunScript(ctx, "rg", "a", vmprov.Script("azlin_step whoami\nazlin_info user \"$(id -un)\"\nazlin_info host \"$(hostname)\"\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"user": "root", "host": "a"}, res.Info)
	_, _, _, err = m.RunScript(ctx, "rg", "a", vmprov.Script("azlin_step check-home\nmountpoint -q /home/azureuser || azlin_fail 'home is not a mount'\n"))
	var se *vmprov.ScriptError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "check-home", se.Step)
	assert.Equal(t, "home is not a mount", se.Reason)
	_, _, _, err = m.RunScript(ctx, "rg", "a", vmprov.Script("azlin_step copy\necho 'cp: cannot stat x' >&2\ncp /nonexistent /tmp/\n"))
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "copy", se.Step)
	assert.Contains(t, err.Error(), "cannot stat")

	// delete removes the VM and what az vm delete leaves behind: all of it
	// is there before, none of it after.
	var vm struct {
		StorageProfile struct {
			OsDisk struct {
				Name string `json:"name"`
			} `json:"osDisk"`
		} `json:"storageProfile"`
	}
	c.AzJSON(&vm, "vm", "show", "-g", "rg", "-n", "a")
	require.NotEmpty(t, vm.StorageProfile.OsDisk.Name)
	parts := [][]string{
		{"vm", "show", "-g", "rg", "-n", "a"},
		{"network", "nic", "show", "-g", "rg", "-n", "aVMNic"},
		{"disk", "show", "-g", "rg", "-n", vm.StorageProfile.OsDisk.Name},
		{"network", "public-ip", "show", "-g", "rg", "-n", "aPublicIP"},
	}
	for _, show := range parts {
		r := c.Az(show...)
		require.Equal(t, 0, r.Exit, "az %s before delete: %s", strings.Join(show, " "), r.Stderr)
	}
	azlinOK(t, c, "delete", "a", "-g", "rg", "--yes")
	for _, show := range parts {
		r := c.Az(show...)
		assert.Equal(t, 3, r.Exit, "az %s after delete: %s%s", strings.Join(show, " "), r.Stdout, r.Stderr)
	}
	r = azlinOK(t, c, "list", "-g", "rg")
	assert.Empty(t, r.Stdout)

	// Deleting again is harmless.
	r = azlinOK(t, c, "delete", "a", "-g", "rg", "--yes")
	assert.Contains(t, r.Stderr, "There is no VM a in resource group rg")
}

// vmManagerFor returns a vmprov.Manager whose az is the test's emulator.
func vmManagerFor(t *testing.T, c *testenv.Cloud) *vmprov.Manager {
	t.Helper()
	for _, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return vmprov.NewManager(azcli.New(azcli.NewExecRunner(), azcli.Options{}))
}
