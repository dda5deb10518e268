package output

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/clierr"
)

// refCases are az's own output for queries on one document
// (testdata/query/README.md: printed by knack and Python's jmespath of
// azure-cli 2.74).
type refCases struct {
	Source string `json:"source"`
	Cases  []struct {
		Query            string `json:"query"`
		None             bool   `json:"none"`
		JSON, Table, TSV string
	} `json:"cases"`
}

func printQueried(t *testing.T, doc any, query string, f Format) string {
	t.Helper()
	q, err := ParseQuery(query)
	require.NoError(t, err)
	var out strings.Builder
	p := &Printer{Out: &out, Err: &strings.Builder{}, Format: f, Query: q, OutIsTTY: true}
	require.NoError(t, p.JSON(doc))
	return out.String()
}

func TestQueryPrintsWhatAzPrints(t *testing.T) {
	raw, err := os.ReadFile("testdata/query/cases.json")
	require.NoError(t, err)
	var ref refCases
	require.NoError(t, json.Unmarshal(raw, &ref))
	require.NotEmpty(t, ref.Cases)
	// The document as a command holds it: a Go value, printed through JSON.
	docRaw, err := os.ReadFile("testdata/query/document.json")
	require.NoError(t, err)
	var doc json.RawMessage = docRaw
	for _, c := range ref.Cases {
		t.Run(c.Query, func(t *testing.T) {
			for _, f := range []struct {
				format Format
				want   string
			}{{FormatJSON, c.JSON}, {FormatTable, c.Table}, {FormatTSV, c.TSV}} {
				got := printQueried(t, doc, c.Query, f.format)
				if c.None {
					assert.Empty(t, got, "-o %s: a null result prints nothing (%s)", f.format, ref.Source)
					continue
				}
				assert.Equal(t, f.want, got, "-o %s: az (%s) prints otherwise", f.format, ref.Source)
			}
		})
	}
}

// A Go struct's document keeps its field order in table and tsv, as an
// object from az keeps the order az received it in.
func TestQueryKeepsTheDocumentsFieldOrder(t *testing.T) {
	type vm struct {
		Name  string `json:"name"`
		State string `json:"state"`
		Size  string `json:"size"`
	}
	doc := []vm{{"worker-1", "running", "Standard_D2s_v5"}}
	assert.Equal(t, "worker-1\trunning\tStandard_D2s_v5\n", printQueried(t, doc, "[]", FormatTSV))
	assert.Equal(t, "Name      State    Size\n--------  -------  ---------------\nworker-1  running  Standard_D2s_v5\n",
		printQueried(t, doc, "[]", FormatTable))
}

func TestQueryRefusesWhatAzRefuses(t *testing.T) {
	for _, q := range []string{
		"[].name[", // az 2.74: argument --query: invalid jmespath_type value: '[].name['
		"",
		"a + b",  // arithmetic: the JMESPath community draft only; az exits 2
		"$.name", // the root reference: community draft only
		"let $x = a in $x",
		"upper(name)", // no such function in Python's jmespath
		"[].{a: name",
	} {
		t.Run(q, func(t *testing.T) {
			_, err := ParseQuery(q)
			require.Error(t, err)
			assert.True(t, clierr.IsUsage(err), "exit 2, as az")
			assert.True(t, strings.HasPrefix(err.Error(), "argument --query: invalid jmespath_type value: '"+q+"'"), err.Error())
			assert.Contains(t, err.Error(), "https://learn.microsoft.com/cli/azure/query-azure-cli")
		})
	}
}

func TestQueriedTablePipedIsTSV(t *testing.T) {
	q, err := ParseQuery("[].{n: name, t: tier}")
	require.NoError(t, err)
	var out strings.Builder
	p := &Printer{Out: &out, Format: FormatTable, Query: q} // not a terminal
	require.NoError(t, p.JSON([]map[string]string{{"name": "a", "tier": "Premium"}}))
	assert.Equal(t, "a\tPremium\n", out.String())
}

func TestRenderUsesTheDocumentWhenQueried(t *testing.T) {
	q, err := ParseQuery("[].name")
	require.NoError(t, err)
	var out strings.Builder
	p := &Printer{Out: &out, Format: FormatTSV, Query: q}
	assert.True(t, p.Document())
	tbl := Table{Headers: []string{"NAME", "TIER"}, Rows: [][]string{{"a", "Premium"}}}
	require.NoError(t, p.Render(tbl, []map[string]string{{"name": "a", "tier": "Premium"}}))
	assert.Equal(t, "a\n", out.String(), "the table is not printed; the queried document is")

	assert.False(t, (&Printer{Format: FormatTSV}).Document())
	assert.True(t, (&Printer{Format: FormatJSON}).Document())
}

func TestPyNumber(t *testing.T) {
	for f, want := range map[float64]string{
		100: "100", -3: "-3", 87.3: "87.3", 0.000001: "1e-06", 0.0001: "0.0001",
		1e16: "1e+16", 1.5e16: "1.5e+16", 123456.789: "123456.789", 1e21: "1e+21",
	} {
		assert.Equal(t, want, pyNumber(f), "%v", f)
	}
}
