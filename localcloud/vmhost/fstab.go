package vmhost

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// fstabEntry is an NFS line of /etc/fstab.
type fstabEntry struct {
	lineNo                   int
	line                     string
	source, dir, fstype, opt string
}

func (e fstabEntry) hasOption(o string) bool {
	return contains(strings.Split(e.opt, ","), o)
}

// nfsFstabEntries are the nfs/nfs4/aznfs lines a boot mounts (not noauto ones).
// Other lines belong to the machine's base image and are left alone.
func nfsFstabEntries(fstab string) []fstabEntry {
	var out []fstabEntry
	for i, line := range strings.Split(fstab, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		e := fstabEntry{lineNo: i + 1, line: strings.TrimSpace(line), source: f[0], dir: f[1], fstype: f[2], opt: "defaults"}
		if len(f) > 3 {
			e.opt = f[3]
		}
		if (e.fstype == "nfs" || e.fstype == "nfs4" || e.fstype == "aznfs") && !e.hasOption("noauto") {
			out = append(out, e)
		}
	}
	return out
}

// mountFstab mounts the NFS entries of the host's /etc/fstab as a boot does,
// through mount(8) and so through the host's mount.nfs helper. A failing
// entry with nofail is logged and skipped; one without fails the boot (a
// real VM would stop in emergency mode).
func mountFstab() error {
	data, err := os.ReadFile("/etc/fstab")
	if err != nil {
		return nil
	}
	for _, e := range nfsFstabEntries(string(data)) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = os.MkdirAll(e.dir, 0o755) // systemd creates missing mount points
		out, err := exec.CommandContext(ctx, "mount", "-t", e.fstype, "-o", e.opt, e.source, e.dir).CombinedOutput()
		cancel()
		if err == nil {
			fmt.Printf("fstab line %d: mounted %s on %s\n", e.lineNo, e.source, e.dir)
			continue
		}
		why := strings.TrimSpace(string(out))
		if why == "" {
			why = err.Error()
		}
		if e.hasOption("nofail") {
			fmt.Printf("fstab line %d (%s): mount failed, skipped (nofail): %s\n", e.lineNo, e.line, why)
			continue
		}
		return fmt.Errorf("/etc/fstab line %d %q failed to mount and has no nofail option "+
			"(a real VM would stop in emergency mode): %s", e.lineNo, e.line, why)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
