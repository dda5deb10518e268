package azemu

// Azure Policy deny rules. AZEMU_POLICY=FILE holds a JSON list of policy
// assignments whose rules are written in Azure Policy's own rule language, so
// a built-in definition can be pasted in. Every create or update the emulator
// covers (storage accounts, private DNS zones, NSGs and their rules, the
// resources of `vm create`) is evaluated against them on the resource as it
// would be stored; a `deny` match fails the write as ARM answers
// (RequestDisallowedByPolicy) and nothing is stored.
//
// Semantics follow Microsoft's Azure Policy documentation:
//   - "Azure Policy definition structure policy rule"
//     (learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule):
//     logical operators, conditions, fields, value, count, current(), policy functions;
//     string conditions are case-insensitive (match/notMatch excepted);
//     a failed template function fails the evaluation.
//   - "Author policies for array properties"
//     (learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays):
//     a field condition on a [*] alias holds when it holds for every selected
//     value (so for none); count's where sees one array member at a time;
//     field() of a [*] alias returns an array.
//   - "Azure Policy definition structure aliases" (definition-structure-alias):
//     aliases map to resource properties; the emulator's table is policyAliases.
//   - "Azure Policy definition structure basics" (definition-structure-basics):
//     mode Indexed evaluates only resource types that support tags and location.
//   - "Assignment structure" (assignment-structure): parameters as
//     {"name": {"value": ...}}, enforcementMode DoNotEnforce does not deny.
//   - "Deny effect" (effect-deny): a denied request fails with 403
//     RequestDisallowedByPolicy. Other effects (audit, modify, append,
//     deployIfNotExists...) are no-ops here.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// policyAssignment is one entry of the AZEMU_POLICY file. Either PolicyRule
// (an inline definition) or PolicyDefinition (a definition as Azure publishes
// it: {"id", "name", "properties": {"displayName", "mode", "version",
// "parameters", "policyRule"}}) is given.
type policyAssignment struct {
	Name             string                     `json:"name"`
	DisplayName      string                     `json:"displayName"`
	ID               string                     `json:"id"`
	Scope            string                     `json:"scope"`
	EnforcementMode  string                     `json:"enforcementMode"`
	Mode             string                     `json:"mode"`
	Parameters       map[string]json.RawMessage `json:"parameters"`
	PolicyRule       map[string]any             `json:"policyRule"`
	PolicyDefinition json.RawMessage            `json:"policyDefinition"`
}

type policyDefinitionDoc struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Properties struct {
		DisplayName string `json:"displayName"`
		Mode        string `json:"mode"`
		Version     string `json:"version"`
		Parameters  map[string]struct {
			DefaultValue  any   `json:"defaultValue"`
			AllowedValues []any `json:"allowedValues"`
		} `json:"parameters"`
		PolicyRule map[string]any `json:"policyRule"`
	} `json:"properties"`
}

// policy is an assignment ready to evaluate.
type policy struct {
	assignName, assignDisplay, assignID, scope string
	enforce                                    bool
	defID, defName, defDisplay, defVersion     string
	indexed                                    bool
	params                                     map[string]any // by lower-cased name
	assignParams                               map[string]any // as the assignment gave them
	rule                                       map[string]any
}

// loadPolicies reads AZEMU_POLICY; a bad file is an emulator error.
func loadPolicies(path string) ([]*policy, error) {
	if path == "" {
		return nil, nil
	}
	bad := func(format string, a ...any) error {
		return cliError("azemu: AZEMU_POLICY %s: %s", path, fmt.Sprintf(format, a...))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, cliError("azemu: AZEMU_POLICY: %v", err)
	}
	var entries []policyAssignment
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		return nil, bad("%v (want a list of assignments: name, displayName, parameters, and policyRule or policyDefinition)", err)
	}
	var out []*policy
	for i, e := range entries {
		p, err := newPolicy(e)
		if err != nil {
			return nil, bad("assignment %d (%q): %v", i, e.Name, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func newPolicy(e policyAssignment) (*policy, error) {
	if e.Name == "" {
		return nil, fmt.Errorf("no name")
	}
	p := &policy{assignName: e.Name, assignDisplay: e.DisplayName, params: map[string]any{}, assignParams: map[string]any{}}
	p.scope = orDefault(e.Scope, "/subscriptions/"+subscriptionID)
	p.assignID = orDefault(e.ID, p.scope+"/providers/Microsoft.Authorization/policyAssignments/"+e.Name)
	switch strings.ToLower(e.EnforcementMode) {
	case "", "default":
		p.enforce = true
	case "donotenforce":
	default:
		return nil, fmt.Errorf("enforcementMode %q is neither Default nor DoNotEnforce", e.EnforcementMode)
	}
	customDef := "/subscriptions/" + subscriptionID + "/providers/Microsoft.Authorization/policyDefinitions/"
	mode := e.Mode
	defaults := map[string]any{}
	allowed := map[string][]any{}
	switch {
	case (e.PolicyRule != nil) == (e.PolicyDefinition != nil):
		return nil, fmt.Errorf("give exactly one of policyRule and policyDefinition")
	case e.PolicyRule != nil:
		p.rule = e.PolicyRule
		p.defName, p.defDisplay = e.Name, orDefault(e.DisplayName, e.Name)
		p.defID = customDef + e.Name
	default:
		// A pasted definition carries much the emulator does not use
		// (metadata, description, policyType...): decoded leniently.
		d := &policyDefinitionDoc{}
		if err := json.Unmarshal(e.PolicyDefinition, d); err != nil {
			return nil, fmt.Errorf("policyDefinition: %v", err)
		}
		if d.Properties.PolicyRule == nil {
			return nil, fmt.Errorf("policyDefinition has no properties.policyRule")
		}
		if mode != "" {
			return nil, fmt.Errorf("mode belongs to the policyDefinition's properties")
		}
		p.rule = d.Properties.PolicyRule
		p.defName = orDefault(d.Name, e.Name)
		p.defDisplay = orDefault(d.Properties.DisplayName, p.defName)
		p.defVersion = d.Properties.Version
		p.defID = orDefault(d.ID, customDef+p.defName)
		mode = d.Properties.Mode
		for k, v := range d.Properties.Parameters {
			if v.DefaultValue != nil {
				defaults[strings.ToLower(k)] = v.DefaultValue
			}
			allowed[strings.ToLower(k)] = v.AllowedValues
			p.params[strings.ToLower(k)] = nil
		}
	}
	switch strings.ToLower(mode) {
	case "", "all":
	case "indexed":
		p.indexed = true
	default:
		return nil, fmt.Errorf("mode %q is neither All nor Indexed", mode)
	}
	for k, raw := range e.Parameters {
		var v struct {
			Value any `json:"value"`
		}
		if err := json.Unmarshal(raw, &v); err != nil || v.Value == nil {
			return nil, fmt.Errorf("parameter %q: want {\"value\": ...}", k)
		}
		if _, ok := p.params[strings.ToLower(k)]; !ok && e.PolicyDefinition != nil {
			return nil, fmt.Errorf("parameter %q is not defined by the policy definition", k)
		}
		if vals := allowed[strings.ToLower(k)]; len(vals) > 0 && !containsFold(vals, v.Value) {
			return nil, fmt.Errorf("parameter %q: %v is not one of the allowed values %v", k, v.Value, vals)
		}
		p.params[strings.ToLower(k)] = v.Value
		p.assignParams[k] = map[string]any{"value": v.Value}
	}
	for k, v := range p.params {
		if v == nil {
			if defaults[k] == nil {
				return nil, fmt.Errorf("parameter %q has no value and no defaultValue", k)
			}
			p.params[k] = defaults[k]
		}
	}
	cond, ok := p.rule["if"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("policyRule has no \"if\" object")
	}
	then, ok := p.rule["then"].(map[string]any)
	if !ok || then["effect"] == nil {
		return nil, fmt.Errorf("policyRule has no \"then\": {\"effect\": ...}")
	}
	if err := p.checkCondition(cond); err != nil {
		return nil, err
	}
	return p, p.checkExprs(then["effect"])
}

// --- validation --------------------------------------------------------------

// policyOperators are the supported conditions (definition-structure-policy-rule, "Conditions").
var policyOperators = []string{"equals", "notEquals", "like", "notLike", "match", "matchInsensitively",
	"notMatch", "notMatchInsensitively", "contains", "notContains", "in", "notIn", "containsKey",
	"notContainsKey", "less", "lessOrEquals", "greater", "greaterOrEquals", "exists"}

// checkCondition rejects what the emulator cannot evaluate (or Azure would
// refuse), so a typo fails loudly instead of never matching.
func (p *policy) checkCondition(c map[string]any) error {
	for _, k := range []string{"allOf", "anyOf"} {
		if v, ok := c[k]; ok {
			items, ok := v.([]any)
			if !ok || len(c) != 1 {
				return fmt.Errorf("%s must be the only key and hold a list of conditions", k)
			}
			for _, it := range items {
				m, ok := it.(map[string]any)
				if !ok {
					return fmt.Errorf("%s holds a non-object", k)
				}
				if err := p.checkCondition(m); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if v, ok := c["not"]; ok {
		m, ok := v.(map[string]any)
		if !ok || len(c) != 1 {
			return fmt.Errorf("not must be the only key and hold one condition")
		}
		return p.checkCondition(m)
	}
	op, err := conditionOperator(c)
	if err != nil {
		return err
	}
	if err := p.checkExprs(c[op]); err != nil {
		return err
	}
	switch {
	case c["field"] != nil:
		f, ok := c["field"].(string)
		if !ok {
			return fmt.Errorf("field must be a string")
		}
		if isExpr(f) {
			return p.checkExprs(f)
		}
		_, err := lookupField(f)
		return err
	case c["value"] != nil:
		return p.checkExprs(c["value"])
	case c["count"] != nil:
		cnt, ok := c["count"].(map[string]any)
		if !ok {
			return fmt.Errorf("count must be an object")
		}
		for k := range cnt {
			if k != "field" && k != "value" && k != "name" && k != "where" {
				return fmt.Errorf("count has an unknown key %q", k)
			}
		}
		if f, ok := cnt["field"].(string); ok {
			a, err := lookupField(f)
			if err != nil {
				return err
			}
			if !strings.HasSuffix(a.path, "[*]") {
				return fmt.Errorf("count.field %q is not an array alias ([*])", f)
			}
		} else if cnt["value"] == nil {
			return fmt.Errorf("count needs a field ([*] alias) or a value (array)")
		} else if err := p.checkExprs(cnt["value"]); err != nil {
			return err
		}
		if w, ok := cnt["where"]; ok {
			m, ok := w.(map[string]any)
			if !ok {
				return fmt.Errorf("count.where must be a condition")
			}
			return p.checkCondition(m)
		}
		return nil
	}
	return fmt.Errorf("condition %v has no field, value or count", c)
}

// conditionOperator returns the one condition operator of a leaf.
func conditionOperator(c map[string]any) (string, error) {
	var ops, unknown []string
	for k := range c {
		switch k {
		case "field", "value", "count":
			continue
		}
		found := false
		for _, o := range policyOperators {
			if o == k {
				ops, found = append(ops, k), true
			}
		}
		if !found {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		return "", fmt.Errorf("unsupported condition key(s) %v (supported: %s)", unknown, strings.Join(policyOperators, ", "))
	}
	if len(ops) != 1 {
		return "", fmt.Errorf("condition %v needs exactly one operator", c)
	}
	n := 0
	for _, k := range []string{"field", "value", "count"} {
		if _, ok := c[k]; ok {
			n++
		}
	}
	if n != 1 {
		return "", fmt.Errorf("condition %v needs exactly one of field, value and count", c)
	}
	return ops[0], nil
}

// checkExprs parses every template expression in v and checks that its
// functions are supported and its parameters defined.
func (p *policy) checkExprs(v any) error {
	switch x := v.(type) {
	case string:
		if !isExpr(x) {
			return nil
		}
		e, err := parseExpr(x[1 : len(x)-1])
		if err != nil {
			return fmt.Errorf("expression %s: %v", x, err)
		}
		return p.checkCalls(e, x)
	case []any:
		for _, it := range x {
			if err := p.checkExprs(it); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *policy) checkCalls(e *exprNode, src string) error {
	if e == nil {
		return nil
	}
	if e.call != "" {
		if _, ok := policyFuncs[strings.ToLower(e.call)]; !ok && !lazyFuncs[strings.ToLower(e.call)] {
			return fmt.Errorf("expression %s: function %s() is not supported by the emulator", src, e.call)
		}
		if strings.EqualFold(e.call, "parameters") && len(e.args) == 1 && e.args[0].lit != nil {
			name, _ := e.args[0].lit.(string)
			if _, ok := p.params[strings.ToLower(name)]; !ok {
				return fmt.Errorf("expression %s: parameter %q is not defined", src, name)
			}
		}
	}
	for _, a := range e.args {
		if err := p.checkCalls(a, src); err != nil {
			return err
		}
	}
	if err := p.checkCalls(e.index, src); err != nil {
		return err
	}
	return p.checkCalls(e.target, src)
}

// --- fields and aliases ------------------------------------------------------

// policyAlias is a property alias: the resource type it belongs to and the
// path of the property in the emulator's record. Records keep az's flattened
// shape (ARM's "properties" envelope is gone, some names differ: ARM's
// supportsHttpsTrafficOnly is az's enableHttpsTrafficOnly, networkAcls is
// networkRuleSet), so each alias names its record path here, once.
type policyAlias struct {
	typ, path string
}

// policyAliases, by lower-cased alias name (aliases are case-insensitive).
var policyAliases = map[string]policyAlias{}

func init() {
	add := func(typ, alias, path string) {
		policyAliases[strings.ToLower(typ+"/"+alias)] = policyAlias{typ, path}
	}
	for alias, path := range map[string]string{
		"supportsHttpsTrafficOnly":                 "enableHttpsTrafficOnly",
		"allowSharedKeyAccess":                     "allowSharedKeyAccess",
		"publicNetworkAccess":                      "publicNetworkAccess",
		"allowBlobPublicAccess":                    "allowBlobPublicAccess",
		"allowCrossTenantReplication":              "allowCrossTenantReplication",
		"minimumTlsVersion":                        "minimumTlsVersion",
		"isHnsEnabled":                             "isHnsEnabled",
		"isNfsV3Enabled":                           "enableNfsV3",
		"largeFileSharesState":                     "largeFileSharesState",
		"sku.name":                                 "sku.name",
		"sku.tier":                                 "sku.tier",
		"networkAcls.defaultAction":                "networkRuleSet.defaultAction",
		"networkAcls.bypass":                       "networkRuleSet.bypass",
		"networkAcls.ipRules":                      "networkRuleSet.ipRules",
		"networkAcls.ipRules[*]":                   "networkRuleSet.ipRules[*]",
		"networkAcls.ipRules[*].value":             "networkRuleSet.ipRules[*].ipAddressOrRange",
		"networkAcls.ipRules[*].action":            "networkRuleSet.ipRules[*].action",
		"networkAcls.virtualNetworkRules":          "networkRuleSet.virtualNetworkRules",
		"networkAcls.virtualNetworkRules[*]":       "networkRuleSet.virtualNetworkRules[*]",
		"networkAcls.virtualNetworkRules[*].id":    "networkRuleSet.virtualNetworkRules[*].virtualNetworkResourceId",
		"networkAcls.virtualNetworkRules[*].state": "networkRuleSet.virtualNetworkRules[*].state",
	} {
		add(accountType, alias, path)
	}
	// A security rule's properties, as a rule resource of its own
	// (.../securityRules/access) and inside an NSG (.../securityRules[*].access).
	ruleType := nsgType + "/securityRules"
	add(nsgType, "securityRules", "securityRules")
	add(nsgType, "securityRules[*]", "securityRules[*]")
	for _, prop := range []string{"access", "direction", "protocol", "priority", "description",
		"sourceAddressPrefix", "destinationAddressPrefix", "sourcePortRange", "destinationPortRange"} {
		add(ruleType, prop, prop)
		add(nsgType, "securityRules[*]."+prop, "securityRules[*]."+prop)
	}
	for _, prop := range []string{"sourceAddressPrefixes", "destinationAddressPrefixes", "sourcePortRanges", "destinationPortRanges"} {
		add(ruleType, prop, prop)
		add(ruleType, prop+"[*]", prop+"[*]")
		add(nsgType, "securityRules[*]."+prop, "securityRules[*]."+prop)
		add(nsgType, "securityRules[*]."+prop+"[*]", "securityRules[*]."+prop+"[*]")
	}
}

// policyField is a resolved field name: a top-level field, a tag, or an alias.
type policyField struct {
	kind string // "name", "fullName", "type", "location", "kind", "id", "identity.type", "tags", "tag", "alias"
	tag  string
	policyAlias
}

// lookupField resolves a field name (definition-structure-policy-rule, "Fields").
func lookupField(f string) (policyField, error) {
	l := strings.ToLower(f)
	switch l {
	case "name", "fullname", "type", "location", "kind", "id", "identity.type", "tags":
		return policyField{kind: l}, nil
	}
	if strings.HasPrefix(l, "tags[") && strings.HasSuffix(l, "]") {
		tag := f[len("tags[") : len(f)-1]
		if len(tag) >= 2 && strings.HasPrefix(tag, "'") && strings.HasSuffix(tag, "'") {
			tag = strings.ReplaceAll(tag[1:len(tag)-1], "''", "'")
		}
		return policyField{kind: "tag", tag: tag}, nil
	}
	if strings.HasPrefix(l, "tags.") {
		return policyField{kind: "tag", tag: f[len("tags."):]}, nil
	}
	if a, ok := policyAliases[l]; ok {
		return policyField{kind: "alias", policyAlias: a}, nil
	}
	var known []string
	for k := range policyAliases {
		known = append(known, k)
	}
	sort.Strings(known)
	return policyField{}, fmt.Errorf("field %q is not a field or alias the emulator knows (fields: name, fullName, type, location, kind, id, identity.type, tags, tags['x']; aliases: %s)", f, strings.Join(known, ", "))
}

// --- evaluation ---------------------------------------------------------------

// policyEval evaluates one policy on one resource document.
type policyEval struct {
	p          *policy
	doc        map[string]any
	apiVersion string
	bound      []boundMember // field count: the array member each where sees
	frames     []countFrame  // for current()
}

type boundMember struct {
	path string
	elem any
}

type countFrame struct {
	name  string // value count's index name, or the counted alias
	value any
}

// applies says whether the assignment covers the resource at all: its scope
// contains it, and an Indexed definition only sees types with tags and location.
func (p *policy) applies(doc map[string]any) bool {
	id := strings.ToLower(str(doc, "id"))
	scope := strings.ToLower(strings.TrimSuffix(p.scope, "/"))
	if id != scope && !strings.HasPrefix(id, scope+"/") {
		return false
	}
	if _, ok := doc["location"]; p.indexed && !ok {
		return false
	}
	return true
}

// denies evaluates the rule; the effect decides whether a match denies.
func (p *policy) denies(doc map[string]any, apiVersion string) (bool, string, error) {
	if !p.applies(doc) {
		return false, "", nil
	}
	ev := &policyEval{p: p, doc: doc, apiVersion: apiVersion}
	match, err := ev.cond(p.rule["if"].(map[string]any))
	if err != nil {
		return false, "", err
	}
	if !match {
		return false, "", nil
	}
	effect, err := ev.value(p.rule["then"].(map[string]any)["effect"])
	if err != nil {
		return false, "", err
	}
	e, _ := effect.(string)
	return p.enforce && strings.EqualFold(e, "deny"), e, nil
}

func (ev *policyEval) cond(c map[string]any) (bool, error) {
	if items, ok := c["allOf"].([]any); ok {
		for _, it := range items {
			if ok, err := ev.cond(it.(map[string]any)); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	}
	if items, ok := c["anyOf"].([]any); ok {
		for _, it := range items {
			if ok, err := ev.cond(it.(map[string]any)); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	if n, ok := c["not"].(map[string]any); ok {
		r, err := ev.cond(n)
		return !r, err
	}
	op, _ := conditionOperator(c)
	target, err := ev.value(c[op])
	if err != nil {
		return false, err
	}
	switch {
	case c["field"] != nil:
		name, err := ev.value(c["field"])
		if err != nil {
			return false, err
		}
		f, err := lookupField(fmt.Sprint(name))
		if err != nil {
			return false, err
		}
		vals, coll := ev.field(f)
		if !coll {
			return applyOperator(op, vals[0], target, f.kind == "location")
		}
		// A [*] alias: the condition must hold for every selected value.
		for _, v := range vals {
			if ok, err := applyOperator(op, v, target, false); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case c["value"] != nil:
		v, err := ev.value(c["value"])
		if err != nil {
			return false, err
		}
		return applyOperator(op, v, target, false)
	default:
		n, err := ev.count(c["count"].(map[string]any))
		if err != nil {
			return false, err
		}
		return applyOperator(op, float64(n), target, false)
	}
}

// count evaluates a field count or value count expression.
func (ev *policyEval) count(c map[string]any) (int, error) {
	where, _ := c["where"].(map[string]any)
	var members []any
	var name, path string
	if f, ok := c["field"].(string); ok {
		pf, err := lookupField(f)
		if err != nil {
			return 0, err
		}
		members, _ = ev.field(pf)
		name, path = strings.ToLower(f), pf.path
	} else {
		v, err := ev.value(c["value"])
		if err != nil {
			return 0, err
		}
		arr, ok := v.([]any)
		if !ok {
			return 0, fmt.Errorf("count.value is not an array: %v", v)
		}
		members = arr
		name = "default"
		if n, ok := c["name"].(string); ok {
			name = strings.ToLower(n)
		}
	}
	n := 0
	for _, m := range members {
		if where == nil {
			n++
			continue
		}
		ev.frames = append(ev.frames, countFrame{name, m})
		if path != "" {
			ev.bound = append(ev.bound, boundMember{path, m})
		}
		ok, err := ev.cond(where)
		ev.frames = ev.frames[:len(ev.frames)-1]
		if path != "" {
			ev.bound = ev.bound[:len(ev.bound)-1]
		}
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// field returns a field's value(s): for a [*] alias the collection of
// selected values (coll true), otherwise one value (nil when absent; a JSON
// null counts as absent, as the request would not carry the property).
func (ev *policyEval) field(f policyField) (vals []any, coll bool) {
	doc := ev.doc
	one := func(v any) ([]any, bool) { return []any{v}, false }
	switch f.kind {
	case "name", "type", "location", "kind", "id", "tags":
		return one(doc[strings.ToLower(f.kind)])
	case "fullname":
		// The name prepended by its parents' names: "nsg/rule".
		parts := strings.Split(str(doc, "id"), "/providers/")
		segs := strings.Split(parts[len(parts)-1], "/")
		var names []string
		for i := 2; i < len(segs); i += 2 {
			names = append(names, segs[i])
		}
		return one(strings.Join(names, "/"))
	case "identity.type":
		return one(get(doc, "identity", "type"))
	case "tag":
		tags, _ := doc["tags"].(map[string]any)
		for k, v := range tags {
			if strings.EqualFold(k, f.tag) {
				return one(v)
			}
		}
		return one(nil)
	}
	coll = strings.Contains(f.path, "[*]")
	if !strings.EqualFold(f.typ, str(doc, "type")) {
		// Another type's alias selects nothing on this resource.
		if coll {
			return nil, true
		}
		return one(nil)
	}
	var start any = doc
	rest := f.path
	for i := len(ev.bound) - 1; i >= 0; i-- {
		b := ev.bound[i]
		if rest == b.path || strings.HasPrefix(rest, b.path+".") {
			start, rest = b.elem, strings.TrimPrefix(strings.TrimPrefix(rest, b.path), ".")
			break
		}
	}
	cur := []any{start}
	if rest != "" {
		for _, seg := range strings.Split(rest, ".") {
			key, many := strings.CutSuffix(seg, "[*]")
			var next []any
			for _, v := range cur {
				m, ok := v.(map[string]any)
				if !ok {
					continue
				}
				x := m[key]
				if !many {
					next = append(next, x)
					continue
				}
				arr, _ := x.([]any)
				next = append(next, arr...)
			}
			cur = next
		}
	}
	if coll {
		return cur, true
	}
	if len(cur) == 0 {
		return one(nil)
	}
	return one(cur[0])
}

// value evaluates a literal or a template expression ("[...]"; "[[" escapes
// a literal "[").
func (ev *policyEval) value(v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return v, nil
	}
	if strings.HasPrefix(s, "[[") {
		return s[1:], nil
	}
	if !isExpr(s) {
		return s, nil
	}
	e, err := parseExpr(s[1 : len(s)-1])
	if err != nil {
		return nil, err
	}
	return ev.eval(e)
}

func isExpr(s string) bool {
	return strings.HasPrefix(s, "[") && !strings.HasPrefix(s, "[[") && strings.HasSuffix(s, "]")
}

// applyOperator applies one condition (definition-structure-policy-rule,
// "Conditions"): string comparisons ignore case; a boolean or number compares
// by its string form ("true", "1000"); an absent value equals nothing, is in
// nothing and is like nothing; location values are normalized ("East US 2" =
// "eastus2").
func applyOperator(op string, v, target any, location bool) (bool, error) {
	norm := func(x any) string {
		s := stringForm(x)
		if location {
			s = normLocation(s)
		}
		return strings.ToLower(s)
	}
	neg := strings.HasPrefix(op, "not")
	base := op
	if neg {
		base = strings.ToLower(op[3:4]) + op[4:]
	}
	var r bool
	switch base {
	case "exists":
		want, err := boolForm(target)
		if err != nil {
			return false, err
		}
		return (v != nil) == want, nil
	case "equals":
		r = v != nil && norm(v) == norm(target)
	case "like":
		r = v != nil && likeMatch(norm(v), norm(target))
	case "match", "matchInsensitively":
		s, pat := stringForm(v), stringForm(target)
		if base == "matchInsensitively" {
			s, pat = strings.ToLower(s), strings.ToLower(pat)
		}
		r = v != nil && patternMatch(s, pat)
	case "contains":
		r = v != nil && strings.Contains(norm(v), norm(target))
	case "in":
		list, ok := target.([]any)
		if !ok {
			return false, fmt.Errorf("%s needs an array, got %v", op, target)
		}
		if v != nil {
			for _, it := range list {
				if norm(it) == norm(v) {
					r = true
				}
			}
		}
	case "containsKey":
		m, _ := v.(map[string]any)
		for k := range m {
			if strings.EqualFold(k, stringForm(target)) {
				r = true
			}
		}
	case "less", "lessOrEquals", "greater", "greaterOrEquals":
		c, err := compareValues(v, target)
		if err != nil {
			return false, err
		}
		switch base {
		case "less":
			return c < 0, nil
		case "lessOrEquals":
			return c <= 0, nil
		case "greater":
			return c > 0, nil
		}
		return c >= 0, nil
	default:
		return false, fmt.Errorf("unsupported condition %s", op)
	}
	return r != neg, nil
}

// compareValues orders two numbers, or two strings ignoring case; other
// pairs are an error, as in Azure.
func compareValues(a, b any) (int, error) {
	fa, aNum := a.(float64)
	fb, bNum := b.(float64)
	if aNum && bNum {
		switch {
		case fa < fb:
			return -1, nil
		case fa > fb:
			return 1, nil
		}
		return 0, nil
	}
	sa, aStr := a.(string)
	sb, bStr := b.(string)
	if aStr && bStr {
		return strings.Compare(strings.ToLower(sa), strings.ToLower(sb)), nil
	}
	return 0, fmt.Errorf("cannot compare %v with %v: the types differ", a, b)
}

// stringForm is how a value compares as a string: true -> "true", 1000 -> "1000".
func stringForm(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func boolForm(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(strings.ToLower(x)); err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("exists needs true or false, got %v", v)
}

func containsFold(list []any, v any) bool {
	for _, it := range list {
		if strings.EqualFold(stringForm(it), stringForm(v)) {
			return true
		}
	}
	return false
}

// likeMatch: "*" matches any run of characters.
func likeMatch(s, pat string) bool {
	parts := strings.Split(pat, "*")
	if len(parts) == 1 {
		return s == pat
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// patternMatch: "#" a digit, "?" a letter, "." any character, others themselves.
func patternMatch(s, pat string) bool {
	rs, rp := []rune(s), []rune(pat)
	if len(rs) != len(rp) {
		return false
	}
	for i, p := range rp {
		switch p {
		case '#':
			if !unicode.IsDigit(rs[i]) {
				return false
			}
		case '?':
			if !unicode.IsLetter(rs[i]) {
				return false
			}
		case '.':
		default:
			if rs[i] != p {
				return false
			}
		}
	}
	return true
}

// --- the write paths -------------------------------------------------------------

// policyAPIVersion is the API version az 2.74 sends for a type, which
// requestContext().apiVersion returns (azure-mgmt-storage's default, the
// AAZ network commands', azure-mgmt-privatedns's, the compute profile's).
func policyAPIVersion(typ string) string {
	l := strings.ToLower(typ)
	switch {
	case strings.HasPrefix(l, "microsoft.storage/"):
		return "2024-01-01"
	case strings.HasPrefix(l, "microsoft.network/privatednszones"):
		return "2024-06-01"
	case strings.HasPrefix(l, "microsoft.compute/"):
		return "2024-11-01"
	}
	return "2022-01-01"
}

// policyDenial is one assignment that denied one resource.
type policyDenial struct {
	p      *policy
	effect string
}

// policyDenials evaluates every assignment on a resource record as it would
// be stored.
func (c *cmdCtx) policyDenials(rec map[string]any) ([]policyDenial, error) {
	policies, err := loadPolicies(c.env("AZEMU_POLICY"))
	if err != nil || len(policies) == 0 {
		return nil, err
	}
	doc := view(rec)
	var out []policyDenial
	for _, p := range policies {
		deny, effect, err := p.denies(doc, policyAPIVersion(str(doc, "type")))
		if err != nil {
			// Azure treats a failed evaluation as a deny; the emulator says why.
			return nil, cliError("azemu: AZEMU_POLICY assignment %q: evaluating %s failed: %v", p.assignName, str(doc, "id"), err)
		}
		if deny {
			out = append(out, policyDenial{p, effect})
		}
	}
	return out, nil
}

// checkPolicy fails a create or update that an assignment denies, before
// anything is stored (call it right before the put).
func (c *cmdCtx) checkPolicy(rec map[string]any) error {
	d, err := c.policyDenials(rec)
	if err != nil || len(d) == 0 {
		return err
	}
	e := disallowedByPolicy(rec, d)
	return &azError{exit: 1, stderr: "ERROR: " + e + "\n"}
}

// checkDeploymentPolicy is checkPolicy for the resources of a template
// deployment (vm create): ARM's preflight refuses the whole deployment with
// InvalidTemplateDeployment, each denied resource a detail.
func (c *cmdCtx) checkDeploymentPolicy(recs ...map[string]any) error {
	var details []string
	for _, r := range recs {
		d, err := c.policyDenials(r)
		if err != nil {
			return err
		}
		if len(d) > 0 {
			details = append(details, disallowedByPolicy(r, d))
		}
	}
	if len(details) == 0 {
		return nil
	}
	msg := "The template deployment failed because of policy violation. Please see details for more information."
	out := fmt.Sprintf("ERROR: (InvalidTemplateDeployment) %s\nCode: InvalidTemplateDeployment\nMessage: %s\nException Details:", msg, msg)
	// azure-core's ODataV4Format.message_details indents each detail's lines
	// with a tab and joins them to "Exception Details:" without a newline.
	for _, d := range details {
		lines := strings.Split(d, "\n")
		for i := range lines {
			lines[i] = "\t" + lines[i]
		}
		out += strings.Join(lines, "\n")
	}
	return &azError{exit: 1, stderr: out + "\n"}
}

// disallowedByPolicy renders ARM's RequestDisallowedByPolicy error as az
// 2.74 prints it: azure-mgmt-core's ARMErrorFormat, i.e. "(code) message",
// "Code:", "Message:", "Target:", then "Additional Information:" with one
// "Type: PolicyViolation" / "Info: <json, indent 4>" per assignment, joined
// without separators (as ARMErrorFormat.__str__ does).
func disallowedByPolicy(rec map[string]any, denials []policyDenial) string {
	name := str(rec, "name")
	type ref struct {
		Name    string `json:"name"`
		ID      string `json:"id"`
		Version string `json:"version,omitempty"`
	}
	type identifier struct {
		PolicyAssignment ref `json:"policyAssignment"`
		PolicyDefinition ref `json:"policyDefinition"`
	}
	type info struct {
		PolicyDefinitionID          string         `json:"policyDefinitionId"`
		PolicyDefinitionName        string         `json:"policyDefinitionName"`
		PolicyDefinitionDisplayName string         `json:"policyDefinitionDisplayName"`
		PolicyDefinitionVersion     string         `json:"policyDefinitionVersion,omitempty"`
		PolicyDefinitionEffect      string         `json:"policyDefinitionEffect"`
		PolicyAssignmentID          string         `json:"policyAssignmentId"`
		PolicyAssignmentName        string         `json:"policyAssignmentName"`
		PolicyAssignmentDisplayName string         `json:"policyAssignmentDisplayName"`
		PolicyAssignmentScope       string         `json:"policyAssignmentScope"`
		PolicyAssignmentParameters  map[string]any `json:"policyAssignmentParameters"`
		PolicyExemptionIds          []string       `json:"policyExemptionIds"`
		PolicyEnrollmentIds         []string       `json:"policyEnrollmentIds"`
	}
	var ids []identifier
	additional := ""
	for _, d := range denials {
		p := d.p
		ids = append(ids, identifier{
			ref{Name: orDefault(p.assignDisplay, p.assignName), ID: p.assignID},
			ref{Name: p.defDisplay, ID: p.defID, Version: p.defVersion},
		})
		additional += "Type: PolicyViolation\nInfo: " + marshalNoEscape(info{
			PolicyDefinitionID: p.defID, PolicyDefinitionName: p.defName, PolicyDefinitionDisplayName: p.defDisplay,
			PolicyDefinitionVersion: p.defVersion, PolicyDefinitionEffect: d.effect,
			PolicyAssignmentID: p.assignID, PolicyAssignmentName: p.assignName,
			PolicyAssignmentDisplayName: p.assignDisplay, PolicyAssignmentScope: p.scope,
			PolicyAssignmentParameters: p.assignParams, PolicyExemptionIds: []string{}, PolicyEnrollmentIds: []string{},
		}, "    ")
	}
	msg := fmt.Sprintf("Resource '%s' was disallowed by policy. Policy identifiers: '%s'.", name, marshalNoEscape(ids, ""))
	return fmt.Sprintf("(RequestDisallowedByPolicy) %s\nCode: RequestDisallowedByPolicy\nMessage: %s\nTarget: %s\nAdditional Information:%s",
		msg, msg, name, additional)
}

func marshalNoEscape(v any, indent string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}
