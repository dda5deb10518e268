package vmscript

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

//go:embed sh/bench.sh
var benchSh string

// Bench sizes: what BenchScript accepts.
const (
	BenchMinMiB   = 1
	BenchMaxMiB   = 16384 // 16 GiB
	BenchMinFiles = 10
	BenchMaxFiles = 100000
)

// BenchParams describes one run of the benchmark on a VM whose home is the
// share.
type BenchParams struct {
	User     string // "azureuser"
	UID, GID int    // 1000, 1000
	Home     string // "/home/" + User
	MiB      int    // the sequential file's size
	Files    int    // how many 4 KiB files the small-file ops and git status use
}

// BenchScript returns the benchmark script (sh/bench.sh): the same
// sequential and small-file work, and a git status, on the share and on
// the VM's local disk (/tmp), in folders of its own that it removes after,
// also on failure or a signal. Read its report with ParseBench.
func BenchScript(p BenchParams) (string, error) {
	a := AttachParams{User: p.User, UID: p.UID, GID: p.GID, Home: p.Home}.withDefaults()
	if err := validateUser(a.User, a.UID, a.GID, a.Home); err != nil {
		return "", fmt.Errorf("bench script: %w", err)
	}
	if p.MiB < BenchMinMiB || p.MiB > BenchMaxMiB {
		return "", fmt.Errorf("bench script: size %d MiB is not %d-%d MiB", p.MiB, BenchMinMiB, BenchMaxMiB)
	}
	if p.Files < BenchMinFiles || p.Files > BenchMaxFiles {
		return "", fmt.Errorf("bench script: %d files is not %d-%d", p.Files, BenchMinFiles, BenchMaxFiles)
	}
	h := header{}
	h.set("USER_NAME", a.User)
	h.set("USER_UID", strconv.Itoa(a.UID))
	h.set("USER_GID", strconv.Itoa(a.GID))
	h.set("HOME_DIR", a.Home)
	h.set("BENCH_MIB", strconv.Itoa(p.MiB))
	h.set("BENCH_FILES", strconv.Itoa(p.Files))
	return assemble("benchmark of the shared home "+a.Home+" against local disk", h, benchSh), nil
}

// BenchOps are the benchmark's operations, in the order they run and show.
var BenchOps = []string{"seq_write", "seq_read", "small_write", "small_read", "git_status"}

// BenchOp is one operation timed on the share and on local disk.
type BenchOp struct {
	Name    string
	ShareNS int64  // 0 when skipped
	LocalNS int64  // 0 when skipped
	Skip    string // why it did not run; "" when it did
}

// Ratio is the share's speed as a fraction of local disk's (the same work,
// so local time / share time): 1 is as fast, 0.9 is the "90% of local disk"
// line. 0 when skipped.
func (o BenchOp) Ratio() float64 {
	if o.Skip != "" || o.ShareNS <= 0 || o.LocalNS <= 0 {
		return 0
	}
	return float64(o.LocalNS) / float64(o.ShareNS)
}

// BenchReport is what the benchmark script reported.
type BenchReport struct {
	Ops []BenchOp
	// ShareFS and LocalFS are the kernel's file system types under the two
	// folders ("nfs", "nfs4" on Azure; something else means the share is not
	// NFS, as in the local cloud).
	ShareFS, LocalFS string
	// CacheDropped: the page cache was dropped before each read, so reads
	// came from the share and the disk, not memory.
	CacheDropped bool
}

// ParseBench reads the benchmark's report from a script's info
// (bench_<op>=SHARE_NS LOCAL_NS or =skip: WHY, bench_fs, bench_cache).
// Every op must be there: a missing or garbled one is an error, since a
// benchmark with a hole in it would mislead.
func ParseBench(info map[string]string) (BenchReport, error) {
	var r BenchReport
	fs := strings.Fields(info["bench_fs"])
	if len(fs) != 2 {
		return r, fmt.Errorf("the benchmark did not report its file systems (bench_fs=%q)", info["bench_fs"])
	}
	r.ShareFS, r.LocalFS = fs[0], fs[1]
	switch info["bench_cache"] {
	case "dropped":
		r.CacheDropped = true
	case "kept":
	default:
		return r, fmt.Errorf("the benchmark did not say whether it dropped the caches (bench_cache=%q)", info["bench_cache"])
	}
	for _, name := range BenchOps {
		v, ok := info["bench_"+name]
		if !ok {
			return r, fmt.Errorf("the benchmark did not report %s", name)
		}
		op := BenchOp{Name: name}
		if why, skipped := strings.CutPrefix(v, "skip: "); skipped {
			op.Skip = why
			r.Ops = append(r.Ops, op)
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 {
			return r, fmt.Errorf("the benchmark's %s report %q is not two times", name, v)
		}
		var err error
		if op.ShareNS, err = strconv.ParseInt(f[0], 10, 64); err != nil || op.ShareNS <= 0 {
			return r, fmt.Errorf("the benchmark's %s time on the share %q is not a positive number of nanoseconds", name, f[0])
		}
		if op.LocalNS, err = strconv.ParseInt(f[1], 10, 64); err != nil || op.LocalNS <= 0 {
			return r, fmt.Errorf("the benchmark's %s time on local disk %q is not a positive number of nanoseconds", name, f[1])
		}
		r.Ops = append(r.Ops, op)
	}
	return r, nil
}

// IsNFS tells whether a kernel file system type is NFS.
func IsNFS(fsType string) bool { return fsType == "nfs" || fsType == "nfs4" }
