package azemu

import (
	"fmt"
	"regexp"
	"strings"

	jmespath "github.com/jmespath-community/go-jmespath"
)

// invocation is one parsed az command line.
type invocation struct {
	cmd  string   // "storage account create"
	spec *cmdSpec // its options
	args []string // the words after the command
	vals map[string][]string
	set  map[string]bool
}

// commandResult tells Main what the command line was when it is not a command
// to run: a group (help printed) or nothing at all.
type parseOutcome int

const (
	parsedCommand parseOutcome = iota
	parsedHelp
)

var negativeNumber = regexp.MustCompile(`^-\d+$|^-\d*\.\d+$`)

// parseArgv turns argv (without the program name) into an invocation, failing
// the way az's argparse parser fails: exit 2 and its message.
func parseArgv(argv []string) (*invocation, parseOutcome, string, error) {
	tree := groups()
	var words []string
	i := 0
	for i < len(argv) {
		w := argv[i]
		prefix := strings.Join(words, " ")
		if _, isCmd := specs[prefix]; isCmd && prefix != "" {
			break
		}
		if strings.HasPrefix(w, "-") {
			break
		}
		subs := tree[prefix]
		if !contains(subs, w) {
			return nil, 0, "", argError("'%s' is misspelled or not recognized by the system.", w)
		}
		words = append(words, w)
		i++
	}
	name := strings.Join(words, " ")
	spec, ok := specs[name]
	if !ok {
		// A group, or nothing: az prints help and exits 0 (with -h) or
		// complains about the missing subcommand.
		if len(argv[i:]) > 0 && (argv[i] == "-h" || argv[i] == "--help") || len(argv) == 0 {
			return nil, parsedHelp, groupHelp(name, tree[name]), nil
		}
		if len(argv[i:]) > 0 {
			return nil, 0, "", argError("unrecognized arguments: %s", strings.Join(argv[i:], " "))
		}
		return nil, parsedHelp, groupHelp(name, tree[name]), nil
	}
	inv := &invocation{cmd: name, spec: spec, args: argv[i:], vals: map[string][]string{}, set: map[string]bool{}}
	for _, a := range inv.args {
		if a == "-h" || a == "--help" {
			return nil, parsedHelp, commandHelp(name, spec), nil
		}
	}
	if err := inv.parse(); err != nil {
		return nil, 0, "", err
	}
	return inv, parsedCommand, "", nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// lookup resolves an option string as argparse does: exact name, or a unique
// prefix of a long option (az leaves argparse's abbreviations on).
func (inv *invocation) lookup(opt string) (*optSpec, error) {
	for k := range inv.spec.Args {
		if contains(inv.spec.Args[k].Opts, opt) {
			return &inv.spec.Args[k], nil
		}
	}
	if !strings.HasPrefix(opt, "--") {
		return nil, nil
	}
	var matches []*optSpec
	var names []string
	for k := range inv.spec.Args {
		for _, o := range inv.spec.Args[k].Opts {
			if strings.HasPrefix(o, "--") && strings.HasPrefix(o, opt) {
				matches = append(matches, &inv.spec.Args[k])
				names = append(names, o)
			}
		}
	}
	switch len(matches) {
	case 0:
		return nil, nil
	case 1:
		return matches[0], nil
	}
	return nil, argError("ambiguous option: %s could match %s", opt, strings.Join(names, ", "))
}

// optionLike is argparse's test for "this word is an option, not a value".
func (inv *invocation) optionLike(s string) bool {
	if s == "" || s[0] != '-' || s == "-" {
		return false
	}
	name := s
	if eq := strings.IndexByte(s, '='); eq > 0 {
		name = s[:eq]
	}
	if o, _ := inv.lookup(name); o != nil {
		return true
	}
	if negativeNumber.MatchString(s) {
		return false
	}
	if strings.Contains(s, " ") {
		return false
	}
	return true
}

func (inv *invocation) parse() error {
	var extras []string
	args := inv.args
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			extras = append(extras, args[i+1:]...)
			break
		}
		if !inv.optionLike(a) {
			extras = append(extras, a)
			continue
		}
		name, explicit, hasExplicit := a, "", false
		if eq := strings.IndexByte(a, '='); eq > 0 && strings.HasPrefix(a, "--") {
			name, explicit, hasExplicit = a[:eq], a[eq+1:], true
		}
		o, err := inv.lookup(name)
		if err != nil {
			return err
		}
		if o == nil && !strings.HasPrefix(a, "--") && len(a) > 2 {
			// -nVALUE: a short option with its value attached.
			if so, _ := inv.lookup(a[:2]); so != nil && so.kind() != "flag" {
				o, explicit, hasExplicit = so, a[2:], true
			}
		}
		if o == nil {
			extras = append(extras, a)
			continue
		}
		var values []string
		switch o.kind() {
		case "flag":
			if hasExplicit {
				return argError("argument %s: ignored explicit argument '%s'", o.name(), explicit)
			}
		case "one":
			if hasExplicit {
				values = []string{explicit}
			} else if i+1 < len(args) && !inv.optionLike(args[i+1]) {
				values = []string{args[i+1]}
				i++
			} else {
				return argError("argument %s: expected one argument", o.name())
			}
		case "?":
			if hasExplicit {
				values = []string{explicit}
			} else if i+1 < len(args) && !inv.optionLike(args[i+1]) {
				values = []string{args[i+1]}
				i++
			}
		case "+", "*":
			if hasExplicit {
				values = []string{explicit}
			} else {
				for i+1 < len(args) && !inv.optionLike(args[i+1]) && args[i+1] != "--" {
					values = append(values, args[i+1])
					i++
				}
			}
			if o.kind() == "+" && len(values) == 0 {
				return argError("argument %s: expected at least one argument", o.name())
			}
		}
		for k, v := range values {
			if c, err := inv.checkChoice(o, v); err != nil {
				return err
			} else {
				values[k] = c
			}
		}
		if o.dest() == "--query" {
			if _, err := jmespath.Compile(values[0]); err != nil {
				return &azError{exit: 2, stderr: fmt.Sprintf("ERROR: argument --query: invalid jmespath_type value: '%s'\n"+
					"To learn more about --query, please visit: 'https://docs.microsoft.com/cli/azure/query-azure-cli'\n", values[0])}
			}
		}
		inv.vals[o.dest()] = values
		inv.set[o.dest()] = true
	}
	var missing []string
	for k := range inv.spec.Args {
		o := &inv.spec.Args[k]
		if o.Required && !inv.set[o.dest()] {
			missing = append(missing, o.name())
		}
	}
	if len(missing) > 0 {
		return argError("the following arguments are required: %s", strings.Join(missing, ", "))
	}
	if len(extras) > 0 {
		return argError("unrecognized arguments: %s", strings.Join(extras, " "))
	}
	return nil
}

// checkChoice validates a value against the option's choices,
// case-insensitively as az's enum types do, and returns the canonical form.
func (inv *invocation) checkChoice(o *optSpec, v string) (string, error) {
	if o.Choices == nil {
		return v, nil
	}
	for _, c := range o.Choices {
		if strings.EqualFold(c, v) {
			return c, nil
		}
	}
	return "", argError("az %s: '%s' is not a valid value for '%s'. Allowed values: %s.",
		inv.cmd, v, o.Opts[0], strings.Join(o.Choices, ", "))
}

// find returns the option an alias names, or nil.
func (inv *invocation) find(alias string) *optSpec {
	for k := range inv.spec.Args {
		if contains(inv.spec.Args[k].Opts, alias) {
			return &inv.spec.Args[k]
		}
	}
	return nil
}

// opt returns the option an alias names; a handler may use any of them.
func (inv *invocation) opt(alias string) *optSpec {
	if o := inv.find(alias); o != nil {
		return o
	}
	panic(fmt.Sprintf("azemu: command %q has no option %q", inv.cmd, alias))
}

// has reports whether the option was given.
func (inv *invocation) has(alias string) bool { return inv.set[inv.opt(alias).dest()] }

// str returns the option's value ("" when absent).
func (inv *invocation) str(alias string) string {
	v := inv.vals[inv.opt(alias).dest()]
	if len(v) == 0 {
		return ""
	}
	return strings.Join(v, " ")
}

// list returns a multi-valued option's values.
func (inv *invocation) list(alias string) []string { return inv.vals[inv.opt(alias).dest()] }

// boolOpt returns a three-state flag: nil when absent, true for a bare flag
// or a true-ish value.
func (inv *invocation) boolOpt(alias string) *bool {
	if !inv.has(alias) {
		return nil
	}
	v := strings.ToLower(inv.str(alias))
	b := v == "" || v == "true" || v == "t" || v == "yes" || v == "y" || v == "1"
	return &b
}

// flag reports a store-true option.
func (inv *invocation) flag(alias string) bool { return inv.has(alias) }

func groupHelp(name string, subs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nGroup\n    az %s\n\nSubgroups and commands (emulated by azemu):\n", name)
	for _, s := range subs {
		fmt.Fprintf(&b, "    %s\n", s)
	}
	return b.String()
}

func commandHelp(name string, spec *cmdSpec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nCommand\n    az %s (emulated by azemu)\n\nArguments\n", name)
	for _, o := range spec.Args {
		req := ""
		if o.Required {
			req = " [Required]"
		}
		fmt.Fprintf(&b, "    %s%s\n", strings.Join(o.Opts, " "), req)
	}
	return b.String()
}
