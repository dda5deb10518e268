package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/jmespath-community/go-jmespath"
	"github.com/jmespath-community/go-jmespath/pkg/parsing"

	"github.com/azlin-dev/azlin/internal/clierr"
)

// Query is a compiled --query expression: JMESPath applied to the JSON
// document a command prints, as az does (knack/query.py: the result of the
// command is searched, then formatted for -o json|table|tsv).
//
// az runs Python's jmespath 1.0.1; go-jmespath-community implements a newer
// draft with more syntax. A query is kept to what az accepts, so a query
// that works with azlin works with az: arithmetic, `$`, let-expressions and
// functions Python's jmespath lacks are refused as az refuses them.
type Query struct {
	expr     string
	compiled jmespath.JMESPath
	// hashKeys are the key lists of the expression's multiselect hashes
	// ({Name: name, Tier: tier}), in the order written: Python's jmespath
	// builds those objects in that order, and az's table and tsv keep it.
	hashKeys [][]string
}

// queryHelpURL is the page az points to after refusing a query.
const queryHelpURL = "https://learn.microsoft.com/cli/azure/query-azure-cli"

// pythonFunctions are the functions of Python's jmespath 1.0.1, the one az
// uses (jmespath/functions.py).
var pythonFunctions = map[string]bool{
	"abs": true, "avg": true, "ceil": true, "contains": true, "ends_with": true, "floor": true,
	"join": true, "keys": true, "length": true, "map": true, "max": true, "max_by": true,
	"merge": true, "min": true, "min_by": true, "not_null": true, "reverse": true, "sort": true,
	"sort_by": true, "starts_with": true, "sum": true, "to_array": true, "to_number": true,
	"to_string": true, "type": true, "values": true,
}

// ParseQuery compiles a --query expression. A bad one is a usage error in
// az's words (az 2.74: "argument --query: invalid jmespath_type value: '...'",
// exit 2), found before anything runs.
func ParseQuery(expr string) (*Query, error) {
	invalid := func(why string) error {
		return clierr.Usagef("argument --query: invalid jmespath_type value: '%s': %s. To learn more about --query: %s", expr, why, queryHelpURL)
	}
	if strings.TrimSpace(expr) == "" {
		return nil, invalid("the expression is empty")
	}
	ast, err := parsing.NewParser().Parse(expr)
	if err != nil {
		return nil, invalid(err.Error())
	}
	q := &Query{expr: expr}
	if why := q.collect(ast); why != "" {
		return nil, invalid(why)
	}
	if q.compiled, err = jmespath.Compile(expr); err != nil {
		return nil, invalid(err.Error())
	}
	return q, nil
}

// String is the expression as given.
func (q *Query) String() string { return q.expr }

// collect walks the syntax tree: it refuses what Python's jmespath does not
// have, and notes the key order of multiselect hashes.
func (q *Query) collect(n parsing.ASTNode) string {
	switch n.NodeType {
	case parsing.ASTArithmeticExpression, parsing.ASTArithmeticUnaryExpression:
		return "arithmetic is not part of the JMESPath that az uses"
	case parsing.ASTRootNode:
		return "$ is not part of the JMESPath that az uses"
	case parsing.ASTLetExpression, parsing.ASTVariable, parsing.ASTBindings, parsing.ASTBinding:
		return "let-expressions and variables are not part of the JMESPath that az uses"
	case parsing.ASTFunctionExpression:
		if name, _ := n.Value.(string); !pythonFunctions[name] {
			return fmt.Sprintf("unknown function: %s()", name)
		}
	case parsing.ASTMultiSelectHash:
		keys := make([]string, 0, len(n.Children))
		for _, kv := range n.Children {
			k, _ := kv.Value.(string)
			keys = append(keys, k)
		}
		q.hashKeys = append(q.hashKeys, keys)
	}
	for _, c := range n.Children {
		if why := q.collect(c); why != "" {
			return why
		}
	}
	return ""
}

// result is what a query gave, with what is needed to print it as az does.
type result struct {
	value  any
	orders map[uintptr][]string // the document's objects: their keys in document order
	hashes [][]string
}

// Apply searches the JSON document of v (its encoding/json form).
func (q *Query) Apply(v any) (*result, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding JSON output: %w", err)
	}
	r := &result{orders: map[uintptr][]string{}, hashes: q.hashKeys}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	doc, err := r.decode(dec)
	if err != nil {
		return nil, fmt.Errorf("reading JSON output for --query: %w", err)
	}
	if r.value, err = q.compiled.Search(doc); err != nil {
		return nil, fmt.Errorf("--query %s: %w", q.expr, err)
	}
	return r, nil
}

// decode reads one JSON value into the types go-jmespath searches (maps,
// slices, float64, string, bool, nil) and remembers each object's key order:
// Python's jmespath keeps it (az searches with OrderedDict) and so do az's
// table and tsv.
func (r *result) decode(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			list := []any{}
			for dec.More() {
				v, err := r.decode(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token()
			return list, err
		}
		obj := map[string]any{}
		var keys []string
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k := kt.(string)
			v, err := r.decode(dec)
			if err != nil {
				return nil, err
			}
			if _, dup := obj[k]; !dup {
				keys = append(keys, k)
			}
			obj[k] = v
		}
		r.orders[reflect.ValueOf(obj).Pointer()] = keys
		_, err := dec.Token()
		return obj, err
	case json.Number:
		return t.Float64()
	default:
		return t, nil
	}
}

// keys are an object's keys in the order az would print them: the
// document's order, or the order a multiselect hash wrote them; objects
// made otherwise (merge()) sorted, as json.dumps(sort_keys=True) would.
func (r *result) keys(m map[string]any) []string {
	if ks, ok := r.orders[reflect.ValueOf(m).Pointer()]; ok {
		return ks
	}
	for _, ks := range r.hashes {
		if len(ks) == len(m) && hasAll(m, ks) {
			return ks
		}
	}
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func hasAll(m map[string]any, keys []string) bool {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}
