package testjson

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const doc = `{"value": [{"message": "hi", "code": 3, "tags": {"a": "1"}}], "none": null}`

func decoded(t *testing.T) any {
	var v any
	require.NoError(t, json.Unmarshal([]byte(doc), &v))
	return v
}

// fatalTB records the message of Fatalf and ends the goroutine, as
// testing.T does, so that a failing path can be seen from a test that passes.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func failure(t *testing.T, walk func(tb testing.TB)) string {
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		walk(f)
	}()
	<-done
	return f.msg
}

func TestPathsReachValuesAndPatchesReachTheDocument(t *testing.T) {
	v := decoded(t)
	assert.Equal(t, "hi", Str(t, v, "value", 0, "message"))
	assert.Equal(t, float64(3), Num(t, v, "value", 0, "code"))
	assert.Len(t, List(t, v, "value"), 1)
	Obj(t, v, "value", 0, "tags")["b"] = "2"
	assert.Equal(t, map[string]any{"a": "1", "b": "2"}, Obj(t, v, "value", 0)["tags"])
	assert.Nil(t, At(t, v, "none"))
	assert.Equal(t, v, Obj(t, v), "an empty path is the value itself")
}

func TestAWrongShapeFailsTheTestNamingThePath(t *testing.T) {
	v := decoded(t)
	for want, walk := range map[string]func(tb testing.TB){
		"testjson: value[0].message is a string, not an object":                func(tb testing.TB) { Obj(tb, v, "value", 0, "message") },
		"testjson: value[0] has no key \"msg\"":                                func(tb testing.TB) { Str(tb, v, "value", 0, "msg") },
		"testjson: value has 1 items, no [1]":                                  func(tb testing.TB) { At(tb, v, "value", 1) },
		"testjson: value is a list, not an object":                             func(tb testing.TB) { At(tb, v, "value", "message") },
		"testjson: value[0].code is a number, not a string":                    func(tb testing.TB) { Str(tb, v, "value", 0, "code") },
		"testjson: none is null, not a list":                                   func(tb testing.TB) { List(tb, v, "none") },
		"testjson: the value is an object, not a list":                         func(tb testing.TB) { List(tb, v) },
		"testjson: path step 1.5 is neither a key (string) nor an index (int)": func(tb testing.TB) { At(tb, v, 1.5) },
	} {
		assert.Equal(t, want, failure(t, walk))
	}
}
