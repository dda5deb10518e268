package sharedhome

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// CheckRequest names the VM whose shared home is self-tested.
type CheckRequest struct {
	ResourceGroup string
	Storage       string
	VM            string
	// Token names the file of the write-then-read probe; "" means a random one.
	Token    string
	Progress func(step string)
}

// CheckResult is the share self-test on one VM.
type CheckResult struct {
	Storage *storage.Storage
	VM      string
	Peer    string // the second VM that read the file VM wrote; "" when none was attached and running
	Probes  Probes
	// Space is the mount's size and free bytes as df on VM reports them
	// (nil when the VM did not say).
	Space *Space
}

// Space is a mounted share's size and free bytes.
type Space struct {
	SizeBytes int64 `json:"sizeBytes"`
	FreeBytes int64 `json:"freeBytes"`
}

// spaceOf reads the check script's "space" report: "SIZE FREE" in bytes.
func spaceOf(v string) *Space {
	var s Space
	if _, err := fmt.Sscanf(v, "%d %d", &s.SizeBytes, &s.FreeBytes); err != nil {
		return nil
	}
	return &s
}

// Check runs the share self-test (vmscript.CheckScript) on a VM whose home
// is the storage, and, when another running VM has the same home, the
// write-then-read probe across the two: VM writes a file, the other reads
// and removes it.
func (m *Manager) Check(ctx context.Context, req CheckRequest) (*CheckResult, error) {
	step := req.Progress
	if step == nil {
		step = func(string) {}
	}
	rg := req.ResourceGroup
	st, vm, err := m.homeVM(ctx, rg, req.Storage, req.VM, "the self-test")
	if err != nil {
		return nil, err
	}
	res := &CheckResult{Storage: st, VM: vm.Name}
	for _, other := range st.ConnectedVMs {
		if other == vm.Name {
			continue
		}
		if o, err := m.VMs.Show(ctx, rg, other, true); err == nil && o.Running() {
			res.Peer = other
			break
		}
	}
	params := vmscript.CheckParams{Tier: st.Tier, TLS: st.EncryptionInTransit}
	if res.Peer != "" {
		params.Peer, params.Token = vmscript.PeerWrite, req.Token
		if params.Token == "" {
			params.Token = randomToken()
		}
	}
	script, err := vmscript.CheckScript(params)
	if err != nil {
		return nil, err
	}
	step("running the probes on VM " + vm.Name)
	out, _, _, err := m.VMs.RunScript(ctx, rg, vm.Name, script)
	if err != nil {
		return nil, fmt.Errorf("the self-test on VM %s did not finish: %w", vm.Name, err)
	}
	info := out.Info
	res.Space = spaceOf(info["space"])
	if res.Peer != "" && info["peer_written"] != "" {
		params.Peer = vmscript.PeerRead
		if script, err = vmscript.CheckScript(params); err != nil {
			return nil, err
		}
		step("reading on VM " + res.Peer + " the file VM " + vm.Name + " wrote")
		peerOut, _, _, err := m.VMs.RunScript(ctx, rg, res.Peer, script)
		if err != nil {
			info["probe_peer"] = "fail: the read on VM " + res.Peer + " failed: " + strings.ReplaceAll(err.Error(), "\n", " ")
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// The reader removes the file; it failed, so the writer does (a
			// read of its own file), leaving nothing of the check in the home.
			step("removing the probe's file on VM " + vm.Name)
			if _, _, _, err := m.VMs.RunScript(ctx, rg, vm.Name, script); err != nil {
				info["probe_peer"] += fmt.Sprintf(" (and removing the probe's file failed too: remove %s on VM %s by hand)", info["peer_written"], vm.Name)
			}
		} else {
			info["probe_peer"] = peerOut.Info["probe_peer"]
		}
	}
	res.Probes = ProbesOf(info)
	return res, nil
}

// randomToken names the write-then-read probe's file.
func randomToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Probes is a share self-test's result, one entry per probe, as the VM's
// script reported it.
type Probes []vmscript.Probe

// ProbesOf reads the self-test's probes from what a script reported (attach
// runs the self-test too, and reports it the same way).
func ProbesOf(info map[string]string) Probes { return vmscript.Probes(info) }

// Failed is how many probes failed.
func (ps Probes) Failed() int {
	n := 0
	for _, p := range ps {
		if !p.OK() {
			n++
		}
	}
	return n
}
