package cost

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file is the "one price table" guard, run by `make lint` through
//
//	go test ./internal/cost -run TestNoPriceLiteralsOutsideCost
//
// What it catches, outside internal/cost (the real guarantee is structural:
// prices live only in prices.json or the refreshed cache, and other packages
// get amounts only as cost.Estimate/cost.Money):
//
//  1. In a non-test file that imports internal/cost: any float literal at all.
//     Code that handles costs has Money and Estimates; it has no reason to
//     hold a float, and a float there is how $0.16 and $0.153 crept in before.
//  2. In any other Go file (tests too): a float literal whose line, or the
//     name of what it is assigned to, the map key or struct field it sits
//     under, mentions money words (price, cost, hour, month, GiB, usd,
//     dollar, "$") or a VM size ("Standard_...").
//
// What it does not catch: prices written as strings ("0.16") or integers
// (163), prices computed from other numbers, or floats in files under
// testdata/. A float that is not a price can stay with a `cost:allow`
// comment on its line saying why.

const allowMarker = "cost:allow"

var (
	moneyWords = regexp.MustCompile(`(?i)price|cost|hour|month|gib|usd|dollar|\$|standard_`)
	// costRef is a call into this package ("cost.Default()"): the word "cost"
	// there says nothing about the literal next to it.
	costRef = regexp.MustCompile(`\bcost\.`)
)

const costImport = "github.com/azlin-dev/azlin/internal/cost"

// findPriceLiterals returns "file:line: literal (why)" for each suspect
// literal under root, skipping internal/cost itself.
func findPriceLiterals(root string) ([]string, error) {
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			name := d.Name()
			topLevelOutput := (name == "build" || name == "bin") && filepath.Dir(rel) == "."
			hidden := strings.HasPrefix(name, ".") && rel != "."
			if rel == filepath.Join("internal", "cost") || name == "testdata" || name == "vendor" || hidden || topLevelOutput {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		hits, err := checkFile(rel, src)
		if err != nil {
			return nil // a file that does not parse fails the build, not this check
		}
		found = append(found, hits...)
		return nil
	})
	return found, err
}

func checkFile(name string, src []byte) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(src), "\n")
	strict := !strings.HasSuffix(name, "_test.go") && slices.ContainsFunc(f.Imports, func(s *ast.ImportSpec) bool {
		p, _ := strconv.Unquote(s.Path.Value)
		return p == costImport
	})
	var hits []string
	var stack []ast.Node
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.FLOAT {
			return true
		}
		pos := fset.Position(lit.Pos())
		line := lines[pos.Line-1]
		if strings.Contains(line, allowMarker) {
			return true
		}
		where := fmt.Sprintf("%s:%d: %s", filepath.ToSlash(name), pos.Line, lit.Value)
		switch {
		case strict:
			hits = append(hits, where+" (float in a file that imports internal/cost; use cost.Money/Estimate)")
		case moneyWords.MatchString(costRef.ReplaceAllString(line, "") + " " + enclosingNames(stack)):
			hits = append(hits, where+" (looks like a price; prices belong in internal/cost/prices.json)")
		}
		return true
	})
	return hits, nil
}

// enclosingNames collects the names a literal hangs under: assigned variables,
// constants, map keys, struct fields and the enclosing function.
func enclosingNames(stack []ast.Node) string {
	var parts []string
	for _, n := range stack {
		switch n := n.(type) {
		case *ast.ValueSpec:
			for _, id := range n.Names {
				parts = append(parts, id.Name)
			}
		case *ast.AssignStmt:
			for _, e := range n.Lhs {
				parts = append(parts, exprText(e))
			}
		case *ast.KeyValueExpr:
			parts = append(parts, exprText(n.Key))
		case *ast.FuncDecl:
			parts = append(parts, n.Name.Name)
		case *ast.Field:
			for _, id := range n.Names {
				parts = append(parts, id.Name)
			}
		}
	}
	return strings.Join(parts, " ")
}

func exprText(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.BasicLit:
		return e.Value
	case *ast.SelectorExpr:
		return exprText(e.X) + "." + e.Sel.Name
	case *ast.IndexExpr:
		return exprText(e.X) + "[" + exprText(e.Index) + "]"
	}
	return ""
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "go.mod not found above the package")
		dir = parent
	}
}

func TestNoPriceLiteralsOutsideCost(t *testing.T) {
	hits, err := findPriceLiterals(moduleRoot(t))
	require.NoError(t, err)
	assert.Empty(t, hits, "price-looking literals outside internal/cost:\n%s", strings.Join(hits, "\n"))
}

func TestPriceLiteralCheckCatchesWhatItClaims(t *testing.T) {
	root := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	write("go.mod", "module example.test\n")
	write("tracker/vm.go", `package tracker
var vmPricing = map[string]float64{
	"Standard_B2s": 0.0416,
}
const perGiB = 0.153
func monthly(gib float64) float64 { return gib * 0.20 }
`)
	write("tracker/fine.go", `package tracker
import "time"
const backoffFactor = 1.5
var wait = time.Duration(0.5 * float64(time.Second))
var ratio = 0.25 // cost:allow not money, a fill ratio
`)
	write("cmd/show.go", `package main
import "github.com/azlin-dev/azlin/internal/cost"
var _ = cost.Default
var width = 0.75
`)
	write("cmd/show_test.go", `package main
import "github.com/azlin-dev/azlin/internal/cost"
var used = cost.Default().StandardBlob("eastus", 12.5)
`)
	write("internal/cost/table.go", "package cost\nvar price = 0.16\n")
	write("tracker/testdata/x.go", "package x\nvar price = 0.16\n")

	hits, err := findPriceLiterals(root)
	require.NoError(t, err)
	var where []string
	for _, h := range hits {
		where = append(where, strings.SplitN(h, " (", 2)[0])
	}
	assert.ElementsMatch(t, []string{
		"tracker/vm.go:3: 0.0416", // map key names a VM size
		"tracker/vm.go:5: 0.153",  // constant named perGiB
		"tracker/vm.go:6: 0.20",   // line mentions month(ly)
		"cmd/show.go:4: 0.75",     // imports internal/cost: no floats at all
	}, where)
}
