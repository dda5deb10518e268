package sharedhome

import (
	"context"
	"fmt"

	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// BenchRequest names the VM whose shared home is measured, and the sizes.
type BenchRequest struct {
	ResourceGroup string
	Storage       string
	VM            string
	MiB           int // the sequential file's size
	Files         int // the small files (and the git tree)
	Progress      func(step string)
}

// BenchResult is the benchmark on one VM: the share against its local disk.
type BenchResult struct {
	Storage *storage.Storage
	VM      string
	Report  vmscript.BenchReport // empty under --dry-run (nothing ran)
}

// Bench runs the benchmark (vmscript.BenchScript) on a VM whose home is the
// storage, as one run command: run commands reach VMs without a public
// address and are how every other on-VM step of azlin runs; the script's
// report is a few marker lines, well inside run-command's 4 KiB output tail.
func (m *Manager) Bench(ctx context.Context, req BenchRequest) (*BenchResult, error) {
	step := req.Progress
	if step == nil {
		step = func(string) {}
	}
	// The sizes are checked before any az call.
	script, err := vmscript.BenchScript(vmscript.BenchParams{MiB: req.MiB, Files: req.Files})
	if err != nil {
		return nil, err
	}
	rg := req.ResourceGroup
	st, vm, err := m.homeVM(ctx, rg, req.Storage, req.VM, "the benchmark")
	if err != nil {
		return nil, err
	}
	step(fmt.Sprintf("measuring on VM %s: %d MiB sequential, %d small files, git status (share, then local disk)", vm.Name, req.MiB, req.Files))
	out, _, _, err := m.VMs.RunScript(ctx, rg, vm.Name, script)
	if err != nil {
		return nil, fmt.Errorf("the benchmark on VM %s did not finish: %w", vm.Name, err)
	}
	if out.Step == "dry-run" {
		return &BenchResult{Storage: st, VM: vm.Name}, nil
	}
	rep, err := vmscript.ParseBench(out.Info)
	if err != nil {
		return nil, fmt.Errorf("VM %s: %w", vm.Name, err)
	}
	return &BenchResult{Storage: st, VM: vm.Name, Report: rep}, nil
}
