package azemu

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
)

// How an NSG filters inbound traffic ("How network security groups filter
// network traffic", learn.microsoft.com/azure/virtual-network/
// network-security-group-how-it-works): by priority, lowest first, first
// match decides; default rules allow the VNet and deny the rest.

func rule(name, access string, prio int, src, ports string, more map[string]any) map[string]any {
	r := map[string]any{"name": name, "access": access, "direction": "Inbound", "priority": float64(prio),
		"protocol": "Tcp", "sourceAddressPrefix": src, "destinationAddressPrefix": "*", "destinationPortRange": ports}
	for k, v := range more {
		r[k] = v
	}
	return r
}

func withRules(rules ...map[string]any) map[string]any {
	n := newNSG("rg", "n", "eastus", map[string]any{})
	var list []any
	for _, r := range rules {
		list = append(list, r)
	}
	n["securityRules"] = list
	return n
}

func TestNSGVerdict(t *testing.T) {
	_, vnet, _ := net.ParseCIDR("10.0.0.0/16")
	flow := inboundFlow{protocol: "Tcp", src: net.ParseIP("203.0.113.7"), dst: net.ParseIP("10.0.0.4"), dstPort: 22,
		vnet: []*net.IPNet{vnet}}
	verdict := func(n map[string]any) string {
		ok, by := nsgVerdict(n, flow)
		return map[bool]string{true: "allow ", false: "deny "}[ok] + by
	}
	cases := []struct {
		name string
		nsg  map[string]any
		want string
	}{
		{"no rules: DenyAllInBound", withRules(), "deny DenyAllInBound"},
		{"any source", withRules(rule("a", "Allow", 1000, "*", "22", nil)), "allow a"},
		{"the caller's /32", withRules(rule("a", "Allow", 1000, "203.0.113.7/32", "22", nil)), "allow a"},
		{"the caller's address alone", withRules(rule("a", "Allow", 1000, "203.0.113.7", "22", nil)), "allow a"},
		{"another /32", withRules(rule("a", "Allow", 1000, "198.51.100.1/32", "22", nil)), "deny DenyAllInBound"},
		{"Internet tag", withRules(rule("a", "Allow", 1000, "Internet", "22", nil)), "allow a"},
		{"VirtualNetwork tag is not the caller", withRules(rule("a", "Allow", 1000, "VirtualNetwork", "22", nil)), "deny DenyAllInBound"},
		{"other port", withRules(rule("a", "Allow", 1000, "*", "80", nil)), "deny DenyAllInBound"},
		{"port range", withRules(rule("a", "Allow", 1000, "*", "20-30", nil)), "allow a"},
		{"port *", withRules(rule("a", "Allow", 1000, "*", "*", nil)), "allow a"},
		{"port list", withRules(rule("a", "Allow", 1000, "*", "", map[string]any{"destinationPortRanges": []any{"80", "22"}})), "allow a"},
		{"prefix list", withRules(rule("a", "Allow", 1000, "", "22", map[string]any{"sourceAddressPrefixes": []any{"198.51.100.0/24", "203.0.113.0/24"}})), "allow a"},
		{"udp only", withRules(rule("a", "Allow", 1000, "*", "22", map[string]any{"protocol": "Udp"})), "deny DenyAllInBound"},
		{"outbound rule", withRules(rule("a", "Allow", 1000, "*", "22", map[string]any{"direction": "Outbound"})), "deny DenyAllInBound"},
		{"lower number first: deny wins", withRules(rule("allow", "Allow", 300, "*", "22", nil), rule("deny", "Deny", 200, "203.0.113.7/32", "22", nil)), "deny deny"},
		{"lower number first: allow wins", withRules(rule("allow", "Allow", 150, "*", "22", nil), rule("deny", "Deny", 200, "203.0.113.7/32", "22", nil)), "allow allow"},
		{"destination is the private address", withRules(rule("a", "Allow", 1000, "*", "22", map[string]any{"destinationAddressPrefix": "10.0.0.4"})), "allow a"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, verdict(tc.nsg), tc.name)
	}
}
