//go:build localcloud

package azemu_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Azure Policy deny rules (AZEMU_POLICY). Semantics per Microsoft's docs:
// "Azure Policy definition structure policy rule" (conditions, fields, value,
// count, policy functions), "Author policies for array properties" ([*]
// aliases, count), "Azure Policy definition structure basics" (mode),
// "Assignment structure" (parameters, enforcementMode), "Deny effect"
// (RequestDisallowedByPolicy). The definitions assigned are real ones, kept in
// testdata/policy (see its README).

const policySubscription = "9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203"

// definition reads a published definition; Enterprise-Scale's files are ARM
// template content, so "[[" becomes "[" as a template deployment does.
func policyDefinitionFile(t *testing.T, file string) any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "policy", file))
	require.NoError(t, err)
	var d any
	require.NoError(t, json.Unmarshal(data, &d))
	var unescape func(v any) any
	unescape = func(v any) any {
		switch x := v.(type) {
		case string:
			if strings.HasPrefix(x, "[[") {
				return x[1:]
			}
		case []any:
			for i := range x {
				x[i] = unescape(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = unescape(x[k])
			}
		}
		return v
	}
	return unescape(d)
}

// assign writes the assignments to a policy file and points AZEMU_POLICY at it.
func (c *cloud) assignPolicies(assignments ...map[string]any) {
	c.t.Helper()
	data, err := json.Marshal(assignments)
	require.NoError(c.t, err)
	path := filepath.Join(c.dir, "policy.json")
	require.NoError(c.t, os.WriteFile(path, data, 0o644))
	c.env["AZEMU_POLICY"] = path
}

func policyEffect(effect string) map[string]any {
	return map[string]any{"effect": map[string]any{"value": effect}}
}

// denied asserts a RequestDisallowedByPolicy failure for resource name by the
// assignment (display name, id).
func assertDenied(t *testing.T, r result, name, assignment, assignmentID string) {
	t.Helper()
	assert.Equal(t, 1, r.code, "a denied write exits 1; stderr: %s", r.stderr)
	assert.Contains(t, r.stderr, "(RequestDisallowedByPolicy) Resource '"+name+"' was disallowed by policy. Policy identifiers: '[{\"policyAssignment\":{\"name\":\""+assignment+"\",\"id\":\""+assignmentID+"\"}")
	assert.Contains(t, r.stderr, "\nCode: RequestDisallowedByPolicy\nMessage: Resource '"+name+"' was disallowed by policy.")
	assert.Contains(t, r.stderr, "\nTarget: "+name+"\nAdditional Information:Type: PolicyViolation\nInfo: {")
}

func policyAssignmentID(name string) string {
	return "/subscriptions/" + policySubscription + "/providers/Microsoft.Authorization/policyAssignments/" + name
}

func TestPolicyDeniesStorageAccountWithoutSecureTransfer(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	c.assignPolicies(map[string]any{"name": "secure-transfer", "displayName": "Require secure transfer",
		"parameters": policyEffect("Deny"), "policyDefinition": policyDefinitionFile(t, "Storage_AuditForHTTPSEnabled_Audit.json")})

	r := c.run("storage", "account", "create", "-g", "rg", "-n", "insecure1", "--https-only", "false", "--only-show-errors")
	ids := `[{"policyAssignment":{"name":"Require secure transfer","id":"` + policyAssignmentID("secure-transfer") + `"},` +
		`"policyDefinition":{"name":"Secure transfer to storage accounts should be enabled","id":"/providers/Microsoft.Authorization/policyDefinitions/404c3081-a854-4457-ae30-26a93ef643f9","version":"2.0.0"}}]`
	msg := "Resource 'insecure1' was disallowed by policy. Policy identifiers: '" + ids + "'."
	assert.Equal(t, "ERROR: (RequestDisallowedByPolicy) "+msg+"\nCode: RequestDisallowedByPolicy\nMessage: "+msg+
		"\nTarget: insecure1\nAdditional Information:Type: PolicyViolation\nInfo: {\n"+
		`    "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/404c3081-a854-4457-ae30-26a93ef643f9",`+"\n"+
		`    "policyDefinitionName": "404c3081-a854-4457-ae30-26a93ef643f9",`+"\n"+
		`    "policyDefinitionDisplayName": "Secure transfer to storage accounts should be enabled",`+"\n"+
		`    "policyDefinitionVersion": "2.0.0",`+"\n"+
		`    "policyDefinitionEffect": "Deny",`+"\n"+
		`    "policyAssignmentId": "`+policyAssignmentID("secure-transfer")+`",`+"\n"+
		`    "policyAssignmentName": "secure-transfer",`+"\n"+
		`    "policyAssignmentDisplayName": "Require secure transfer",`+"\n"+
		`    "policyAssignmentScope": "/subscriptions/`+policySubscription+`",`+"\n"+
		`    "policyAssignmentParameters": {`+"\n"+
		`        "effect": {`+"\n"+
		`            "value": "Deny"`+"\n"+
		`        }`+"\n"+
		`    },`+"\n"+
		`    "policyExemptionIds": [],`+"\n"+
		`    "policyEnrollmentIds": []`+"\n"+
		"}\n", r.stderr, "ARM's 403 as az 2.74 prints it (azure-mgmt-core ARMErrorFormat)")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "", r.stdout)
	assert.Equal(t, 3, c.run("storage", "account", "show", "-g", "rg", "-n", "insecure1").code, "nothing is stored")

	// Without --https-only Azure's default (secure transfer on) is what is evaluated.
	a := c.obj("storage", "account", "create", "-g", "rg", "-n", "secure1", "--only-show-errors")
	assert.Equal(t, true, a["enableHttpsTrafficOnly"])

	assertDenied(t, c.run("storage", "account", "update", "-g", "rg", "-n", "secure1", "--https-only", "false"),
		"secure1", "Require secure transfer", policyAssignmentID("secure-transfer"))
	assertDenied(t, c.run("storage", "account", "update", "-g", "rg", "-n", "secure1", "--set", "enableHttpsTrafficOnly=false"),
		"secure1", "Require secure transfer", policyAssignmentID("secure-transfer"))
	assert.Equal(t, true, c.obj("storage", "account", "show", "-g", "rg", "-n", "secure1")["enableHttpsTrafficOnly"],
		"a denied update changes nothing")
	c.ok("storage", "account", "update", "-g", "rg", "-n", "secure1", "--min-tls-version", "TLS1_2", "-o", "none")

	// The definition's default effect is Audit: a no-op in the emulator.
	c.assignPolicies(map[string]any{"name": "secure-transfer-audit", "policyDefinition": policyDefinitionFile(t, "Storage_AuditForHTTPSEnabled_Audit.json")})
	c.ok("storage", "account", "create", "-g", "rg", "-n", "audited1", "--https-only", "false", "-o", "none", "--only-show-errors")
}

func TestPolicyDeniesStorageAccountSharedKeyAccess(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	c.assignPolicies(map[string]any{"name": "no-shared-key", "parameters": policyEffect("Deny"),
		"policyDefinition": policyDefinitionFile(t, "StorageAccountAllowSharedKeyAccess_Audit.json")})
	id := policyAssignmentID("no-shared-key")

	// az sends no allowSharedKeyAccess without the flag: the property does not
	// exist, which the definition denies ("exists": "false").
	assertDenied(t, c.run("storage", "account", "create", "-g", "rg", "-n", "keys1", "--only-show-errors"), "keys1", "no-shared-key", id)
	assert.Equal(t, 3, c.run("storage", "account", "show", "-g", "rg", "-n", "keys1").code)
	assertDenied(t, c.run("storage", "account", "create", "-g", "rg", "-n", "keys2", "--allow-shared-key-access", "true", "--only-show-errors"),
		"keys2", "no-shared-key", id)

	a := c.obj("storage", "account", "create", "-g", "rg", "-n", "nokeys1", "--allow-shared-key-access", "false", "--only-show-errors")
	assert.Equal(t, false, a["allowSharedKeyAccess"])
	assertDenied(t, c.run("storage", "account", "update", "-g", "rg", "-n", "nokeys1", "--allow-shared-key-access", "true"),
		"nokeys1", "no-shared-key", id)
	assert.Equal(t, false, c.obj("storage", "account", "show", "-g", "rg", "-n", "nokeys1")["allowSharedKeyAccess"])
}

func TestPolicyDeniesStorageAccountPublicNetworkAccess(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	c.assignPolicies(map[string]any{"name": "no-public-network", "parameters": policyEffect("Deny"),
		"policyDefinition": policyDefinitionFile(t, "StoragePublicNetworkAccess_AuditDeny.json")})
	id := policyAssignmentID("no-public-network")

	// notEquals holds for a property that is not there.
	assertDenied(t, c.run("storage", "account", "create", "-g", "rg", "-n", "pub1", "--only-show-errors"), "pub1", "no-public-network", id)
	assertDenied(t, c.run("storage", "account", "create", "-g", "rg", "-n", "pub2", "--public-network-access", "Enabled", "--only-show-errors"),
		"pub2", "no-public-network", id)
	assert.Equal(t, 3, c.run("storage", "account", "show", "-g", "rg", "-n", "pub2").code)

	c.ok("storage", "account", "create", "-g", "rg", "-n", "priv1", "--public-network-access", "Disabled", "-o", "none", "--only-show-errors")
	assertDenied(t, c.run("storage", "account", "update", "-g", "rg", "-n", "priv1", "--public-network-access", "Enabled"), "priv1", "no-public-network", id)
	assert.Equal(t, "Disabled", c.obj("storage", "account", "show", "-g", "rg", "-n", "priv1")["publicNetworkAccess"])
}

func TestPolicyDeniesPrivateDNSZones(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	c.ok("group", "create", "-n", "hub", "-l", "eastus", "-o", "none")
	// Enterprise-Scale's Deny-Private-DNS-Zones (effect Deny by default),
	// assigned to the landing zone group only: the hub may hold zones.
	c.assignPolicies(map[string]any{"name": "Deny-Private-DNS-Zones", "scope": "/subscriptions/" + policySubscription + "/resourceGroups/rg",
		"policyDefinition": policyDefinitionFile(t, "Deny-Private-DNS-Zones.json")})
	r := c.run("network", "private-dns", "zone", "create", "-g", "rg", "-n", "privatelink.file.core.windows.net")
	assertDenied(t, r, "privatelink.file.core.windows.net", "Deny-Private-DNS-Zones",
		"/subscriptions/"+policySubscription+"/resourceGroups/rg/providers/Microsoft.Authorization/policyAssignments/Deny-Private-DNS-Zones")
	assert.Contains(t, r.stderr, `"policyDefinition":{"name":"Deny the creation of private DNS","id":"/subscriptions/`+policySubscription+
		`/providers/Microsoft.Authorization/policyDefinitions/Deny-Private-DNS-Zones"}`, "a custom definition lives in the subscription")
	assert.Equal(t, 3, c.run("network", "private-dns", "zone", "show", "-g", "rg", "-n", "privatelink.file.core.windows.net").code)
	c.ok("network", "private-dns", "zone", "create", "-g", "hub", "-n", "privatelink.file.core.windows.net", "-o", "none")

	// enforcementMode DoNotEnforce evaluates but does not deny (assignment structure).
	c.assignPolicies(map[string]any{"name": "dns-dry-run", "enforcementMode": "DoNotEnforce", "policyDefinition": policyDefinitionFile(t, "Deny-Private-DNS-Zones.json")})
	c.ok("network", "private-dns", "zone", "create", "-g", "rg", "-n", "privatelink.blob.core.windows.net", "-o", "none")
}

// nsgRules reads the security rules stored in an NSG's record.
func (c *cloud) storedNSGRules(rg, nsg string) []string {
	c.t.Helper()
	data, err := os.ReadFile(filepath.Join(c.dir, "arm", "resourcegroups", rg, "providers", "microsoft.network", "networksecuritygroups", strings.ToLower(nsg)+".json"))
	require.NoError(c.t, err)
	var rec struct {
		SecurityRules []struct{ Name string } `json:"securityRules"`
	}
	require.NoError(c.t, json.Unmarshal(data, &rec))
	names := []string{}
	for _, r := range rec.SecurityRules {
		names = append(names, r.Name)
	}
	return names
}

func TestPolicyDeniesManagementPortsFromInternet(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	// Enterprise-Scale's Deny-MgmtPorts-From-Internet as published: ports
	// 22 and 3389 by default, count over an NSG's rules, and template
	// functions for port ranges.
	c.assignPolicies(map[string]any{"name": "Deny-MgmtPorts-From-Internet", "displayName": "Management ports from the Internet",
		"policyDefinition": policyDefinitionFile(t, "Deny-MgmtPorts-From-Internet.json")})
	id := policyAssignmentID("Deny-MgmtPorts-From-Internet")

	c.ok("network", "nsg", "create", "-g", "rg", "-n", "nsg1", "-o", "none")
	rule := func(name string, args ...string) result {
		return c.run(append([]string{"network", "nsg", "rule", "create", "-g", "rg", "--nsg-name", "nsg1", "-n", name}, args...)...)
	}
	assertDenied(t, rule("ssh", "--priority", "100", "--destination-port-ranges", "22"), "ssh", "Management ports from the Internet", id)
	assertDenied(t, rule("rdp", "--priority", "101", "--destination-port-ranges", "3389", "--source-address-prefixes", "Internet"),
		"rdp", "Management ports from the Internet", id)
	assertDenied(t, rule("range", "--priority", "102", "--destination-port-ranges", "20-25"), "range", "Management ports from the Internet", id)
	assertDenied(t, rule("list", "--priority", "103", "--destination-port-ranges", "80", "3389"), "list", "Management ports from the Internet", id)
	assertDenied(t, rule("any", "--priority", "104", "--destination-port-ranges", "*"), "any", "Management ports from the Internet", id)
	assert.Equal(t, []string{}, c.storedNSGRules("rg", "nsg1"), "no denied rule is stored")

	for _, ok := range []struct {
		name string
		args []string
	}{
		{"https", []string{"--priority", "200", "--destination-port-ranges", "443"}},
		{"ssh-from-vnet", []string{"--priority", "201", "--destination-port-ranges", "22", "--source-address-prefixes", "10.0.0.0/8"}},
		{"ssh-deny", []string{"--priority", "202", "--destination-port-ranges", "22", "--access", "Deny"}},
		{"ssh-out", []string{"--priority", "203", "--destination-port-ranges", "22", "--direction", "Outbound"}},
		{"high-range", []string{"--priority", "204", "--destination-port-ranges", "8000-9000"}},
	} {
		r := rule(ok.name, ok.args...)
		assert.Equal(t, 0, r.code, "%s: %s", ok.name, r.stderr)
	}
	assert.Equal(t, []string{"https", "ssh-from-vnet", "ssh-deny", "ssh-out", "high-range"}, c.storedNSGRules("rg", "nsg1"))

	// vm create makes <vm>NSG with default-allow-ssh from anywhere: ARM's
	// preflight refuses the whole deployment, so nothing of it exists.
	vm := func(name string, args ...string) result {
		return c.run(append([]string{"vm", "create", "-g", "rg", "-n", name, "--image", "Ubuntu2204",
			"--ssh-key-values", "ssh-rsa AAAAB3Nza k", "-o", "none"}, args...)...)
	}
	r := vm("vm1")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.True(t, strings.HasPrefix(r.stderr, "ERROR: (InvalidTemplateDeployment) The template deployment failed because of policy violation. Please see details for more information.\n"+
		"Code: InvalidTemplateDeployment\nMessage: The template deployment failed because of policy violation. Please see details for more information.\n"+
		"Exception Details:\t(RequestDisallowedByPolicy) Resource 'vm1NSG' was disallowed by policy."), r.stderr)
	assert.Contains(t, r.stderr, "\n\tCode: RequestDisallowedByPolicy\n\tMessage: Resource 'vm1NSG' was disallowed by policy.")
	assert.Contains(t, r.stderr, "\n\tTarget: vm1NSG\n")
	assert.Equal(t, 3, c.run("vm", "show", "-g", "rg", "-n", "vm1").code)
	assert.Equal(t, 3, c.run("network", "vnet", "show", "-g", "rg", "-n", "vm1VNET").code, "the deployment's VNet is not stored either")
	assert.Equal(t, 3, c.run("network", "nic", "show", "-g", "rg", "-n", "vm1VMNic").code)

	r = vm("vm2", "--nsg-rule", "NONE")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, []string{}, c.storedNSGRules("rg", "vm2NSG"))
}

// Inline rules exercise each operator and logical combination on their own.
func TestPolicyLogicalOperatorsAndConditions(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	zone := func(name string, tags ...string) result {
		args := []string{"network", "private-dns", "zone", "create", "-g", "rg", "-n", name, "-o", "none"}
		if len(tags) > 0 {
			args = append(append(args, "--tags"), tags...)
		}
		return c.run(args...)
	}
	account := func(name string, args ...string) result {
		return c.run(append([]string{"storage", "account", "create", "-g", "rg", "-n", name, "-o", "none", "--only-show-errors"}, args...)...)
	}
	inline := func(name string, cond map[string]any, params map[string]any) {
		a := map[string]any{"name": name, "policyRule": map[string]any{"if": cond, "then": map[string]any{"effect": "deny"}}}
		if params != nil {
			a["parameters"] = params
		}
		c.assignPolicies(a)
	}
	id := func(n string) string { return policyAssignmentID(n) }

	// allOf + not + exists, on a tag: zones need an owner tag.
	inline("owner-tag", map[string]any{"allOf": []any{
		map[string]any{"field": "type", "equals": "microsoft.network/privateDNSZones"},
		map[string]any{"not": map[string]any{"field": "tags['owner']", "exists": "true"}},
	}}, nil)
	assertDenied(t, zone("a.example"), "a.example", "owner-tag", id("owner-tag"))
	assertDenied(t, zone("b.example", "team=x"), "b.example", "owner-tag", id("owner-tag"))
	assert.Equal(t, 0, zone("c.example", "Owner=me").code, "tag names compare without case")

	// anyOf + like + equals on the name.
	inline("names", map[string]any{"anyOf": []any{
		map[string]any{"field": "name", "like": "tmp*"},
		map[string]any{"field": "name", "equals": "Scratch"},
	}}, nil)
	assertDenied(t, account("tmpdata1"), "tmpdata1", "names", id("names"))
	assertDenied(t, account("scratch"), "scratch", "names", id("names"))
	assert.Equal(t, 0, account("data1").code)

	// notIn with an array parameter; location values are normalized.
	inline("locations", map[string]any{"allOf": []any{
		map[string]any{"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
		map[string]any{"field": "location", "notIn": "[parameters('allowed')]"},
	}}, map[string]any{"allowed": map[string]any{"value": []any{"West Europe", "East US 2"}}})
	assertDenied(t, account("east1"), "east1", "locations", id("locations"))
	assert.Equal(t, 0, account("east2", "-l", "eastus2").code)

	// in, and equals on a boolean through its string form.
	inline("nfs", map[string]any{"allOf": []any{
		map[string]any{"field": "Microsoft.Storage/storageAccounts/sku.name", "in": []any{"standard_lrs", "Standard_GRS"}},
		map[string]any{"field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly", "equals": "True"},
	}}, nil)
	assertDenied(t, account("lrs1", "--sku", "Standard_LRS"), "lrs1", "nfs", id("nfs"))
	assert.Equal(t, 0, account("lrs2", "--sku", "Standard_LRS", "--https-only", "false").code)
	assert.Equal(t, 0, account("zrs1", "--sku", "Standard_ZRS").code)

	// A field count over a [*] alias, with a where on each member.
	inline("no-allow-all", map[string]any{"count": map[string]any{
		"field": "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*]",
		"where": map[string]any{"field": "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*].value", "equals": "0.0.0.0/0"},
	}, "greater": 0}, nil)
	c.ok("storage", "account", "create", "-g", "rg", "-n", "fw1", "-o", "none", "--only-show-errors")
	c.ok("storage", "account", "network-rule", "add", "-g", "rg", "--account-name", "fw1", "--ip-address", "1.2.3.4", "-o", "none")
	assertDenied(t, c.run("storage", "account", "network-rule", "add", "-g", "rg", "--account-name", "fw1", "--ip-address", "0.0.0.0/0"),
		"fw1", "no-allow-all", id("no-allow-all"))
	rules := c.obj("storage", "account", "network-rule", "list", "-g", "rg", "--account-name", "fw1")["ipRules"].([]any)
	assert.Len(t, rules, 1, "the denied rule is not stored")

	// mode Indexed only evaluates types with tags and location, which a
	// security rule has not (definition structure basics, "Mode").
	c.ok("network", "nsg", "create", "-g", "rg", "-n", "nsg1", "-o", "none")
	ruleType := map[string]any{"field": "type", "equals": "Microsoft.Network/networkSecurityGroups/securityRules"}
	nsgRule := func(name string) result {
		return c.run("network", "nsg", "rule", "create", "-g", "rg", "--nsg-name", "nsg1", "-n", name, "--priority", "300", "-o", "none")
	}
	c.assignPolicies(map[string]any{"name": "rules-indexed", "mode": "Indexed",
		"policyRule": map[string]any{"if": ruleType, "then": map[string]any{"effect": "Deny"}}})
	assert.Equal(t, 0, nsgRule("r1").code)
	inline("rules-all", ruleType, nil)
	assertDenied(t, nsgRule("r2"), "r2", "rules-all", id("rules-all"))
}

func TestPolicyBadFileIsAnEmulatorError(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	rule := func(cond any) map[string]any {
		return map[string]any{"name": "p", "policyRule": map[string]any{"if": cond, "then": map[string]any{"effect": "deny"}}}
	}
	for _, bad := range []struct {
		file, want string
	}{
		{"{not json", "want a list of assignments"},
		{`[{"name": "p", "policyRule": {"if": {"field": "type", "equals": "x"}, "then": {"effect": "deny"}}, "extra": 1}]`, `unknown field "extra"`},
		{policyJSON(t, []any{rule(map[string]any{"field": "Microsoft.Storage/storageAccounts/noSuchThing", "equals": "x"})}), `field "Microsoft.Storage/storageAccounts/noSuchThing" is not a field or alias the emulator knows`},
		{policyJSON(t, []any{rule(map[string]any{"field": "type", "sameAs": "x"})}), "unsupported condition key(s) [sameAs]"},
		{policyJSON(t, []any{rule(map[string]any{"value": "[utcNow()]", "equals": "x"})}), "function utcNow() is not supported by the emulator"},
		{policyJSON(t, []any{rule(map[string]any{"field": "type", "in": "[parameters('missing')]"})}), `parameter "missing" is not defined`},
		{policyJSON(t, []any{map[string]any{"name": "p", "policyDefinition": policyDefinitionFile(t, "Deny-MgmtPorts-From-Internet.json"),
			"parameters": policyEffect("Block")}}), `parameter "effect": Block is not one of the allowed values`},
	} {
		path := filepath.Join(c.dir, "bad.json")
		require.NoError(t, os.WriteFile(path, []byte(bad.file), 0o644))
		c.env["AZEMU_POLICY"] = path
		r := c.run("network", "private-dns", "zone", "create", "-g", "rg", "-n", "z.example")
		assert.Equal(t, 1, r.code, bad.file)
		assert.Contains(t, r.stderr, "ERROR: azemu: AZEMU_POLICY "+path+": ", bad.file)
		assert.Contains(t, r.stderr, bad.want, bad.file)
	}
	delete(c.env, "AZEMU_POLICY")
	assert.Equal(t, 3, c.run("network", "private-dns", "zone", "show", "-g", "rg", "-n", "z.example").code, "no write happened")
}

func policyJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
