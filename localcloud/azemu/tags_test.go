//go:build localcloud

package azemu_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTagUpdateMergesReplacesAndDeletes(t *testing.T) {
	c := newCloud(t)
	c.base()
	c.ok("vm", "create", "-g", "rg", "-n", "vm1", "--image", "Ubuntu2204", "--ssh-key-values", "ssh-rsa AAAAB3Nza k",
		"--tags", "keep=1", "-o", "none")
	for _, r := range []struct{ show []string }{
		{[]string{"storage", "account", "show", "-g", "rg", "-n", "acct"}},
		{[]string{"vm", "show", "-g", "rg", "-n", "vm1"}},
	} {
		id := c.obj(r.show...)["id"].(string)
		tags := func() any { return c.obj(r.show...)["tags"] }
		update := func(op string, kv ...string) map[string]any {
			return c.obj(append([]string{"tag", "update", "--resource-id", id, "--operation", op, "--tags"}, kv...)...)
		}

		out := update("Merge", "a=1", "b=2")
		want := map[string]any{"a": "1", "b": "2"}
		if r.show[0] == "vm" {
			want["keep"] = "1"
		}
		assert.Equal(t, map[string]any{
			"id": id + "/providers/Microsoft.Resources/tags/default", "name": "default",
			"properties": map[string]any{"tags": want}, "type": "Microsoft.Resources/tags",
		}, out, "az prints the scope's tags resource")
		assert.Equal(t, want, tags(), "the resource carries the merged tags")

		update("Merge", "a=changed")
		want["a"] = "changed"
		assert.Equal(t, want, tags(), "Merge overwrites a given name")

		update("Delete", "a=other", "b")
		delete(want, "b")
		assert.Equal(t, want, tags(), "Delete removes a bare name, and a name/value pair only when the value matches")

		update("Delete", "a=changed")
		delete(want, "a")
		assert.Equal(t, want, tags())

		update("Replace", "only=x")
		assert.Equal(t, map[string]any{"only": "x"}, tags(), "Replace sets exactly the given tags")
	}
}

func TestTagUpdateOnMissingResourceFailsLikeARM(t *testing.T) {
	c := newCloud(t)
	c.base()
	id := c.obj("storage", "account", "show", "-g", "rg", "-n", "acct")["id"].(string)
	r := c.run("tag", "update", "--resource-id", id+"x", "--operation", "Merge", "--tags", "a=1")
	assert.Equal(t, 3, r.code)
	assert.Contains(t, r.stderr, "(ResourceNotFound) The Resource 'Microsoft.Storage/storageAccounts/acctx' under resource group 'rg' was not found.")

	r = c.run("tag", "update", "--resource-id", "/subscriptions/x/resourceGroups/nope/providers/Microsoft.Storage/storageAccounts/acct",
		"--operation", "Merge", "--tags", "a=1")
	assert.Equal(t, 3, r.code)
	assert.Contains(t, r.stderr, "(ResourceGroupNotFound)")
}

// A storage account's tags changed by `az tag update` are what `storage
// account list` and `show` print, and its other properties (its creation
// time) stay: ARM's tags PATCH touches the tags alone
// (https://learn.microsoft.com/rest/api/resources/tags/update-at-scope).
func TestTagUpdateOnAStorageAccountIsWhatListShows(t *testing.T) {
	c := newCloud(t)
	c.base()
	before := c.obj("storage", "account", "show", "-g", "rg", "-n", "acct")
	id := before["id"].(string)
	c.ok("tag", "update", "--resource-id", id, "--operation", "Merge", "--tags", "azlin-unused-since=2026-11-20T14:03:00Z")
	list := c.json("storage", "account", "list", "-g", "rg").([]any)
	require.Len(t, list, 1)
	acct := list[0].(map[string]any)
	assert.Equal(t, "2026-11-20T14:03:00Z", acct["tags"].(map[string]any)["azlin-unused-since"])
	assert.Equal(t, before["creationTime"], acct["creationTime"], "the tags alone change")

	c.ok("tag", "update", "--resource-id", id, "--operation", "Delete", "--tags", "azlin-unused-since=2026-11-20T14:03:00Z")
	after := c.obj("storage", "account", "show", "-g", "rg", "-n", "acct")
	assert.NotContains(t, after["tags"], "azlin-unused-since")
}
