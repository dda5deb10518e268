package azemu_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/testjson"
)

func TestAccountNamesAreCheckedAndGloballyUnique(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	c.ok("group", "create", "-n", "rg2", "-l", "westus", "-o", "none")
	for _, bad := range []string{"ab", "Upper1", "has-dash", strings.Repeat("a", 25)} {
		r := c.run("storage", "account", "create", "-g", "rg", "-n", bad, "--only-show-errors")
		assert.Equal(t, 1, r.code, bad)
		assert.Contains(t, r.stderr, "(AccountNameInvalid) "+bad+" is not a valid storage account name.", bad)
		check := c.obj("storage", "account", "check-name", "-n", bad)
		assert.Equal(t, "AccountNameInvalid", check["reason"])
	}
	c.ok("storage", "account", "create", "-g", "rg", "-n", "abc", "--only-show-errors", "-o", "none")
	c.ok("storage", "account", "create", "-g", "rg", "-n", strings.Repeat("a", 24), "--only-show-errors", "-o", "none")
	// Creating again in the same group is an idempotent PUT; another group is a 409.
	c.ok("storage", "account", "create", "-g", "rg", "-n", "abc", "--only-show-errors", "-o", "none")
	r := c.run("storage", "account", "create", "-g", "rg2", "-n", "abc", "--only-show-errors")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "(StorageAccountAlreadyTaken)")
	check := c.obj("storage", "account", "check-name", "-n", "abc")
	assert.Equal(t, false, check["nameAvailable"])
	assert.Equal(t, "AlreadyExists", check["reason"])
	// show without -g finds the account in any group.
	assert.Equal(t, "rg", c.obj("storage", "account", "show", "-n", "abc")["resourceGroup"])
	r = c.run("storage", "account", "show", "-n", "nosuch")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "ERROR: Storage account 'nosuch' not found.\n", r.stderr)
}

func TestNFSSharesOnlyOnFileStoragePremiumWithinQuota(t *testing.T) {
	c := newCloud(t)
	c.base()
	c.ok("storage", "account", "create", "-g", "rg", "-n", "standard", "--sku", "Standard_LRS", "--kind", "StorageV2", "--only-show-errors", "-o", "none")
	r := c.run("storage", "share-rm", "create", "-g", "rg", "--storage-account", "standard", "-n", "share", "--quota", "100", "--enabled-protocols", "NFS")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "ERROR: (FeatureNotSupportedForAccount) NfsFileShares is not supported for the account.\nCode: FeatureNotSupportedForAccount\nMessage: NfsFileShares is not supported for the account.\n", r.stderr)

	for _, q := range []string{"99", "102401"} {
		r = c.run("storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", "share", "--quota", q, "--enabled-protocols", "NFS")
		assert.Equal(t, 1, r.code, q)
		assert.Contains(t, r.stderr, "InvalidHeaderValue", q)
	}
	for _, q := range []string{"100", "102400"} {
		s := c.obj("storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", "share"+q, "--quota", q, "--enabled-protocols", "NFS")
		assert.EqualValues(t, mustAtoi(q), s["shareQuota"])
		assert.Equal(t, "NFS", s["enabledProtocols"])
		assert.Equal(t, "NoRootSquash", s["rootSquash"])
	}
	r = c.run("storage", "share-rm", "show", "-g", "rg", "--storage-account", "acct", "-n", "nosuch")
	assert.Equal(t, 3, r.code)
	assert.Contains(t, r.stderr, "(ResourceNotFound)")
}

func mustAtoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

func TestShareNameRules(t *testing.T) {
	c := newCloud(t)
	c.base()
	for _, bad := range []string{"ab", "-share", "share-", "sh--are", "Share", strings.Repeat("a", 64)} {
		r := c.run("storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "--name="+bad, "--quota", "100", "--enabled-protocols", "NFS")
		assert.Equal(t, 1, r.code, bad)
		assert.Contains(t, r.stderr, "is invalid", bad)
	}
	for _, good := range []string{"abc", "a-b-c", strings.Repeat("a", 63)} {
		c.ok("storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", good, "--quota", "100", "--enabled-protocols", "NFS", "-o", "none")
	}
}

func TestShareStatsCountsRealBytes(t *testing.T) {
	c := newCloud(t)
	c.base()
	c.ok("storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", "share", "--quota", "100", "--enabled-protocols", "NFS", "-o", "none")
	assert.Equal(t, "0\n", c.ok("storage", "share-rm", "stats", "-g", "rg", "--storage-account", "acct", "-n", "share"))
	dir := filepath.Join(c.dir, "shares", "acct", "share")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a"), make([]byte, 1000), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "b"), make([]byte, 2345), 0o644))
	assert.Equal(t, "3345\n", c.ok("storage", "share-rm", "stats", "-g", "rg", "--storage-account", "acct", "-n", "share"))
}

func TestNetworkRuleNeedsServiceEndpointAndKeepsDefaultAction(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	c.ok("network", "vnet", "create", "-g", "rg", "-n", "v", "--subnet-name", "s", "-o", "none")
	c.ok("storage", "account", "create", "-g", "rg", "-n", "acct", "--sku", "Premium_LRS", "--kind", "FileStorage", "--only-show-errors", "-o", "none")
	r := c.run("storage", "account", "network-rule", "add", "-g", "rg", "--account-name", "acct", "--vnet-name", "v", "--subnet", "s")
	assert.Equal(t, 1, r.code)
	msg := "Validation of network acls failure: SubnetsHaveNoServiceEndpointsConfigured:Subnets s of virtual network /subscriptions/9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v do not have ServiceEndpoints for Microsoft.Storage resources configured. Add Microsoft.Storage to subnet's ServiceEndpoints collection before trying to ACL Microsoft.Storage resources to these subnets.."
	assert.Equal(t, "ERROR: (NetworkAclsValidationFailure) "+msg+"\nCode: NetworkAclsValidationFailure\nMessage: "+msg+"\n", r.stderr)

	// --service-endpoints replaces the list.
	c.ok("network", "vnet", "subnet", "update", "-g", "rg", "--vnet-name", "v", "-n", "s", "--service-endpoints", "Microsoft.KeyVault", "-o", "none")
	s := c.obj("network", "vnet", "subnet", "update", "-g", "rg", "--vnet-name", "v", "-n", "s", "--service-endpoints", "Microsoft.Storage")
	eps := testjson.List(t, s, "serviceEndpoints")
	require.Len(t, eps, 1)
	assert.Equal(t, "Microsoft.Storage", testjson.Obj(t, eps, 0)["service"])

	a := c.obj("storage", "account", "network-rule", "add", "-g", "rg", "--account-name", "acct", "--vnet-name", "v", "--subnet", "s")
	rules := testjson.Obj(t, a, "networkRuleSet")
	assert.Equal(t, "Allow", rules["defaultAction"], "network-rule add leaves the default action alone")
	vnr := testjson.List(t, rules, "virtualNetworkRules")
	require.Len(t, vnr, 1)
	assert.Equal(t, s["id"], testjson.Obj(t, vnr, 0)["virtualNetworkResourceId"])
	listed := c.obj("storage", "account", "network-rule", "list", "-g", "rg", "--account-name", "acct")
	assert.NotContains(t, listed, "defaultAction")
	assert.Len(t, listed["virtualNetworkRules"], 1)
	c.ok("storage", "account", "network-rule", "remove", "-g", "rg", "--account-name", "acct", "--vnet-name", "v", "--subnet", "s", "-o", "none")
	listed = c.obj("storage", "account", "network-rule", "list", "-g", "rg", "--account-name", "acct")
	assert.Empty(t, listed["virtualNetworkRules"])
}

func TestBlobNFSAccountAndContainer(t *testing.T) {
	c := newCloud(t)
	c.base()
	r := c.run("storage", "account", "create", "-g", "rg", "-n", "blobacct", "--kind", "StorageV2", "--sku", "Standard_LRS",
		"--enable-nfs-v3", "true", "--only-show-errors")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "(InvalidRequestPropertyValue) The value 'True' is not allowed for property isNfsv3Enabled.")
	r = c.run("storage", "account", "create", "-g", "rg", "-n", "blobacct", "--kind", "StorageV2", "--sku", "Standard_LRS",
		"--enable-hierarchical-namespace", "true", "--enable-nfs-v3", "true", "--only-show-errors")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "NetworkAclsDefaultActionMisconfigured")
	a := c.obj("storage", "account", "create", "-g", "rg", "-n", "blobacct", "--kind", "StorageV2", "--sku", "Standard_LRS",
		"--enable-hierarchical-namespace", "true", "--enable-nfs-v3", "true", "--https-only", "false",
		"--default-action", "Deny", "--vnet-name", "v", "--subnet", "s", "--only-show-errors")
	assert.Equal(t, true, a["enableNfsV3"])
	assert.Equal(t, true, a["isHnsEnabled"])
	assert.Len(t, testjson.Obj(t, a, "networkRuleSet")["virtualNetworkRules"], 1)
	ct := c.obj("storage", "container-rm", "create", "-g", "rg", "--storage-account", "blobacct", "-n", "home")
	assert.Equal(t, "home", ct["name"])
	assert.Equal(t, "home", c.obj("storage", "container-rm", "show", "-g", "rg", "--storage-account", "blobacct", "-n", "home")["name"])
	r = c.run("storage", "container-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", "home")
	assert.Equal(t, 1, r.code, "FileStorage has no blobs")
}

func TestPrivateEndpointAndDNS(t *testing.T) {
	c := newCloud(t)
	c.base()
	acctID := "/subscriptions/9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct"
	r := c.run("network", "private-endpoint", "create", "-g", "rg", "-n", "pe", "--vnet-name", "v", "--subnet", "s",
		"--private-connection-resource-id", acctID, "--group-id", "blob", "--connection-name", "c")
	assert.Equal(t, 1, r.code, "a FileStorage account has only the file group")
	pe := c.obj("network", "private-endpoint", "create", "-g", "rg", "-n", "pe", "--vnet-name", "v", "--subnet", "s",
		"--private-connection-resource-id", acctID, "--group-id", "file", "--connection-name", "c")
	assert.Equal(t, "acct.file.core.windows.net", testjson.Obj(t, pe, "customDnsConfigs", 0)["fqdn"])
	a := c.obj("storage", "account", "show", "-g", "rg", "-n", "acct")
	assert.Len(t, a["privateEndpointConnections"], 1)
	c.ok("network", "private-dns", "zone", "create", "-g", "rg", "-n", "privatelink.file.core.windows.net", "-o", "none")
	l := c.obj("network", "private-dns", "link", "vnet", "create", "-g", "rg", "-z", "privatelink.file.core.windows.net",
		"-n", "link", "-v", "v", "-e", "false")
	assert.Equal(t, false, l["registrationEnabled"])
	assert.Equal(t, "Default", l["resolutionPolicy"], "ARM's default: NXDOMAIN for names the zone lacks")
	l = c.obj("network", "private-dns", "link", "vnet", "create", "-g", "rg", "-z", "privatelink.file.core.windows.net",
		"-n", "link2", "-v", "v", "-e", "false", "--resolution-policy", "NxDomainRedirect")
	assert.Equal(t, "NxDomainRedirect", l["resolutionPolicy"])
	assert.Equal(t, "link", c.obj("network", "private-dns", "link", "vnet", "show", "-g", "rg", "-z", "privatelink.file.core.windows.net", "-n", "link")["name"])
	zg := c.obj("network", "private-endpoint", "dns-zone-group", "create", "-g", "rg", "--endpoint-name", "pe", "-n", "default",
		"--private-dns-zone", "privatelink.file.core.windows.net", "--zone-name", "file")
	assert.Equal(t, "default", zg["name"])
	c.ok("network", "private-endpoint", "delete", "-g", "rg", "-n", "pe")
	a = c.obj("storage", "account", "show", "-g", "rg", "-n", "acct")
	assert.Empty(t, a["privateEndpointConnections"])
	assert.Equal(t, 3, c.run("network", "private-endpoint", "show", "-g", "rg", "-n", "pe").code)
}

// az storage account create|update --allow-shared-key-access sets
// allowSharedKeyAccess (null until set: Azure then allows keys).
func TestSharedKeyAccessIsKept(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	c.ok("storage", "account", "create", "-g", "rg", "-n", "acct", "-o", "none")
	assert.Nil(t, c.obj("storage", "account", "show", "-g", "rg", "-n", "acct")["allowSharedKeyAccess"])
	c.ok("storage", "account", "update", "-g", "rg", "-n", "acct", "--allow-shared-key-access", "false", "-o", "none")
	assert.Equal(t, false, c.obj("storage", "account", "show", "-g", "rg", "-n", "acct")["allowSharedKeyAccess"])
	c.ok("storage", "account", "create", "-g", "rg", "-n", "acct2", "--allow-shared-key-access", "false", "-o", "none")
	assert.Equal(t, false, c.obj("storage", "account", "show", "-g", "rg", "-n", "acct2")["allowSharedKeyAccess"])
}

func TestGroupDeleteRemovesEverything(t *testing.T) {
	c := newCloud(t)
	c.base()
	c.ok("storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", "share", "--quota", "100", "--enabled-protocols", "NFS", "-o", "none")
	c.ok("group", "delete", "-n", "rg", "--yes")
	assert.Equal(t, 3, c.run("group", "show", "-n", "rg").code)
	assert.Equal(t, "[]\n", c.ok("storage", "account", "list"))
	_, err := os.Stat(filepath.Join(c.dir, "shares", "acct"))
	assert.True(t, os.IsNotExist(err), "the share's files are gone")
	// The name is free again.
	c.ok("group", "create", "-n", "rg2", "-l", "eastus", "-o", "none")
	c.ok("storage", "account", "create", "-g", "rg2", "-n", "acct", "--only-show-errors", "-o", "none")
}

func TestConcurrentCreatesKeepStateIntact(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = c.run("storage", "account", "create", "-g", "rg", "-n", fmt.Sprintf("acct%02d", i), "--only-show-errors", "-o", "none").code
		}(i)
	}
	wg.Wait()
	for i, code := range codes {
		assert.Equal(t, 0, code, "create %d", i)
	}
	names := c.ok("storage", "account", "list", "-g", "rg", "--query", "length(@)")
	assert.Equal(t, "20\n", names)
	// One account name raced from two groups: exactly one wins.
	c.ok("group", "create", "-n", "rg2", "-l", "eastus", "-o", "none")
	var r1, r2 result
	wg.Add(2)
	go func() {
		defer wg.Done()
		r1 = c.run("storage", "account", "create", "-g", "rg", "-n", "raced", "--only-show-errors")
	}()
	go func() {
		defer wg.Done()
		r2 = c.run("storage", "account", "create", "-g", "rg2", "-n", "raced", "--only-show-errors")
	}()
	wg.Wait()
	assert.ElementsMatch(t, []int{0, 1}, []int{r1.code, r2.code})
}

// A VNet links to one private DNS zone of a name: a second zone of that name
// in another group is refused (Azure Private Link FAQ, "Can we link multiple
// private DNS zones with the same name?": no). A zone in another group is
// linked by the VNet's id, and an endpoint's zone group may name it by id.
func TestAVNetLinksToOneZoneOfAName(t *testing.T) {
	c := newCloud(t)
	c.base()
	c.ok("group", "create", "-n", "hub", "-l", "eastus", "-o", "none")
	const zone = "privatelink.file.core.windows.net"
	vnetID := "/subscriptions/9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"
	for _, g := range []string{"rg", "hub"} {
		c.ok("network", "private-dns", "zone", "create", "-g", g, "-n", zone, "-o", "none")
	}
	l := c.obj("network", "private-dns", "link", "vnet", "create", "-g", "hub", "-z", zone, "-n", "l", "-v", vnetID, "-e", "false")
	assert.Equal(t, vnetID, testjson.Obj(t, l, "virtualNetwork")["id"])
	r := c.run("network", "private-dns", "link", "vnet", "create", "-g", "rg", "-z", zone, "-n", "l", "-v", "v", "-e", "false")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "ERROR: (BadRequest) A virtual network cannot be linked to multiple zones with overlapping namespaces. "+
		"You tried to link virtual network with '"+zone+"' and '"+zone+"' zones.\n", strings.SplitAfter(r.stderr, "\n")[0])
	assert.Equal(t, 3, c.run("network", "private-dns", "link", "vnet", "show", "-g", "rg", "-z", zone, "-n", "l").code, "nothing stored")
	c.ok("network", "private-dns", "link", "vnet", "create", "-g", "hub", "-z", zone, "-n", "l", "-v", vnetID, "-e", "false", "-o", "none")
}
