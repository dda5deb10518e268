package vmhost

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The host's stand-ins for package tools and friends (fakes/*). They are
// written into the host's own /usr (the overlay's upper layer: the VM image
// is never touched) at every boot, and kept in /run/azemu/bin for the apt stand-in,
// which "installs" a package's files from there (nfs-common's mount helper).
//
//go:embed fakes/*
var fakes embed.FS

// fakeTools maps a host path to the stand-in script that replaces it.
var fakeTools = map[string]string{
	"/usr/bin/apt-get":    "apt",
	"/usr/bin/apt":        "apt",
	"/usr/bin/dpkg":       "dpkg",
	"/usr/bin/dpkg-query": "dpkg",
	"/usr/bin/apt-cache":  "apt-cache",
	"/usr/bin/systemctl":  "systemctl",
	"/usr/sbin/service":   "service",
	// In front of the real ones (PATH has /usr/local/bin first): they show
	// the emulated NFS mounts as a real VM's mount table does.
	"/usr/local/bin/findmnt": "findmnt",
	"/usr/local/bin/mount":   "mount",
	"/usr/local/bin/df":      "df",
}

// packageFiles are the files a package brings along when it is recorded as
// installed (by cloud-init's packages or the apt-get stand-in), as host path
// -> stand-in script. nfs-common brings the NFS mount helper, so that a host
// has mount.nfs only once nfs-common is installed, as on a real image.
var packageFiles = map[string]map[string]string{
	"nfs-common": {"/usr/sbin/mount.nfs": "mount.nfs", "/usr/sbin/mount.nfs4": "mount.nfs"},
	// AZNFS's /sbin/mount.aznfs (/sbin is /usr/sbin on merged-/usr images).
	"aznfs": {"/usr/sbin/mount.aznfs": "mount.nfs"},
}

// packageFilesList is where the apt-get stand-in reads packageFiles from.
const packageFilesList = "/run/azemu/package-files"

// packageSources are the packages that come from a repository outside the
// distribution's archive: its host (apt finds the package only once a source
// for it is configured, with its key, and updated) and the dependencies apt
// pulls in with it. aznfs is on packages.microsoft.com and depends on
// nfs-common (its mount runs mount.nfs). Sources:
// learn.microsoft.com/azure/storage/files/encryption-in-transit-for-nfs-shares,
// github.com/Azure/AZNFS-mount packaging/aznfs/DEBIAN/control.
var packageSources = map[string][]string{
	"aznfs": {"packages.microsoft.com", "nfs-common"},
}

// packageSourcesList is where the apt-get stand-in reads packageSources from.
const packageSourcesList = "/run/azemu/package-sources"

// installFakeTools runs inside the host at every boot.
func installFakeTools() error {
	entries, err := fakes.ReadDir("fakes")
	if err != nil {
		return err
	}
	for _, e := range entries {
		data, _ := fakes.ReadFile("fakes/" + e.Name())
		if err := writeExecutable(filepath.Join(hostAzemuDir, "bin", e.Name()), data); err != nil {
			return err
		}
	}
	for path, name := range fakeTools {
		data, _ := fakes.ReadFile("fakes/" + name)
		if err := writeExecutable(path, data); err != nil {
			return err
		}
	}
	var list strings.Builder
	for pkg, files := range packageFiles {
		for path, name := range files {
			fmt.Fprintf(&list, "%s %s %s\n", pkg, path, name)
		}
		if packageRecorded(pkg) {
			if err := installPackageFiles(pkg); err != nil {
				return err
			}
		}
	}
	if err := os.WriteFile(packageFilesList, []byte(list.String()), 0o644); err != nil {
		return err
	}
	var sources strings.Builder
	for pkg, hostAndDeps := range packageSources {
		fmt.Fprintf(&sources, "%s %s\n", pkg, strings.Join(hostAndDeps, " "))
	}
	return os.WriteFile(packageSourcesList, []byte(sources.String()), 0o644)
}

func installPackageFiles(pkg string) error {
	for path, name := range packageFiles[pkg] {
		data, _ := fakes.ReadFile("fakes/" + name)
		if err := writeExecutable(path, data); err != nil {
			return err
		}
	}
	return nil
}

// writeExecutable replaces path by a new file (rename: no copy-up of the
// machine's file into the overlay), unless it already has that content.
func writeExecutable(path string, data []byte) error {
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, data) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), ".azemu-"+filepath.Base(path))
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func packageRecorded(name string) bool {
	data, _ := os.ReadFile(pkgRecord)
	for _, l := range strings.Fields(string(data)) {
		if l == name {
			return true
		}
	}
	return false
}

// envValue is the last value of key in env (later entries win, as in exec).
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// lockSeconds: AZEMU_HOST_DPKG_LOCK_SECONDS=N holds the dpkg lock N seconds after first boot.
func lockSeconds(env []string) int {
	n, _ := strconv.Atoi(envValue(env, "AZEMU_HOST_DPKG_LOCK_SECONDS"))
	return n
}
