package azemu

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// The emulated login: the same made-up subscription as az-shapes.
const (
	subscriptionID   = "9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203"
	subscriptionName = "Contoso Dev"
	tenantID         = "3c9f8e7d-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
	tenantDomain     = "contoso.onmicrosoft.com"
	tenantName       = "Contoso"
	userName         = "dev@contoso.onmicrosoft.com"
)

func groupID(rg string) string {
	return "/subscriptions/" + subscriptionID + "/resourceGroups/" + rg
}

// resID builds an ARM id: resID(rg, "Microsoft.Storage/storageAccounts", "acct").
func resID(rg, typ, name string) string {
	return groupID(rg) + "/providers/" + typ + "/" + name
}

// collectionID is the id of a resource type's collection in a group.
func collectionID(rg, typ string) string {
	return groupID(rg) + "/providers/" + typ
}

// timestamp formats a time as az prints ARM timestamps:
// 2025-11-05T04:15:55.572302+00:00.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000") + "+00:00"
}

func nowStamp() string { return timestamp(now()) }

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// networkEtag is the W/"uuid" form network resources carry.
func networkEtag() string { return `W/"` + newUUID() + `"` }

// lock takes the state lock for the rest of the handler.
func (c *cmdCtx) lock() (func(), error) { return c.st.lock() }

// group returns a resource group's record or ARM's ResourceGroupNotFound.
func (c *cmdCtx) group(rg string) (map[string]any, error) {
	if rg == "" {
		return nil, cliError("azemu: a resource group is required")
	}
	g, err := c.st.get(groupID(rg))
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, groupNotFound(rg)
	}
	return g, nil
}

// resource returns a resource in a group: ResourceGroupNotFound when the group
// is missing, ResourceNotFound when the resource is (typeName as ARM names it
// in the message, e.g. "Microsoft.Storage/storageAccounts").
func (c *cmdCtx) resource(rg, typeName, name string) (map[string]any, string, error) {
	g, err := c.group(rg)
	if err != nil {
		return nil, "", err
	}
	rgName := str(g, "name")
	id := resID(rgName, typeName, name)
	r, err := c.st.get(id)
	if err != nil {
		return nil, "", err
	}
	if r == nil {
		return nil, "", notFound(typeName, name, rg)
	}
	return r, id, nil
}

// tags parses az's "--tags k=v k2=v2" (a bare key means an empty value).
func parseTags(values []string) map[string]any {
	t := map[string]any{}
	for _, v := range values {
		if v == "" {
			continue
		}
		k, val, _ := strings.Cut(v, "=")
		t[k] = val
	}
	return t
}

// view is a record as az prints it: without the emulator's private facts.
func view(rec map[string]any) map[string]any {
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		if k != emuKey {
			out[k] = v
		}
	}
	return out
}

// emu returns the record's private facts, creating the map if needed.
func emu(rec map[string]any) map[string]any {
	m, ok := rec[emuKey].(map[string]any)
	if !ok {
		m = map[string]any{}
		rec[emuKey] = m
	}
	return m
}

// str reads a string at a path of keys ("" when absent or not a string).
func str(m map[string]any, path ...string) string {
	v, _ := get(m, path...).(string)
	return v
}

// get reads the value at a path of keys.
func get(m map[string]any, path ...string) any {
	var cur any = m
	for _, k := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

// list reads a list at a path of keys.
func list(m map[string]any, path ...string) []any {
	v, _ := get(m, path...).([]any)
	return v
}

// parseID splits an ARM id into its resource group and the name of its last
// segment (and the parent name for child resources).
func parseID(id string) (rg string, names map[string]string) {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	names = map[string]string{}
	for i := 0; i+1 < len(parts); i += 2 {
		names[strings.ToLower(parts[i])] = parts[i+1]
	}
	return names["resourcegroups"], names
}

// resolveName returns a name option's value, or the name from --ids.
func (c *cmdCtx) idOr(alias, idKey string) string {
	if v := c.inv.str(alias); v != "" {
		return v
	}
	if c.inv.find("--ids") != nil && c.inv.has("--ids") {
		_, names := parseID(c.inv.list("--ids")[0])
		return names[strings.ToLower(idKey)]
	}
	return ""
}

// rgOr returns -g, or the resource group from --ids.
func (c *cmdCtx) rgOr() string {
	if o := c.inv.find("--resource-group"); o != nil && c.inv.has("--resource-group") {
		return c.inv.str("--resource-group")
	}
	if c.inv.find("--ids") != nil && c.inv.has("--ids") {
		rg, _ := parseID(c.inv.list("--ids")[0])
		return rg
	}
	return ""
}
