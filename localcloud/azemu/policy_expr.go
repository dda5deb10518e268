package azemu

// Template expressions in policy rules ("[parameters('effect')]",
// "[if(and(...), ..., 'false')]"): a parser and the functions the emulator
// evaluates, per "Azure Policy definition structure policy rule", "Policy
// functions" (learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule)
// and the ARM template functions of the same names.

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// exprNode is a parsed template expression: a literal, a function call, or a
// property/index access on a target.
type exprNode struct {
	lit    any
	call   string
	args   []*exprNode
	target *exprNode
	prop   string
	index  *exprNode
}

type exprParser struct {
	s   string
	pos int
}

func parseExpr(s string) (*exprNode, error) {
	p := &exprParser{s: s}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at %d", p.s[p.pos:], p.pos)
	}
	return e, nil
}

func (p *exprParser) space() {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
}

func (p *exprParser) expr() (*exprNode, error) {
	p.space()
	if p.pos >= len(p.s) {
		return nil, fmt.Errorf("unexpected end")
	}
	var e *exprNode
	switch ch := p.s[p.pos]; {
	case ch == '\'':
		var b strings.Builder
		p.pos++
		for {
			if p.pos >= len(p.s) {
				return nil, fmt.Errorf("unterminated string")
			}
			if p.s[p.pos] == '\'' {
				if p.pos+1 < len(p.s) && p.s[p.pos+1] == '\'' {
					b.WriteByte('\'')
					p.pos += 2
					continue
				}
				p.pos++
				break
			}
			b.WriteByte(p.s[p.pos])
			p.pos++
		}
		e = &exprNode{lit: b.String()}
	case ch == '-' || ch >= '0' && ch <= '9':
		start := p.pos
		p.pos++
		for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
			p.pos++
		}
		n, err := strconv.ParseFloat(p.s[start:p.pos], 64)
		if err != nil {
			return nil, err
		}
		e = &exprNode{lit: n}
	default:
		name := p.ident()
		if name == "" {
			return nil, fmt.Errorf("unexpected %q at %d", p.s[p.pos:], p.pos)
		}
		p.space()
		if p.pos >= len(p.s) || p.s[p.pos] != '(' {
			return nil, fmt.Errorf("%s is not followed by (", name)
		}
		p.pos++
		e = &exprNode{call: name}
		p.space()
		if p.pos < len(p.s) && p.s[p.pos] == ')' {
			p.pos++
		} else {
			for {
				a, err := p.expr()
				if err != nil {
					return nil, err
				}
				e.args = append(e.args, a)
				p.space()
				if p.pos < len(p.s) && p.s[p.pos] == ',' {
					p.pos++
					continue
				}
				if p.pos < len(p.s) && p.s[p.pos] == ')' {
					p.pos++
					break
				}
				return nil, fmt.Errorf("expected , or ) at %d", p.pos)
			}
		}
	}
	for {
		p.space()
		if p.pos < len(p.s) && p.s[p.pos] == '.' {
			p.pos++
			prop := p.ident()
			if prop == "" {
				return nil, fmt.Errorf("expected a property name at %d", p.pos)
			}
			e = &exprNode{target: e, prop: prop}
			continue
		}
		if p.pos < len(p.s) && p.s[p.pos] == '[' {
			p.pos++
			idx, err := p.expr()
			if err != nil {
				return nil, err
			}
			p.space()
			if p.pos >= len(p.s) || p.s[p.pos] != ']' {
				return nil, fmt.Errorf("expected ] at %d", p.pos)
			}
			p.pos++
			e = &exprNode{target: e, index: idx}
			continue
		}
		return e, nil
	}
}

func (p *exprParser) ident() string {
	start := p.pos
	for p.pos < len(p.s) {
		ch := rune(p.s[p.pos])
		if !(unicode.IsLetter(ch) || unicode.IsDigit(ch) || ch == '_') {
			break
		}
		p.pos++
	}
	return p.s[start:p.pos]
}

func (ev *policyEval) eval(e *exprNode) (any, error) {
	switch {
	case e.call != "":
		name := strings.ToLower(e.call)
		if lazyFuncs[name] {
			return ev.lazy(name, e.args)
		}
		args := make([]any, len(e.args))
		for i, a := range e.args {
			v, err := ev.eval(a)
			if err != nil {
				return nil, err
			}
			args[i] = v
		}
		f := policyFuncs[name]
		if f == nil {
			return nil, fmt.Errorf("function %s() is not supported by the emulator", e.call)
		}
		return f(ev, args)
	case e.target != nil:
		t, err := ev.eval(e.target)
		if err != nil {
			return nil, err
		}
		if e.index == nil {
			return member(t, e.prop)
		}
		idx, err := ev.eval(e.index)
		if err != nil {
			return nil, err
		}
		if arr, ok := t.([]any); ok {
			i, ok := idx.(float64)
			if !ok || int(i) < 0 || int(i) >= len(arr) {
				return nil, fmt.Errorf("index %v out of range", idx)
			}
			return arr[int(i)], nil
		}
		return member(t, stringForm(idx))
	}
	return e.lit, nil
}

func member(t any, key string) (any, error) {
	m, ok := t.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("cannot read property %q of %v", key, t)
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, nil
		}
	}
	return nil, fmt.Errorf("property %q does not exist", key)
}

// lazyFuncs evaluate only the arguments they need (ARM's if() evaluates the
// branch its condition picks).
var lazyFuncs = map[string]bool{"if": true, "and": true, "or": true}

func (ev *policyEval) lazy(name string, args []*exprNode) (any, error) {
	truth := func(a *exprNode) (bool, error) {
		v, err := ev.eval(a)
		if err != nil {
			return false, err
		}
		b, ok := v.(bool)
		if !ok {
			return false, fmt.Errorf("%s() needs booleans, got %v", name, v)
		}
		return b, nil
	}
	switch name {
	case "if":
		if len(args) != 3 {
			return nil, fmt.Errorf("if() takes 3 arguments")
		}
		c, err := truth(args[0])
		if err != nil {
			return nil, err
		}
		if c {
			return ev.eval(args[1])
		}
		return ev.eval(args[2])
	case "and":
		for _, a := range args {
			if b, err := truth(a); err != nil || !b {
				return false, err
			}
		}
		return true, nil
	}
	for _, a := range args {
		if b, err := truth(a); err != nil || b {
			return b, err
		}
	}
	return false, nil
}

// policyFuncs are the template functions the emulator evaluates
// (definition-structure-policy-rule, "Policy functions"; ARM template
// functions of the same names).
var policyFuncs map[string]func(ev *policyEval, a []any) (any, error)

func init() {
	nargs := func(name string, n int, f func(ev *policyEval, a []any) (any, error)) func(*policyEval, []any) (any, error) {
		return func(ev *policyEval, a []any) (any, error) {
			if n >= 0 && len(a) != n {
				return nil, fmt.Errorf("%s() takes %d argument(s), got %d", name, n, len(a))
			}
			return f(ev, a)
		}
	}
	cmp := func(name string, ok func(int) bool) func(*policyEval, []any) (any, error) {
		return nargs(name, 2, func(_ *policyEval, a []any) (any, error) {
			c, err := compareValues(a[0], a[1])
			return ok(c), err
		})
	}
	policyFuncs = map[string]func(ev *policyEval, a []any) (any, error){
		"parameters": nargs("parameters", 1, func(ev *policyEval, a []any) (any, error) {
			v, ok := ev.p.params[strings.ToLower(stringForm(a[0]))]
			if !ok {
				return nil, fmt.Errorf("parameter %v is not defined", a[0])
			}
			return v, nil
		}),
		"field": nargs("field", 1, func(ev *policyEval, a []any) (any, error) {
			f, err := lookupField(stringForm(a[0]))
			if err != nil {
				return nil, err
			}
			vals, coll := ev.field(f)
			if coll {
				if vals == nil {
					vals = []any{}
				}
				return vals, nil
			}
			return vals[0], nil
		}),
		"current": func(ev *policyEval, a []any) (any, error) {
			if len(ev.frames) == 0 {
				return nil, fmt.Errorf("current() outside a count")
			}
			if len(a) == 0 {
				return ev.frames[len(ev.frames)-1].value, nil
			}
			name := strings.ToLower(stringForm(a[0]))
			for i := len(ev.frames) - 1; i >= 0; i-- {
				if ev.frames[i].name == name {
					return ev.frames[i].value, nil
				}
			}
			// current('<alias of a property of the counted member>')
			f, err := lookupField(name)
			if err != nil {
				return nil, fmt.Errorf("current(%q): no count names it", name)
			}
			vals, _ := ev.field(f)
			if len(vals) == 1 {
				return vals[0], nil
			}
			return vals, nil
		},
		"requestcontext": nargs("requestContext", 0, func(ev *policyEval, _ []any) (any, error) {
			return map[string]any{"apiVersion": ev.apiVersion}, nil
		}),
		"policy": nargs("policy", 0, func(ev *policyEval, _ []any) (any, error) {
			return map[string]any{"assignmentId": ev.p.assignID, "definitionId": ev.p.defID,
				"setDefinitionId": "", "definitionReferenceId": ""}, nil
		}),
		"not": nargs("not", 1, func(_ *policyEval, a []any) (any, error) {
			b, ok := a[0].(bool)
			if !ok {
				return nil, fmt.Errorf("not() needs a boolean, got %v", a[0])
			}
			return !b, nil
		}),
		"true":  nargs("true", 0, func(*policyEval, []any) (any, error) { return true, nil }),
		"false": nargs("false", 0, func(*policyEval, []any) (any, error) { return false, nil }),
		"equals": nargs("equals", 2, func(_ *policyEval, a []any) (any, error) {
			x, _ := json.Marshal(a[0])
			y, _ := json.Marshal(a[1])
			return string(x) == string(y), nil
		}),
		"less":            cmp("less", func(c int) bool { return c < 0 }),
		"lessorequals":    cmp("lessOrEquals", func(c int) bool { return c <= 0 }),
		"greater":         cmp("greater", func(c int) bool { return c > 0 }),
		"greaterorequals": cmp("greaterOrEquals", func(c int) bool { return c >= 0 }),
		"empty": nargs("empty", 1, func(_ *policyEval, a []any) (any, error) {
			switch x := a[0].(type) {
			case nil:
				return true, nil
			case string:
				return x == "", nil
			case []any:
				return len(x) == 0, nil
			case map[string]any:
				return len(x) == 0, nil
			}
			return false, nil
		}),
		"contains": nargs("contains", 2, func(_ *policyEval, a []any) (any, error) {
			switch x := a[0].(type) {
			case nil:
				return false, nil
			case string:
				return strings.Contains(x, stringForm(a[1])), nil
			case []any:
				for _, it := range x {
					if stringForm(it) == stringForm(a[1]) {
						return true, nil
					}
				}
				return false, nil
			case map[string]any:
				_, ok := x[stringForm(a[1])]
				return ok, nil
			}
			return nil, fmt.Errorf("contains() cannot search %v", a[0])
		}),
		"int": nargs("int", 1, func(_ *policyEval, a []any) (any, error) {
			if f, ok := a[0].(float64); ok {
				return math.Trunc(f), nil
			}
			n, err := strconv.Atoi(strings.TrimSpace(stringForm(a[0])))
			if err != nil {
				return nil, fmt.Errorf("int(%q): not an integer", stringForm(a[0]))
			}
			return float64(n), nil
		}),
		"string":  nargs("string", 1, func(_ *policyEval, a []any) (any, error) { return stringForm(a[0]), nil }),
		"tolower": nargs("toLower", 1, func(_ *policyEval, a []any) (any, error) { return strings.ToLower(stringForm(a[0])), nil }),
		"toupper": nargs("toUpper", 1, func(_ *policyEval, a []any) (any, error) { return strings.ToUpper(stringForm(a[0])), nil }),
		"first": nargs("first", 1, func(_ *policyEval, a []any) (any, error) {
			return pick(a[0], true)
		}),
		"last": nargs("last", 1, func(_ *policyEval, a []any) (any, error) {
			return pick(a[0], false)
		}),
		"split": nargs("split", 2, func(_ *policyEval, a []any) (any, error) {
			s, ok := a[0].(string)
			if !ok {
				return nil, fmt.Errorf("split() needs a string, got %v", a[0])
			}
			return toAny(strings.Split(s, stringForm(a[1]))), nil
		}),
		"length": nargs("length", 1, func(_ *policyEval, a []any) (any, error) {
			switch x := a[0].(type) {
			case string:
				return float64(len(x)), nil
			case []any:
				return float64(len(x)), nil
			case map[string]any:
				return float64(len(x)), nil
			case nil:
				return 0.0, nil
			}
			return nil, fmt.Errorf("length() of %v", a[0])
		}),
		"concat": func(_ *policyEval, a []any) (any, error) {
			if len(a) > 0 {
				if _, ok := a[0].([]any); ok {
					var out []any
					for _, x := range a {
						arr, _ := x.([]any)
						out = append(out, arr...)
					}
					return out, nil
				}
			}
			var b strings.Builder
			for _, x := range a {
				b.WriteString(stringForm(x))
			}
			return b.String(), nil
		},
	}
}

func pick(v any, first bool) (any, error) {
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return nil, nil
		}
		if first {
			return x[0], nil
		}
		return x[len(x)-1], nil
	case string:
		if x == "" {
			return "", nil
		}
		if first {
			return x[:1], nil
		}
		return x[len(x)-1:], nil
	}
	return nil, fmt.Errorf("first()/last() of %v", v)
}
