package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli/aztest"
)

// `azlin storage list -o json --query '[].name'` prints what
// `az ... -o json --query '[].name'` prints: the list of names, indented as
// az's format_json (knack/output.py).
func TestStorageListQueryPrintsTheNamesAsAz(t *testing.T) {
	out, stderr, code := runStorageCmd(t, aztest.New(t, stGroupCalls(t)...), "storage", "list", "-g", "rg", "-o", "json", "--query", "[].name")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "[\n  \"shared-dev\"\n]\n", out)

	out, _, code = runStorageCmd(t, aztest.New(t, stGroupCalls(t)...), "storage", "list", "-g", "rg", "-o", "tsv", "--query", "[].{name: name, vms: length(connectedVMs), tier: tier}")
	require.Equal(t, 0, code)
	assert.Equal(t, "shared-dev\t1\tPremium\n", out, "az's tsv: the values in the query's order")

	out, _, code = runStorageCmd(t, aztest.New(t, append(stGroupCalls(t), stSeries(t, "7d", 45))...), "storage", "status", "shared-dev", "-g", "rg", "--query", "network.privateEndpoints[0]", "-o", "tsv")
	require.Equal(t, 0, code)
	assert.Equal(t, stAcct+"-pe (Approved)\n", out, "status's text becomes its document's query")
}

func TestBadQueryIsExit2BeforeAnyAzCall(t *testing.T) {
	for _, args := range [][]string{
		{"storage", "list", "-g", "rg", "--query", "[].name["},
		{"storage", "list", "-g", "rg", "--query", "length(@) + 1"},
		{"list", "-g", "rg", "--query", ""},
		{"storage", "status", "shared-dev", "-g", "rg", "-o", "json", "--query", "lower(name)"},
	} {
		f := aztest.New(t)
		out, stderr, code := runStorageCmd(t, f, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Empty(t, f.Calls(), "%v", args)
		assert.Empty(t, out)
		assert.Contains(t, stderr, "Error: argument --query: invalid jmespath_type value: '", "%v", args)
	}
}

func TestQueryIsRefusedWhereNoDocumentIsPrinted(t *testing.T) {
	for _, args := range [][]string{
		{"ssh", "worker-1"},
		{"ssh", "worker-1", "--", "hostname"},
		{"delete", "worker-1", "--yes"},
		{"storage", "delete", "shared-dev", "--yes"},
		{"config", "get", "default_vm_size"},
		{"config", "set", "default_vm_size", "Standard_D4s_v5"},
		{"config", "init", "-g", "rg"},
		{"completion", "bash"},
		{"storage"},
		{},
	} {
		f := aztest.New(t)
		out, stderr, code := runStorageCmd(t, f, append([]string{"-g", "rg", "--query", "name"}, args...)...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Empty(t, f.Calls(), "%v", args)
		assert.Empty(t, out, "%v", args)
		assert.Contains(t, stderr, "prints no JSON document, so --query has nothing to query", "%v", args)
	}
}

// Every name in noDocument is a command that exists, so the list cannot
// silently miss one by a typo.
func TestNoDocumentNamesRealCommands(t *testing.T) {
	root := newRootCmd(&app{})
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	paths := map[string]bool{}
	walk(root, func(c *cobra.Command) { paths[c.CommandPath()] = true })
	for p := range noDocument {
		assert.True(t, paths[p], "%q is not a command", p)
	}
	assert.False(t, noDocument["azlin list"] || noDocument["azlin storage list"], "list commands print documents")
}

func TestRootHelpShowsQuery(t *testing.T) {
	out, _, code := runStorageCmd(t, aztest.New(t), "--help")
	require.Equal(t, 0, code)
	assert.True(t, strings.Contains(out, "--query string") && strings.Contains(out, "--query '[].name'"), out)
}
