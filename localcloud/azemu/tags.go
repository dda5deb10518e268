package azemu

import "strings"

func init() {
	register("tag update", locked(tagUpdate))
}

// tagUpdate is ARM's tags PATCH at a resource's scope (az tag update):
// Merge adds or overwrites the given tags, Replace sets exactly them, and
// Delete removes the given names, or name/value pairs when a value is given.
// az prints the scope's tags resource, not the tagged resource.
func tagUpdate(c *cmdCtx) (any, error) {
	scope := strings.TrimRight(c.inv.str("--resource-id"), "/")
	given := parseTags(c.inv.list("--tags"))
	if len(given) == 0 {
		return nil, cliError("Tags could not be empty.")
	}
	rec, err := c.scopeRecord(scope)
	if err != nil {
		return nil, err
	}
	tags, _ := rec["tags"].(map[string]any)
	if tags == nil {
		tags = map[string]any{}
	}
	switch c.inv.str("--operation") {
	case "Merge":
		for k, v := range given {
			tags[k] = v
		}
	case "Replace":
		tags = given
	case "Delete":
		for k, v := range given {
			if v == "" || tags[k] == v {
				delete(tags, k)
			}
		}
	}
	rec["tags"] = tags
	if err := c.st.put(str(rec, "id"), rec); err != nil {
		return nil, err
	}
	return map[string]any{
		"id":         str(rec, "id") + "/providers/Microsoft.Resources/tags/default",
		"name":       "default",
		"properties": map[string]any{"tags": tags},
		"type":       "Microsoft.Resources/tags",
	}, nil
}

// scopeRecord returns the stored resource or resource group an ARM id names,
// or the not-found error ARM answers for it.
func (c *cmdCtx) scopeRecord(id string) (map[string]any, error) {
	rg, _ := parseID(id)
	g, err := c.group(rg)
	if err != nil {
		return nil, err
	}
	lower := strings.ToLower(id)
	i := strings.Index(lower, "/providers/")
	if i < 0 {
		return g, nil
	}
	rec, err := c.st.get(id)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		// ARM names the resource by its type path and name, e.g.
		// "Microsoft.Storage/storageAccounts/acct".
		path := strings.Split(id[i+len("/providers/"):], "/")
		name := path[len(path)-1]
		typ := strings.Join(path[:len(path)-1], "/")
		return nil, notFound(typ, name, rg)
	}
	return rec, nil
}
