// Package testjson reads and patches decoded JSON (the maps and slices of
// encoding/json) in tests: fixtures of recorded az output and what the
// emulator prints. Each step of a path is checked, so that a value of
// another shape than the test expects fails the test, naming the path,
// where a type assertion would panic.
package testjson

import (
	"fmt"
	"strings"
	"testing"
)

// At returns the value at path in v. A string step is a key of an object,
// an int step an index into a list.
func At(t testing.TB, v any, path ...any) any {
	t.Helper()
	for i, step := range path {
		switch s := step.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("testjson: %s is %s, not an object", where(path[:i]), kind(v))
			}
			if v, ok = m[s]; !ok {
				t.Fatalf("testjson: %s has no key %q", where(path[:i]), s)
			}
		case int:
			l, ok := v.([]any)
			if !ok {
				t.Fatalf("testjson: %s is %s, not a list", where(path[:i]), kind(v))
			}
			if s < 0 || s >= len(l) {
				t.Fatalf("testjson: %s has %d items, no [%d]", where(path[:i]), len(l), s)
			}
			v = l[s]
		default:
			t.Fatalf("testjson: path step %#v is neither a key (string) nor an index (int)", step)
		}
	}
	return v
}

// Obj returns the object at path in v; patching it patches v.
func Obj(t testing.TB, v any, path ...any) map[string]any {
	t.Helper()
	return as[map[string]any](t, v, path, "an object")
}

// List returns the list at path in v.
func List(t testing.TB, v any, path ...any) []any {
	t.Helper()
	return as[[]any](t, v, path, "a list")
}

// Str returns the string at path in v.
func Str(t testing.TB, v any, path ...any) string {
	t.Helper()
	return as[string](t, v, path, "a string")
}

// Num returns the number at path in v.
func Num(t testing.TB, v any, path ...any) float64 {
	t.Helper()
	return as[float64](t, v, path, "a number")
}

func as[T any](t testing.TB, v any, path []any, want string) T {
	t.Helper()
	got := At(t, v, path...)
	x, ok := got.(T)
	if !ok {
		t.Fatalf("testjson: %s is %s, not %s", where(path), kind(got), want)
	}
	return x
}

// where spells a path as a JavaScript-like expression: value[0].message.
func where(path []any) string {
	if len(path) == 0 {
		return "the value"
	}
	var b strings.Builder
	for _, step := range path {
		if i, ok := step.(int); ok {
			fmt.Fprintf(&b, "[%d]", i)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		fmt.Fprint(&b, step)
	}
	return b.String()
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("a %T", v)
}
