package azemu_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/testjson"
)

const argTail = "\nExamples from AI knowledge base:\nhttps://aka.ms/cli_ref\nRead more about the command in reference docs\n"

func TestArgumentErrorsAreAzs(t *testing.T) {
	c := newCloud(t)
	cases := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"storage", "account", "show", "-g", "rg", "-n", "acct", "--bogus"}, 2,
			"ERROR: unrecognized arguments: --bogus\n" + argTail},
		{[]string{"storage", "account", "create"}, 2,
			"ERROR: the following arguments are required: --resource-group/-g, --name/-n\n" + argTail},
		{[]string{"vm", "create"}, 2,
			"ERROR: the following arguments are required: --name/-n, --resource-group/-g\n" + argTail},
		{[]string{"storage", "account", "show"}, 1, "ERROR: (--name | --ids) are required\n"},
		{[]string{"vm", "show", "-g", "rg"}, 1, "ERROR: (--name | --ids) are required\n"},
		{[]string{"network", "vnet", "show"}, 1, "ERROR: InvalidArgumentValue: Missing required field: --resource-group\n"},
		{[]string{"storage", "acount", "show"}, 2,
			"ERROR: 'acount' is misspelled or not recognized by the system.\n" + argTail},
		{[]string{"storage", "account", "create", "-g", "rg", "-n", "acct", "--sku", "Foo"}, 2,
			"ERROR: az storage account create: 'Foo' is not a valid value for '--sku'. Allowed values: Standard_LRS, Standard_GRS, Standard_RAGRS, Standard_ZRS, Premium_LRS, Premium_ZRS, Standard_GZRS, Standard_RAGZRS, StandardV2_LRS, StandardV2_GRS, StandardV2_ZRS, StandardV2_GZRS, PremiumV2_LRS, PremiumV2_ZRS.\n" + argTail},
		{[]string{"storage", "account", "create", "-g", "rg", "-n", "acct", "--https-only", "maybe"}, 2,
			"ERROR: az storage account create: 'maybe' is not a valid value for '--https-only'. Allowed values: true, false.\n" + argTail},
		{[]string{"network", "vnet", "subnet", "update", "-g", "rg", "--vnet-name", "v", "-n", "s", "--disable-private-endpoint-network-policies", "maybe"}, 2,
			"ERROR: az network vnet subnet update: 'maybe' is not a valid value for '--disable-private-endpoint-network-policies'. Allowed values: true, t, yes, y, 1, false, f, no, n, 0.\n" + argTail},
		{[]string{"network", "vnet", "subnet", "show", "-g", "rg", "--vnet-name", "v"}, 1, "ERROR: InvalidArgumentValue: Missing required field: -n\n"},
		{[]string{"storage", "account", "show", "-g", "rg", "--name"}, 2,
			"ERROR: argument --name/-n: expected one argument\n" + argTail},
		{[]string{"storage", "account", "show", "-g", "rg", "-n", "acct", "--query", "["}, 2,
			"ERROR: argument --query: invalid jmespath_type value: '['\nTo learn more about --query, please visit: 'https://docs.microsoft.com/cli/azure/query-azure-cli'\n"},
	}
	for _, tc := range cases {
		r := c.run(tc.args...)
		assert.Equal(t, tc.code, r.code, "az %s", strings.Join(tc.args, " "))
		assert.Equal(t, tc.stderr, r.stderr, "az %s", strings.Join(tc.args, " "))
		assert.Empty(t, r.stdout)
	}
}

// The argument surface is az 2.74's: options and choices added since 2.45
// parse (logged out, so exit 1 once they have), and a value outside their
// choices fails as 2.74 fails it, exit 2.
func TestOptionsOfAz274Parse(t *testing.T) {
	c := newCloud(t)
	c.env["AZEMU_LOGGED_OUT"] = "1"
	link := []string{"network", "private-dns", "link", "vnet", "create", "-g", "rg", "-z", "privatelink.file.core.windows.net",
		"-n", "link", "-v", "vnet", "-e", "false", "--resolution-policy"}
	sku := []string{"storage", "account", "create", "-g", "rg", "-n", "acct", "--sku"}
	share := []string{"storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", "home", "--provisioned-iops", "3000"}

	for _, args := range [][]string{append(link, "NxDomainRedirect"), append(sku, "PremiumV2_LRS"), share} {
		r := c.run(args...)
		assert.Equal(t, 1, r.code, "az %s", strings.Join(args, " "))
		assert.Equal(t, "ERROR: Please run 'az login' to setup account.\n", r.stderr, "az %s", strings.Join(args, " "))
	}

	r := c.run(append(link, "Bogus")...)
	assert.Equal(t, 2, r.code)
	assert.Equal(t, "ERROR: az network private-dns link vnet create: 'Bogus' is not a valid value for '--resolution-policy'. Allowed values: Default, NxDomainRedirect.\n"+argTail, r.stderr)
	r = c.run(append(sku, "PremiumV3_LRS")...)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "'PremiumV3_LRS' is not a valid value for '--sku'. Allowed values: ")
}

func TestAbbreviatedAndEqualsOptionsParseAsInArgparse(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "--name=rg", "--location", "eastus", "-o", "none")
	g := c.obj("group", "show", "--resource-gr", "rg")
	assert.Equal(t, "rg", g["name"])
}

func TestLoggedOutFailsOnlyAfterArgumentsParse(t *testing.T) {
	c := newCloud(t)
	c.env["AZEMU_LOGGED_OUT"] = "1"
	r := c.run("account", "show")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "ERROR: Please run 'az login' to setup account.\n", r.stderr)
	r = c.run("account", "show", "--bogus")
	assert.Equal(t, 2, r.code)
}

// The error captures of az 2.74 (az-shapes/2.74/). Those of 2.45 are the same
// but for the create: az 2.45 also warned that blob public access would be
// disallowed by default, a warning 2.74 no longer has.
func TestErrorCapturesMatchRealAz(t *testing.T) {
	for _, file := range []string{"2.74/storage-account-show-404.json", "2.74/storage-account-show-404-rg.json", "2.74/storage-account-create-409.json"} {
		t.Run(file, func(t *testing.T) {
			c := newCloud(t)
			c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
			capture := testjson.Obj(t, shape(t, file))
			if file == "2.74/storage-account-create-409.json" {
				// The name is taken in another group.
				c.ok("group", "create", "-n", "other", "-l", "eastus", "-o", "none")
				c.ok("storage", "account", "create", "-g", "other", "-n", "acct", "--only-show-errors", "-o", "none")
			}
			var args []string
			argv := testjson.List(t, capture, "argv") // az and its arguments
			for i := 1; i < len(argv); i++ {
				args = append(args, testjson.Str(t, argv, i))
			}
			r := c.run(args...)
			assert.Equal(t, int(testjson.Num(t, capture, "exit_code")), r.code)
			assert.Equal(t, capture["stderr"], r.stderr)
			assert.Equal(t, capture["stdout"], r.stdout)
		})
	}
}

func TestQueryAndOutputFormats(t *testing.T) {
	c := newCloud(t)
	c.base()
	assert.Equal(t, "\"Premium_LRS\"\n", c.ok("storage", "account", "show", "-g", "rg", "-n", "acct", "--query", "sku.name"))
	assert.Equal(t, "Premium_LRS\tPremium\n", c.ok("storage", "account", "show", "-g", "rg", "-n", "acct", "--query", "sku", "-o", "tsv"))
	assert.Equal(t, "acct\tFalse\tNone\n", c.ok("storage", "account", "show", "-g", "rg", "-n", "acct",
		"--query", "{a: name, b: enableHttpsTrafficOnly, c: enableNfsV3}", "-o", "tsv"))
	assert.Equal(t, "acct\n", c.ok("storage", "account", "list", "--query", "[].name", "-o", "tsv"))
	assert.Equal(t, "", c.ok("storage", "account", "show", "-g", "rg", "-n", "acct", "-o", "none"))
	assert.Equal(t, "", c.ok("storage", "account", "show", "-g", "rg", "-n", "acct", "--query", "nothing"))
	out := c.ok("storage", "account", "show", "-g", "rg", "-n", "acct", "--subscription", "x", "--debug", "--verbose")
	assert.True(t, strings.HasPrefix(out, "{\n  \"accessTier\": null,\n"), out)
}

func TestTagsTakeSpaceSeparatedValues(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	a := c.obj("storage", "account", "create", "-g", "rg", "-n", "tagged", "--tags", "k=v", "k2=v2", "flag",
		"--only-show-errors")
	assert.Equal(t, map[string]any{"k": "v", "k2": "v2", "flag": ""}, a["tags"])
}

func TestHooksLogLatencyAndFaults(t *testing.T) {
	c := newCloud(t)
	logFile := filepath.Join(t.TempDir(), "az.log")
	c.env["AZEMU_LOG"] = logFile
	c.env["AZEMU_LATENCY_MS"] = "150"
	faults := filepath.Join(t.TempDir(), "faults.json")
	require.NoError(t, os.WriteFile(faults, []byte(`[
		{"args": ["group", "create", "throttled"], "exit": 1, "times": 2,
		 "stderr": "ERROR: (TooManyRequests) Too many requests.\nCode: TooManyRequests\n"}
	]`), 0o644))
	c.env["AZEMU_FAULTS"] = faults

	for i := 0; i < 2; i++ {
		r := c.run("group", "create", "-n", "throttled", "-l", "eastus")
		assert.Equal(t, 1, r.code)
		assert.Equal(t, "ERROR: (TooManyRequests) Too many requests.\nCode: TooManyRequests\n", r.stderr)
	}
	g := c.obj("group", "create", "-n", "throttled", "-l", "eastus")
	assert.Equal(t, "throttled", g["name"], "the third call succeeds")
	c.ok("group", "create", "-n", "other", "-l", "eastus", "-o", "none")

	data, err := os.ReadFile(logFile)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 4)
	var entry struct {
		Argv []string `json:"argv"`
		Exit int      `json:"exit"`
		Ms   int      `json:"ms"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &entry))
	assert.Equal(t, []string{"az", "group", "create", "-n", "throttled", "-l", "eastus"}, entry.Argv)
	assert.Equal(t, 1, entry.Exit)
	assert.GreaterOrEqual(t, entry.Ms, 150, "latency is part of the call")
	require.NoError(t, json.Unmarshal([]byte(lines[2]), &entry))
	assert.Equal(t, 0, entry.Exit)
}

func TestStateDirIsRequiredAndHelpNeedsNone(t *testing.T) {
	c := newCloud(t)
	delete(c.env, "AZEMU_STATE_DIR")
	r := c.run("group", "list")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "AZEMU_STATE_DIR is not set")
	assert.Equal(t, 0, c.run().code)
	assert.Contains(t, c.ok("storage", "account", "create", "-h"), "--resource-group -g [Required]")
}
