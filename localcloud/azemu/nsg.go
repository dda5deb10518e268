package azemu

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// Network security groups: how Azure evaluates them, and what that does to a
// VM's SSH. Source: "How network security groups filter network traffic"
// and "Network security groups" (learn.microsoft.com/azure/virtual-network/
// network-security-group-how-it-works, .../network-security-groups-overview):
//
//   - inbound, the NSG of the subnet is evaluated first, then the NSG of the
//     NIC; traffic passes only if both allow it (a missing NSG allows all);
//   - within an NSG, rules (securityRules and defaultSecurityRules) are
//     processed by priority, lowest number first; the first rule that matches
//     decides, and processing stops;
//   - the default inbound rules are AllowVnetInBound (65000),
//     AllowAzureLoadBalancerInBound (65001) and DenyAllInBound (65500);
//   - a rule's source and destination are `*`, a service tag (VirtualNetwork,
//     Internet, AzureLoadBalancer, ...), a CIDR range or a single address;
//     ports are `*`, a port, or a range "20-30", or lists of these;
//   - inbound rules see the VM's private address as the destination: the
//     public IP is translated before the NSG (the same pages).
//
// And from "Public IP addresses" (learn.microsoft.com/azure/virtual-network/
// ip-services/public-ip-addresses, SKU): a Standard public IP is secure by
// default and closed to inbound traffic unless an NSG allows it; a Basic one
// is open when no NSG is associated.
//
// Azure applies an NSG change within seconds; the emulator applies it at
// once, in the az call that made it.

func init() {
	register("network nsg show", locked(nsgShow))
	register("network nsg rule list", locked(nsgRuleList))
	register("network nsg rule show", locked(nsgRuleShow))
	register("network nsg rule delete", locked(nsgRuleDelete))
	register("network nsg rule update", locked(nsgRuleUpdate))
	register("network nic update", locked(nicUpdate))
}

// defaultCallerIP is the caller's public address without AZEMU_CALLER_IP: a
// documentation address (RFC 5737 TEST-NET-3), never a real one.
const defaultCallerIP = "203.0.113.7"

// callerIP is the public address the az caller (and its ssh) comes from.
func callerIP(env Env) (net.IP, error) {
	v := orDefault(env("AZEMU_CALLER_IP"), defaultCallerIP)
	ip := net.ParseIP(v).To4()
	if ip == nil {
		return nil, cliError("azemu: AZEMU_CALLER_IP=%q is not an IPv4 address", v)
	}
	return ip, nil
}

// inboundFlow is one inbound connection as an NSG sees it.
type inboundFlow struct {
	protocol string       // "Tcp"
	src      net.IP       // the caller's public address
	dst      net.IP       // the VM's private address
	dstPort  int          // 22 for SSH
	vnet     []*net.IPNet // the VNet's address space: the VirtualNetwork tag
}

// nsgVerdict evaluates an NSG's inbound rules for f: whether it allows the
// flow, and the name of the rule that decided.
func nsgVerdict(nsg map[string]any, f inboundFlow) (bool, string) {
	var rules []map[string]any
	for _, key := range []string{"securityRules", "defaultSecurityRules"} {
		for _, r := range list(nsg, key) {
			if rm, ok := r.(map[string]any); ok && strings.EqualFold(str(rm, "direction"), "Inbound") {
				rules = append(rules, rm)
			}
		}
	}
	sort.SliceStable(rules, func(i, j int) bool { return priority(rules[i]) < priority(rules[j]) })
	for _, r := range rules {
		if ruleMatches(r, f) {
			return strings.EqualFold(str(r, "access"), "Allow"), str(r, "name")
		}
	}
	return false, "" // unreachable with the default rules in place
}

// priority reads a rule's priority: a float64 from a stored record, an int
// from one just built.
func priority(r map[string]any) float64 {
	switch p := get(r, "priority").(type) {
	case float64:
		return p
	case int:
		return float64(p)
	}
	return 0
}

func ruleMatches(r map[string]any, f inboundFlow) bool {
	if p := str(r, "protocol"); p != "*" && !strings.EqualFold(p, f.protocol) {
		return false
	}
	return anyOf(r, "sourceAddressPrefix", func(p string) bool { return addressMatches(p, f.src, f.vnet) }) &&
		anyOf(r, "destinationAddressPrefix", func(p string) bool { return addressMatches(p, f.dst, f.vnet) }) &&
		anyOf(r, "destinationPortRange", func(p string) bool { return portMatches(p, f.dstPort) })
	// The source port of a client is ephemeral; every rule azlin's VMs meet
	// has source port `*`, and so do the ones the emulator's tests make.
}

// anyOf applies match to a rule's singular field, or to each entry of its
// plural list ("...Prefixes", "...Ranges") when the list is used instead.
func anyOf(r map[string]any, single string, match func(string) bool) bool {
	plural := single + "s" // ...Range → ...Ranges
	if strings.HasSuffix(single, "Prefix") {
		plural = single + "es"
	}
	if items := list(r, plural); len(items) > 0 {
		for _, it := range items {
			if s, ok := it.(string); ok && match(s) {
				return true
			}
		}
		return false
	}
	return match(str(r, single))
}

// addressMatches matches one address prefix of a rule: `*`, a CIDR range, a
// single address, or the service tags that can describe a caller on the
// internet or the VM itself. Other service tags (Storage, AzureCloud, ...)
// name Azure's own ranges, which the caller is not in.
func addressMatches(prefix string, ip net.IP, vnet []*net.IPNet) bool {
	inVnet := false
	for _, n := range vnet {
		inVnet = inVnet || n.Contains(ip)
	}
	switch strings.ToLower(prefix) {
	case "*", "any":
		return true
	case "virtualnetwork":
		return inVnet
	case "internet":
		return !inVnet
	}
	if _, n, err := net.ParseCIDR(prefix); err == nil {
		return n.Contains(ip)
	}
	if a := net.ParseIP(prefix); a != nil {
		return a.Equal(ip)
	}
	return false
}

// portMatches matches "*", "22" or "20-30".
func portMatches(r string, port int) bool {
	if r == "*" {
		return true
	}
	lo, hi, isRange := strings.Cut(r, "-")
	a, err := strconv.Atoi(strings.TrimSpace(lo))
	if err != nil {
		return false
	}
	b := a
	if isRange {
		if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
			return false
		}
	}
	return a <= port && port <= b
}

// sshDecision is whether the caller at src reaches the VM's sshd on its
// public IP, and why.
func (c *cmdCtx) sshDecision(vm map[string]any, src net.IP) (bool, string, error) {
	nics := list(vm, "networkProfile", "networkInterfaces")
	if len(nics) == 0 {
		return false, "the VM has no network interface", nil
	}
	nic, err := c.st.get(str(nics[0].(map[string]any), "id"))
	if err != nil || nic == nil {
		return false, "the VM's network interface is gone", err
	}
	cfgs := list(nic, "ipConfigurations")
	if len(cfgs) == 0 {
		return false, "the NIC has no IP configuration", nil
	}
	cfg := cfgs[0].(map[string]any)
	pip, err := c.st.get(str(cfg, "publicIPAddress", "id"))
	if err != nil {
		return false, "", err
	}
	if pip == nil {
		return false, "the VM has no public IP address", nil
	}
	subnet, err := c.st.get(str(cfg, "subnet", "id"))
	if err != nil {
		return false, "", err
	}
	f := inboundFlow{protocol: "Tcp", src: src, dst: net.ParseIP(str(cfg, "privateIPAddress")), dstPort: 22}
	if subnet != nil {
		vrg, names := parseID(str(subnet, "id"))
		if v, _ := c.st.get(resID(vrg, vnetType, names["virtualnetworks"])); v != nil {
			for _, p := range list(v, "addressSpace", "addressPrefixes") {
				if _, n, err := net.ParseCIDR(fmt.Sprint(p)); err == nil {
					f.vnet = append(f.vnet, n)
				}
			}
		}
	}
	var nsgs []map[string]any // subnet first, then NIC: Azure's inbound order
	for _, id := range []string{str(subnet, "networkSecurityGroup", "id"), str(nic, "networkSecurityGroup", "id")} {
		if id == "" {
			continue
		}
		n, err := c.st.get(id)
		if err != nil {
			return false, "", err
		}
		if n != nil {
			nsgs = append(nsgs, n)
		}
	}
	if len(nsgs) == 0 {
		if strings.EqualFold(str(pip, "sku", "name"), "Basic") {
			return true, "no NSG on the subnet or NIC, and a Basic public IP is open", nil
		}
		return false, "no NSG on the subnet or NIC, and a Standard public IP is closed to inbound traffic unless an NSG allows it", nil
	}
	for _, n := range nsgs {
		if ok, rule := nsgVerdict(n, f); !ok {
			return false, fmt.Sprintf("NSG %s denies TCP 22 from %s (rule %s)", str(n, "name"), src, rule), nil
		}
	}
	return true, fmt.Sprintf("the NSGs allow TCP 22 from %s", src), nil
}

// callerRecord keeps the caller address the stored SSH decisions were made
// for (an emulator record, outside every resource group).
const callerRecord = "/azemu/caller"

// followCaller re-decides SSH for every VM when a call comes from another
// caller address than the last one (AZEMU_CALLER_IP changed, as a user's
// public address does): an NSG rule lets addresses in, not az calls, so on
// Azure the new address is dropped or let in at once. The caller holds the
// lock.
func (c *cmdCtx) followCaller() error {
	src, err := callerIP(c.env)
	if err != nil {
		return err
	}
	rec, err := c.st.get(callerRecord)
	if err != nil || (rec != nil && str(rec, "ip") == src.String()) {
		return err
	}
	if err := c.st.put(callerRecord, map[string]any{"ip": src.String()}); err != nil {
		return err
	}
	return c.refreshSSH(allResources)
}

// allResources, given to refreshSSH, re-decides every VM.
const allResources = "*"

// refreshSSH re-decides SSH for every VM that one of the changed resources
// (a VM, NIC, subnet, NSG or public IP id) bears on, with the caller address
// of this call, stores the decision with that address in the VM's record,
// and brings the firewall in line. The caller holds the lock.
func (c *cmdCtx) refreshSSH(changed ...string) error {
	src, err := callerIP(c.env)
	if err != nil {
		return err
	}
	vms, err := c.st.listAllGroups("providers/" + vmType)
	if err != nil {
		return err
	}
	for _, vm := range vms {
		if !c.bearsOn(vm, changed) {
			continue
		}
		ok, why, err := c.sshDecision(vm, src)
		if err != nil {
			return err
		}
		emu(vm)["ssh"] = map[string]any{"allowed": ok, "callerIp": src.String(), "reason": why}
		if err := c.st.put(str(vm, "id"), vm); err != nil {
			return err
		}
	}
	return c.syncFirewall()
}

// bearsOn tells whether any changed id is the VM or a resource its SSH
// decision reads.
func (c *cmdCtx) bearsOn(vm map[string]any, changed []string) bool {
	ids := []string{str(vm, "id")}
	for _, n := range list(vm, "networkProfile", "networkInterfaces") {
		nic, _ := c.st.get(str(n.(map[string]any), "id"))
		if nic == nil {
			continue
		}
		ids = append(ids, str(nic, "id"), str(nic, "networkSecurityGroup", "id"))
		for _, cfg := range list(nic, "ipConfigurations") {
			cm := cfg.(map[string]any)
			ids = append(ids, str(cm, "publicIPAddress", "id"), str(cm, "subnet", "id"))
			if s, _ := c.st.get(str(cm, "subnet", "id")); s != nil {
				ids = append(ids, str(s, "networkSecurityGroup", "id"))
			}
		}
	}
	for _, id := range ids {
		for _, ch := range changed {
			if ch == allResources || id != "" && strings.EqualFold(id, ch) {
				return true
			}
		}
	}
	return false
}

// syncFirewall makes the firewall drop SSH to every VM whose stored decision
// denies it. Without hosts there is no sshd to guard. The caller holds the
// lock.
func (c *cmdCtx) syncFirewall() error {
	if !hostsOn(c.env) {
		return nil
	}
	vms, err := c.st.listAllGroups("providers/" + vmType)
	if err != nil {
		return err
	}
	var denied []string
	for _, vm := range vms {
		if allowed, ok := get(emu(vm), "ssh", "allowed").(bool); ok && !allowed && str(emu(vm), "ip") != "" {
			denied = append(denied, str(emu(vm), "ip"))
		}
	}
	return firewallSet(c.st.dir, denied)
}

// nsgView is an NSG as ARM returns it: with the NICs and subnets it is
// associated with (read-only properties ARM fills in).
func (c *cmdCtx) nsgView(n map[string]any) (map[string]any, error) {
	out := view(n)
	id := str(n, "id")
	nics, err := c.st.listAllGroups("providers/" + nicType)
	if err != nil {
		return nil, err
	}
	var nicRefs, subnetRefs []any
	for _, nic := range nics {
		if strings.EqualFold(str(nic, "networkSecurityGroup", "id"), id) {
			nicRefs = append(nicRefs, ref(str(nic, "id"), str(nic, "resourceGroup")))
		}
	}
	vnets, err := c.st.listAllGroups("providers/" + vnetType)
	if err != nil {
		return nil, err
	}
	for _, v := range vnets {
		subs, err := c.st.list(str(v, "id") + "/subnets")
		if err != nil {
			return nil, err
		}
		for _, s := range subs {
			if strings.EqualFold(str(s, "networkSecurityGroup", "id"), id) {
				subnetRefs = append(subnetRefs, ref(str(s, "id"), str(s, "resourceGroup")))
			}
		}
	}
	if nicRefs != nil {
		out["networkInterfaces"] = nicRefs
	}
	if subnetRefs != nil {
		out["subnets"] = subnetRefs
	}
	return out, nil
}

func (c *cmdCtx) nsg() (map[string]any, error) {
	n, _, err := c.resource(c.rgOr(), nsgType, c.idOr("--name", "networkSecurityGroups"))
	return n, err
}

func nsgShow(c *cmdCtx) (any, error) {
	n, err := c.nsg()
	if err != nil {
		return nil, err
	}
	return c.nsgView(n)
}

// ruleNSG is the NSG named by a rule command's --nsg-name.
func (c *cmdCtx) ruleNSG() (map[string]any, error) {
	n, _, err := c.resource(c.rgOr(), nsgType, c.idOr("--nsg-name", "networkSecurityGroups"))
	return n, err
}

// nsgRuleList prints the NSG's own rules, and with --include-default its
// default rules after them (az's list_nsg_rules).
func nsgRuleList(c *cmdCtx) (any, error) {
	n, err := c.ruleNSG()
	if err != nil {
		return nil, err
	}
	out := append([]any{}, list(n, "securityRules")...)
	if c.inv.flag("--include-default") {
		out = append(out, list(n, "defaultSecurityRules")...)
	}
	return out, nil
}

func (c *cmdCtx) findRule(n map[string]any, name string) (map[string]any, int) {
	for i, r := range list(n, "securityRules") {
		if rm := r.(map[string]any); strings.EqualFold(str(rm, "name"), name) {
			return rm, i
		}
	}
	return nil, -1
}

func nsgRuleShow(c *cmdCtx) (any, error) {
	n, err := c.ruleNSG()
	if err != nil {
		return nil, err
	}
	name := c.idOr("--name", "securityRules")
	r, _ := c.findRule(n, name)
	if r == nil {
		return nil, notFound(nsgType+"/"+str(n, "name")+"/securityRules", name, str(n, "resourceGroup"))
	}
	return r, nil
}

// nsgRuleDelete removes a rule; a missing rule is a no-op, as ARM's 204.
func nsgRuleDelete(c *cmdCtx) (any, error) {
	n, err := c.ruleNSG()
	if err != nil {
		return nil, err
	}
	_, i := c.findRule(n, c.idOr("--name", "securityRules"))
	if i < 0 {
		return nil, nil
	}
	rules := list(n, "securityRules")
	n["securityRules"] = append(append([]any{}, rules[:i]...), rules[i+1:]...)
	n["etag"] = networkEtag()
	if err := c.st.put(str(n, "id"), n); err != nil {
		return nil, err
	}
	return nil, c.refreshSSH(str(n, "id"))
}

// ruleLists are a security rule's fields that hold one value or a list: ARM
// keeps one of them in the singular field, several in the plural one.
var ruleLists = []struct{ opt, single, plural string }{
	{"--source-address-prefixes", "sourceAddressPrefix", "sourceAddressPrefixes"},
	{"--destination-address-prefixes", "destinationAddressPrefix", "destinationAddressPrefixes"},
	{"--source-port-ranges", "sourcePortRange", "sourcePortRanges"},
	{"--destination-port-ranges", "destinationPortRange", "destinationPortRanges"},
}

// nsgRuleUpdate changes the options given and keeps the rest, as az 2.74's
// NSGRuleUpdate (network/custom.py) does around ARM's GET and PUT: a list
// option REPLACES the field's values (pre_instance_update moves a singular
// value into the plural list, the option then sets the list), and
// post_instance_update puts a list of one back into the singular field.
// The PUT meets ARM's checks as a create does: priority bounds and
// conflicts, then Azure Policy; a missing rule is ARM's 404 of the GET.
func nsgRuleUpdate(c *cmdCtx) (any, error) {
	n, err := c.ruleNSG()
	if err != nil {
		return nil, err
	}
	if c.inv.has("--add") {
		return nil, cliError("azemu: 'az network nsg rule update --add' is not emulated (use the rule's own options or --set)")
	}
	name := c.idOr("--name", "securityRules")
	old, i := c.findRule(n, name)
	if old == nil {
		return nil, notFound(nsgType+"/"+str(n, "name")+"/securityRules", name, str(n, "resourceGroup"))
	}
	r := map[string]any{}
	for k, v := range old {
		r[k] = v
	}
	for _, f := range ruleLists {
		if !c.inv.has(f.opt) {
			continue
		}
		v := c.inv.list(f.opt)
		delete(r, f.single)
		r[f.plural] = []any{}
		if len(v) == 1 {
			r[f.single] = v[0]
		} else {
			r[f.plural] = toAny(v)
		}
	}
	for opt, field := range map[string]string{"--access": "access", "--description": "description",
		"--direction": "direction", "--protocol": "protocol"} {
		if c.inv.has(opt) {
			r[field] = c.inv.str(opt)
		}
	}
	if err := genericUpdate(r, c.inv.list("--set"), c.inv.list("--remove")); err != nil {
		return nil, err
	}
	prioValue := fmt.Sprint(int(priority(r)))
	if c.inv.has("--priority") {
		prioValue = c.inv.str("--priority")
	}
	prio, prioErr := rulePriority(n, str(r, "name"), prioValue, str(r, "direction"))
	if prioErr == nil {
		r["priority"] = prio
	}
	r["etag"] = networkEtag()
	if err := c.checkPolicy(r); err != nil {
		return nil, err
	}
	if prioErr != nil {
		return nil, prioErr
	}
	rules := append([]any{}, list(n, "securityRules")...)
	rules[i] = r
	n["securityRules"] = rules
	n["etag"] = networkEtag()
	if err := c.st.put(str(n, "id"), n); err != nil {
		return nil, err
	}
	if err := c.refreshSSH(str(n, "id")); err != nil {
		return nil, err
	}
	return r, nil
}

// nicUpdate supports --network-security-group NAME|ID (attach) and "" (detach).
func nicUpdate(c *cmdCtx) (any, error) {
	n, id, err := c.resource(c.rgOr(), nicType, c.idOr("--name", "networkInterfaces"))
	if err != nil {
		return nil, err
	}
	if c.inv.has("--network-security-group") {
		nsg := c.inv.str("--network-security-group")
		if nsg == "" {
			delete(n, "networkSecurityGroup")
		} else {
			nsgID := nsg
			if !strings.HasPrefix(nsg, "/") {
				nsgID = resID(str(n, "resourceGroup"), nsgType, nsg)
			}
			rec, err := c.st.get(nsgID)
			if err != nil {
				return nil, err
			}
			if rec == nil {
				nrg, names := parseID(nsgID)
				return nil, notFound(nsgType, names["networksecuritygroups"], nrg)
			}
			n["networkSecurityGroup"] = ref(str(rec, "id"), str(rec, "resourceGroup"))
		}
	}
	if err := genericUpdate(n, c.inv.list("--set"), c.inv.list("--remove")); err != nil {
		return nil, err
	}
	n["etag"] = networkEtag()
	if err := c.st.put(id, n); err != nil {
		return nil, err
	}
	if err := c.refreshSSH(id); err != nil {
		return nil, err
	}
	return view(n), nil
}

// rulePriority parses --priority and keeps Azure's bounds: 100 to 4096
// ("Network security groups", security rules: Priority), and one rule per
// priority and direction in an NSG. The error texts are ARM's, naming the
// existing rule first (as in public reports of these errors).
func rulePriority(n map[string]any, name, value, direction string) (int, error) {
	p, err := strconv.Atoi(value)
	if err != nil || p < 100 || p > 4096 {
		return 0, armError("SecurityRuleInvalidPriority", fmt.Sprintf(
			"Security rule has invalid Priority. Value provided: %s Allowed range 100-4096.", value))
	}
	for _, r := range list(n, "securityRules") {
		rm := r.(map[string]any)
		if !strings.EqualFold(str(rm, "name"), name) && int(priority(rm)) == p && strings.EqualFold(str(rm, "direction"), direction) {
			return 0, armError("SecurityRuleConflict", fmt.Sprintf(
				"Security rule %s conflicts with rule %s. Rules cannot have the same Priority and Direction.",
				str(rm, "name"), name))
		}
	}
	return p, nil
}
