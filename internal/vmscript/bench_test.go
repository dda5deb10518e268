package vmscript

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/remote"
)

// What the benchmark prints on a VM, as run-command's output tail keeps it:
// some noise, then the compact markers.
const benchStdout = `dd: warning: partial read
##azlin-info## bench_fs=nfs4 ext4
##azlin-info## bench_seq_write=2000000000 1000000000
##azlin-info## bench_seq_read=1000000000 900000000
##azlin-info## bench_small_write=5000000000 500000000
##azlin-info## bench_small_read=3000000000 300000000
##azlin-info## bench_git_status=skip: git is not installed on this VM
##azlin-info## bench_cache=dropped
##azlin-result## status=ok step=cleanup reason=
`

func TestParseBenchReadsTheMarkers(t *testing.T) {
	res, err := remote.Parse(benchStdout)
	require.NoError(t, err)
	rep, err := ParseBench(res.Info)
	require.NoError(t, err)
	assert.Equal(t, "nfs4", rep.ShareFS)
	assert.Equal(t, "ext4", rep.LocalFS)
	assert.True(t, rep.CacheDropped)
	require.Len(t, rep.Ops, 5)
	assert.Equal(t, BenchOp{Name: "seq_write", ShareNS: 2e9, LocalNS: 1e9}, rep.Ops[0])
	assert.InDelta(t, 0.5, rep.Ops[0].Ratio(), 1e-9, "half as fast as local disk")
	assert.InDelta(t, 0.9, rep.Ops[1].Ratio(), 1e-9)
	assert.InDelta(t, 0.1, rep.Ops[3].Ratio(), 1e-9)
	assert.Equal(t, BenchOp{Name: "git_status", Skip: "git is not installed on this VM"}, rep.Ops[4])
	assert.Zero(t, rep.Ops[4].Ratio())
	assert.True(t, IsNFS(rep.ShareFS))
	assert.False(t, IsNFS("fuse.azemu-blobnfs"))

	// The markers are small: the whole report fits run-command's 4 KiB tail
	// many times over.
	assert.Less(t, len(benchStdout), 1024)
}

// A report with a hole or garbage in it is an error, not a figure.
func TestParseBenchRefusesAnIncompleteReport(t *testing.T) {
	res, err := remote.Parse(benchStdout)
	require.NoError(t, err)
	for key, val := range map[string]string{
		"bench_small_read":  "",       // missing
		"bench_seq_read":    "12",     // one time
		"bench_seq_write":   "x 1000", // not a number
		"bench_small_write": "0 1000",
		"bench_fs":          "nfs4",
		"bench_cache":       "",
	} {
		info := map[string]string{}
		for k, v := range res.Info {
			info[k] = v
		}
		if val == "" {
			delete(info, key)
		} else {
			info[key] = val
		}
		_, err := ParseBench(info)
		assert.Error(t, err, "%s=%q", key, val)
	}
}

func TestBenchScriptChecksItsSizes(t *testing.T) {
	s, err := BenchScript(BenchParams{MiB: 64, Files: 500})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(s, "#!/bin/bash\n"))
	assert.Contains(t, s, "\nBENCH_MIB=64\n")
	assert.Contains(t, s, "\nBENCH_FILES=500\n")
	assert.Contains(t, s, "\nHOME_DIR=/home/azureuser\n")
	for _, p := range []BenchParams{{MiB: 0, Files: 500}, {MiB: 16385, Files: 500}, {MiB: 64, Files: 9}, {MiB: 64, Files: 100001}} {
		_, err := BenchScript(p)
		assert.Error(t, err, "%+v", p)
	}
}
