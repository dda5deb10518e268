// Package azrules names the Azure rules of the local cloud that a test can
// switch off, and answers whether one is on. Every rule is on unless its name
// is listed in AZEMU_RULES_OFF (comma-separated). The emulator's own tests
// always run with every rule on; only the product's end-to-end tests switch
// off, through testenv.PendingRules, the rules azlin does not keep yet, and
// that list only shrinks.
package azrules

import (
	"fmt"
	"sort"
	"strings"
)

// Env is the variable that lists the rules switched off.
const Env = "AZEMU_RULES_OFF"

// Known maps each rule that can be switched off to what it enforces. A name
// not listed here in AZEMU_RULES_OFF is an error, so a typo cannot leave a
// rule on while a test believes it off (or the other way round).
var Known = map[string]string{}

// On reports whether rule name is on for a call with environment getenv.
// It panics on a name missing from Known: that is a bug in the emulator.
func On(getenv func(string) string, name string) bool {
	if _, ok := Known[name]; !ok {
		panic("azrules: unknown rule " + name)
	}
	for _, off := range split(getenv(Env)) {
		if off == name {
			return false
		}
	}
	return true
}

// Check fails when AZEMU_RULES_OFF names a rule that does not exist.
func Check(getenv func(string) string) error {
	for _, off := range split(getenv(Env)) {
		if _, ok := Known[off]; !ok {
			names := make([]string, 0, len(Known))
			for n := range Known {
				names = append(names, n)
			}
			sort.Strings(names)
			return fmt.Errorf("%s names unknown rule %q (known: %s)", Env, off, strings.Join(names, ", "))
		}
	}
	return nil
}

func split(list string) []string {
	var out []string
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
