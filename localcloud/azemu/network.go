package azemu

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Network commands print only the keys a resource has (AAZ style), unlike
// storage and VM commands, which print every field with nulls.

const (
	vnetType      = "Microsoft.Network/virtualNetworks"
	subnetType    = "Microsoft.Network/virtualNetworks/subnets"
	nsgType       = "Microsoft.Network/networkSecurityGroups"
	nicType       = "Microsoft.Network/networkInterfaces"
	publicIPType  = "Microsoft.Network/publicIPAddresses"
	peType        = "Microsoft.Network/privateEndpoints"
	dnsZoneType   = "Microsoft.Network/privateDnsZones"
	dnsLinkType   = "Microsoft.Network/privateDnsZones/virtualNetworkLinks"
	privateLinkFS = "privatelink.file.core.windows.net"
)

func init() {
	register("network vnet create", locked(vnetCreate))
	register("network vnet show", locked(vnetShow))
	register("network vnet list", locked(vnetList))
	register("network vnet subnet create", locked(subnetCreate))
	register("network vnet subnet show", locked(subnetShow))
	register("network vnet subnet list", locked(subnetList))
	register("network vnet subnet update", locked(subnetUpdate))
	register("network nsg create", locked(nsgCreate))
	register("network nsg rule create", locked(nsgRuleCreate))
	register("network private-endpoint create", locked(peCreate))
	register("network private-endpoint show", locked(peShow))
	register("network private-endpoint delete", locked(peDelete))
	register("network private-dns zone create", locked(dnsZoneCreate))
	register("network private-dns zone show", locked(dnsZoneShow))
	register("network private-dns link vnet create", locked(dnsLinkCreate))
	register("network private-dns link vnet show", locked(dnsLinkShow))
	register("network private-endpoint dns-zone-group create", locked(dnsZoneGroupCreate))
	register("network nic show", locked(nicShow))
	register("network nic delete", locked(nicDelete))
	register("network public-ip show", locked(publicIPShow))
	register("network public-ip delete", locked(publicIPDelete))
}

func ref(id, rg string) map[string]any { return map[string]any{"id": id, "resourceGroup": rg} }

// --- virtual networks and subnets ----------------------------------------

func newVnet(rg, name, loc string, prefixes []string, tags map[string]any) map[string]any {
	return map[string]any{
		"addressSpace": map[string]any{"addressPrefixes": toAny(prefixes)}, "enableDdosProtection": false,
		"etag": networkEtag(), "id": resID(rg, vnetType, name), "location": loc, "name": name,
		"provisioningState": "Succeeded", "resourceGroup": rg, "resourceGuid": newUUID(), "subnets": []any{},
		"tags": tags, "type": vnetType, "virtualNetworkPeerings": []any{},
	}
}

func newSubnet(vnetID, rg, name, prefix string) map[string]any {
	return map[string]any{
		"addressPrefix": prefix, "delegations": []any{}, "etag": networkEtag(), "id": vnetID + "/subnets/" + name,
		"name": name, "privateEndpointNetworkPolicies": "Disabled", "privateLinkServiceNetworkPolicies": "Enabled",
		"provisioningState": "Succeeded", "resourceGroup": rg, "type": subnetType,
	}
}

func toAny(ss []string) []any {
	out := make([]any, 0, len(ss))
	for _, s := range ss {
		out = append(out, s)
	}
	return out
}

// vnetView is a VNet with its subnets, as az prints it.
func (c *cmdCtx) vnetView(v map[string]any) (map[string]any, error) {
	subs, err := c.st.list(str(v, "id") + "/subnets")
	if err != nil {
		return nil, err
	}
	out := view(v)
	list := []any{}
	for _, s := range subs {
		list = append(list, view(s))
	}
	out["subnets"] = list
	return out, nil
}

func vnetCreate(c *cmdCtx) (any, error) {
	inv := c.inv
	g, err := c.group(inv.str("--resource-group"))
	if err != nil {
		return nil, err
	}
	rg, name := str(g, "name"), inv.str("--name")
	prefixes := inv.list("--address-prefixes")
	if len(prefixes) == 0 {
		prefixes = []string{"10.0.0.0/16"}
	}
	loc := orDefault(normLocation(inv.str("--location")), str(g, "location"))
	v, err := c.st.get(resID(rg, vnetType, name))
	if err != nil {
		return nil, err
	}
	if v == nil {
		v = newVnet(rg, name, loc, prefixes, parseTags(inv.list("--tags")))
	} else {
		v["addressSpace"] = map[string]any{"addressPrefixes": toAny(prefixes)}
	}
	if err := c.st.put(str(v, "id"), v); err != nil {
		return nil, err
	}
	if sn := inv.str("--subnet-name"); sn != "" {
		sp := inv.list("--subnet-prefixes")
		if len(sp) == 0 {
			sp = []string{"10.0.0.0/24"}
		}
		s := newSubnet(str(v, "id"), rg, sn, sp[0])
		if err := c.st.put(str(s, "id"), s); err != nil {
			return nil, err
		}
	}
	out, err := c.vnetView(v)
	if err != nil {
		return nil, err
	}
	return map[string]any{"newVNet": out}, nil
}

func (c *cmdCtx) vnet(rg, name string) (map[string]any, error) {
	v, _, err := c.resource(rg, vnetType, name)
	return v, err
}

func vnetShow(c *cmdCtx) (any, error) {
	v, err := c.vnet(c.rgOr(), c.idOr("--name", "virtualNetworks"))
	if err != nil {
		return nil, err
	}
	return c.vnetView(v)
}

func vnetList(c *cmdCtx) (any, error) {
	var all []map[string]any
	var err error
	if rg := c.inv.str("--resource-group"); rg != "" {
		g, gerr := c.group(rg)
		if gerr != nil {
			return nil, gerr
		}
		all, err = c.st.list(collectionID(str(g, "name"), vnetType))
	} else {
		all, err = c.st.listAllGroups("providers/" + vnetType)
	}
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, v := range all {
		vv, err := c.vnetView(v)
		if err != nil {
			return nil, err
		}
		out = append(out, vv)
	}
	return out, nil
}

func subnetCreate(c *cmdCtx) (any, error) {
	inv := c.inv
	v, err := c.vnet(inv.str("--resource-group"), inv.str("--vnet-name"))
	if err != nil {
		return nil, err
	}
	prefixes := inv.list("--address-prefixes")
	if len(prefixes) == 0 {
		return nil, cliError("usage error: --address-prefixes is required")
	}
	s := newSubnet(str(v, "id"), str(v, "resourceGroup"), inv.str("--name"), prefixes[0])
	if old, err := c.st.get(str(s, "id")); err != nil {
		return nil, err
	} else if old != nil {
		s = old
		s["addressPrefix"] = prefixes[0]
	}
	c.applySubnetOptions(s, str(v, "location"))
	if err := c.st.put(str(s, "id"), s); err != nil {
		return nil, err
	}
	if err := c.refreshSSH(str(s, "id")); err != nil {
		return nil, err
	}
	return view(s), nil
}

// applySubnetOptions sets what subnet create and update share. The service
// endpoint list is REPLACED by --service-endpoints, as in Azure.
func (c *cmdCtx) applySubnetOptions(s map[string]any, loc string) {
	inv := c.inv
	if inv.has("--service-endpoints") {
		var eps []any
		for _, svc := range inv.list("--service-endpoints") {
			if svc == "" {
				continue
			}
			locs := []any{loc}
			if svc == "Microsoft.Storage" && pairedRegion(loc) != loc {
				locs = append(locs, pairedRegion(loc))
			}
			eps = append(eps, map[string]any{"locations": locs, "provisioningState": "Succeeded", "service": svc})
		}
		if len(eps) == 0 {
			delete(s, "serviceEndpoints")
		} else {
			s["serviceEndpoints"] = eps
		}
	}
	if b := inv.boolOpt("--disable-private-endpoint-network-policies"); b != nil {
		s["privateEndpointNetworkPolicies"] = map[bool]string{true: "Disabled", false: "Enabled"}[*b]
	}
	if nsg := inv.str("--network-security-group"); nsg == "" && inv.has("--network-security-group") {
		delete(s, "networkSecurityGroup") // az: "" detaches the subnet's NSG
	} else if nsg != "" {
		id := nsg
		if !strings.HasPrefix(nsg, "/") {
			id = resID(str(s, "resourceGroup"), nsgType, nsg)
		}
		s["networkSecurityGroup"] = ref(id, str(s, "resourceGroup"))
	}
	s["etag"] = networkEtag()
}

// subnet returns a subnet record with ARM's not-found errors.
func (c *cmdCtx) subnet(rg, vnet, name string) (map[string]any, error) {
	v, err := c.vnet(rg, vnet)
	if err != nil {
		return nil, err
	}
	s, err := c.st.get(str(v, "id") + "/subnets/" + name)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, notFound(vnetType+"/"+str(v, "name")+"/subnets", name, rg)
	}
	return s, nil
}

func subnetShow(c *cmdCtx) (any, error) {
	s, err := c.subnet(c.rgOr(), c.idOr("--vnet-name", "virtualNetworks"), c.idOr("--name", "subnets"))
	if err != nil {
		return nil, err
	}
	return view(s), nil
}

func subnetList(c *cmdCtx) (any, error) {
	v, err := c.vnet(c.inv.str("--resource-group"), c.inv.str("--vnet-name"))
	if err != nil {
		return nil, err
	}
	vv, err := c.vnetView(v)
	if err != nil {
		return nil, err
	}
	return vv["subnets"], nil
}

func subnetUpdate(c *cmdCtx) (any, error) {
	s, err := c.subnet(c.rgOr(), c.idOr("--vnet-name", "virtualNetworks"), c.idOr("--name", "subnets"))
	if err != nil {
		return nil, err
	}
	if p := c.inv.list("--address-prefixes"); len(p) > 0 {
		s["addressPrefix"] = p[0]
	}
	rg, names := parseID(str(s, "id"))
	v, err := c.vnet(rg, names["virtualnetworks"])
	if err != nil {
		return nil, err
	}
	c.applySubnetOptions(s, str(v, "location"))
	if err := genericUpdate(s, c.inv.list("--set"), c.inv.list("--remove")); err != nil {
		return nil, err
	}
	if err := c.st.put(str(s, "id"), s); err != nil {
		return nil, err
	}
	if err := c.refreshSSH(str(s, "id")); err != nil {
		return nil, err
	}
	return view(s), nil
}

// allocateIP takes the next free address of a subnet (Azure reserves the
// first four) and records it in the subnet.
func allocateIP(s map[string]any) (string, error) {
	_, ipnet, err := net.ParseCIDR(str(s, "addressPrefix"))
	if err != nil || ipnet.IP.To4() == nil {
		return "", cliError("azemu: subnet %s has no usable IPv4 prefix", str(s, "name"))
	}
	used := map[string]bool{}
	for _, u := range list(emu(s), "usedIps") {
		used[u.(string)] = true
	}
	base := binary.BigEndian.Uint32(ipnet.IP.To4())
	ones, bits := ipnet.Mask.Size()
	size := uint32(1) << uint(bits-ones)
	for off := uint32(4); off+1 < size; off++ {
		ip := make(net.IP, 4)
		binary.BigEndian.PutUint32(ip, base+off)
		if !used[ip.String()] {
			emu(s)["usedIps"] = append(list(emu(s), "usedIps"), ip.String())
			return ip.String(), nil
		}
	}
	return "", armError("SubnetIsFull", fmt.Sprintf("Subnet %s with address prefix %s does not have enough capacity for 1 IP addresses.", str(s, "name"), str(s, "addressPrefix")))
}

func releaseIP(s map[string]any, ip string) {
	var kept []any
	for _, u := range list(emu(s), "usedIps") {
		if u != ip {
			kept = append(kept, u)
		}
	}
	emu(s)["usedIps"] = kept
}

// addRef / dropRef keep a subnet's ipConfigurations and privateEndpoints lists.
func addRef(s map[string]any, key, id, rg string) {
	s[key] = append(list(s, key), ref(id, rg))
}

func dropRef(s map[string]any, key, id string) {
	var kept []any
	for _, r := range list(s, key) {
		if !strings.EqualFold(str(r.(map[string]any), "id"), id) {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 {
		delete(s, key)
	} else {
		s[key] = kept
	}
}

// --- network security groups ---------------------------------------------

func nsgCreate(c *cmdCtx) (any, error) {
	g, err := c.group(c.inv.str("--resource-group"))
	if err != nil {
		return nil, err
	}
	rg := str(g, "name")
	n := newNSG(rg, c.inv.str("--name"), orDefault(normLocation(c.inv.str("--location")), str(g, "location")), parseTags(c.inv.list("--tags")))
	if err := c.checkPolicy(n); err != nil {
		return nil, err
	}
	if err := c.st.put(str(n, "id"), n); err != nil {
		return nil, err
	}
	// A PUT of an existing NSG replaces its rules: SSH may change.
	if err := c.refreshSSH(str(n, "id")); err != nil {
		return nil, err
	}
	out, err := c.nsgView(n)
	if err != nil {
		return nil, err
	}
	return map[string]any{"NewNSG": out}, nil
}

func newNSG(rg, name, loc string, tags map[string]any) map[string]any {
	id := resID(rg, nsgType, name)
	// Names, priorities and descriptions as ARM returns them (azure-cli's
	// recording test_network_nsg.yaml).
	rule := func(n, access, dir, src, dst string, prio int, desc string) map[string]any {
		return map[string]any{
			"access": access, "description": desc, "destinationAddressPrefix": dst, "destinationAddressPrefixes": []any{},
			"destinationPortRange": "*", "destinationPortRanges": []any{}, "direction": dir, "etag": networkEtag(),
			"id": id + "/defaultSecurityRules/" + n, "name": n, "priority": prio, "protocol": "*",
			"provisioningState": "Succeeded", "resourceGroup": rg, "sourceAddressPrefix": src,
			"sourceAddressPrefixes": []any{}, "sourcePortRange": "*", "sourcePortRanges": []any{},
			"type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
		}
	}
	return map[string]any{
		"defaultSecurityRules": []any{
			rule("AllowVnetInBound", "Allow", "Inbound", "VirtualNetwork", "VirtualNetwork", 65000, "Allow inbound traffic from all VMs in VNET"),
			rule("AllowAzureLoadBalancerInBound", "Allow", "Inbound", "AzureLoadBalancer", "*", 65001, "Allow inbound traffic from azure load balancer"),
			rule("DenyAllInBound", "Deny", "Inbound", "*", "*", 65500, "Deny all inbound traffic"),
			rule("AllowVnetOutBound", "Allow", "Outbound", "VirtualNetwork", "VirtualNetwork", 65000, "Allow outbound traffic from all VMs to all VMs in VNET"),
			rule("AllowInternetOutBound", "Allow", "Outbound", "*", "Internet", 65001, "Allow outbound traffic from all VMs to Internet"),
			rule("DenyAllOutBound", "Deny", "Outbound", "*", "*", 65500, "Deny all outbound traffic"),
		},
		"etag": networkEtag(), "id": id, "location": loc, "name": name, "provisioningState": "Succeeded",
		"resourceGroup": rg, "resourceGuid": newUUID(), "securityRules": []any{}, "tags": tags, "type": nsgType,
	}
}

func nsgRuleCreate(c *cmdCtx) (any, error) {
	inv := c.inv
	n, _, err := c.resource(inv.str("--resource-group"), nsgType, inv.str("--nsg-name"))
	if err != nil {
		return nil, err
	}
	rg := str(n, "resourceGroup")
	one := func(alias, def string) (string, []any) {
		v := inv.list(alias)
		switch len(v) {
		case 0:
			return def, []any{}
		case 1:
			return v[0], []any{}
		}
		return "", toAny(v)
	}
	dstPort, dstPorts := one("--destination-port-ranges", "80")
	srcPort, srcPorts := one("--source-port-ranges", "*")
	dstAddr, dstAddrs := one("--destination-address-prefixes", "*")
	srcAddr, srcAddrs := one("--source-address-prefixes", "*")
	// ARM evaluates Azure Policy before the network provider validates the
	// rule, so a denied rule is reported as denied even when its priority
	// is also invalid or taken.
	prio, prioErr := rulePriority(n, inv.str("--name"), inv.str("--priority"), orDefault(inv.str("--direction"), "Inbound"))
	if prioErr != nil {
		prio, _ = strconv.Atoi(inv.str("--priority"))
	}
	r := map[string]any{
		"access": orDefault(inv.str("--access"), "Allow"), "destinationAddressPrefixes": dstAddrs,
		"destinationPortRanges": dstPorts, "direction": orDefault(inv.str("--direction"), "Inbound"),
		"etag": networkEtag(), "id": str(n, "id") + "/securityRules/" + inv.str("--name"), "name": inv.str("--name"),
		"priority": prio, "protocol": orDefault(inv.str("--protocol"), "*"), "provisioningState": "Succeeded",
		"resourceGroup": rg, "sourceAddressPrefixes": srcAddrs, "sourcePortRanges": srcPorts,
		"type": "Microsoft.Network/networkSecurityGroups/securityRules",
	}
	for k, v := range map[string]string{"destinationPortRange": dstPort, "sourcePortRange": srcPort,
		"destinationAddressPrefix": dstAddr, "sourceAddressPrefix": srcAddr, "description": inv.str("--description")} {
		if v != "" {
			r[k] = v
		}
	}
	var kept []any
	for _, x := range list(n, "securityRules") {
		if str(x.(map[string]any), "name") != inv.str("--name") {
			kept = append(kept, x)
		}
	}
	n["securityRules"] = append(kept, r)
	if err := c.checkPolicy(r); err != nil {
		return nil, err
	}
	if prioErr != nil {
		return nil, prioErr
	}
	if err := c.st.put(str(n, "id"), n); err != nil {
		return nil, err
	}
	if err := c.refreshSSH(str(n, "id")); err != nil {
		return nil, err
	}
	return r, nil
}

// --- private endpoints and private DNS --------------------------------------

var storageGroupIDs = []string{"blob", "blob_secondary", "dfs", "dfs_secondary", "file", "queue", "queue_secondary", "table", "table_secondary", "web", "web_secondary"}

func peCreate(c *cmdCtx) (any, error) {
	inv := c.inv
	g, err := c.group(inv.str("--resource-group"))
	if err != nil {
		return nil, err
	}
	rg, name := str(g, "name"), inv.str("--name")
	subnetID, err := c.subnetArg(rg, inv.str("--subnet"), inv.str("--vnet-name"))
	if err != nil {
		return nil, err
	}
	s, err := c.st.get(subnetID)
	if err != nil {
		return nil, err
	}
	if s == nil {
		_, names := parseID(subnetID)
		return nil, notFound(vnetType+"/"+names["virtualnetworks"]+"/subnets", names["subnets"], rg)
	}
	target := inv.str("--private-connection-resource-id")
	a, err := c.st.get(target)
	if err != nil {
		return nil, err
	}
	if a == nil || !strings.EqualFold(str(a, "type"), accountType) {
		trg, names := parseID(target)
		return nil, notFound(accountType, names["storageaccounts"], trg)
	}
	groups := inv.list("--group-ids")
	for _, gid := range groups {
		ok := contains(storageGroupIDs, gid)
		if str(a, "kind") == "FileStorage" && gid != "file" {
			ok = false
		}
		if !ok {
			return nil, armError("PrivateEndpointBadRequest", fmt.Sprintf(
				"Call to Microsoft.Storage/storageAccounts failed. Error message: The specified group id '%s' is not supported.", gid))
		}
	}
	ip, err := allocateIP(s)
	if err != nil {
		return nil, err
	}
	id := resID(rg, peType, name)
	nicName := orDefault(inv.str("--nic-name"), name+".nic."+newUUID())
	nicID := resID(rg, nicType, nicName)
	conn := inv.str("--connection-name")
	etag := networkEtag()
	var dns []any
	for _, gid := range groups {
		dns = append(dns, map[string]any{"fqdn": str(a, "name") + "." + strings.TrimSuffix(gid, "_secondary") + ".core.windows.net", "ipAddresses": []any{ip}})
	}
	pe := map[string]any{
		"customDnsConfigs": dns, "customNetworkInterfaceName": inv.str("--nic-name"), "etag": etag, "id": id,
		"ipConfigurations": []any{}, "location": orDefault(normLocation(inv.str("--location")), str(g, "location")),
		"manualPrivateLinkServiceConnections": []any{}, "name": name,
		"networkInterfaces": []any{ref(nicID, rg)},
		"privateLinkServiceConnections": []any{map[string]any{
			"etag": etag, "groupIds": toAny(groups), "id": id + "/privateLinkServiceConnections/" + conn, "name": conn,
			"privateLinkServiceConnectionState": map[string]any{"actionsRequired": "None", "description": "Auto Approved", "status": "Approved"},
			"privateLinkServiceId":              str(a, "id"), "provisioningState": "Succeeded", "resourceGroup": rg,
			"type": "Microsoft.Network/privateEndpoints/privateLinkServiceConnections",
		}},
		"provisioningState": "Succeeded", "resourceGroup": rg, "subnet": ref(str(s, "id"), str(s, "resourceGroup")),
		"type": peType,
	}
	if inv.has("--tags") {
		pe["tags"] = parseTags(inv.list("--tags"))
	}
	emu(pe)["ip"] = ip
	nic := newNIC(rg, nicName, str(pe, "location"), s, ip, "", "")
	nic["privateEndpoint"] = ref(id, rg)
	addRef(s, "privateEndpoints", id, rg)
	conns := list(a, "privateEndpointConnections")
	a["privateEndpointConnections"] = append(conns, map[string]any{
		"id": str(a, "id") + "/privateEndpointConnections/" + name + "." + newUUID(), "name": name,
		"privateEndpoint":                   ref(id, rg),
		"privateLinkServiceConnectionState": map[string]any{"actionRequired": "None", "description": "Auto-Approved", "status": "Approved"},
		"provisioningState":                 "Succeeded", "resourceGroup": str(a, "resourceGroup"),
		"type": "Microsoft.Storage/storageAccounts/privateEndpointConnections",
	})
	for _, r := range []map[string]any{s, a, nic, pe} {
		if err := c.st.put(str(r, "id"), r); err != nil {
			return nil, err
		}
	}
	return view(pe), nil
}

func peShow(c *cmdCtx) (any, error) {
	pe, _, err := c.resource(c.rgOr(), peType, c.idOr("--name", "privateEndpoints"))
	if err != nil {
		return nil, err
	}
	return view(pe), nil
}

// peDelete removes a private endpoint, its NIC, its subnet reference and the
// storage account's connection. A missing endpoint is a no-op, as ARM's 204.
func peDelete(c *cmdCtx) (any, error) {
	pe, id, err := c.resource(c.rgOr(), peType, c.idOr("--name", "privateEndpoints"))
	if e, ok := err.(*azError); ok && strings.Contains(e.stderr, "(ResourceNotFound)") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if s, _ := c.st.get(str(pe, "subnet", "id")); s != nil {
		dropRef(s, "privateEndpoints", id)
		releaseIP(s, str(emu(pe), "ip"))
		c.st.put(str(s, "id"), s)
	}
	for _, n := range list(pe, "networkInterfaces") {
		c.st.del(str(n.(map[string]any), "id"))
	}
	for _, conn := range list(pe, "privateLinkServiceConnections") {
		if a, _ := c.st.get(str(conn.(map[string]any), "privateLinkServiceId")); a != nil {
			var kept []any
			for _, x := range list(a, "privateEndpointConnections") {
				if !strings.EqualFold(str(x.(map[string]any), "privateEndpoint", "id"), id) {
					kept = append(kept, x)
				}
			}
			if kept == nil {
				kept = []any{}
			}
			a["privateEndpointConnections"] = kept
			c.st.put(str(a, "id"), a)
		}
	}
	return nil, c.st.del(id)
}

func dnsZoneCreate(c *cmdCtx) (any, error) {
	g, err := c.group(c.inv.str("--resource-group"))
	if err != nil {
		return nil, err
	}
	rg, name := str(g, "name"), c.inv.str("--name")
	id := resID(rg, dnsZoneType, name)
	if old, err := c.st.get(id); err != nil {
		return nil, err
	} else if old != nil {
		return nil, armError("PreconditionFailed", fmt.Sprintf("The Zone %s exists already and hence cannot be created again.", name))
	}
	z := map[string]any{
		"etag": newUUID(), "id": id, "internalId": nil, "location": "global",
		"maxNumberOfRecordSets": 25000, "maxNumberOfVirtualNetworkLinks": 1000,
		"maxNumberOfVirtualNetworkLinksWithRegistration": 100, "name": name, "numberOfRecordSets": 1,
		"numberOfVirtualNetworkLinks": 0, "numberOfVirtualNetworkLinksWithRegistration": 0,
		"provisioningState": "Succeeded", "resourceGroup": rg, "tags": parseTags(c.inv.list("--tags")),
		"type": dnsZoneType,
	}
	if err := c.checkPolicy(z); err != nil {
		return nil, err
	}
	if err := c.st.put(id, z); err != nil {
		return nil, err
	}
	return view(z), nil
}

func dnsZoneShow(c *cmdCtx) (any, error) {
	z, _, err := c.resource(c.inv.str("--resource-group"), dnsZoneType, c.inv.str("--name"))
	if err != nil {
		return nil, err
	}
	return view(z), nil
}

func dnsLinkCreate(c *cmdCtx) (any, error) {
	inv := c.inv
	z, zid, err := c.resource(inv.str("--resource-group"), dnsZoneType, inv.str("--zone-name"))
	if err != nil {
		return nil, err
	}
	rg := str(z, "resourceGroup")
	vnetID := inv.str("--virtual-network")
	if !strings.HasPrefix(vnetID, "/") {
		vnetID = resID(rg, vnetType, vnetID)
	}
	if v, err := c.st.get(vnetID); err != nil {
		return nil, err
	} else if v == nil {
		vrg, names := parseID(vnetID)
		return nil, notFound(vnetType, names["virtualnetworks"], vrg)
	}
	if err := checkOneZoneOfANamePerVNet(c, str(z, "name"), zid, vnetID); err != nil {
		return nil, err
	}
	reg := inv.boolOpt("--registration-enabled")
	l := map[string]any{
		"etag": `"` + newUUID() + `"`, "id": zid + "/virtualNetworkLinks/" + inv.str("--name"), "location": "global",
		"name": inv.str("--name"), "provisioningState": "Succeeded", "registrationEnabled": reg != nil && *reg,
		"resourceGroup": rg, "tags": parseTags(inv.list("--tags")), "type": dnsLinkType,
		"virtualNetwork": map[string]any{"id": vnetID}, "virtualNetworkLinkState": "Completed",
		// Default: the link answers NXDOMAIN for names the zone lacks;
		// NxDomainRedirect falls back to public DNS for them.
		"resolutionPolicy": orDefault(inv.str("--resolution-policy"), "Default"),
	}
	if err := c.st.put(str(l, "id"), l); err != nil {
		return nil, err
	}
	links, _ := c.st.list(zid + "/virtualNetworkLinks")
	z["numberOfVirtualNetworkLinks"] = len(links)
	if err := c.st.put(zid, z); err != nil {
		return nil, err
	}
	return view(l), nil
}

// checkOneZoneOfANamePerVNet refuses to link a VNet to a second private DNS
// zone of the same name (in any resource group), as ARM does. Azure Private
// Link FAQ: "Can we link multiple private DNS zones with the same name? No,
// creating multiple zones with the same name for a single virtual network
// is not supported." ARM's answer is BadRequest "A virtual network cannot be
// linked to multiple zones with overlapping namespaces...".
func checkOneZoneOfANamePerVNet(c *cmdCtx, zoneName, zoneID, vnetID string) error {
	links, err := c.st.listAllGroups("providers/" + dnsZoneType + "/" + zoneName + "/virtualNetworkLinks")
	if err != nil {
		return err
	}
	for _, l := range links {
		other, _ := get(l, "virtualNetwork").(map[string]any)
		if strings.EqualFold(str(other, "id"), vnetID) && !strings.HasPrefix(strings.ToLower(str(l, "id")), strings.ToLower(zoneID)+"/") {
			return armError("BadRequest", fmt.Sprintf("A virtual network cannot be linked to multiple zones with overlapping namespaces. "+
				"You tried to link virtual network with '%s' and '%s' zones.", zoneName, zoneName))
		}
	}
	return nil
}

func dnsLinkShow(c *cmdCtx) (any, error) {
	z, zid, err := c.resource(c.inv.str("--resource-group"), dnsZoneType, c.inv.str("--zone-name"))
	if err != nil {
		return nil, err
	}
	l, err := c.st.get(zid + "/virtualNetworkLinks/" + c.inv.str("--name"))
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, notFound(dnsZoneType+"/"+str(z, "name")+"/virtualNetworkLinks", c.inv.str("--name"), str(z, "resourceGroup"))
	}
	return view(l), nil
}

func dnsZoneGroupCreate(c *cmdCtx) (any, error) {
	inv := c.inv
	pe, peID, err := c.resource(inv.str("--resource-group"), peType, inv.str("--endpoint-name"))
	if err != nil {
		return nil, err
	}
	rg := str(pe, "resourceGroup")
	zoneID := inv.str("--private-dns-zone")
	if !strings.HasPrefix(zoneID, "/") {
		zoneID = resID(rg, dnsZoneType, zoneID)
	}
	z, err := c.st.get(zoneID)
	if err != nil {
		return nil, err
	}
	if z == nil {
		zrg, names := parseID(zoneID)
		return nil, notFound(dnsZoneType, names["privatednszones"], zrg)
	}
	var records []any
	for _, d := range list(pe, "customDnsConfigs") {
		dm := d.(map[string]any)
		host := strings.SplitN(str(dm, "fqdn"), ".", 2)[0]
		records = append(records, map[string]any{
			"fqdn": host + "." + str(z, "name") + ".", "ipAddresses": get(dm, "ipAddresses"),
			"provisioningState": "Succeeded", "recordSetName": host, "recordType": "A", "ttl": 10,
		})
	}
	name := inv.str("--name")
	zg := map[string]any{
		"etag": networkEtag(), "id": peID + "/privateDnsZoneGroups/" + name, "name": name,
		"privateDnsZoneConfigs": []any{map[string]any{
			"id":   peID + "/privateDnsZoneGroups/" + name + "/privateDnsZoneConfigs/" + inv.str("--zone-name"),
			"name": inv.str("--zone-name"), "privateDnsZoneId": str(z, "id"), "recordSets": records,
		}},
		"provisioningState": "Succeeded", "resourceGroup": rg,
	}
	if err := c.st.put(str(zg, "id"), zg); err != nil {
		return nil, err
	}
	return view(zg), nil
}

// --- NICs and public IPs --------------------------------------------------

// newNIC builds a network interface in subnet s with a private IP, and
// optionally a public IP and NSG.
func newNIC(rg, name, loc string, s map[string]any, ip, publicIPID, nsgID string) map[string]any {
	id := resID(rg, nicType, name)
	ipcfgName := "ipconfig" + strings.TrimSuffix(name, "VMNic")
	ipcfg := map[string]any{
		"etag": networkEtag(), "id": id + "/ipConfigurations/" + ipcfgName, "name": ipcfgName, "primary": true,
		"privateIPAddress": ip, "privateIPAddressVersion": "IPv4", "privateIPAllocationMethod": "Dynamic",
		"provisioningState": "Succeeded", "resourceGroup": rg,
		"subnet": ref(str(s, "id"), str(s, "resourceGroup")), "type": nicType + "/ipConfigurations",
	}
	if publicIPID != "" {
		ipcfg["publicIPAddress"] = ref(publicIPID, rg)
	}
	nic := map[string]any{
		"dnsSettings": map[string]any{"appliedDnsServers": []any{}, "dnsServers": []any{},
			"internalDomainNameSuffix": internalDNSSuffix(str(s, "id"))},
		"enableAcceleratedNetworking": false, "enableIPForwarding": false, "etag": networkEtag(),
		"hostedWorkloads": []any{}, "id": id, "ipConfigurations": []any{ipcfg}, "location": loc,
		"macAddress": macAddress(), "name": name, "nicType": "Standard", "primary": true,
		"provisioningState": "Succeeded", "resourceGroup": rg, "resourceGuid": newUUID(), "tags": map[string]any{},
		"tapConfigurations": []any{}, "type": nicType, "vnetEncryptionSupported": false,
	}
	if nsgID != "" {
		nic["networkSecurityGroup"] = ref(nsgID, rg)
	}
	return nic
}

// internalDNSSuffix is the suffix of the names Azure-provided DNS gives the
// VMs of a VNet ("Name resolution for resources in Azure virtual networks":
// <vm>.<suffix>), one per VNet; az shows it as the NIC's
// dnsSettings.internalDomainNameSuffix. Its region label is eastus's (bx)
// everywhere: azlin reads no part of it.
func internalDNSSuffix(subnetID string) string {
	vnetID, _, _ := strings.Cut(strings.ToLower(subnetID), "/subnets/")
	sum := sha256.Sum256([]byte(vnetID))
	label := strings.ToLower(base32.StdEncoding.EncodeToString(sum[:]))[:26]
	return label + ".bx.internal.cloudapp.net"
}

func macAddress() string {
	u := strings.ReplaceAll(newUUID(), "-", "")
	return strings.ToUpper(fmt.Sprintf("00-22-48-%s-%s-%s", u[0:2], u[2:4], u[4:6]))
}

func nicShow(c *cmdCtx) (any, error) {
	n, _, err := c.resource(c.rgOr(), nicType, c.idOr("--name", "networkInterfaces"))
	if err != nil {
		return nil, err
	}
	return view(n), nil
}

// nicDelete removes a NIC not attached to a VM; Azure refuses one in use.
func nicDelete(c *cmdCtx) (any, error) {
	n, id, err := c.resource(c.rgOr(), nicType, c.idOr("--name", "networkInterfaces"))
	if e, ok := err.(*azError); ok && strings.Contains(e.stderr, "(ResourceNotFound)") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if vm := str(n, "virtualMachine", "id"); vm != "" {
		if rec, _ := c.st.get(vm); rec != nil {
			return nil, armError("NicInUse", fmt.Sprintf("Network Interface %s is used by existing resource %s. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.", id, vm))
		}
	}
	for _, cfg := range list(n, "ipConfigurations") {
		cm := cfg.(map[string]any)
		if s, _ := c.st.get(str(cm, "subnet", "id")); s != nil {
			dropRef(s, "ipConfigurations", str(cm, "id"))
			releaseIP(s, str(cm, "privateIPAddress"))
			c.st.put(str(s, "id"), s)
		}
		if pip, _ := c.st.get(str(cm, "publicIPAddress", "id")); pip != nil {
			delete(pip, "ipConfiguration")
			c.st.put(str(pip, "id"), pip)
		}
	}
	return nil, c.st.del(id)
}

func publicIPShow(c *cmdCtx) (any, error) {
	p, _, err := c.resource(c.rgOr(), publicIPType, c.idOr("--name", "publicIPAddresses"))
	if err != nil {
		return nil, err
	}
	return view(p), nil
}

func publicIPDelete(c *cmdCtx) (any, error) {
	p, id, err := c.resource(c.rgOr(), publicIPType, c.idOr("--name", "publicIPAddresses"))
	if e, ok := err.(*azError); ok && strings.Contains(e.stderr, "(ResourceNotFound)") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if cfg := str(p, "ipConfiguration", "id"); cfg != "" {
		return nil, armError("PublicIPAddressInUse", fmt.Sprintf("Public IP address %s can not be deleted since it is still allocated to resource %s. In order to delete the public IP, disassociate/detach the Public IP address from the resource.  To learn how to do this, see aka.ms/deletepublicip.", id, cfg))
	}
	return nil, c.st.del(id)
}
