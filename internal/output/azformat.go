package output

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file prints a query's result the way az prints a command's result
// when --query is active. The rules are knack 0.12.0's (knack/output.py, the
// output layer of the Azure CLI 2.74): format_json, format_table with
// _TableOutput and tabulate's "simple" format, and format_tsv with
// _TsvOutput. testdata/query holds cases printed by that code itself.

// azJSON is format_json: json.dumps(result, indent=2, sort_keys=True,
// ensure_ascii=False) and a newline.
func (r *result) azJSON() string {
	var b strings.Builder
	writeJSONValue(&b, r.value, "")
	b.WriteByte('\n')
	return b.String()
}

func writeJSONValue(b *strings.Builder, v any, indent string) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			b.WriteString("{}")
			return
		}
		keys := sortedKeys(t)
		b.WriteString("{\n")
		for i, k := range keys {
			b.WriteString(indent + "  ")
			writeJSONString(b, k)
			b.WriteString(": ")
			writeJSONValue(b, t[k], indent+"  ")
			if i < len(keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case []any:
		if len(t) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, e := range t {
			b.WriteString(indent + "  ")
			writeJSONValue(b, e, indent+"  ")
			if i < len(t)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	case string:
		writeJSONString(b, t)
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case float64:
		b.WriteString(pyNumber(t))
	default: // not produced by decode or go-jmespath; encoding/json's form
		raw, _ := json.Marshal(t)
		b.Write(raw)
	}
}

func sortedKeys(m map[string]any) []string {
	r := &result{}
	return r.keys(m) // no orders, no hashes: sorted
}

// writeJSONString quotes s as Python's json.dumps(ensure_ascii=False) does:
// only quotes, backslashes and control characters are escaped.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteString(strconv.FormatInt(int64(c)>>4, 16))
				b.WriteString(strconv.FormatInt(int64(c)&0xf, 16))
			} else {
				b.WriteRune(c)
			}
		}
	}
	b.WriteByte('"')
}

// pyNumber is how Python prints a number that came from a JSON document: a
// whole number is an int there (json.loads("100") is 100), anything else a
// float, printed as repr() does: the shortest digits, in exponent form
// below 1e-4 and from 1e16 on.
func pyNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		return strconv.FormatInt(int64(f), 10)
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	// 'e' with the shortest digits: "d.ddde±XX".
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expS, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expS)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return mant + "e" + sign + leftPad(strconv.Itoa(exp), 2, '0')
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func leftPad(s string, n int, c byte) string {
	for len(s) < n {
		s = string(c) + s
	}
	return s
}

// pyStr is Python's str() of a JSON value, as tabulate and _TsvOutput print
// a scalar: True/False, None, and numbers as pyNumber.
func pyStr(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		if t {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	case float64:
		return pyNumber(t)
	}
	var b strings.Builder
	writeJSONValue(&b, v, "")
	return b.String()
}

// tableSkipKeys are the keys _TableOutput leaves out of every table.
var tableSkipKeys = map[string]bool{"id": true, "type": true, "etag": true}

// column is one column of az's table: its header and each row's cell
// (absent: the row had no such key).
type tableRow struct {
	cols  []string
	cells map[string]string
}

// azTable is format_table with a query active: each item of the result (or
// the result itself) becomes a row. An object gives a column per key, in
// its order, with the first letter capitalised, skipping id, type, etag and
// values that are null, lists or objects; a list gives Column1, Column2, ...;
// a scalar a column named Result. tabulate's "simple" format with
// headers="keys" and disable_numparse=True then prints them: every column
// is left-aligned and as wide as its widest cell or its header plus two,
// separated by two spaces, under a line of dashes.
func (r *result) azTable() string {
	items, ok := r.value.([]any)
	if !ok {
		items = []any{r.value}
	}
	if len(items) == 0 {
		return "\n"
	}
	var headers []string
	seen := map[string]bool{}
	rows := make([]tableRow, 0, len(items))
	for _, item := range items {
		row := r.tableItem(item)
		for _, h := range row.cols {
			if !seen[h] {
				seen[h] = true
				headers = append(headers, h)
			}
		}
		rows = append(rows, row)
	}
	if len(headers) == 0 {
		return "\n"
	}
	widths := make([]int, len(headers))
	for i, h := range headers {
		widths[i] = utf8.RuneCountInString(h) + 2
		for _, row := range rows {
			widths[i] = max(widths[i], utf8.RuneCountInString(row.cells[h]))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		var l strings.Builder
		for i, c := range cells {
			if i > 0 {
				l.WriteString("  ")
			}
			l.WriteString(c)
			l.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)))
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteByte('\n')
	}
	line(headers)
	dashes := make([]string, len(headers))
	for i := range headers {
		dashes[i] = strings.Repeat("-", widths[i])
	}
	line(dashes)
	for _, row := range rows {
		cells := make([]string, len(headers))
		for i, h := range headers {
			cells[i] = row.cells[h]
		}
		line(cells)
	}
	return b.String()
}

// tableItem is _TableOutput._auto_table_item; cells are stripped of
// surrounding blanks, as tabulate does.
func (r *result) tableItem(item any) tableRow {
	row := tableRow{cells: map[string]string{}}
	add := func(h string, v any) {
		if _, dup := row.cells[h]; !dup {
			row.cols = append(row.cols, h)
		}
		row.cells[h] = strings.TrimSpace(pyStr(v))
	}
	switch t := item.(type) {
	case map[string]any:
		for _, k := range r.keys(t) {
			v := t[k]
			if tableSkipKeys[k] || v == nil {
				continue
			}
			switch v.(type) {
			case map[string]any, []any:
				continue
			}
			add(capitalizeFirst(k), v)
		}
	case []any:
		for i, v := range t {
			if v == nil {
				row.cols = append(row.cols, "Column"+strconv.Itoa(i+1))
				continue // tabulate prints None as an empty cell
			}
			add("Column"+strconv.Itoa(i+1), v)
		}
	case nil:
		row.cols = append(row.cols, "Result")
	default:
		add("Result", t)
	}
	return row
}

func capitalizeFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:]
}

// azTSV is format_tsv: one line per item of the result (or the result
// itself); an object's values in its key order, or a list's items, tab
// separated; inside a row a list prints as its length, an object as
// nothing, null as None; a row that is a boolean is lower case.
func (r *result) azTSV() string {
	items, ok := r.value.([]any)
	if !ok {
		items = []any{r.value}
	}
	var b strings.Builder
	for _, item := range items {
		var values []any
		switch t := item.(type) {
		case map[string]any:
			for _, k := range r.keys(t) {
				values = append(values, t[k])
			}
		case []any:
			values = t
		case bool:
			b.WriteString(strconv.FormatBool(t) + "\n")
			continue
		default:
			values = []any{t}
		}
		for i, v := range values {
			if i > 0 {
				b.WriteByte('\t')
			}
			switch t := v.(type) {
			case []any:
				b.WriteString(strconv.Itoa(len(t)))
			case map[string]any:
			default:
				b.WriteString(pyStr(t))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
