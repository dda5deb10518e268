package vmhost

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Config describes one host.
type Config struct {
	Name         string   // VM name; becomes the host's hostname
	DiskDir      string   // the host's persistent disk (absolute, created if missing)
	IP           string   // loopback address; sshd listens on IP:22
	AdminUser    string   // uid/gid 1000 inside the host; "azureuser" when empty
	SSHPublicKey string   // authorized for AdminUser
	CustomData   []byte   // cloud-init user data ("#cloud-config" YAML or a "#!" script); may be empty
	EmulatorBin  string   // emulator binary; visible inside the host at /run/azemu/az
	StateDir     string   // emulator state dir; visible inside the host at /run/azemu/state
	Env          []string // extra environment for the mount helper and the fake package tools
	// Image is the VM image's root file system (scripts/rootfs.sh vm): the
	// read-only lower layer of the host's root, shared by every host. Empty
	// means DefaultImage().
	Image string
}

// DefaultImage is the VM image scripts/rootfs.sh vm built last: the link
// "vm" it keeps in its cache ($AZLIN_ROOTFS_CACHE, default
// /var/cache/azlin/rootfs) to the folder of the current recipe.
func DefaultImage() string {
	cache := os.Getenv("AZLIN_ROOTFS_CACHE")
	if cache == "" {
		cache = "/var/cache/azlin/rootfs"
	}
	return filepath.Join(cache, "vm")
}

// InitArg is the hidden first argument with which the emulator binary is
// re-executed as a host's init. localcloud/cmd/az's main must do, before anything else
// (before flag parsing, config, logging):
//
//	if len(os.Args) > 1 && os.Args[1] == vmhost.InitArg {
//		os.Exit(vmhost.MainInit(os.Args[2:]))
//	}
const InitArg = "__vmhost-init"

// Paths inside a host.
const (
	hostAzemuDir = "/run/azemu"              // tmpfs; recreated at every boot
	hostBin      = "/run/azemu/az"           // Config.EmulatorBin
	hostState    = "/run/azemu/state"        // Config.StateDir
	hostDisk     = "/run/azemu/disk"         // Config.DiskDir
	hostEnvFile  = "/run/azemu/env"          // Config.Env as `export K='V'` lines, sourced by the fakes
	pkgRecord    = "/var/lib/azemu/packages" // the fake package database: one package name a line
	adminUID     = 1000
	// hostPATH is the PATH of everything that runs inside a host.
	hostPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

var (
	hostNameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	userNameRE  = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	safePathRE  = regexp.MustCompile(`^/[A-Za-z0-9._/+@-]*$`) // overlay options cannot carry ',' ':' or spaces
	envNameRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	errNotLinux = errors.New("vmhost: VM hosts need Linux")
)

// normalize checks cfg and fills defaults. Paths come back cleaned and with
// symlinks resolved, so that the overlap check and DownAll's matching agree.
func (cfg Config) normalize() (Config, error) {
	if cfg.AdminUser == "" {
		cfg.AdminUser = "azureuser"
	}
	if !hostNameRE.MatchString(cfg.Name) {
		return cfg, fmt.Errorf("vmhost: invalid host name %q: use letters, digits, '.', '_' and '-', at most 64", cfg.Name)
	}
	if !userNameRE.MatchString(cfg.AdminUser) {
		return cfg, fmt.Errorf("vmhost: invalid admin user name %q", cfg.AdminUser)
	}
	ip, err := netip.ParseAddr(cfg.IP)
	if err != nil || !ip.Is4() || !netip.MustParsePrefix("127.0.0.0/8").Contains(ip) {
		return cfg, fmt.Errorf("vmhost: host address %q is not a loopback address in 127.0.0.0/8", cfg.IP)
	}
	if strings.ContainsAny(cfg.SSHPublicKey, "\x00") || strings.TrimSpace(cfg.SSHPublicKey) == "" {
		return cfg, fmt.Errorf("vmhost: host %s needs an SSH public key", cfg.Name)
	}
	if cfg.Image == "" {
		cfg.Image = DefaultImage()
	}
	if cfg.Image, err = checkedImage(cfg.Image); err != nil {
		return cfg, err
	}
	if !safePathRE.MatchString(cfg.Image) {
		return cfg, fmt.Errorf("vmhost: VM image %q: only letters, digits and ._/+@- are allowed (it goes into overlay mount options)", cfg.Image)
	}
	if cfg.DiskDir, err = checkedDir("disk dir", cfg.DiskDir, cfg.Image); err != nil {
		return cfg, err
	}
	if !safePathRE.MatchString(cfg.DiskDir) {
		return cfg, fmt.Errorf("vmhost: disk dir %q: only letters, digits and ._/+@- are allowed (it goes into overlay mount options)", cfg.DiskDir)
	}
	if cfg.StateDir, err = checkedDir("state dir", cfg.StateDir, cfg.Image); err != nil {
		return cfg, err
	}
	if !filepath.IsAbs(cfg.EmulatorBin) {
		return cfg, fmt.Errorf("vmhost: emulator binary %q is not an absolute path", cfg.EmulatorBin)
	}
	if fi, err := os.Stat(cfg.EmulatorBin); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return cfg, fmt.Errorf("vmhost: emulator binary %q is not an executable file", cfg.EmulatorBin)
	}
	return cfg, nil
}

// checkedDir cleans an absolute directory path, resolves the symlinks of its
// existing part and refuses it inside the image or holding it: a host's
// layers must not overlap, and no host may write into the image.
func checkedDir(what, dir, image string) (string, error) {
	if !filepath.IsAbs(dir) {
		return "", fmt.Errorf("vmhost: %s %q is not an absolute path", what, dir)
	}
	dir = resolveExisting(filepath.Clean(dir))
	if dir == "/" {
		return "", fmt.Errorf("vmhost: %s must not be /", what)
	}
	if within(dir, image) || within(image, dir) {
		return "", fmt.Errorf("vmhost: %s %s overlaps the VM image %s, which every host shares read-only; "+
			"put the emulator's state dir elsewhere (e.g. under /tmp)", what, dir, image)
	}
	return dir, nil
}

// within tells whether p is dir or lies below it.
func within(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// checkedImage resolves the image's path (DefaultImage is a link) and checks
// that it holds what a host boots: sshd and cloud-init.
func checkedImage(image string) (string, error) {
	if !filepath.IsAbs(image) {
		return "", fmt.Errorf("vmhost: VM image %q is not an absolute path", image)
	}
	resolved, err := filepath.EvalSymlinks(image)
	if err == nil {
		for _, f := range []string{"usr/sbin/sshd", "usr/bin/cloud-init", "etc/os-release"} {
			if _, err = os.Stat(filepath.Join(resolved, f)); err != nil {
				break
			}
		}
	}
	if err != nil {
		return "", fmt.Errorf("vmhost: %s is not a VM image (%v); build it with scripts/rootfs.sh vm (make vm-image) "+
			"and pass its path (AZEMU_VM_IMAGE)", image, err)
	}
	return resolved, nil
}

// resolveExisting resolves symlinks in the longest existing prefix of p.
func resolveExisting(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	parent := filepath.Dir(p)
	if parent == p {
		return p
	}
	return filepath.Join(resolveExisting(parent), filepath.Base(p))
}

// Disk layout (see the package comment).
func pidFile(disk string) string     { return filepath.Join(disk, "host.pid") }
func logFile(disk string) string     { return filepath.Join(disk, "host.log") }
func configFile(disk string) string  { return filepath.Join(disk, "config.json") }
func bootErrFile(disk string) string { return filepath.Join(disk, "boot-error") }
func lockFile(disk string) string    { return filepath.Join(disk, "lock") }

const provisionedMarker = "provisioned"
