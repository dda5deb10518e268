package azemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	jmespath "github.com/jmespath-community/go-jmespath"
)

// render applies --query and formats the result as az does for -o json
// (sorted keys, two-space indent, no ASCII or HTML escaping), tsv (knack's
// _TsvOutput) or none. A nil result prints nothing, as in az.
func render(result any, query, format string) (string, error) {
	result = normalize(result)
	if query != "" {
		r, err := jmespath.Search(query, result)
		if err != nil {
			return "", cliError("%v", err)
		}
		result = r
	}
	if result == nil {
		return "", nil
	}
	switch format {
	case "", "json", "jsonc":
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(result); err != nil {
			return "", cliError("%v", err)
		}
		return buf.String(), nil
	case "tsv":
		rows, ok := result.([]any)
		if !ok {
			rows = []any{result}
		}
		var b strings.Builder
		for _, row := range rows {
			tsvRow(&b, row)
		}
		return b.String(), nil
	case "none":
		return "", nil
	}
	return "", cliError("azemu: output format %q is not emulated (use json, tsv or none)", format)
}

func tsvRow(b *strings.Builder, row any) {
	switch v := row.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(tsvCell(v[k]))
		}
	case []any:
		for i, x := range v {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(tsvCell(x))
		}
	case bool:
		b.WriteString(strconv.FormatBool(v))
	default:
		b.WriteString(tsvCell(v))
	}
	b.WriteByte('\n')
}

// tsvCell is Python's str() of a value, as knack writes it: lists become
// their length, objects an empty cell, None "None", booleans "True"/"False".
func tsvCell(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case []any:
		return strconv.Itoa(len(x))
	case map[string]any:
		return ""
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// normalize turns any Go value into plain JSON values (maps, slices, float64)
// so that queries and formatting see exactly what az would.
func normalize(v any) any {
	if v == nil {
		return nil
	}
	switch v.(type) {
	case map[string]any, []any, string, float64, bool:
		if !hasTypedParts(v) {
			return v
		}
	}
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("azemu: result is not JSON: %v", err))
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		panic(err)
	}
	return out
}

func hasTypedParts(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if hasTypedParts(e) {
				return true
			}
		}
		return false
	case []any:
		for _, e := range x {
			if hasTypedParts(e) {
				return true
			}
		}
		return false
	case string, float64, bool, nil:
		return false
	}
	return true
}
