package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// Bad sizes, a missing --vm and a bad name are usage errors (exit 2) before
// any az call: the fake runner has none to answer.
func TestStorageBenchRefusesBadInputBeforeAnyAzCall(t *testing.T) {
	for _, args := range [][]string{
		{"storage", "bench", "shared-dev"},
		{"storage", "bench", "shared-dev", "--vm", "w1", "--size", "0MiB"},
		{"storage", "bench", "shared-dev", "--vm", "w1", "--size", "17GiB"},
		{"storage", "bench", "shared-dev", "--vm", "w1", "--size", "64KiB"},
		{"storage", "bench", "shared-dev", "--vm", "w1", "--files", "9"},
		{"storage", "bench", "Bad_Name", "--vm", "w1"},
		{"storage", "bench", "shared-dev", "--vm", "-bad-"},
	} {
		f := aztest.New(t)
		_, stderr, code := runWith(t, t.Context(), f, append(args, "-g", "rg")...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Empty(t, f.Calls(), "%v", args)
	}
}

func TestParseBenchSize(t *testing.T) {
	for in, want := range map[string]int{"64MiB": 64, "64MB": 64, "1GiB": 1024, "2GB": 2048, "16GiB": 16384, "1M": 1} {
		got, err := parseBenchSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "64", "0MiB", "16385MiB", "1TiB", "-1MiB", "1.5GiB"} {
		_, err := parseBenchSize(in)
		assert.Error(t, err, in)
	}
}

// The figures: MiB/s and files/s from the same work on both sides, git
// status in milliseconds; RATIO is local time / share time throughout.
func TestBenchViewFigures(t *testing.T) {
	v := benchView(vmscript.BenchOp{Name: "seq_write", ShareNS: 2e9, LocalNS: 1e9}, 64, 500)
	assert.Equal(t, benchOpView{Op: "seq_write", Unit: "MiB/s", Share: 32, Local: 64, Ratio: 0.5}, v)
	assert.Equal(t, "32.0 MiB/s", benchFigure(v, v.Share))
	v = benchView(vmscript.BenchOp{Name: "small_read", ShareNS: 5e8, LocalNS: 4.5e8}, 64, 500)
	assert.Equal(t, benchOpView{Op: "small_read", Unit: "files/s", Share: 1000, Local: 1111.111, Ratio: 0.9}, v)
	v = benchView(vmscript.BenchOp{Name: "git_status", ShareNS: 3e7, LocalNS: 1e7}, 64, 500)
	assert.Equal(t, benchOpView{Op: "git_status", Unit: "ms", Share: 30, Local: 10, Ratio: 0.333}, v)
	v = benchView(vmscript.BenchOp{Name: "git_status", Skip: "git is not installed on this VM"}, 64, 500)
	assert.Equal(t, "-", benchFigure(v, v.Share))
	assert.Zero(t, v.Ratio)
}
