//go:build localcloud

package azemu_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/testjson"
)

// Tests that create VMs. Each VM gets a loopback address for its sshd, and
// finding a free one binds port 22 on it, which takes root.

func TestShapesMatchRealAz(t *testing.T) {
	c := newCloud(t)
	c.base()
	c.ok("storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", "share",
		"--quota", "1024", "--enabled-protocols", "NFS", "-o", "none")
	c.ok("storage", "account", "network-rule", "add", "-g", "rg", "--account-name", "acct",
		"--vnet-name", "v", "--subnet", "s", "-o", "none")
	c.ok("network", "private-endpoint", "create", "-g", "rg", "-n", "pe", "--vnet-name", "v", "--subnet", "s",
		"--private-connection-resource-id", "/subscriptions/9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct",
		"--group-id", "file", "--connection-name", "pe-conn", "-o", "none")
	c.ok("vm", "create", "-g", "rg", "-n", "vm", "--image", "Ubuntu2204", "--vnet-name", "v", "--subnet", "s",
		"--ssh-key-values", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKE azureuser@azlin", "-o", "none")

	c.ok("vm", "create", "-g", "rg", "-n", "vm2", "--image", "Ubuntu2204", "--vnet-name", "v", "--subnet", "s",
		"--ssh-key-values", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKE azureuser@azlin", "--public-ip-address", "", "-o", "none")
	c.ok("vm", "deallocate", "-g", "rg", "-n", "vm2", "-o", "none")
	c.ok("storage", "account", "create", "-g", "rg", "-n", "blobacct", "--sku", "Standard_LRS", "--kind", "StorageV2",
		"-o", "none")
	c.ok("storage", "container-rm", "create", "-g", "rg", "--storage-account", "blobacct", "-n", "data", "-o", "none")
	vmIDs := "/subscriptions/9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/"
	acctID := "/subscriptions/9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct"

	// Each capture of az 2.74 (az-shapes/2.74/, docs/az-shapes.md), and of
	// az 2.45 where one was made, against the emulator's answer to the same
	// command line: every key real az printed is there, with its JSON type.
	checks := []struct {
		name    string
		with245 bool // also captured with az 2.45 (az-shapes/NAME.json)
		args    []string
	}{
		{"account-show", true, []string{"account", "show"}},
		{"group-show", true, []string{"group", "show", "-n", "rg"}},
		{"storage-account-show", true, []string{"storage", "account", "show", "-g", "rg", "-n", "acct"}},
		{"storage-account-list", true, []string{"storage", "account", "list", "-g", "rg"}},
		{"storage-share-rm-show", true, []string{"storage", "share-rm", "show", "-g", "rg", "--storage-account", "acct", "-n", "share"}},
		{"storage-share-rm-show-expand-stats", false, []string{"storage", "share-rm", "show", "-g", "rg", "--storage-account", "acct", "-n", "share", "--expand", "stats"}},
		{"storage-container-rm-show", false, []string{"storage", "container-rm", "show", "-g", "rg", "--storage-account", "blobacct", "-n", "data"}},
		{"storage-share-rm-list", true, []string{"storage", "share-rm", "list", "-g", "rg", "--storage-account", "acct"}},
		{"storage-share-rm-stats", true, []string{"storage", "share-rm", "stats", "-g", "rg", "--storage-account", "acct", "-n", "share"}},
		{"storage-account-check-name", true, []string{"storage", "account", "check-name", "-n", "acct"}},
		{"storage-account-check-name-available", true, []string{"storage", "account", "check-name", "-n", "freename"}},
		{"monitor-metrics-list", false, []string{"monitor", "metrics", "list", "--resource", acctID, "--metrics", "UsedCapacity",
			"--aggregation", "Average", "--interval", "1h", "--offset", "1d"}},
		{"network-vnet-show", false, []string{"network", "vnet", "show", "-g", "rg", "-n", "v"}},
		{"network-vnet-subnet-show", true, []string{"network", "vnet", "subnet", "show", "-g", "rg", "--vnet-name", "v", "-n", "s"}},
		{"network-private-endpoint-show", true, []string{"network", "private-endpoint", "show", "-g", "rg", "-n", "pe"}},
		{"network-nic-show", false, []string{"network", "nic", "show", "-g", "rg", "-n", "vmVMNic"}},
		{"network-public-ip-show", false, []string{"network", "public-ip", "show", "-g", "rg", "-n", "vmPublicIP"}},
		{"vm-show", true, []string{"vm", "show", "-g", "rg", "-n", "vm"}},
		{"vm-show-d", true, []string{"vm", "show", "-d", "-g", "rg", "-n", "vm"}},
		{"vm-list", true, []string{"vm", "list", "-g", "rg"}},
		{"vm-list-d", true, []string{"vm", "list", "-d", "-g", "rg"}},
		{"vm-get-instance-view", false, []string{"vm", "get-instance-view", "-g", "rg", "-n", "vm"}},
		{"vm-get-instance-view-ids", false, []string{"vm", "get-instance-view", "--ids", vmIDs + "vm", vmIDs + "vm2"}},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			got := c.json(ch.args...)
			if ch.name == "vm-get-instance-view-ids" {
				// az answers --ids concurrently and prints the answers in the
				// order they came (azure/cli/core/commands: as_completed):
				// each VM is compared with the emulator's VM of its name.
				byName := map[string]any{}
				for i, vm := range testjson.List(t, got) {
					byName[testjson.Str(t, vm, "name")] = testjson.Obj(t, got, i)
				}
				for i, vm := range testjson.List(t, shape(t, "2.74/"+ch.name+".json")) {
					name := testjson.Str(t, vm, "name")
					require.Contains(t, byName, name)
					sameShape(t, vm, byName[name], fmt.Sprintf("2.74/%s[%d]", ch.name, i))
				}
				return
			}
			sameShape(t, shape(t, "2.74/"+ch.name+".json"), got, "2.74/"+ch.name)
			if ch.with245 {
				sameShape(t, shape(t, ch.name+".json"), got, ch.name)
			}
		})
	}
	// Storage and VM commands print every field, null when absent; network
	// commands leave absent keys out.
	acct := c.obj("storage", "account", "show", "-g", "rg", "-n", "acct")
	assert.Contains(t, acct, "customDomain")
	assert.Nil(t, acct["customDomain"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$`, acct["creationTime"])
	vm := c.obj("vm", "show", "-d", "-g", "rg", "-n", "vm")
	assert.Equal(t, "VM running", vm["powerState"])
	assert.Regexp(t, `^127\.\d+\.\d+\.\d+$`, vm["publicIps"])
	assert.Equal(t, "10.0.0.5", vm["privateIps"], "the private endpoint took 10.0.0.4")
	assert.NotContains(t, vm, "instanceView")
	sub := c.obj("network", "vnet", "subnet", "show", "-g", "rg", "--vnet-name", "v", "-n", "s")
	assert.NotContains(t, sub, "natGateway")
}

func TestRunCommandFaultReturnsMessageWithoutHosts(t *testing.T) {
	c := newCloud(t)
	c.base()
	c.ok("vm", "create", "-g", "rg", "-n", "vm1", "--image", "Ubuntu2204", "--ssh-key-values", "ssh-rsa AAAAB3Nza k", "-o", "none")
	r := c.run("vm", "run-command", "invoke", "-g", "rg", "-n", "vm1", "--command-id", "RunShellScript", "--scripts", "echo hi")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "hosts are off")

	faults := filepath.Join(t.TempDir(), "faults.json")
	require.NoError(t, os.WriteFile(faults, []byte(`[
		{"args": ["run-command", "vm1"], "script": "mount", "message": "Enable succeeded: \n[stdout]\nAZLIN_RESULT fail\n\n[stderr]\nboom\n", "times": 1}
	]`), 0o644))
	c.env["AZEMU_FAULTS"] = faults
	out := c.obj("vm", "run-command", "invoke", "-g", "rg", "-n", "vm1", "--command-id", "RunShellScript", "--scripts", "mount -a")
	msg := testjson.Obj(t, out, "value", 0)["message"]
	assert.Equal(t, "Enable succeeded: \n[stdout]\nAZLIN_RESULT fail\n\n[stderr]\nboom\n", msg)
	sameShape(t, shape(t, "vm-run-command-invoke.json"), out, "run-command")
	sameShape(t, shape(t, "2.74/vm-run-command-invoke.json"), out, "2.74 run-command")
	r = c.run("vm", "run-command", "invoke", "-g", "rg", "-n", "vm1", "--command-id", "RunShellScript", "--scripts", "mount -a")
	assert.Contains(t, r.stderr, "hosts are off", "the rule was used up")
}

func TestVMGetInstanceViewTellsPowerAndLastChange(t *testing.T) {
	c := newCloud(t)
	c.base()
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZha2Uga2V5IGZvciB0ZXN0cw test"
	for _, n := range []string{"a", "b"} {
		c.ok("vm", "create", "-g", "rg", "-n", n, "--image", "Ubuntu2204", "--ssh-key-values", key, "-o", "none")
	}
	c.ok("vm", "deallocate", "-g", "rg", "-n", "b", "-o", "none")
	one := c.obj("vm", "get-instance-view", "-g", "rg", "-n", "a")
	statuses := testjson.List(t, one, "instanceView", "statuses")
	assert.Equal(t, "PowerState/running", testjson.Obj(t, statuses, 1)["code"])
	assert.NotEmpty(t, testjson.Obj(t, statuses, 0)["time"])

	idA := testjson.Str(t, one, "id")
	idB := testjson.Str(t, c.obj("vm", "show", "-g", "rg", "-n", "b"), "id")
	both := testjson.List(t, c.json("vm", "get-instance-view", "--ids", idA, idB))
	require.Len(t, both, 2)
	b := testjson.List(t, both, 1, "instanceView", "statuses")
	assert.Equal(t, "PowerState/deallocated", testjson.Obj(t, b, 1)["code"])
}

func TestVMRecordsAndDelete(t *testing.T) {
	c := newCloud(t)
	c.base()
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKE me"
	out := c.obj("vm", "create", "-g", "rg", "-n", "vm1", "--image", "Ubuntu2204", "--vnet-name", "v", "--subnet", "s",
		"--ssh-key-values", key, "--admin-username", "azureuser", "--tags", "azlin=1", "--custom-data", "#cloud-config\n")
	assert.Equal(t, "VM running", out["powerState"])
	assert.Equal(t, "10.0.0.4", out["privateIpAddress"])
	ip1 := testjson.Str(t, out, "publicIpAddress")
	assert.Regexp(t, `^127\.\d+\.\d+\.\d+$`, ip1)

	r := c.run("vm", "create", "-g", "rg", "-n", "vm1", "--image", "Ubuntu2204", "--ssh-key-values", key)
	assert.Equal(t, 1, r.code, "VM names are unique in a group")
	r = c.run("vm", "create", "-g", "rg", "-n", "vm2", "--image", "Ubuntu2204", "--vnet-name", "v", "--subnet", "nosuch", "--ssh-key-values", key)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "Subnet 'nosuch' does not exist")
	vm2 := c.obj("vm", "create", "-g", "rg", "-n", "vm2", "--image", "Ubuntu2204", "--ssh-key-values", key, "--public-ip-address", "")
	assert.Equal(t, "", vm2["publicIpAddress"], "no public IP when asked for none")
	assert.Equal(t, "10.0.0.5", vm2["privateIpAddress"], "the existing VNet of the group is used")

	vm := c.obj("vm", "update", "-g", "rg", "-n", "vm1", "--set", "tags.home=acct")
	assert.Equal(t, map[string]any{"azlin": "1", "home": "acct"}, vm["tags"])
	vm = c.obj("vm", "update", "-g", "rg", "-n", "vm1", "--remove", "tags.azlin")
	assert.Equal(t, map[string]any{"home": "acct"}, vm["tags"])

	c.ok("vm", "deallocate", "-g", "rg", "-n", "vm1")
	assert.Equal(t, "VM deallocated", c.obj("vm", "show", "-d", "-g", "rg", "-n", "vm1")["powerState"])
	c.ok("vm", "start", "-g", "rg", "-n", "vm1")
	assert.Equal(t, "VM running", c.obj("vm", "show", "-d", "-g", "rg", "-n", "vm1")["powerState"])
	ips := testjson.List(t, c.json("vm", "list-ip-addresses", "-g", "rg", "-n", "vm1"))
	require.Len(t, ips, 1)

	r = c.run("vm", "delete", "-g", "rg", "-n", "vm1")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "ERROR: Unable to prompt for confirmation as no tty available. Use --yes.\n", r.stderr)
	c.ok("vm", "delete", "-g", "rg", "-n", "vm1", "--yes")
	r = c.run("vm", "show", "-g", "rg", "-n", "vm1")
	assert.Equal(t, 3, r.code)
	assert.Contains(t, r.stderr, "(ResourceNotFound) The Resource 'Microsoft.Compute/virtualMachines/vm1' under resource group 'rg' was not found.")
	// NIC, public IP and disk stay, as with real az, and can then be deleted.
	nic := c.obj("network", "nic", "show", "-g", "rg", "-n", "vm1VMNic")
	assert.NotContains(t, nic, "virtualMachine")
	assert.Equal(t, ip1, c.obj("network", "public-ip", "show", "-g", "rg", "-n", "vm1PublicIP")["ipAddress"])
	disk := testjson.Str(t, vm, "storageProfile", "osDisk", "name")
	assert.Nil(t, c.obj("disk", "show", "-g", "rg", "-n", disk)["managedBy"])
	r = c.run("network", "public-ip", "delete", "-g", "rg", "-n", "vm1PublicIP")
	assert.Equal(t, 1, r.code, "still attached to the NIC")
	c.ok("network", "nic", "delete", "-g", "rg", "-n", "vm1VMNic")
	c.ok("network", "public-ip", "delete", "-g", "rg", "-n", "vm1PublicIP")
	c.ok("disk", "delete", "-g", "rg", "-n", disk, "--yes")
	assert.Equal(t, 3, c.run("disk", "show", "-g", "rg", "-n", disk).code)
	// The freed private address is reused; the loopback address is not.
	vm3 := c.obj("vm", "create", "-g", "rg", "-n", "vm3", "--image", "Ubuntu2204", "--ssh-key-values", key)
	assert.Equal(t, "10.0.0.4", vm3["privateIpAddress"])
	assert.NotEqual(t, ip1, vm3["publicIpAddress"])
}
