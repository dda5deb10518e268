package azemu

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

const (
	accountType   = "Microsoft.Storage/storageAccounts"
	shareType     = "Microsoft.Storage/storageAccounts/fileServices/shares"
	containerType = "Microsoft.Storage/storageAccounts/blobServices/containers"
)

func init() {
	register("storage account create", accountCreate)
	register("storage account show", locked(accountShowCmd))
	register("storage account list", locked(accountList))
	register("storage account update", locked(accountUpdate))
	register("storage account delete", accountDelete)
	register("storage account check-name", locked(accountCheckName))
	register("storage account network-rule add", locked(networkRuleAdd))
	register("storage account network-rule list", locked(networkRuleList))
	register("storage account network-rule remove", locked(networkRuleRemove))
	register("storage share-rm create", locked(shareCreate))
	register("storage share-rm show", locked(shareShow))
	register("storage share-rm list", locked(shareList))
	register("storage share-rm delete", shareDelete)
	register("storage share-rm stats", shareStats)
	register("storage container-rm create", locked(containerCreate))
	register("storage container-rm show", locked(containerShow))
	register("storage container-rm delete", containerDelete)
}

var (
	accountNameRE = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	shareNameRE   = regexp.MustCompile(`^[a-z0-9]([a-z0-9]|-[a-z0-9]){2,62}$`)
)

// findAccount looks a storage account up by name across every group (names
// are unique in the whole emulated cloud, as in Azure).
func (c *cmdCtx) findAccount(name string) (map[string]any, error) {
	all, err := c.st.listAllGroups("providers/" + accountType)
	if err != nil {
		return nil, err
	}
	for _, a := range all {
		if strings.EqualFold(str(a, "name"), name) {
			return a, nil
		}
	}
	return nil, nil
}

// account returns a storage account by group and name; without a group, az
// first looks the group up and fails with its own message when it cannot.
func (c *cmdCtx) account(rg, name string) (map[string]any, error) {
	if rg == "" {
		a, err := c.findAccount(name)
		if err != nil {
			return nil, err
		}
		if a == nil {
			return nil, cliError("Storage account '%s' not found.", name)
		}
		return a, nil
	}
	a, _, err := c.resource(rg, accountType, name)
	return a, err
}

func accountCreate(c *cmdCtx) (any, error) {
	inv := c.inv
	// No warning about blob public access: az 2.45 printed one when
	// --allow-blob-public-access was not given, az 2.74 does not
	// (az-shapes/2.74/storage-account-create-409.json).
	unlock, err := c.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	rg, name := inv.str("--resource-group"), inv.str("--name")
	g, err := c.group(rg)
	if err != nil {
		return nil, err
	}
	rg = str(g, "name")
	if !accountNameRE.MatchString(name) {
		return nil, armError("AccountNameInvalid", fmt.Sprintf("%s is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only.", name))
	}
	existing, err := c.findAccount(name)
	if err != nil {
		return nil, err
	}
	if existing != nil && !strings.EqualFold(str(existing, "resourceGroup"), rg) {
		return nil, armError("StorageAccountAlreadyTaken", fmt.Sprintf("The storage account named %s is already taken.", name))
	}
	kind := orDefault(inv.str("--kind"), "StorageV2")
	sku := orDefault(inv.str("--sku"), "Standard_RAGRS")
	loc := orDefault(normLocation(inv.str("--location")), str(g, "location"))
	a := existing
	if a == nil {
		a = newAccount(rg, name, loc, kind, sku)
	}
	if b := inv.boolOpt("--https-only"); b != nil {
		a["enableHttpsTrafficOnly"] = *b
	}
	if b := inv.boolOpt("--enable-hierarchical-namespace"); b != nil {
		a["isHnsEnabled"] = *b
	}
	if b := inv.boolOpt("--enable-nfs-v3"); b != nil {
		a["enableNfsV3"] = *b
	}
	if b := inv.boolOpt("--allow-blob-public-access"); b != nil {
		a["allowBlobPublicAccess"] = *b
	}
	if b := inv.boolOpt("--allow-shared-key-access"); b != nil {
		a["allowSharedKeyAccess"] = *b
	}
	if b := inv.boolOpt("--enable-large-file-share"); b != nil && *b {
		a["largeFileSharesState"] = "Enabled"
	}
	if v := inv.str("--min-tls-version"); v != "" {
		a["minimumTlsVersion"] = v
	}
	if v := inv.str("--access-tier"); v != "" {
		a["accessTier"] = v
	}
	if v := inv.str("--public-network-access"); v != "" {
		a["publicNetworkAccess"] = v
	}
	if inv.has("--tags") {
		a["tags"] = parseTags(inv.list("--tags"))
	}
	rules := get(a, "networkRuleSet").(map[string]any)
	if v := inv.str("--default-action"); v != "" {
		rules["defaultAction"] = v
	}
	if v := inv.str("--bypass"); v != "" {
		rules["bypass"] = v
	}
	if inv.has("--subnet") || inv.has("--vnet-name") {
		subnetID, err := c.subnetArg(rg, inv.str("--subnet"), inv.str("--vnet-name"))
		if err != nil {
			return nil, err
		}
		if err := c.addVnetRule(a, subnetID, orDefault(inv.str("--action"), "Allow")); err != nil {
			return nil, err
		}
	}
	if err := checkNFSv3(a); err != nil {
		return nil, err
	}
	if err := checkV2Kind(a); err != nil {
		return nil, err
	}
	if err := c.checkPolicy(a); err != nil {
		return nil, err
	}
	if err := c.st.put(str(a, "id"), a); err != nil {
		return nil, err
	}
	return view(a), nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// normLocation turns "East US" into "eastus", as ARM does.
func normLocation(l string) string { return strings.ToLower(strings.ReplaceAll(l, " ", "")) }

// checkNFSv3 enforces Blob NFS 3.0's requirements: a hierarchical namespace,
// LRS or ZRS, and a firewall that denies by default.
func checkNFSv3(a map[string]any) error {
	if get(a, "enableNfsV3") != true {
		return nil
	}
	sku := str(a, "sku", "name")
	if get(a, "isHnsEnabled") != true || !(strings.HasSuffix(sku, "_LRS") || strings.HasSuffix(sku, "_ZRS")) ||
		!(str(a, "kind") == "StorageV2" || str(a, "kind") == "BlockBlobStorage") {
		return armError("InvalidRequestPropertyValue", "The value 'True' is not allowed for property isNfsv3Enabled.")
	}
	if str(a, "networkRuleSet", "defaultAction") != "Deny" {
		return armError("NetworkAclsDefaultActionMisconfigured", "The default action of network ACLs must be Deny for an account with NFS v3 enabled.")
	}
	return nil
}

// newAccount builds a storage account record in the shape az prints
// (az-shapes/storage-account-show.json): every field, null when absent.
func newAccount(rg, name, loc, kind, sku string) map[string]any {
	now := nowStamp()
	tier := "Standard"
	if strings.HasPrefix(sku, "Premium") {
		tier = "Premium"
	}
	ep := func(svc string) string { return "https://" + name + "." + svc + ".core.windows.net/" }
	endpoints := map[string]any{"blob": nil, "dfs": nil, "file": nil, "internetEndpoints": nil,
		"microsoftEndpoints": nil, "queue": nil, "table": nil, "web": nil}
	var accessTier any
	switch kind {
	case "FileStorage":
		endpoints["file"] = ep("file")
	case "BlockBlobStorage":
		endpoints["blob"], endpoints["dfs"], endpoints["web"] = ep("blob"), ep("dfs"), "https://"+name+".z13.web.core.windows.net/"
	default:
		for _, s := range []string{"blob", "dfs", "file", "queue", "table"} {
			endpoints[s] = ep(s)
		}
		endpoints["web"] = "https://" + name + ".z13.web.core.windows.net/"
		if kind != "Storage" {
			accessTier = "Hot"
		}
	}
	var largeFiles any
	if kind == "FileStorage" {
		largeFiles = "Enabled"
	}
	var secondary any
	var secondaryStatus any
	if strings.Contains(sku, "GRS") || strings.Contains(sku, "GZRS") {
		secondary, secondaryStatus = pairedRegion(loc), "available"
	}
	service := map[string]any{"enabled": true, "keyType": "Account", "lastEnabledTime": now}
	return map[string]any{
		"accessTier":                            accessTier,
		"accountMigrationInProgress":            nil,
		"allowBlobPublicAccess":                 false,
		"allowCrossTenantReplication":           false,
		"allowSharedKeyAccess":                  nil,
		"allowedCopyScope":                      nil,
		"azureFilesIdentityBasedAuthentication": nil,
		"blobRestoreStatus":                     nil,
		"creationTime":                          now,
		"customDomain":                          nil,
		"defaultToOAuthAuthentication":          nil,
		"dnsEndpointType":                       nil,
		"enableExtendedGroups":                  nil,
		"enableHttpsTrafficOnly":                true,
		"enableNfsV3":                           nil,
		"encryption": map[string]any{
			"encryptionIdentity": nil, "keySource": "Microsoft.Storage", "keyVaultProperties": nil,
			"requireInfrastructureEncryption": nil,
			"services":                        map[string]any{"blob": service, "file": service, "queue": nil, "table": nil},
		},
		"extendedLocation":               nil,
		"failoverInProgress":             nil,
		"geoReplicationStats":            nil,
		"id":                             resID(rg, accountType, name),
		"identity":                       nil,
		"immutableStorageWithVersioning": nil,
		"isHnsEnabled":                   nil,
		"isLocalUserEnabled":             nil,
		"isSkuConversionBlocked":         nil,
		"isSftpEnabled":                  nil,
		"keyCreationTime":                map[string]any{"key1": now, "key2": now},
		"keyPolicy":                      nil,
		"kind":                           kind,
		"largeFileSharesState":           largeFiles,
		"lastGeoFailoverTime":            nil,
		"location":                       loc,
		"minimumTlsVersion":              "TLS1_2",
		"name":                           name,
		"networkRuleSet": map[string]any{
			"bypass": "AzureServices", "defaultAction": "Allow", "ipRules": []any{},
			"resourceAccessRules": nil, "virtualNetworkRules": []any{},
		},
		"primaryEndpoints":                  endpoints,
		"primaryLocation":                   loc,
		"privateEndpointConnections":        []any{},
		"provisioningState":                 "Succeeded",
		"publicNetworkAccess":               nil,
		"resourceGroup":                     rg,
		"routingPreference":                 nil,
		"sasPolicy":                         nil,
		"secondaryEndpoints":                nil,
		"secondaryLocation":                 secondary,
		"sku":                               map[string]any{"name": sku, "tier": tier},
		"statusOfPrimary":                   "available",
		"statusOfSecondary":                 secondaryStatus,
		"storageAccountSkuConversionStatus": nil,
		"tags":                              map[string]any{},
		"type":                              accountType,
	}
}

func pairedRegion(loc string) string {
	pairs := map[string]string{"eastus": "westus", "westus": "eastus", "eastus2": "centralus", "centralus": "eastus2",
		"westus2": "westcentralus", "northeurope": "westeurope", "westeurope": "northeurope"}
	if p, ok := pairs[loc]; ok {
		return p
	}
	return loc
}

func accountShowCmd(c *cmdCtx) (any, error) {
	a, err := c.account(c.rgOr(), c.idOr("--name", "storageAccounts"))
	if err != nil {
		return nil, err
	}
	return view(a), nil
}

func accountList(c *cmdCtx) (any, error) {
	var all []map[string]any
	var err error
	if rg := c.inv.str("--resource-group"); rg != "" {
		g, err := c.group(rg)
		if err != nil {
			return nil, err
		}
		all, err = c.st.list(collectionID(str(g, "name"), accountType))
		if err != nil {
			return nil, err
		}
	} else if all, err = c.st.listAllGroups("providers/" + accountType); err != nil {
		return nil, err
	}
	out := []any{}
	for _, a := range all {
		out = append(out, view(a))
	}
	return out, nil
}

func accountUpdate(c *cmdCtx) (any, error) {
	inv := c.inv
	a, err := c.account(c.rgOr(), c.idOr("--name", "storageAccounts"))
	if err != nil {
		return nil, err
	}
	if b := inv.boolOpt("--https-only"); b != nil {
		a["enableHttpsTrafficOnly"] = *b
	}
	if b := inv.boolOpt("--allow-blob-public-access"); b != nil {
		a["allowBlobPublicAccess"] = *b
	}
	if b := inv.boolOpt("--allow-shared-key-access"); b != nil {
		a["allowSharedKeyAccess"] = *b
	}
	if v := inv.str("--default-action"); v != "" {
		a["networkRuleSet"].(map[string]any)["defaultAction"] = v
	}
	if v := inv.str("--bypass"); v != "" {
		a["networkRuleSet"].(map[string]any)["bypass"] = v
	}
	if v := inv.str("--min-tls-version"); v != "" {
		a["minimumTlsVersion"] = v
	}
	if v := inv.str("--public-network-access"); v != "" {
		a["publicNetworkAccess"] = v
	}
	if v := inv.str("--access-tier"); v != "" {
		a["accessTier"] = v
	}
	if v := inv.str("--sku"); v != "" {
		a["sku"].(map[string]any)["name"] = v
	}
	if inv.has("--tags") {
		a["tags"] = parseTags(inv.list("--tags"))
	}
	if err := genericUpdate(a, inv.list("--set"), inv.list("--remove")); err != nil {
		return nil, err
	}
	if err := checkNFSv3(a); err != nil {
		return nil, err
	}
	if err := checkV2Kind(a); err != nil {
		return nil, err
	}
	if err := c.checkPolicy(a); err != nil {
		return nil, err
	}
	if err := c.st.put(str(a, "id"), a); err != nil {
		return nil, err
	}
	return view(a), nil
}

// accountDelete removes an account, its shares' and containers' files and
// child records. Deleting a missing account succeeds, as ARM's 204 does.
func accountDelete(c *cmdCtx) (any, error) {
	name := c.idOr("--name", "storageAccounts")
	if err := c.confirm(fmt.Sprintf("The storage account '%s' will be permanently deleted. Are you sure?", name)); err != nil {
		return nil, err
	}
	unlock, err := c.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	a, err := c.account(c.rgOr(), name)
	if e, ok := err.(*azError); ok && e.exit == 3 && strings.Contains(e.stderr, "(ResourceNotFound)") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	os.RemoveAll(filepath.Dir(c.st.shareDir(name, "x")))
	os.RemoveAll(filepath.Dir(c.st.containerDir(name, "x")))
	return nil, c.st.del(str(a, "id"))
}

func accountCheckName(c *cmdCtx) (any, error) {
	name := c.inv.str("--name")
	if !accountNameRE.MatchString(name) {
		return map[string]any{"message": fmt.Sprintf("%s is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only.", name),
			"nameAvailable": false, "reason": "AccountNameInvalid"}, nil
	}
	a, err := c.findAccount(name)
	if err != nil {
		return nil, err
	}
	if a != nil {
		return map[string]any{"message": fmt.Sprintf("The storage account named %s is already taken.", name),
			"nameAvailable": false, "reason": "AlreadyExists"}, nil
	}
	return map[string]any{"message": nil, "nameAvailable": true, "reason": nil}, nil
}

// subnetArg resolves az's "--subnet ID | --subnet NAME --vnet-name NAME"
// (the VNet in the given group) to a subnet id.
func (c *cmdCtx) subnetArg(rg, subnet, vnet string) (string, error) {
	isID := strings.HasPrefix(subnet, "/subscriptions/")
	if isID && vnet == "" {
		return subnet, nil
	}
	if subnet != "" && !isID && vnet != "" {
		return resID(rg, vnetType, vnet) + "/subnets/" + subnet, nil
	}
	return "", cliError("incorrect usage: [--subnet ID | --subnet NAME --vnet-name NAME]")
}

// addVnetRule adds (or replaces) a virtual-network rule; Azure refuses a
// subnet without the Microsoft.Storage service endpoint. The default action
// is left alone, as in Azure.
func (c *cmdCtx) addVnetRule(a map[string]any, subnetID, action string) error {
	sub, err := c.st.get(subnetID)
	if err != nil {
		return err
	}
	rg, names := parseID(subnetID)
	vnetID := resID(rg, vnetType, names["virtualnetworks"])
	if sub == nil {
		return armError("NetworkAclsValidationFailure", fmt.Sprintf(
			"Validation of network acls failure: SubnetsNotFound:Subnets %s of virtual network %s do not exist.", names["subnets"], vnetID))
	}
	if !hasServiceEndpoint(sub, "Microsoft.Storage") {
		return armError("NetworkAclsValidationFailure", fmt.Sprintf(
			"Validation of network acls failure: SubnetsHaveNoServiceEndpointsConfigured:Subnets %s of virtual network %s do not have ServiceEndpoints for Microsoft.Storage resources configured. Add Microsoft.Storage to subnet's ServiceEndpoints collection before trying to ACL Microsoft.Storage resources to these subnets..",
			str(sub, "name"), vnetID))
	}
	rules := a["networkRuleSet"].(map[string]any)
	var kept []any
	for _, r := range list(rules, "virtualNetworkRules") {
		if !strings.EqualFold(str(r.(map[string]any), "virtualNetworkResourceId"), subnetID) {
			kept = append(kept, r)
		}
	}
	kept = append(kept, map[string]any{"action": action, "state": "Succeeded", "virtualNetworkResourceId": str(sub, "id")})
	rules["virtualNetworkRules"] = kept
	return nil
}

func hasServiceEndpoint(subnet map[string]any, service string) bool {
	for _, e := range list(subnet, "serviceEndpoints") {
		if strings.EqualFold(str(e.(map[string]any), "service"), service) {
			return true
		}
	}
	return false
}

func networkRuleAdd(c *cmdCtx) (any, error) {
	a, err := c.account(c.inv.str("--resource-group"), c.inv.str("--account-name"))
	if err != nil {
		return nil, err
	}
	rg := str(a, "resourceGroup")
	if c.inv.has("--subnet") {
		subnetID, err := c.subnetArg(rg, c.inv.str("--subnet"), c.inv.str("--vnet-name"))
		if err != nil {
			return nil, err
		}
		if err := c.addVnetRule(a, subnetID, orDefault(c.inv.str("--action"), "Allow")); err != nil {
			return nil, err
		}
	}
	if ip := c.inv.str("--ip-address"); ip != "" {
		rules := a["networkRuleSet"].(map[string]any)
		var kept []any
		for _, r := range list(rules, "ipRules") {
			if str(r.(map[string]any), "ipAddressOrRange") != ip {
				kept = append(kept, r)
			}
		}
		rules["ipRules"] = append(kept, map[string]any{"action": orDefault(c.inv.str("--action"), "Allow"), "ipAddressOrRange": ip})
	}
	if err := c.checkPolicy(a); err != nil {
		return nil, err
	}
	if err := c.st.put(str(a, "id"), a); err != nil {
		return nil, err
	}
	return view(a), nil
}

func networkRuleList(c *cmdCtx) (any, error) {
	a, err := c.account(c.inv.str("--resource-group"), c.inv.str("--account-name"))
	if err != nil {
		return nil, err
	}
	rules := a["networkRuleSet"].(map[string]any)
	return map[string]any{"ipRules": rules["ipRules"], "resourceAccessRules": rules["resourceAccessRules"],
		"virtualNetworkRules": rules["virtualNetworkRules"]}, nil
}

func networkRuleRemove(c *cmdCtx) (any, error) {
	a, err := c.account(c.inv.str("--resource-group"), c.inv.str("--account-name"))
	if err != nil {
		return nil, err
	}
	rules := a["networkRuleSet"].(map[string]any)
	if subnet := c.inv.str("--subnet"); subnet != "" {
		if c.inv.has("--vnet-name") {
			subnet, err = c.subnetArg(str(a, "resourceGroup"), subnet, c.inv.str("--vnet-name"))
			if err != nil {
				return nil, err
			}
		}
		kept := []any{}
		for _, r := range list(rules, "virtualNetworkRules") {
			if !strings.HasSuffix(str(r.(map[string]any), "virtualNetworkResourceId"), subnet) {
				kept = append(kept, r)
			}
		}
		rules["virtualNetworkRules"] = kept
	}
	if ip := c.inv.str("--ip-address"); ip != "" {
		kept := []any{}
		for _, r := range list(rules, "ipRules") {
			if str(r.(map[string]any), "ipAddressOrRange") != ip {
				kept = append(kept, r)
			}
		}
		rules["ipRules"] = kept
	}
	if err := c.checkPolicy(a); err != nil {
		return nil, err
	}
	if err := c.st.put(str(a, "id"), a); err != nil {
		return nil, err
	}
	return view(a), nil
}

// --- file shares --------------------------------------------------------

func checkChildName(name, what string) error {
	if !shareNameRE.MatchString(name) {
		return armError("InvalidInput", fmt.Sprintf("The specified %s name '%s' is invalid. It must be 3-63 characters of lowercase letters, digits and hyphens, start and end with a letter or digit, and not contain two consecutive hyphens.", what, name))
	}
	return nil
}

func shareID(a map[string]any, share string) string {
	return str(a, "id") + "/fileServices/default/shares/" + share
}

// shareEtag is the "0x8D..." form Azure Storage gives shares.
func shareEtag() string {
	return fmt.Sprintf(`"0x8D%013X"`, now().UnixNano()/100&0xFFFFFFFFFFFFF)
}

func shareCreate(c *cmdCtx) (any, error) {
	inv := c.inv
	a, err := c.account(inv.str("--resource-group"), inv.str("--storage-account"))
	if err != nil {
		return nil, err
	}
	name := inv.str("--name")
	if err := checkChildName(name, "share"); err != nil {
		return nil, err
	}
	premium := str(a, "kind") == "FileStorage"
	proto := orDefault(inv.str("--enabled-protocols"), "SMB")
	if proto == "NFS" && !premium {
		return nil, armError("FeatureNotSupportedForAccount", "NfsFileShares is not supported for the account.")
	}
	v2 := provisionedV2(a)
	quota := 5120
	if premium {
		quota = 100
	}
	if v2 {
		// Not documented for v2 (azlin always passes --quota): v1's default.
		quota = 100
	}
	if q := inv.str("--quota"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil {
			return nil, argError("argument --quota/-q: invalid int value: '%s'", q)
		}
		quota = n
	}
	lo, hi := 1, 102400
	if premium {
		lo = 100
	}
	if v2 {
		lo, hi = v2MinGiB, v2MaxGiB
	}
	if quota < lo || quota > hi {
		return nil, armError("InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.")
	}
	iops, mibps, iopsSet, mibpsSet, err := c.performanceFlags(a)
	if err != nil {
		return nil, err
	}
	if !iopsSet {
		iops = v2RecommendedIOPS(quota)
	}
	if !mibpsSet {
		mibps = v2RecommendedMiBps(quota)
	}
	id := shareID(a, name)
	if old, err := c.st.get(id); err != nil {
		return nil, err
	} else if old != nil {
		return nil, armError("ShareAlreadyExists", "The specified share already exists.")
	}
	tier := inv.str("--access-tier")
	if tier == "" {
		tier = "TransactionOptimized"
		if premium {
			tier = "Premium"
		}
	}
	var rootSquash any
	if proto == "NFS" {
		rootSquash = orDefault(inv.str("--root-squash"), "NoRootSquash")
	}
	var metadata any
	if inv.has("--metadata") {
		metadata = parseTags(inv.list("--metadata"))
	}
	s := map[string]any{
		"accessTier": tier, "accessTierChangeTime": nil, "accessTierStatus": nil,
		"deleted": nil, "deletedTime": nil, "enabledProtocols": proto, "etag": shareEtag(),
		"id": id, "lastModifiedTime": now().Format("2006-01-02T15:04:05") + "+00:00",
		"leaseDuration": nil, "leaseState": "available", "leaseStatus": "unlocked",
		"metadata": metadata, "name": name, "remainingRetentionDays": nil,
		"resourceGroup": str(a, "resourceGroup"), "rootSquash": rootSquash, "shareQuota": quota,
		"shareUsageBytes": nil, "signedIdentifiers": nil, "snapshotTime": nil,
		"type": shareType, "version": nil,
	}
	if v2 {
		setV2Provisioning(s, iops, mibps)
		setNextDowngrades(s)
	}
	if err := os.MkdirAll(c.st.shareDir(str(a, "name"), name), 0o777); err != nil {
		return nil, err
	}
	if err := c.st.put(id, s); err != nil {
		return nil, err
	}
	return view(s), nil
}

// shareRecord finds a share, with ARM's errors for a missing account or share.
func (c *cmdCtx) shareRecord() (map[string]any, map[string]any, error) {
	acct := c.idOr("--storage-account", "storageAccounts")
	a, err := c.account(c.rgOr(), acct)
	if err != nil {
		return nil, nil, err
	}
	name := c.idOr("--name", "shares")
	s, err := c.st.get(shareID(a, name))
	if err != nil {
		return nil, nil, err
	}
	if s == nil {
		return a, nil, notFound("Microsoft.Storage/storageAccounts/"+str(a, "name")+"/fileServices/default/shares", name, str(a, "resourceGroup"))
	}
	return a, s, nil
}

func shareShow(c *cmdCtx) (any, error) {
	a, s, err := c.shareRecord()
	if err != nil {
		return nil, err
	}
	v := view(s)
	if v["signedIdentifiers"] == nil {
		v["signedIdentifiers"] = []any{}
	}
	// --expand stats adds the bytes used, as ARM's $expand=stats does.
	if strings.Contains(c.inv.str("--expand"), "stats") {
		v["shareUsageBytes"] = float64(dirBytes(c.st.shareDir(str(a, "name"), str(s, "name"))))
	}
	return v, nil
}

func shareList(c *cmdCtx) (any, error) {
	a, err := c.account(c.inv.str("--resource-group"), c.inv.str("--storage-account"))
	if err != nil {
		return nil, err
	}
	all, err := c.st.list(str(a, "id") + "/fileServices/default/shares")
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, s := range all {
		out = append(out, view(s))
	}
	return out, nil
}

func shareDelete(c *cmdCtx) (any, error) {
	if err := c.confirm("This operation will delete the share and all its contents. Are you sure?"); err != nil {
		return nil, err
	}
	unlock, err := c.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	a, s, err := c.shareRecord()
	if err != nil {
		if a != nil {
			return nil, nil // a missing share: ARM answers 204
		}
		return nil, err
	}
	os.RemoveAll(c.st.shareDir(str(a, "name"), str(s, "name")))
	return nil, c.st.del(str(s, "id"))
}

// shareStats prints the bytes the share's files use, as a bare number.
func shareStats(c *cmdCtx) (any, error) {
	unlock, err := c.lock()
	if err != nil {
		return nil, err
	}
	a, s, err := c.shareRecord()
	unlock()
	if err != nil {
		return nil, err
	}
	return float64(dirBytes(c.st.shareDir(str(a, "name"), str(s, "name")))), nil
}

// dirBytes sums the sizes of the regular files under dir.
func dirBytes(dir string) int64 {
	var n int64
	walkFiles(dir, func(info os.FileInfo) { n += info.Size() })
	return n
}

// walkFiles calls f for each regular file under dir.
func walkFiles(dir string, f func(os.FileInfo)) {
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			f(info)
		}
		return nil
	})
}

// --- blob containers ----------------------------------------------------

func containerID(a map[string]any, name string) string {
	return str(a, "id") + "/blobServices/default/containers/" + name
}

func containerCreate(c *cmdCtx) (any, error) {
	a, err := c.account(c.inv.str("--resource-group"), c.inv.str("--storage-account"))
	if err != nil {
		return nil, err
	}
	if str(a, "kind") == "FileStorage" {
		return nil, armError("FeatureNotSupportedForAccount", "Blob is not supported for the account.")
	}
	name := c.inv.str("--name")
	if err := checkChildName(name, "container"); err != nil {
		return nil, err
	}
	id := containerID(a, name)
	if old, err := c.st.get(id); err != nil {
		return nil, err
	} else if old != nil {
		if c.inv.flag("--fail-on-exist") {
			return nil, armError("ContainerAlreadyExists", "The specified container already exists.")
		}
		return view(old), nil
	}
	var metadata any
	if c.inv.has("--metadata") {
		metadata = parseTags(c.inv.list("--metadata"))
	}
	rec := map[string]any{
		"defaultEncryptionScope": "$account-encryption-key", "deleted": nil, "deletedTime": nil,
		"denyEncryptionScopeOverride": false, "enableNfsV3AllSquash": nil, "enableNfsV3RootSquash": nil,
		"etag": shareEtag(), "hasImmutabilityPolicy": false, "hasLegalHold": false, "id": id,
		"immutabilityPolicy": nil, "immutableStorageWithVersioning": nil,
		"lastModifiedTime": now().Format("2006-01-02T15:04:05") + "+00:00",
		"leaseDuration":    nil, "leaseState": "Available", "leaseStatus": "Unlocked", "legalHold": nil,
		"metadata": metadata, "name": name, "publicAccess": orDefault(c.inv.str("--public-access"), "None"),
		"remainingRetentionDays": nil, "resourceGroup": str(a, "resourceGroup"), "type": containerType, "version": nil,
	}
	if err := os.MkdirAll(c.st.containerDir(str(a, "name"), name), 0o777); err != nil {
		return nil, err
	}
	if err := c.st.put(id, rec); err != nil {
		return nil, err
	}
	return view(rec), nil
}

func (c *cmdCtx) containerRecord() (map[string]any, map[string]any, error) {
	a, err := c.account(c.rgOr(), c.idOr("--storage-account", "storageAccounts"))
	if err != nil {
		return nil, nil, err
	}
	name := c.idOr("--name", "containers")
	rec, err := c.st.get(containerID(a, name))
	if err != nil {
		return nil, nil, err
	}
	if rec == nil {
		return a, nil, armError("ContainerNotFound", "The specified container does not exist.")
	}
	return a, rec, nil
}

func containerShow(c *cmdCtx) (any, error) {
	_, rec, err := c.containerRecord()
	if err != nil {
		return nil, err
	}
	return view(rec), nil
}

func containerDelete(c *cmdCtx) (any, error) {
	if err := c.confirm("Are you sure you want to perform this operation?"); err != nil {
		return nil, err
	}
	unlock, err := c.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	a, rec, err := c.containerRecord()
	if err != nil {
		if a != nil {
			return nil, nil
		}
		return nil, err
	}
	os.RemoveAll(c.st.containerDir(str(a, "name"), str(rec, "name")))
	return nil, c.st.del(str(rec, "id"))
}

// genericUpdate applies az's generic --set a.b=c and --remove a.b to a record.
func genericUpdate(rec map[string]any, sets, removes []string) error {
	for _, s := range sets {
		path, value, ok := strings.Cut(s, "=")
		if !ok {
			return cliError("usage error: --set property.path=value")
		}
		keys := strings.Split(path, ".")
		m := rec
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[keys[len(keys)-1]] = parseSetValue(value)
	}
	for _, r := range removes {
		keys := strings.Split(r, ".")
		m := rec
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				m = nil
				break
			}
			m = next
		}
		if m != nil {
			delete(m, keys[len(keys)-1])
		}
	}
	return nil
}

// parseSetValue reads a --set value as az does: JSON objects, lists,
// booleans and null are decoded, anything else stays text.
func parseSetValue(v string) any {
	switch v {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") {
		var x any
		if json.Unmarshal([]byte(v), &x) == nil {
			return x
		}
	}
	return v
}
