//go:build localcloud

package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// azlin storage bench on a VM whose home is a shared storage: both figures
// of every op and their ratio, a JSON document that --query reads, the note
// that in the local cloud the share is not NFS (so the figures say nothing
// about Azure), and nothing of the benchmark left in the home or /tmp.
func TestE2EStorageBenchPrintsBothFigures(t *testing.T) {
	c := sharedCloud(t)
	azlinRun(t, c, "storage", "create", "benchhome", "--tier", "Premium", "--size", "100GB")
	azlinRun(t, c, "new", "--shared-home", "benchhome", "--name", "w1")
	ssh(t, c, "w1", "echo mine > ~/keep.txt")
	before := homeTree(t, c, "w1")

	r := azlinRun(t, c, "storage", "bench", "benchhome", "--vm", "w1", "--size", "4MiB", "--files", "40")
	rows := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		f := strings.Split(l, "\t")
		require.Len(t, f, 4, r.Stdout)
		rows[f[0]] = f[1:]
	}
	fig := regexp.MustCompile(`^[0-9]+(\.[0-9]+)? (MiB/s|files/s|ms)$`)
	for _, op := range []string{"seq_write", "seq_read", "small_write", "small_read", "git_status"} {
		require.Contains(t, rows, op, r.Stdout)
		assert.Regexp(t, fig, rows[op][0], "%s on the share", op)
		assert.Regexp(t, fig, rows[op][1], "%s on local disk", op)
		assert.Regexp(t, `^[0-9]+%$`, rows[op][2], "%s ratio", op)
	}
	assert.Contains(t, rows["seq_write"][0], "MiB/s")
	assert.Contains(t, rows["small_read"][1], "files/s")
	assert.Contains(t, rows["git_status"][0], " ms")
	assert.Contains(t, r.Stderr, "ops at 90% of local disk or better")
	assert.Contains(t, r.Stderr, "is not an NFS mount (the kernel says ")
	assert.Contains(t, r.Stderr, "mean nothing about Azure")

	r = azlinRun(t, c, "storage", "bench", "benchhome", "--vm", "w1", "--size", "2MiB", "--files", "20", "-o", "json")
	var doc struct {
		Storage, VM, Tier, ShareFs, Note string
		SizeBytes                        int64
		Files                            int
		Ops                              []struct {
			Op, Unit            string
			Share, Local, Ratio float64
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &doc), r.Stdout)
	assert.Equal(t, "benchhome", doc.Storage)
	assert.Equal(t, "w1", doc.VM)
	assert.Equal(t, "Premium", doc.Tier)
	assert.Equal(t, int64(2<<20), doc.SizeBytes)
	assert.Equal(t, 20, doc.Files)
	assert.Contains(t, doc.Note, "mean nothing about Azure")
	require.Len(t, doc.Ops, 5)
	for _, op := range doc.Ops {
		assert.Positive(t, op.Share, op.Op)
		assert.Positive(t, op.Local, op.Op)
		assert.Positive(t, op.Ratio, op.Op)
	}
	r = azlinRun(t, c, "storage", "bench", "benchhome", "--vm", "w1", "--size", "1MiB", "--files", "10", "--query", "ops[].op")
	assert.Equal(t, "seq_write\nseq_read\nsmall_write\nsmall_read\ngit_status\n", r.Stdout)

	assert.Equal(t, before, homeTree(t, c, "w1"), "the home is as it was")
	assert.Empty(t, asRoot(t, c, "w1", "ls -d /tmp/azlin-bench-* /home/azureuser/.azlin-bench-* 2>/dev/null || true"))

	// Not attached: said before anything runs on the VM.
	azlinRun(t, c, "new", "--name", "plain1")
	r = c.Azlin("storage", "bench", "benchhome", "--vm", "plain1")
	assert.NotEqual(t, 0, r.Exit)
	assert.Contains(t, r.Stderr, "does not have storage benchhome as its home")
}
