package sharedhome

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/cost"
	"github.com/azlin-dev/azlin/internal/network"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/tags"
	"github.com/azlin-dev/azlin/internal/testjson"
	"github.com/azlin-dev/azlin/internal/vmprov"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// Names as in the az-shapes captures (see testdata/README.md): resource group
// rg, storage account acct, VM vm with NIC vmVMNic in VNet v, subnet s.
const (
	sub       = "9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203"
	rg        = "rg"
	acct      = "acct"
	stName    = "shared-dev"
	ts        = "20260102T030405Z"
	subnetID  = "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
	azlinKey  = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx0dGVzdGtleWZvcmF6bGluc2hhcmVkaG9tZXRlc3Q azlin"
	nfsSource = "acct.file.core.windows.net:/acct/shared-dev"
)

// shape reads a copy of an az-shapes body from testdata/az as generic JSON.
func shape(t *testing.T, file string) any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "az", file))
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(data, &v))
	return v
}

func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	return string(b)
}

func call(stdout string, argv ...string) aztest.Call { return aztest.Call{Argv: argv, Stdout: stdout} }

// mutation: azlin does not read what an update prints.
func mutation(argv ...string) aztest.Call { return aztest.Call{Argv: argv} }

// account is storage-account-list.json's account as azlin's storage
// shared-dev: private-endpoint mode (the endpoint acct-pe, no VNet rules) or
// service-endpoint mode with the given VNet rules.
func account(t *testing.T, mode storage.NetworkMode, vnetRules ...string) map[string]any {
	t.Helper()
	a := testjson.Obj(t, shape(t, "storage-account-list.json"), 0)
	a["tags"] = map[string]any{tags.Managed: "true", tags.Storage: stName, tags.Tier: "Premium",
		tags.SizeGiB: "100", tags.Network: string(mode), tags.Created: "2026-01-02T03:04:05Z"}
	rules := []any{}
	for _, id := range vnetRules {
		rules = append(rules, map[string]any{"action": "Allow", "state": "Succeeded", "virtualNetworkResourceId": id})
	}
	testjson.Obj(t, a, "networkRuleSet")["virtualNetworkRules"] = rules
	a["privateEndpointConnections"] = []any{}
	if mode == storage.PrivateEndpoint {
		a["publicNetworkAccess"] = "Disabled"
		a["privateEndpointConnections"] = []any{map[string]any{
			"id":                                testjson.Str(t, a, "id") + "/privateEndpointConnections/acct-pe.1234",
			"name":                              "acct-pe.1234",
			"privateEndpoint":                   map[string]any{"id": "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/acct-pe", "resourceGroup": "rg"},
			"privateLinkServiceConnectionState": map[string]any{"actionRequired": "None", "description": "Auto-Approved", "status": "Approved"},
			"provisioningState":                 "Succeeded",
			"resourceGroup":                     "rg",
			"type":                              "Microsoft.Storage/storageAccounts/privateEndpointConnections",
		}}
	}
	return a
}

// vmTags are the tags of the VMs in `az vm list`, by name.
type vmTags map[string]map[string]any

// groupReads are the two calls storage.Find makes: the accounts and the VMs.
func groupReads(t *testing.T, accounts []any, tags vmTags) []aztest.Call {
	t.Helper()
	vms := testjson.List(t, shape(t, "vm-list.json"))
	for i := range vms {
		m := testjson.Obj(t, vms, i)
		if tg, ok := tags[testjson.Str(t, m, "name")]; ok {
			m["tags"] = tg
		}
	}
	if accounts == nil {
		accounts = []any{}
	}
	return []aztest.Call{
		call(js(t, accounts), "storage", "account", "list", "-g", rg),
		call(js(t, vms), "vm", "list", "-g", rg),
	}
}

// attachReads are the calls storage.FindWithUsage makes: groupReads, then
// the share's size and usage (share-rm-show.json with --expand stats' bytes).
func attachReads(t *testing.T, accounts []any, tags vmTags, quota int, used int64) []aztest.Call {
	t.Helper()
	sh := testjson.Obj(t, shape(t, "storage-share-rm-show.json"))
	sh["name"], sh["shareQuota"], sh["shareUsageBytes"] = stName, quota, used
	return append(groupReads(t, accounts, tags),
		call(js(t, sh), "storage", "share-rm", "show", "-g", rg, "--storage-account", acct, "-n", stName, "--expand", "stats"))
}

// vmShow is `az vm show -d` of vm (vm-show-d.json) in the given power state
// with the given tags.
func vmShow(t *testing.T, power string, tags map[string]any) aztest.Call {
	t.Helper()
	m := testjson.Obj(t, shape(t, "vm-show-d.json"))
	m["powerState"] = power
	if tags == nil {
		tags = map[string]any{}
	}
	m["tags"] = tags
	return call(js(t, m), "vm", "show", "-d", "-g", rg, "-n", "vm")
}

// nicShow is `az network nic show` of vm's NIC, in the subnet with the given ID.
func nicShow(t *testing.T, subnet string) aztest.Call {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "network-nic-show.json"))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	testjson.Obj(t, m, "ipConfigurations", 0, "subnet")["id"] = subnet
	return call(js(t, m), "network", "nic", "show", "-g", rg, "-n", "vmVMNic")
}

// peShow is `az network private-endpoint show` of acct-pe, in the subnet given.
func peShow(t *testing.T, subnet string) aztest.Call {
	t.Helper()
	m := testjson.Obj(t, shape(t, "network-private-endpoint-show.json"))
	m["name"] = "acct-pe"
	m["id"] = "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/acct-pe"
	testjson.Obj(t, m, "subnet")["id"] = subnet
	return call(js(t, m), "network", "private-endpoint", "show", "-g", rg, "-n", "acct-pe")
}

// subnetShow is `az network vnet subnet show` of v/s with the given endpoints.
func subnetShow(t *testing.T, endpoints ...string) aztest.Call {
	t.Helper()
	m := testjson.Obj(t, shape(t, "network-vnet-subnet-show.json"))
	if len(endpoints) == 0 {
		delete(m, "serviceEndpoints") // network commands omit absent keys
	} else {
		var se []any
		for _, e := range endpoints {
			se = append(se, map[string]any{"locations": []any{"eastus"}, "provisioningState": "Succeeded", "service": e})
		}
		m["serviceEndpoints"] = se
	}
	return call(js(t, m), "network", "vnet", "subnet", "show", "-g", rg, "--vnet-name", "v", "-n", "s")
}

// runCommand is `az vm run-command invoke` running script on vm, answered
// with vm-run-command-invoke.json whose message carries what the script
// printed (stdout lines as the scripts print them on a VM of the local cloud).
func runCommand(t *testing.T, script, stdout, stderr string) aztest.Call {
	t.Helper()
	m := testjson.Obj(t, shape(t, "vm-run-command-invoke.json"))
	testjson.Obj(t, m, "value", 0)["message"] = "Enable succeeded: \n[stdout]\n" + stdout + "\n[stderr]\n" + stderr
	return call(js(t, m), "vm", "run-command", "invoke", "-g", rg, "-n", "vm", "--command-id", "RunShellScript", "--scripts", script)
}

// info renders the script's info lines and result marker.
func info(status, step, reason string, kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString("##azlin-info## " + kv[i] + "=" + kv[i+1] + "\n")
	}
	b.WriteString("##azlin-result## status=" + status + " step=" + step + " reason=" + reason + "\n")
	return b.String()
}

var target = nfs.Target{Account: acct, Share: stName, Tier: nfs.Premium}

func attachScript(t *testing.T) string {
	t.Helper()
	s, err := vmscript.AttachScript(vmscript.AttachParams{Target: target, AuthorizedKeys: []string{azlinKey}, Timestamp: ts})
	require.NoError(t, err)
	return s
}

func detachScript(t *testing.T, tg nfs.Target, force bool) string {
	t.Helper()
	s, err := vmscript.DetachScript(vmscript.DetachParams{Target: tg, Force: force, Timestamp: ts})
	require.NoError(t, err)
	return s
}

var (
	vmID      = "/subscriptions/9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
	tagCall   = mutation("tag", "update", "--resource-id", vmID, "--operation", "Merge", "--tags", "azlin-storage="+stName)
	untagCall = mutation("tag", "update", "--resource-id", vmID, "--operation", "Delete", "--tags", "azlin-storage="+stName)
)

// newManager is a Manager whose az calls the fake answers (retries off:
// azcli's own tests cover them) with a fixed timestamp.
func newManager(t *testing.T, calls ...aztest.Call) (*Manager, *aztest.Fake) {
	t.Helper()
	f := aztest.New(t, calls...)
	c := azcli.New(f, azcli.Options{Retry: azcli.RetryPolicy{MaxAttempts: 1}})
	st := storage.NewManager(c, cost.Default())
	st.Now = func() time.Time { return testNow }
	return &Manager{VMs: vmprov.NewManager(c), Storage: st, Net: network.NewManager(c), Timestamp: ts}, f
}

// testNow is the storage manager's clock in these tests.
var testNow = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

const acctID = "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct"

// markUnused is the tag update that records the storage unused at testNow;
// markUsed the one that removes the record made at since.
var markUnused = mutation("tag", "update", "--resource-id", acctID, "--operation", "Merge", "--tags", "azlin-unused-since=2026-01-10T12:00:00Z")

func markUsed(since string) aztest.Call {
	return mutation("tag", "update", "--resource-id", acctID, "--operation", "Delete", "--tags", "azlin-unused-since="+since)
}

// mutations are the calls that change something, as "az ..." lines.
func mutations(f *aztest.Fake) []string {
	var out []string
	for _, c := range f.Calls() {
		joined := strings.Join(c, " ")
		switch {
		case strings.HasPrefix(joined, "vm run-command"), strings.HasPrefix(joined, "tag update"),
			strings.Contains(joined, " update "), strings.Contains(joined, " add "), strings.Contains(joined, " create "):
			out = append(out, strings.Join(c[:3], " "))
		}
	}
	return out
}

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
	vms := testjson.List(t, shape(t, "vm-list.json"))
	for i := range vms {
		if v := testjson.Obj(t, vms, i); v["name"] == name {
			listed = v
		}
	}
	require.NotNil(t, listed, "vm-list.json has no VM %s", name)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(c.Stdout), &m))
	for _, k := range []string{"id", "name", "networkProfile", "vmId"} {
		m[k] = listed[k]
	}
	testjson.Obj(t, m, "osProfile")["computerName"] = name
	testjson.Obj(t, m, "storageProfile")["osDisk"] = testjson.Obj(t, listed, "storageProfile")["osDisk"]
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
