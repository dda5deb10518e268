package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/nfs"
)

var (
	argvLogin        = []string{"account", "show"}
	argvAcctShow     = []string{"storage", "account", "show", "-g", "rg", "-n", testAcct}
	argvCheckName    = []string{"storage", "account", "check-name", "-n", testAcct}
	argvGroupShow    = []string{"group", "show", "-n", "rg"}
	argvVNetShow     = []string{"network", "vnet", "show", "-g", "rg", "-n", "azlin-vnet"}
	argvShareShow    = []string{"storage", "share-rm", "show", "-g", "rg", "--storage-account", testAcct, "-n", testName}
	argvPEShow       = []string{"network", "private-endpoint", "show", "-g", "rg", "-n", testAcct + "-pe"}
	argvZoneShow     = []string{"network", "private-dns", "zone", "show", "-g", "rg", "-n", "privatelink.file.core.windows.net"}
	argvLinkShow     = []string{"network", "private-dns", "link", "vnet", "show", "-g", "rg", "-z", "privatelink.file.core.windows.net", "-n", "azlin-vnet-link"}
	argvZoneGrpShow  = []string{"network", "private-endpoint", "dns-zone-group", "show", "-g", "rg", "--endpoint-name", testAcct + "-pe", "-n", "default"}
	argvCreatePremPE = []string{"storage", "account", "create", "-g", "rg", "-n", testAcct, "-l", "eastus",
		"--kind", "FileStorage", "--sku", "Premium_LRS",
		"--https-only", "true", "--allow-blob-public-access", "false", "--allow-shared-key-access", "false", "--min-tls-version", "TLS1_2", "--default-action", "Deny",
		"--public-network-access", "Disabled",
		"--tags", "azlin-managed=true", "azlin-storage=shared-dev", "azlin-tier=Premium", "azlin-size-gib=100",
		"azlin-network=private-endpoint", "azlin-created=" + testTime}
	argvShareCreate = []string{"storage", "share-rm", "create", "-g", "rg", "--storage-account", testAcct, "-n", testName,
		"--enabled-protocols", "NFS", "--quota", "100", "--root-squash", "NoRootSquash"}
	argvPECreate = []string{"network", "private-endpoint", "create", "-g", "rg", "-n", testAcct + "-pe", "-l", "eastus",
		"--vnet-name", "azlin-vnet", "--subnet", "azlin-subnet",
		"--private-connection-resource-id", "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/" + testAcct,
		"--group-id", "file", "--connection-name", testAcct + "-pe-conn"}
	argvZoneCreate    = []string{"network", "private-dns", "zone", "create", "-g", "rg", "-n", "privatelink.file.core.windows.net"}
	argvLinkCreate    = []string{"network", "private-dns", "link", "vnet", "create", "-g", "rg", "-z", "privatelink.file.core.windows.net", "-n", "azlin-vnet-link", "-v", "azlin-vnet", "-e", "false", "--resolution-policy", "NxDomainRedirect"}
	argvZoneGrpCreate = []string{"network", "private-endpoint", "dns-zone-group", "create", "-g", "rg", "--endpoint-name", testAcct + "-pe", "-n", "default",
		"--private-dns-zone", "privatelink.file.core.windows.net", "--zone-name", "file"}
)

func loginCall(t *testing.T) aztest.Call { return ok(argvLogin, js(t, shape(t, "account-show.json"))) }

// freshPremiumCalls is a first create of a Premium storage with the default
// private endpoint, in a group whose VNet exists and has no DNS zone yet.
func freshPremiumCalls(t *testing.T) []aztest.Call {
	return []aztest.Call{
		loginCall(t),
		notFound(t, argvAcctShow, "Microsoft.Storage/storageAccounts/"+testAcct),
		ok(argvCheckName, js(t, shape(t, "storage-account-check-name-available.json"))),
		ok(argvGroupShow, js(t, shape(t, "group-show.json"))),
		ok(argvVNetShow, vnetBody(t, "azlin-subnet")),
		mutation(argvCreatePremPE...),
		mutation(argvShareCreate...),
		mutation(argvPECreate...),
		notFound(t, argvZoneShow, "Microsoft.Network/privateDnsZones/privatelink.file.core.windows.net"),
		mutation(argvZoneCreate...),
		mutation(argvLinkCreate...),
		mutation(argvZoneGrpCreate...),
	}
}

func wantPremiumSummary() *Storage {
	return &Storage{
		Name: testName, Account: testAcct, ResourceGroup: "rg", Tier: nfs.Premium, Protocol: "NFS 4.1 (Azure Files)",
		EncryptionInTransit: true, Redundancy: "LRS", SizeGiB: 100, Region: "eastus", Created: testTime,
		Endpoint: testAcct + ".file.core.windows.net:/" + testAcct + "/" + testName, RootSquash: "NoRootSquash", Layout: "developer",
		UsageNote: "see azlin storage status shared-dev",
		Network: NetworkView{Mode: PrivateEndpoint, PublicNetworkAccess: "Disabled", DefaultAction: "Deny",
			PrivateEndpoints: []string{testAcct + "-pe"}, VNetRules: []string{}},
		ConnectedVMs: []string{},
		Cost: CostView{Monthly: "$23.30", Priced: true, Items: []CostItem{
			{What: "NFS share", Monthly: "$16.00", Basis: "100 GiB provisioned x $0.16/GiB-month (Premium_LRS, eastus)"},
			{What: "private endpoint", Monthly: "$7.30", Basis: "$0.01/hour x 730 hours (private endpoint in eastus, data processed not included)"},
		}},
	}
}

func TestCreatePremiumPrivateEndpointSendsExactCalls(t *testing.T) {
	f := aztest.New(t, freshPremiumCalls(t)...)
	var steps []string
	got, err := newManager(t, f, nil).Create(context.Background(), createOpts(premium, func(o *CreateOptions) {
		o.Progress = func(s string) { steps = append(steps, s) }
	}))
	require.NoError(t, err)
	want := wantPremiumSummary()
	// The private endpoint's cost basis text belongs to the cost package; compare the amounts.
	assert.Equal(t, want.Cost.Monthly, got.Cost.Monthly)
	got.Cost, want.Cost = CostView{}, CostView{}
	assert.Equal(t, want, got)
	assert.Contains(t, steps, "Creating storage account "+testAcct)
	assert.Contains(t, steps, "Creating NFS share shared-dev (100GiB, NoRootSquash)")
}

// everythingThereCalls: a second create of the same storage.
func everythingThereCalls(t *testing.T) []aztest.Call {
	return []aztest.Call{
		loginCall(t),
		ok(argvAcctShow, js(t, premiumAccount(t))),
		ok(argvShareShow, js(t, premiumShare(t, 100, nil))),
		ok(argvVNetShow, vnetBody(t, "azlin-subnet")),
		ok(argvPEShow, js(t, shape(t, "network-private-endpoint-show.json"))),
		ok(argvZoneShow, `{"name": "privatelink.file.core.windows.net"}`),
		ok(argvLinkShow, `{"name": "azlin-vnet-link"}`),
		ok(argvZoneGrpShow, `{"name": "default"}`),
	}
}

func TestCreateAgainChangesNothingAndGivesTheSameSummary(t *testing.T) {
	first, err := newManager(t, aztest.New(t, freshPremiumCalls(t)...), nil).Create(context.Background(), createOpts(premium))
	require.NoError(t, err)

	f := aztest.New(t, everythingThereCalls(t)...) // no mutation listed: any would fail the test
	second, err := newManager(t, f, nil).Create(context.Background(), createOpts(premium, func(o *CreateOptions) {
		o.Tier, o.SizeGiB = nfs.Premium, 100 // the same flags again are no conflict
	}))
	require.NoError(t, err)
	assert.Equal(t, first, second)
}

func TestCreateFinishesWhatAnInterruptedCreateLeft(t *testing.T) {
	// The account exists (created before the interruption); share, endpoint
	// and link do not; the zone does (another storage made it).
	calls := []aztest.Call{
		loginCall(t),
		ok(argvAcctShow, js(t, premiumAccount(t, func(m map[string]any) { m["privateEndpointConnections"] = []any{} }))),
		notFound(t, argvShareShow, "Microsoft.Storage/storageAccounts/"+testAcct+"/fileServices/default/shares/"+testName),
		ok(argvVNetShow, vnetBody(t, "azlin-subnet")),
		notFound(t, argvPEShow, "Microsoft.Network/privateEndpoints/"+testAcct+"-pe"),
		mutation(argvShareCreate...),
		mutation(argvPECreate...),
		ok(argvZoneShow, `{"name": "privatelink.file.core.windows.net"}`),
		notFound(t, argvLinkShow, "Microsoft.Network/privateDnsZones/privatelink.file.core.windows.net/virtualNetworkLinks/azlin-vnet-link"),
		mutation(argvLinkCreate...),
		mutation(argvZoneGrpCreate...),
	}
	f := aztest.New(t, calls...)
	got, err := newManager(t, f, nil).Create(context.Background(), createOpts(premium))
	require.NoError(t, err)
	assert.Equal(t, testAcct, got.Account)
	// The share is created after the reads that tell it is missing (the
	// VNet is read beside it).
	at := func(argv []string) int {
		return slices.IndexFunc(f.Calls(), func(c []string) bool { return slices.Equal(c, argv) })
	}
	assert.Less(t, at(argvShareShow), at(argvShareCreate))
	assert.Less(t, at(argvAcctShow), at(argvShareCreate))
}

func TestCreateFixesOnlyWrongAccountSettings(t *testing.T) {
	calls := everythingThereCalls(t)
	calls[1] = ok(argvAcctShow, js(t, premiumAccount(t, func(m map[string]any) {
		m["publicNetworkAccess"] = "Enabled"
	})))
	// Secure transfer on is a storage encrypted in transit: kept as it is.
	calls = append(calls, mutation("storage", "account", "update", "-g", "rg", "-n", testAcct,
		"--public-network-access", "Disabled"))
	st, err := newManager(t, aztest.New(t, calls...), nil).Create(context.Background(), createOpts(premium))
	require.NoError(t, err)
	assert.True(t, st.EncryptionInTransit)
}

// A storage made before encryption in transit (secure transfer off) keeps
// plain NFS when create runs again; asking for plain NFS on one that is
// encrypted is a conflict, never a silent downgrade.
func TestCreateKeepsAnExistingStoragesTransitMode(t *testing.T) {
	calls := everythingThereCalls(t)
	calls[1] = ok(argvAcctShow, js(t, premiumAccount(t, func(m map[string]any) { m["enableHttpsTrafficOnly"] = false })))
	st, err := newManager(t, aztest.New(t, calls...), nil).Create(context.Background(), createOpts(premium))
	require.NoError(t, err)
	assert.False(t, st.EncryptionInTransit, "secure transfer off: plain NFS, kept")

	calls = everythingThereCalls(t)
	_, err = newManager(t, aztest.New(t, calls[:3]...), nil).Create(context.Background(), createOpts(premium, func(o *CreateOptions) {
		o.NoEncryptionInTransit = true
	}))
	var ce *ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "encryption in transit is on, not off (--no-encryption-in-transit)")
}

// --no-encryption-in-transit makes a Premium account with secure transfer off.
func TestCreateWithoutEncryptionInTransitTurnsSecureTransferOff(t *testing.T) {
	calls := freshPremiumCalls(t)
	plain := append([]string{}, argvCreatePremPE...)
	plain[slices.Index(plain, "--https-only")+1] = "false"
	calls[5] = mutation(plain...)
	st, err := newManager(t, aztest.New(t, calls...), nil).Create(context.Background(), createOpts(premium, func(o *CreateOptions) {
		o.NoEncryptionInTransit = true
	}))
	require.NoError(t, err)
	assert.False(t, st.EncryptionInTransit)
}

func TestCreateStandardServiceEndpointKeepsTheSubnetsOtherEndpoints(t *testing.T) {
	acct := testAcct
	calls := []aztest.Call{
		loginCall(t),
		notFound(t, argvAcctShow, "Microsoft.Storage/storageAccounts/"+acct),
		ok(argvCheckName, js(t, shape(t, "storage-account-check-name-available.json"))),
		ok(argvVNetShow, vnetBody(t, "azlin-subnet", "Microsoft.KeyVault")),
		mutation("network", "vnet", "subnet", "update", "-g", "rg", "--vnet-name", "azlin-vnet", "-n", "azlin-subnet",
			"--service-endpoints", "Microsoft.KeyVault", "Microsoft.Storage"),
		mutation("storage", "account", "create", "-g", "rg", "-n", acct, "-l", "eastus",
			"--kind", "StorageV2", "--sku", "Standard_LRS", "--enable-hierarchical-namespace", "true", "--enable-nfs-v3", "true",
			"--https-only", "false", "--allow-blob-public-access", "false", "--allow-shared-key-access", "false", "--min-tls-version", "TLS1_2", "--default-action", "Deny",
			"--tags", "azlin-managed=true", "azlin-storage=shared-dev", "azlin-tier=Standard", "azlin-size-gib=2048",
			"azlin-network=service-endpoint", "azlin-created="+testTime),
		mutation("storage", "container-rm", "create", "-g", "rg", "--storage-account", acct, "-n", testName, "--root-squash", "RootSquash"),
		mutation("storage", "account", "network-rule", "add", "-g", "rg", "--account-name", acct, "--vnet-name", "azlin-vnet", "--subnet", "azlin-subnet"),
	}
	got, err := newManager(t, aztest.New(t, calls...), nil).Create(context.Background(), createOpts(premium, func(o *CreateOptions) {
		o.Tier, o.SizeGiB, o.Network, o.RootSquash, o.Region = nfs.Standard, 2048, ServiceEndpoint, "RootSquash", "eastus"
	}))
	require.NoError(t, err)
	assert.Equal(t, acct+".blob.core.windows.net:/"+acct+"/"+testName, got.Endpoint)
	assert.Equal(t, "NFS 3.0 (Azure Blob)", got.Protocol)
	assert.Equal(t, "$43.01", got.Cost.Monthly, "2 TiB of Blob hot LRS at $0.021, no private endpoint")
}

func TestCreateServiceEndpointAlreadyThereIsNotWrittenAgain(t *testing.T) {
	name := "ml-data"
	acct := AccountName(testSub, testRG, name)
	calls := []aztest.Call{
		loginCall(t),
		ok([]string{"storage", "account", "show", "-g", "rg", "-n", acct}, js(t, standardAccount(t, name))),
		ok([]string{"storage", "container-rm", "show", "-g", "rg", "--storage-account", acct, "-n", name}, `{"name": "ml-data", "rootSquash": "NoRootSquash"}`),
		ok(argvVNetShow, vnetBody(t, "azlin-subnet", "Microsoft.Storage", "Microsoft.KeyVault")),
	}
	_, err := newManager(t, aztest.New(t, calls...), nil).Create(context.Background(), createOpts(premium, func(o *CreateOptions) {
		o.Name, o.Tier, o.Network = name, nfs.Standard, ServiceEndpoint
	}))
	require.NoError(t, err)
}

func TestCreateMakesTheVNetOrSubnetWhenMissing(t *testing.T) {
	t.Run("vnet missing", func(t *testing.T) {
		calls := freshPremiumCalls(t)
		calls[4] = notFound(t, argvVNetShow, "Microsoft.Network/virtualNetworks/azlin-vnet")
		calls = append(calls, mutation("network", "vnet", "create", "-g", "rg", "-n", "azlin-vnet", "-l", "eastus",
			"--address-prefixes", "10.0.0.0/16", "--subnet-name", "azlin-subnet", "--subnet-prefixes", "10.0.0.0/24"))
		_, err := newManager(t, aztest.New(t, calls...), nil).Create(context.Background(), createOpts(premium))
		require.NoError(t, err)
	})
	t.Run("subnet missing", func(t *testing.T) {
		calls := freshPremiumCalls(t)
		calls[4] = ok(argvVNetShow, vnetBody(t, "other-subnet"))
		calls = append(calls, mutation("network", "vnet", "subnet", "create", "-g", "rg", "--vnet-name", "azlin-vnet",
			"-n", "azlin-subnet", "--address-prefixes", "10.0.0.0/24"))
		_, err := newManager(t, aztest.New(t, calls...), nil).Create(context.Background(), createOpts(premium))
		require.NoError(t, err)
	})
}

// A create that made the VNet and then failed at the account says that the
// VNet exists now, and that a re-run finishes the job.
func TestCreateFailingAfterTheVNetSaysTheVNetExists(t *testing.T) {
	calls := freshPremiumCalls(t)[:5]
	calls[4] = notFound(t, argvVNetShow, "Microsoft.Network/virtualNetworks/azlin-vnet")
	calls = append(calls,
		mutation("network", "vnet", "create", "-g", "rg", "-n", "azlin-vnet", "-l", "eastus",
			"--address-prefixes", "10.0.0.0/16", "--subnet-name", "azlin-subnet", "--subnet-prefixes", "10.0.0.0/24"),
		azErr(argvCreatePremPE, 1, "InternalServerError", "az said no"))
	_, err := newManager(t, aztest.New(t, calls...), nil).Create(context.Background(), createOpts(premium))
	var pe *PartialError
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, azcli.ErrServer)
	assert.Contains(t, err.Error(), "What exists now: virtual network azlin-vnet with subnet azlin-subnet.")
	assert.Contains(t, err.Error(), "run the same command again to finish")
	assert.NotContains(t, err.Error(), "storage account "+testAcct+";")
}

func TestCreateRefusesDifferentSettingsForAnExistingName(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*CreateOptions)
		want string
	}{
		{"tier", func(o *CreateOptions) { o.Tier = nfs.Standard; o.SizeGiB = 100 }, "tier is Premium, not Standard"},
		{"size", func(o *CreateOptions) { o.SizeGiB = 1024 }, "size is 100GiB, not 1TiB"},
		{"network", func(o *CreateOptions) { o.Network = ServiceEndpoint }, "network access is private-endpoint, not service-endpoint"},
		{"region", func(o *CreateOptions) { o.Region = "westus2" }, "region is eastus, not westus2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := aztest.New(t, loginCall(t), ok(argvAcctShow, js(t, premiumAccount(t))), ok(argvShareShow, js(t, premiumShare(t, 100, nil))))
			_, err := newManager(t, f, nil).Create(context.Background(), createOpts(tc.edit))
			var ce *ConflictError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "azlin storage delete shared-dev")
		})
	}
}

func TestCreateNameTakenElsewhere(t *testing.T) {
	t.Run("check-name says taken", func(t *testing.T) {
		taken := obj(t, "storage-account-check-name.json", func(m map[string]any) {
			m["message"] = "The storage account named " + testAcct + " is already taken."
		})
		f := aztest.New(t, loginCall(t), notFound(t, argvAcctShow, "Microsoft.Storage/storageAccounts/"+testAcct),
			ok(argvCheckName, js(t, taken)))
		_, err := newManager(t, f, nil).Create(context.Background(), createOpts(premium))
		var nt *NameTakenError
		require.ErrorAs(t, err, &nt)
		assert.Contains(t, err.Error(), "is already taken")
		assert.Contains(t, err.Error(), "No storage account was created")
		assert.Contains(t, err.Error(), "azlin storage create shared-dev-2")
	})
	t.Run("create answers 409", func(t *testing.T) {
		calls := freshPremiumCalls(t)[:5]
		calls = append(calls, errShape(t, "storage-account-create-409.json", argvCreatePremPE, "acct", testAcct))
		_, err := newManager(t, aztest.New(t, calls...), nil).Create(context.Background(), createOpts(premium))
		var nt *NameTakenError
		require.ErrorAs(t, err, &nt)
		assert.ErrorIs(t, err, azcli.ErrAlreadyExists)
	})
}

func TestCreateInAMissingResourceGroup(t *testing.T) {
	f := aztest.New(t, loginCall(t), errShape(t, "storage-account-show-404-rg.json", argvAcctShow, "nosuchrg", "rg"))
	_, err := newManager(t, f, nil).Create(context.Background(), createOpts(premium))
	require.ErrorIs(t, err, azcli.ErrResourceGroupNotFound)
	assert.Contains(t, err.Error(), "az group create -n rg")
}

// Every call of a fresh create can fail with each class of error az
// reports; the error keeps its class, the calls that need the failed one are
// never made (the others, running beside it, are), and once the account
// exists it says what exists and that a re-run finishes.
func TestCreateErrorAtEachStep(t *testing.T) {
	classes := []struct {
		code  string
		class error
	}{
		{"AuthorizationFailed", azcli.ErrAuthorization},
		{"TooManyRequests", azcli.ErrThrottled},
		{"AnotherOperationInProgress", azcli.ErrConflict},
		{"QuotaExceeded", azcli.ErrQuotaExceeded},
		{"InternalServerError", azcli.ErrServer},
	}
	base := freshPremiumCalls(t)
	const accountCreated = 5 // index of `storage account create`
	// needs[i]: the calls that must succeed before call i is made. The VNet
	// (4) runs beside the account (5) and its share (6); the zone is read
	// (8) beside the share; the endpoint (7) and the zone (9) need the VNet
	// and the share; the link (10) the zone; the zone group (11) the
	// endpoint and the zone.
	needs := [][]int{1: {0}, 2: {1}, 3: {2}, 4: {3}, 5: {3}, 6: {5}, 7: {4, 6}, 8: {5}, 9: {4, 6, 8}, 10: {9}, 11: {7, 9}}
	require.Len(t, needs, len(base))
	for step := 1; step < len(base); step++ {
		ok := make([]bool, len(base)) // made and succeeded
		var calls []aztest.Call
		for i := range base {
			made := true
			for _, n := range needs[i] {
				made = made && ok[n]
			}
			switch {
			case !made:
			case i == step:
				calls = append(calls, azErr(base[step].Argv, 1, "CODE", "az said no"))
			default:
				ok[i] = true
				calls = append(calls, base[i])
			}
		}
		for _, cl := range classes {
			t.Run(fmt.Sprintf("%s/%s", strings.Join(base[step].Argv[:4], " "), cl.code), func(t *testing.T) {
				calls := slices.Clone(calls)
				for i := range calls {
					if slices.Equal(calls[i].Argv, base[step].Argv) {
						calls[i] = azErr(base[step].Argv, 1, cl.code, "az said no")
					}
				}
				_, err := newManager(t, aztest.New(t, calls...), nil).Create(context.Background(), createOpts(premium))
				require.ErrorIs(t, err, cl.class)
				var pe *PartialError
				if ok[accountCreated] {
					require.ErrorAs(t, err, &pe)
					assert.Contains(t, err.Error(), "storage account "+testAcct)
					assert.Contains(t, err.Error(), "run the same command again to finish")
				} else {
					assert.False(t, errors.As(err, &pe), "nothing was created yet: %v", err)
				}
			})
		}
	}
}

func TestCreateDryRunPrintsEveryChangeAndMakesNone(t *testing.T) {
	var out bytes.Buffer
	// Only reads reach az; mutations are printed.
	calls := []aztest.Call{
		loginCall(t),
		notFound(t, argvAcctShow, "Microsoft.Storage/storageAccounts/"+testAcct),
		ok(argvCheckName, js(t, shape(t, "storage-account-check-name-available.json"))),
		ok(argvGroupShow, js(t, shape(t, "group-show.json"))),
		notFound(t, argvVNetShow, "Microsoft.Network/virtualNetworks/azlin-vnet"),
		notFound(t, argvZoneShow, "Microsoft.Network/privateDnsZones/privatelink.file.core.windows.net"),
	}
	_, err := newManager(t, aztest.New(t, calls...), &out).Create(context.Background(), createOpts(premium))
	require.NoError(t, err)
	printed := strings.Split(strings.TrimSpace(out.String()), "\n")
	var verbs []string
	for _, l := range printed {
		w := strings.Fields(l)
		verbs = append(verbs, strings.Join(w[:4], " "))
	}
	assert.Equal(t, []string{
		"az network vnet create",
		"az storage account create",
		"az storage share-rm create",
		"az network private-endpoint create",
		"az network private-dns zone",
		"az network private-dns link",
		"az network private-endpoint dns-zone-group",
	}, verbs)
	assert.Contains(t, printed[1], "--public-network-access Disabled")
	assert.Contains(t, printed[1], "--tags azlin-managed=true azlin-storage=shared-dev")
}

func TestValidateRejectsBeforeAnyCall(t *testing.T) {
	for _, o := range []CreateOptions{
		createOpts(premium, func(o *CreateOptions) { o.Name = "Bad_Name" }),
		createOpts(premium, func(o *CreateOptions) { o.SizeGiB = 20 }), // below the default tier's (PremiumV2) 32 GiB
		createOpts(premium, func(o *CreateOptions) { o.Tier, o.Redundancy = nfs.Standard, "ZRS" }),
		createOpts(premium, func(o *CreateOptions) { o.Region = "West US" }),
	} {
		f := aztest.New(t)
		_, err := newManager(t, f, nil).Create(context.Background(), o)
		require.Error(t, err)
		assert.Empty(t, f.Calls())
	}
}

// sharedLink is the link azlin makes in a zone it does not own: the VNet's
// name and a hash of its id (sha256 of
// /subscriptions/<testSub>/resourcegroups/rg/providers/microsoft.network/virtualnetworks/azlin-vnet).
const sharedLink = "azlin-vnet-c22a0738-link"

// A landing zone's private DNS zone in a hub subscription: no zone is read
// or created; the zone is linked in its own group and subscription, the VNet
// named by its id, and the endpoint's zone group names the zone by id.
func TestCreateWithAnExistingPrivateDNSZoneInAnotherSubscription(t *testing.T) {
	const hub = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
	zoneID := "/subscriptions/" + hub + "/resourceGroups/dns-hub/providers/Microsoft.Network/privateDnsZones/privatelink.file.core.windows.net"
	vnetID := "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/azlin-vnet"
	where := []string{"-g", "dns-hub", "-z", "privatelink.file.core.windows.net", "-n", sharedLink, "--subscription", hub}
	calls := freshPremiumCalls(t)[:8] // up to the private endpoint
	calls = append(calls,
		notFound(t, append([]string{"network", "private-dns", "link", "vnet", "show"}, where...), "Microsoft.Network/privateDnsZones/virtualNetworkLinks"),
		mutation(append(append([]string{"network", "private-dns", "link", "vnet", "create"}, where...),
			"-v", vnetID, "-e", "false", "--resolution-policy", "NxDomainRedirect")...),
		mutation("network", "private-endpoint", "dns-zone-group", "create", "-g", "rg", "--endpoint-name", testAcct+"-pe", "-n", "default",
			"--private-dns-zone", zoneID, "--zone-name", "file"))
	f := aztest.New(t, calls...) // a zone show or create would be an unexpected call
	_, err := newManager(t, f, nil).Create(context.Background(), createOpts(premium, func(o *CreateOptions) { o.PrivateDNSZoneID = zoneID }))
	require.NoError(t, err)
}

// In the same subscription no --subscription is passed; a link already
// there is not created again.
func TestCreateWithAnExistingPrivateDNSZoneAlreadyLinked(t *testing.T) {
	zoneID := "/subscriptions/" + testSub + "/resourceGroups/hub/providers/Microsoft.Network/privateDnsZones/privatelink.file.core.windows.net"
	calls := everythingThereCalls(t)[:5]
	calls = append(calls,
		ok([]string{"network", "private-dns", "link", "vnet", "show", "-g", "hub", "-z", "privatelink.file.core.windows.net", "-n", sharedLink}, `{"name": "x"}`),
		ok(argvZoneGrpShow, `{"name": "default"}`))
	f := aztest.New(t, calls...)
	_, err := newManager(t, f, nil).Create(context.Background(), createOpts(premium, func(o *CreateOptions) { o.PrivateDNSZoneID = zoneID }))
	require.NoError(t, err)
}

// Azure links a VNet to one zone of a name: the refusal says which flag helps.
func TestCreateSaysWhenTheVNetIsLinkedToAnotherZoneOfTheName(t *testing.T) {
	calls := append(freshPremiumCalls(t)[:10], aztest.Call{Argv: argvLinkCreate, Exit: 1, Stderr: "ERROR: (BadRequest) A virtual network cannot be linked to multiple zones " +
		"with overlapping namespaces. You tried to link virtual network with 'privatelink.file.core.windows.net' and 'privatelink.file.core.windows.net' zones.\nCode: BadRequest\n"},
		mutation(argvZoneGrpCreate...)) // beside the link: it needs the endpoint and the zone only
	_, err := newManager(t, aztest.New(t, calls...), nil).Create(context.Background(), createOpts(premium))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "virtual network azlin-vnet is already linked to another private DNS zone named privatelink.file.core.windows.net")
	assert.Contains(t, err.Error(), "--private-dns-zone-id")
	assert.Contains(t, err.Error(), "What exists now: storage account "+testAcct)
}

func TestCreatePrivateDNSZoneIDIsCheckedBeforeAnyAzCall(t *testing.T) {
	good := "/subscriptions/" + testSub + "/resourceGroups/hub/providers/Microsoft.Network/privateDnsZones/"
	for _, tc := range []struct {
		name, id string
		tier     nfs.Tier
		network  NetworkMode
		want     string
	}{
		{"not an id", "privatelink.file.core.windows.net", "", "", "is not a private DNS zone's id"},
		{"another type", "/subscriptions/" + testSub + "/resourceGroups/hub/providers/Microsoft.Network/dnszones/privatelink.file.core.windows.net", "", "", "is not a private DNS zone's id"},
		{"no group", "/subscriptions/" + testSub + "/resourceGroups//providers/Microsoft.Network/privateDnsZones/privatelink.file.core.windows.net", "", "", "is not a private DNS zone's id"},
		{"blob zone for Premium", good + "privatelink.blob.core.windows.net", "", "", "resolves through zone privatelink.file.core.windows.net"},
		{"file zone for Standard", good + "privatelink.file.core.windows.net", nfs.Standard, "", "resolves through zone privatelink.blob.core.windows.net"},
		{"service endpoint", good + "privatelink.file.core.windows.net", "", ServiceEndpoint, "is for --network private-endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := aztest.New(t)
			_, err := newManager(t, f, nil).Create(context.Background(), createOpts(premium, func(o *CreateOptions) {
				o.PrivateDNSZoneID, o.Tier, o.Network = tc.id, tc.tier, tc.network
			}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var ue *clierr.UsageError
			assert.ErrorAs(t, err, &ue)
			assert.Empty(t, f.Calls())
		})
	}
	// Case of the fixed segments does not matter (ARM ignores it).
	require.NoError(t, createOpts(premium, func(o *CreateOptions) {
		o.PrivateDNSZoneID = "/SUBSCRIPTIONS/" + testSub + "/resourcegroups/hub/providers/microsoft.network/privatednszones/privatelink.file.core.windows.net"
	}).Validate())
}
