package azemu

import (
	"fmt"
	"os"
	"strings"
)

func init() {
	register("account show", accountShow)
	register("group create", locked(groupCreate))
	register("group show", locked(groupShow))
	register("group list", locked(groupList))
	register("group delete", groupDelete)
}

// accountShow prints the emulated login (az-shapes/2.74/account-show.json:
// az 2.74's login also keeps the tenant's default domain and display name).
func accountShow(c *cmdCtx) (any, error) {
	return map[string]any{
		"environmentName":     "AzureCloud",
		"homeTenantId":        tenantID,
		"id":                  subscriptionID,
		"isDefault":           true,
		"managedByTenants":    []any{},
		"name":                subscriptionName,
		"state":               "Enabled",
		"tenantDefaultDomain": tenantDomain,
		"tenantDisplayName":   tenantName,
		"tenantId":            tenantID,
		"user":                map[string]any{"name": userName, "type": "user"},
	}, nil
}

func groupCreate(c *cmdCtx) (any, error) {
	name, loc := c.inv.str("--name"), c.inv.str("--location")
	if err := checkGroupName(name); err != nil {
		return nil, err
	}
	g, err := c.st.get(groupID(name))
	if err != nil {
		return nil, err
	}
	if g != nil {
		if !strings.EqualFold(str(g, "location"), loc) {
			return nil, armError("InvalidResourceGroupLocation", fmt.Sprintf(
				"Invalid resource group location '%s'. The Resource group already exists in location '%s'.", loc, str(g, "location")))
		}
		if c.inv.has("--tags") {
			g["tags"] = parseTags(c.inv.list("--tags"))
		}
	} else {
		g = map[string]any{
			"id":         groupID(name),
			"location":   strings.ToLower(strings.ReplaceAll(loc, " ", "")),
			"managedBy":  nilIfEmpty(c.inv.str("--managed-by")),
			"name":       name,
			"properties": map[string]any{"provisioningState": "Succeeded"},
			"tags":       parseTags(c.inv.list("--tags")),
			"type":       "Microsoft.Resources/resourceGroups",
		}
	}
	if err := c.st.put(groupID(name), g); err != nil {
		return nil, err
	}
	return view(g), nil
}

// checkGroupName applies ARM's resource group name rule: 1-90 characters,
// letters, digits, underscores, hyphens, periods and parentheses, not ending
// in a period.
func checkGroupName(name string) error {
	ok := len(name) >= 1 && len(name) <= 90 && !strings.HasSuffix(name, ".")
	for _, r := range name {
		if !(r == '_' || r == '-' || r == '.' || r == '(' || r == ')' ||
			r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			ok = false
		}
	}
	if !ok {
		return cliError("Resource group '%s' is invalid. A name can contain alphanumeric, underscore, hyphen, period and parenthesis characters, and must not end in a period.", name)
	}
	return nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func groupShow(c *cmdCtx) (any, error) {
	g, err := c.group(c.inv.str("--name"))
	if err != nil {
		return nil, err
	}
	return view(g), nil
}

func groupList(c *cmdCtx) (any, error) {
	all, err := c.st.readAll(c.st.dir + "/arm/resourcegroups/*.json")
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, g := range all {
		out = append(out, view(g))
	}
	return out, nil
}

// groupDelete removes a group and everything in it: records, shares' files,
// and VM hosts (stopped and their disks removed).
func groupDelete(c *cmdCtx) (any, error) {
	if err := c.confirm("Are you sure you want to perform this operation?"); err != nil {
		return nil, err
	}
	unlock, err := c.lock()
	if err != nil {
		return nil, err
	}
	g, err := c.group(c.inv.str("--name"))
	if err != nil {
		unlock()
		return nil, err
	}
	rg := str(g, "name")
	vms, err := c.st.list(collectionID(rg, vmType))
	if err != nil {
		unlock()
		return nil, err
	}
	accounts, err := c.st.list(collectionID(rg, accountType))
	if err != nil {
		unlock()
		return nil, err
	}
	for _, a := range accounts {
		os.RemoveAll(c.st.shareDir(str(a, "name"), ""))
		os.RemoveAll(c.st.containerDir(str(a, "name"), ""))
	}
	if err := c.st.del(groupID(rg)); err != nil {
		unlock()
		return nil, err
	}
	unlock()
	for _, vm := range vms {
		hostsDestroy(c.st.hostDisk(rg, str(vm, "name")))
	}
	return nil, nil
}
