package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/output"
	"github.com/azlin-dev/azlin/internal/sharedhome"
)

// What attach (and new --shared-home) says on stderr beyond its table: the
// break-glass login, the layout, the share self-test, and the laptop-side
// VS Code settings. The table and its JSON stay as they are.

// reportSharedHomeExtras summarises, per attached VM, what its script reported.
func reportSharedHomeExtras(p *output.Printer, results []sharedhome.Result) {
	var attached []string
	for _, r := range results {
		if r.Err != nil {
			continue
		}
		attached = append(attached, r.VM)
		reportScriptInfo(p, r.VM, r.Info)
	}
	printVSCodeSettings(p, attached)
}

// reportScriptInfo is one VM's summary of an attach script's info.
func reportScriptInfo(p *output.Printer, vm string, info map[string]string) {
	if bg := info["breakglass"]; strings.HasPrefix(bg, "off") {
		p.Warnf("%s: no break-glass login (%s): if the share hangs, logins hang too", vm, strings.TrimPrefix(bg, "off: "))
	}
	if owner := info["share_lock_broken"]; owner != "" {
		p.Infof("%s: removed a share lock left by a run that died (%s).", vm, owner)
	}
	if l := info["layout"]; l != "" {
		p.Infof("%s: layout %s applied.", vm, l)
	}
	reportLayoutInfo(p, []layoutResultView{{VM: vm, Moved: info["layout_moved"], KeptLocal: info["layout_kept_local"], Conflicts: info["layout_conflicts"]}})
	switch rm := info["remount"]; {
	case rm == "plain NFS -> aznfs":
		p.Infof("%s: the home was a plain NFS mount of the Blob endpoint; it is now mounted through AZNFS (fstab too), which follows the endpoint's IP. Files untouched.", vm)
	case strings.HasPrefix(rm, "busy: "):
		p.Warnf("%s: %s", vm, strings.TrimPrefix(rm, "busy: "))
	}
	if n := info["hard_links"]; n != "" {
		p.Warnf("%s: %s paths in the home were hard links (e.g. %s): Blob NFS 3.0 has no hard links, so each was copied as a separate file", vm, n, info["hard_link_examples"])
	}
	probes := sharedhome.ProbesOf(info)
	if failed := probes.Failed(); failed == 0 {
		var skipped []string
		for _, pr := range probes {
			if pr.Status == "skip" {
				skipped = append(skipped, pr.Name+": "+pr.Detail)
			}
		}
		if len(skipped) == 0 {
			p.Infof("%s: share self-test: all %d probes passed.", vm, len(probes))
		} else {
			p.Infof("%s: share self-test: %d probes passed, %d skipped (%s).", vm, len(probes)-len(skipped), len(skipped), strings.Join(skipped, "; "))
		}
	} else {
		p.Warnf("%s: share self-test: %d of %d probes failed; details: azlin storage check STORAGE --vm %s", vm, failed, len(probes), vm)
		warnProbes(p, vm, probes)
	}
}

// printVSCodeSettings prints, once, the VS Code settings for the laptop
// that azlin cannot set itself: Remote-SSH's lock files in /tmp (not in the
// shared home, where a second VM's session would clobber them), and a
// server install path per host on the VM's own disk.
func printVSCodeSettings(p *output.Printer, vms []string) {
	if len(vms) == 0 {
		return
	}
	paths := map[string]string{}
	for _, vm := range vms {
		paths[vm] = layout.LocalRoot("azureuser")
	}
	b, _ := json.MarshalIndent(map[string]any{
		"remote.SSH.lockfilesInTmp":    true,
		"remote.SSH.serverInstallPath": paths,
	}, "  ", "  ")
	p.Infof("%s", fmt.Sprintf("VS Code Remote-SSH on your laptop: add to its settings.json (keys of serverInstallPath are the SSH host names you use for these VMs):\n  %s", b))
}
