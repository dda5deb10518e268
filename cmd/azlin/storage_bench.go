package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/output"
	"github.com/azlin-dev/azlin/internal/sharedhome"
	"github.com/azlin-dev/azlin/internal/vmprov"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// storageBenchOptions are `azlin storage bench`'s argument and flags.
type storageBenchOptions struct {
	Name  string
	VM    string
	Size  string
	Files int
}

// benchRequirement is the line the requirements draw: the share at 90% of
// local disk's speed.
const benchRequirement = 0.9

// newStorageBenchCmd is `azlin storage bench`; runF, when not nil, replaces
// the run (tests of flag parsing).
func newStorageBenchCmd(a *app, runF func(*storageBenchOptions) error) *cobra.Command {
	var o storageBenchOptions
	cmd := &cobra.Command{
		Use:   "bench NAME --vm VM [--size 64MiB] [--files 500]",
		Short: "Measure a shared home against the VM's local disk",
		Long: joinLines(
			"Run the same work on VM's shared home (storage NAME) and on its local disk",
			"(/tmp), as azureuser, and print both with the ratio share/local, so you can",
			"check \"90% of local disk\" on your own VM:",
			"  seq_write    one --size file written and flushed (dd, conv=fsync)",
			"  seq_read     that file read back",
			"  small_write  --files files of 4 KiB (in folders of 50), then flushed",
			"  small_read   those files read back",
			"  git_status   git status in a repository of those files",
			"Before each read the VM's page cache is dropped, so reads come from the share",
			"and the disk, not from memory. RATIO is local time / share time: 100% is as",
			"fast as local disk; the summary counts the ops at 90% or more.",
			"",
			"It runs on the VM as one run command (no SSH needed), in two folders of its",
			"own, ~/.azlin-bench-HOST-PID on the share and /tmp/azlin-bench-HOST-PID, which",
			"it removes afterwards, also when it fails; nothing else is touched. Ctrl+C",
			"stops azlin waiting; the run on the VM still finishes and removes its folders",
			"(a folder left by a VM that stopped mid-run is removed by the next bench).",
			"Sizes: --size 1MiB to 16GiB (MiB/GiB, or MB/GB meaning the same), --files 10",
			"to 100000; both sides need the room.",
			"",
			"One run is one sample: the share's speed varies with its size (Premium",
			"throughput grows with provisioned GiB), the VM size and the time of day.",
			"In azlin's local cloud the share is not NFS (the kernel's file system type",
			"says so, and the output too): the figures then measure the host's disk and",
			"mean nothing about Azure.",
			"",
			"With -o json: {storage, vm, tier, sizeBytes, files, shareFs, localFs,",
			"cacheDropped, ops: [{op, unit, share, local, ratio, skipped}], atLeast90,",
			"note}.",
		),
		Example: joinLines(
			"  azlin storage bench shared-dev --vm worker-1",
			"  azlin storage bench shared-dev --vm worker-1 --size 1GiB --files 5000",
			"  azlin storage bench shared-dev --vm worker-1 -o json --query 'ops[].[op, ratio]'",
		),
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if runF != nil {
				return runF(&o)
			}
			return runStorageBench(cmd.Context(), a, &o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.VM, "vm", "", "VM whose shared home is measured (it must be attached to NAME and running)")
	fl.StringVar(&o.Size, "size", "64MiB", "size of the sequential file (1MiB-16GiB)")
	fl.IntVar(&o.Files, "files", 500, "how many 4 KiB files for the small-file ops and git status (10-100000)")
	return cmd
}

var benchSizeRe = regexp.MustCompile(`^([0-9]+)\s*(MiB|MB|M|GiB|GB|G)$`)

// parseBenchSize reads --size as MiB: MiB or GiB (MB and GB mean the same,
// as in every size azlin takes).
func parseBenchSize(s string) (int, error) {
	m := benchSizeRe.FindStringSubmatch(strings.TrimSpace(s))
	bad := clierr.Usagef("invalid --size %q: give %d MiB to %d GiB, e.g. 64MiB or 1GiB", s, vmscript.BenchMinMiB, vmscript.BenchMaxMiB/1024)
	if m == nil {
		return 0, bad
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0, bad
	}
	if strings.HasPrefix(m[2], "G") {
		n *= 1024
	}
	if n < vmscript.BenchMinMiB || n > vmscript.BenchMaxMiB {
		return 0, bad
	}
	return n, nil
}

// benchOpView is one row of the benchmark, as printed and in JSON.
type benchOpView struct {
	Op      string  `json:"op"`
	Unit    string  `json:"unit"`
	Share   float64 `json:"share"`
	Local   float64 `json:"local"`
	Ratio   float64 `json:"ratio"`
	Skipped string  `json:"skipped,omitempty"`
}

// benchView turns an op's times into the figure people compare: MiB/s for
// the sequential ops, files/s for the small-file ops, milliseconds for git
// status (lower is better there; RATIO is local/share time for all).
func benchView(op vmscript.BenchOp, mib, files int) benchOpView {
	v := benchOpView{Op: op.Name, Ratio: round3(op.Ratio()), Skipped: op.Skip}
	rate := func(amount float64, ns int64) float64 {
		if ns <= 0 {
			return 0
		}
		return amount / (float64(ns) / 1e9)
	}
	switch op.Name {
	case "seq_write", "seq_read":
		v.Unit = "MiB/s"
		v.Share, v.Local = rate(float64(mib), op.ShareNS), rate(float64(mib), op.LocalNS)
	case "small_write", "small_read":
		v.Unit = "files/s"
		v.Share, v.Local = rate(float64(files), op.ShareNS), rate(float64(files), op.LocalNS)
	default:
		v.Unit = "ms"
		v.Share, v.Local = float64(op.ShareNS)/1e6, float64(op.LocalNS)/1e6
	}
	v.Share, v.Local = round3(v.Share), round3(v.Local)
	return v
}

func round3(f float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', 3, 64), 64)
	return r
}

// benchFigure prints a figure with its unit, or "-" for a skipped op.
func benchFigure(v benchOpView, f float64) string {
	if v.Skipped != "" {
		return "-"
	}
	switch {
	case f >= 100:
		return fmt.Sprintf("%.0f %s", f, v.Unit)
	case f >= 10:
		return fmt.Sprintf("%.1f %s", f, v.Unit)
	}
	return fmt.Sprintf("%.2f %s", f, v.Unit)
}

// runStorageBench checks every value before any az call, runs the benchmark
// on the VM and prints the table (or the JSON document).
func runStorageBench(ctx context.Context, a *app, o *storageBenchOptions) error {
	rg, err := a.storageTarget(o.Name)
	if err != nil {
		return err
	}
	if o.VM == "" {
		return clierr.Usagef("name the VM with --vm")
	}
	if err := vmprov.ValidateName(o.VM); err != nil {
		return err
	}
	mib, err := parseBenchSize(o.Size)
	if err != nil {
		return err
	}
	if o.Files < vmscript.BenchMinFiles || o.Files > vmscript.BenchMaxFiles {
		return clierr.Usagef("invalid --files %d: give %d to %d", o.Files, vmscript.BenchMinFiles, vmscript.BenchMaxFiles)
	}
	c, err := a.Azure(ctx)
	if err != nil {
		return err
	}
	p := a.Printer()
	prog := p.StartProgress(fmt.Sprintf("Benchmark of storage %s on VM %s", o.Name, o.VM))
	res, err := a.sharedHomeManager(c).Bench(ctx, sharedhome.BenchRequest{
		ResourceGroup: rg, Storage: o.Name, VM: o.VM, MiB: mib, Files: o.Files, Progress: prog.Step})
	if err != nil {
		prog.Fail("")
		return err
	}
	rep := res.Report
	if len(rep.Ops) == 0 { // --dry-run: nothing ran
		prog.Done("Dry run: the benchmark was not run")
		return nil
	}
	views := make([]benchOpView, 0, len(rep.Ops))
	met, measured := 0, 0
	t := output.Table{Headers: []string{"OP", "SHARE", "LOCAL", "RATIO"}}
	for _, op := range rep.Ops {
		v := benchView(op, mib, o.Files)
		views = append(views, v)
		ratio := "-"
		if v.Skipped == "" {
			measured++
			if op.Ratio() >= benchRequirement {
				met++
			}
			ratio = fmt.Sprintf("%.0f%%", op.Ratio()*100)
		}
		t.Rows = append(t.Rows, []string{v.Op, benchFigure(v, v.Share), benchFigure(v, v.Local), ratio})
	}
	prog.Done(fmt.Sprintf("Measured on VM %s: %d of %d ops at 90%% of local disk or better", o.VM, met, measured))
	note := ""
	if !vmscript.IsNFS(rep.ShareFS) {
		note = fmt.Sprintf("The share on VM %s is not an NFS mount (the kernel says %s): this is azlin's local cloud or a mount azlin did not make, so these figures measure that file system and mean nothing about Azure.", o.VM, rep.ShareFS)
	}
	doc := map[string]any{
		"storage": o.Name, "vm": o.VM, "tier": string(res.Storage.Tier), "sizeBytes": int64(mib) << 20, "files": o.Files,
		"shareFs": rep.ShareFS, "localFs": rep.LocalFS, "cacheDropped": rep.CacheDropped, "ops": views,
		"atLeast90": map[string]int{"met": met, "of": measured}, "note": note,
	}
	if err := p.Render(t, doc); err != nil {
		return err
	}
	p.Infof("Share: %s (%s on the VM); local disk: /tmp (%s). %d MiB sequential, %d files of 4 KiB. RATIO = local time / share time.",
		o.Name, rep.ShareFS, rep.LocalFS, mib, o.Files)
	for _, v := range views {
		if v.Skipped != "" {
			p.Infof("%s skipped: %s", v.Op, v.Skipped)
		}
	}
	if !rep.CacheDropped {
		p.Warnf("the VM's page cache could not be dropped before the reads: read figures may come from memory")
	}
	if note != "" {
		p.Warnf("%s", note)
	}
	return nil
}
