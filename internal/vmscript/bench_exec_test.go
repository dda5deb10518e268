//go:build localcloud

package vmscript

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The benchmark script run for real in a namespace (see ns_test.go) on an
// attached home: it reports every op on both sides, and leaves nothing in
// the home, on the share or in /tmp, whether it finishes or fails midway.
func TestBenchMeasuresBothSidesAndLeavesNothing(t *testing.T) {
	e := attachedEnv(t, envOpts{})
	share := e.share(premium.Account, premium.Share)
	before := treeListing(t, share)
	tmpBefore, _ := filepath.Glob("/tmp/azlin-bench-*")
	script, err := BenchScript(BenchParams{MiB: 2, Files: 60})
	require.NoError(t, err)

	res, out := e.runScript("bench.sh", script)
	require.True(t, res.OK, out)
	rep, err := ParseBench(res.Info)
	require.NoError(t, err, out)
	require.Len(t, rep.Ops, len(BenchOps))
	for _, op := range rep.Ops {
		assert.Empty(t, op.Skip, op.Name)
		assert.Positive(t, op.ShareNS, op.Name)
		assert.Positive(t, op.LocalNS, op.Name)
	}
	assert.NotEmpty(t, rep.ShareFS)
	assert.False(t, IsNFS(rep.ShareFS), "here the share is a bind mount")
	assert.Equal(t, before, treeListing(t, share), "nothing of the benchmark is left on the share")
	tmpAfter, _ := filepath.Glob("/tmp/azlin-bench-*")
	assert.Equal(t, tmpBefore, tmpAfter, "nor in /tmp")

	// A step that fails (git refuses to commit) ends the run; the folders
	// go with it. A folder left by a run whose process is gone (a VM that
	// stopped mid-run) is removed by the next run; another name is kept.
	fake := filepath.Join(e.dir, "fake", "git")
	e.writeFile(fake, "#!/bin/sh\necho 'fatal: no' >&2\nexit 128\n", 0o755)
	_, code := e.sh("mount --bind " + fake + " /usr/bin/git")
	require.Equal(t, 0, code)
	host, _ := e.sh("hostname")
	stale := filepath.Join(share, ".azlin-bench-"+trimNL(host)+"-999999") // the home is the share
	require.NoError(t, os.MkdirAll(filepath.Join(stale, "tree"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(stale, ".azlin-bench-run"), nil, 0o644)) // a bench run made it
	mine := filepath.Join(share, ".azlin-bench-notes")
	require.NoError(t, os.MkdirAll(mine, 0o755))
	// A user's folder of the benchmark's very name, without its mark: kept.
	theirs := filepath.Join(share, ".azlin-bench-"+trimNL(host)+"-999998")
	require.NoError(t, os.MkdirAll(theirs, 0o755))
	res, out = e.runScript("bench-fail.sh", script)
	require.False(t, res.OK, out)
	assert.Equal(t, "git_status", res.Step)
	assert.Contains(t, res.Reason, "removed the benchmark's folders")
	assert.NoDirExists(t, stale)
	assert.DirExists(t, mine, "not a name the benchmark gives")
	assert.DirExists(t, theirs, "a folder of the benchmark's name that no bench run marked")
	require.NoError(t, os.Remove(mine))
	require.NoError(t, os.Remove(theirs))
	assert.Equal(t, before, treeListing(t, share))
	tmpAfter, _ = filepath.Glob("/tmp/azlin-bench-*")
	assert.Equal(t, tmpBefore, tmpAfter)
}

func trimNL(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}
