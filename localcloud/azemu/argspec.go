package azemu

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// azargs.json is the argument surface of every emulated command, read from
// the real Azure CLI's own parser by scripts/azemu-argspec.py: option names in
// az's order, nargs, choices and which are required. Each command's "az" field
// names the az version it came from: Debian 13's 2.74, or Debian 12's 2.45 for
// a command 2.74 cannot load (monitor). The emulator accepts exactly these
// options, so a flag az would reject is rejected here too.
//
//go:embed azargs.json
var azargsJSON []byte

// optSpec is one option of a command as az's argparse parser declares it.
type optSpec struct {
	Opts     []string `json:"opts"`
	Nargs    any      `json:"nargs"` // nil (one value), 0 (flag), 1, "?", "+", "*"
	Required bool     `json:"required"`
	Choices  []string `json:"choices"`
}

// cmdSpec is one command's options plus, for commands that take --ids, the
// message az prints when a resource's name parts are missing.
type cmdSpec struct {
	Args        []optSpec `json:"args"`
	IdsRequired string    `json:"idsRequired"`
}

// name is how argparse names an option in its messages: "--name/-n".
func (o *optSpec) name() string { return strings.Join(o.Opts, "/") }

// dest is the key parsed values are stored under: the longest option name,
// which is also how az's recommender normalises them.
func (o *optSpec) dest() string {
	best := o.Opts[0]
	for _, s := range o.Opts {
		if len(s) > len(best) {
			best = s
		}
	}
	return best
}

// kind classifies nargs the way the parser consumes values.
func (o *optSpec) kind() string {
	switch v := o.Nargs.(type) {
	case nil:
		return "one"
	case float64:
		if v == 0 {
			return "flag"
		}
		return "one"
	case string:
		return v // "?", "+", "*"
	}
	return "one"
}

var specs = mustLoadSpecs()

func mustLoadSpecs() map[string]*cmdSpec {
	m := map[string]*cmdSpec{}
	if err := json.Unmarshal(azargsJSON, &m); err != nil {
		panic(fmt.Sprintf("azemu: bad azargs.json: %v", err))
	}
	return m
}

// groups lists every command group prefix ("storage", "storage account", ...),
// so the parser can tell a group from an unknown word.
func groups() map[string][]string {
	g := map[string][]string{}
	for name := range specs {
		words := strings.Fields(name)
		for i := 0; i < len(words); i++ {
			prefix := strings.Join(words[:i], " ")
			g[prefix] = appendUnique(g[prefix], words[i])
		}
	}
	for k := range g {
		sort.Strings(g[k])
	}
	return g
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
