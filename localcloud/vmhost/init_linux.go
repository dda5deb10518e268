//go:build linux

package vmhost

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/azlin-dev/azlin/internal/shell"
	"golang.org/x/sys/unix"
)

// MainInit runs a host's init: PID 1 of the host's PID namespace, started by
// Boot as `EmulatorBin InitArg DISKDIR` in fresh mount, UTS, IPC and PID
// namespaces. It builds the host's root, provisions it at first boot, mounts
// fstab's NFS entries, starts sshd and cloud-init's final stage, and then
// reaps orphans until it is killed. It returns only when the boot fails; the
// reason is also written to the disk's boot-error file for Boot to report.
func MainInit(args []string) int {
	if len(args) != 1 {
		fmt.Fprintf(os.Stderr, "usage: %s DISKDIR (internal: started by vmhost.Boot)\n", InitArg)
		return 2
	}
	disk := args[0]
	if err := initHost(disk); err != nil {
		fmt.Fprintf(os.Stderr, "vmhost init: %v\n", err)
		// After pivot_root the disk is reachable only at /run/azemu/disk.
		p := bootErrFile(disk)
		if pivoted {
			p = filepath.Join(hostDisk, "boot-error")
		}
		_ = os.WriteFile(p, []byte(err.Error()+"\n"), 0o600)
		return 1
	}
	return 0 // not reached: initHost ends in the reaper loop
}

func initHost(disk string) error {
	if os.Getpid() != 1 {
		return errors.New("must run as PID 1 of a new PID namespace (started by vmhost.Boot)")
	}
	data, err := os.ReadFile(configFile(disk))
	if err != nil {
		return fmt.Errorf("read host config: %w", err)
	}
	var cfg Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("parse host config: %w", err)
	}
	os.Setenv("PATH", hostPATH)
	os.Setenv("HOME", "/root")
	// No mount made here may reach the machine's namespace.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if err := unix.Sethostname([]byte(cfg.Name)); err != nil {
		return fmt.Errorf("set hostname: %w", err)
	}
	if err := buildRoot(cfg); err != nil {
		return err
	}
	_, err = os.Stat(filepath.Join(hostDisk, provisionedMarker))
	firstBoot := errors.Is(err, os.ErrNotExist)
	step := func(what string, f func() error) error {
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	if err := step("write host environment", func() error { return writeHostEnv(cfg) }); err != nil {
		return err
	}
	if err := step("install host tools", installFakeTools); err != nil {
		return err
	}
	var ci *cloudInit
	if firstBoot {
		fmt.Printf("first boot of %s: provisioning\n", cfg.Name)
		if err := step("provision", func() error { return provision(cfg) }); err != nil {
			return err
		}
		// cloud-init's init stage (write_files) runs before sshd, as on a real image.
		ci = newCloudInit(cfg.CustomData, cfg.Env)
		if err := step("cloud-init", ci.initStage); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(hostDisk, provisionedMarker), nil, 0o600); err != nil {
			return err
		}
	} else {
		markInterruptedCloudInit()
	}
	if n := lockSeconds(cfg.Env); firstBoot && n > 0 {
		if err := step("hold dpkg lock", func() error { return holdDpkgLock(n) }); err != nil {
			return err
		}
	}
	if err := mountFstab(); err != nil {
		return err
	}
	if err := step("user runtime folder", makeRuntimeDir); err != nil {
		return err
	}
	sshd, err := startSSHD(cfg.IP)
	if err != nil {
		return err
	}
	if ci != nil {
		if err := step("cloud-init final stage", ci.startFinalStage); err != nil {
			return err
		}
	}
	fmt.Printf("%s is up: sshd on %s:22\n", cfg.Name, cfg.IP)
	reap(sshd, cfg.IP)
	return nil
}

// reap is PID 1's duty: collect every orphan, and restart sshd if it dies (as
// systemd's Restart=on-failure does), at most once a second.
func reap(sshd int, ip string) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGCHLD)
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			<-sigs // ECHILD: nothing to wait for until a child appears
			continue
		}
		if pid == sshd {
			fmt.Printf("sshd exited (%v); restarting it\n", ws)
			time.Sleep(time.Second)
			if p, err := startSSHD(ip); err == nil {
				sshd = p
			} else {
				fmt.Printf("restart sshd: %v\n", err)
			}
		}
	}
}

// buildRoot assembles the host's root under DISK/rootfs and pivots into it.
func buildRoot(cfg Config) error {
	rootfs := filepath.Join(cfg.DiskDir, "rootfs")
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		return err
	}
	in := func(p string) string { return filepath.Join(rootfs, p) }
	var steps []func() error
	add := func(f func() error) { steps = append(steps, f) }
	// pivot_root needs the new root to be a mount point.
	add(func() error { return bind(rootfs, rootfs) })
	for _, t := range overlaidTrees {
		add(func() error { return mountOverlay(cfg.DiskDir, t, in(t)) })
	}
	add(func() error { return mirrorTopLevelLinks(rootfs) })
	for _, d := range []string{"mnt", "media", "boot"} {
		add(func() error { return os.MkdirAll(in(d), 0o755) })
	}
	add(func() error {
		return mountAt("proc", in("proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	})
	add(func() error { return mkBind("/sys", in("sys"), unix.MS_REC) })
	add(func() error { return buildDev(in("dev")) })
	add(func() error { return mountAt("tmpfs", in("run"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755") })
	add(func() error { return mountAt("tmpfs", in("tmp"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777") })
	// The emulator's binary, its state and this disk are reachable inside
	// through /run/azemu: bound now, while the machine's paths are visible.
	add(func() error { return bindFile(cfg.EmulatorBin, in(hostBin)) })
	add(func() error { return mkBind(cfg.StateDir, in(hostState), 0) })
	add(func() error { return mkBind(cfg.DiskDir, in(hostDisk), 0) })
	add(func() error { return os.MkdirAll(in("/run/sshd"), 0o755) })
	add(func() error { return os.MkdirAll(in("/run/lock"), 0o1777) })
	add(func() error { return pivot(rootfs) })
	for _, s := range steps {
		if err := s(); err != nil {
			return fmt.Errorf("build host root: %w", err)
		}
	}
	return nil
}

// makeRuntimeDir gives the admin user its /run/user/<uid> (0700, its own),
// which systemd-logind makes on an Azure VM while the user has a session:
// tools keep sockets there (ssh's ControlPath in the developer layout). The
// host has no logind, and its /run is a new tmpfs at every boot.
func makeRuntimeDir() error {
	if err := os.MkdirAll("/run/user", 0o755); err != nil {
		return err
	}
	dir := fmt.Sprintf("/run/user/%d", adminUID)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return os.Chown(dir, adminUID, adminUID)
}

func mountAt(src, target, fstype string, flags uintptr, data string) error {
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(src, target, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", fstype, target, err)
	}
	return nil
}

func bind(src, target string) error {
	if err := unix.Mount(src, target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", src, target, err)
	}
	return nil
}

func mkBind(src, target string, extra uintptr) error {
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(src, target, "", unix.MS_BIND|extra, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", src, target, err)
	}
	return nil
}

// bindFile binds a file, creating an empty file as mount point.
func bindFile(src, target string) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	f.Close()
	return bind(src, target)
}

// mountOverlay shows the machine's tree through an overlay whose upper layer
// is on the host's disk. A tree the machine lacks becomes a plain directory.
func mountOverlay(disk, tree, target string) error {
	upper := filepath.Join(disk, "upper", tree)
	work := filepath.Join(disk, "work", tree)
	for _, d := range []string{upper, work, target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if fi, err := os.Stat(tree); err != nil || !fi.IsDir() {
		return bind(upper, target)
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", tree, upper, work)
	if err := unix.Mount("overlay", target, "overlay", 0, opts); err != nil {
		return fmt.Errorf("overlay on %s (%s): %w", tree, opts, err)
	}
	return nil
}

// mirrorTopLevelLinks copies the machine's top-level symlinks (/bin ->
// usr/bin on merged-/usr systems) and binds the machine's /bin, /sbin, /lib*
// read-only where they are real directories.
func mirrorTopLevelLinks(rootfs string) error {
	for _, name := range []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"} {
		src := "/" + name
		fi, err := os.Lstat(src)
		if err != nil {
			continue
		}
		dst := filepath.Join(rootfs, name)
		if fi.Mode()&os.ModeSymlink != 0 {
			link, err := os.Readlink(src)
			if err != nil {
				return err
			}
			if cur, err := os.Readlink(dst); err == nil && cur == link {
				continue
			}
			_ = os.Remove(dst)
			if err := os.Symlink(link, dst); err != nil {
				return err
			}
			continue
		}
		if err := mkBind(src, dst, unix.MS_REC); err != nil {
			return err
		}
		if err := unix.Mount("", dst, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			return err
		}
	}
	return nil
}

// buildDev gives the host a small /dev of its own: the usual character
// devices bound from the machine, its own devpts instance and /dev/shm.
func buildDev(dev string) error {
	if err := mountAt("tmpfs", dev, "tmpfs", unix.MS_NOSUID, "mode=0755"); err != nil {
		return err
	}
	for _, name := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		if err := bindFile("/dev/"+name, filepath.Join(dev, name)); err != nil {
			return err
		}
	}
	// /dev/fuse, as Azure's Ubuntu images have it; the emulator serves
	// Blob NFS mounts through it.
	if _, err := os.Stat("/dev/fuse"); err == nil {
		if err := bindFile("/dev/fuse", filepath.Join(dev, "fuse")); err != nil {
			return err
		}
	}
	if err := mountAt("devpts", filepath.Join(dev, "pts"), "devpts", unix.MS_NOSUID|unix.MS_NOEXEC,
		"newinstance,ptmxmode=0666,mode=0620,gid=5"); err != nil {
		return err
	}
	if err := mountAt("tmpfs", filepath.Join(dev, "shm"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return err
	}
	for name, target := range map[string]string{
		"ptmx": "pts/ptmx", "fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
	} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			return err
		}
	}
	return nil
}

// pivoted tells whether the init runs in the host's root already.
var pivoted bool

// pivot makes rootfs the root and detaches the machine's root from the host.
func pivot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	pivoted = true
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the machine's root: %w", err)
	}
	return unix.Chdir("/")
}

// startSSHD starts the host's sshd on ip:22 and returns its PID.
func startSSHD(ip string) (int, error) {
	cmd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", "/etc/ssh/sshd_config",
		"-o", "ListenAddress="+ip+":22", "-o", "PidFile=/run/sshd.pid")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = []string{"PATH=" + hostPATH, "LANG=C.UTF-8"}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start sshd: %w", err)
	}
	return cmd.Process.Pid, nil
}

// writeHostEnv writes the environment the host's helpers (NFS mount helper,
// fake package tools) run with: defaults, then Config.Env, which wins.
func writeHostEnv(cfg Config) error {
	env := append([]string{
		"AZEMU_STATE_DIR=" + hostState,
		"AZEMU_VM=" + cfg.Name,
		"AZEMU_HOST_IP=" + cfg.IP,
		"AZEMU_DPKG_ARCH=" + runtime.GOARCH, // Debian's names for amd64 and arm64 are Go's
	}, cfg.Env...)
	var b strings.Builder
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !envNameRE.MatchString(k) {
			return fmt.Errorf("invalid environment entry %q", kv)
		}
		fmt.Fprintf(&b, "export %s=%s\n", k, shell.Quote(v))
	}
	return os.WriteFile(hostEnvFile, []byte(b.String()), 0o644)
}

// holdDpkgLock makes a process hold the dpkg locks for n seconds, as
// unattended-upgrades does after a real boot. The lock is taken before Boot
// returns, so the first apt-get after boot sees it.
func holdDpkgLock(n int) error {
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, p := range []string{"/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock"} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o640)
		if err != nil {
			return err
		}
		files = append(files, f)
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			return fmt.Errorf("lock %s: %w", p, err)
		}
	}
	cmd := exec.Command("/bin/sleep", fmt.Sprint(n))
	cmd.ExtraFiles = files // the child inherits the locked open files; the locks live as long as it does
	if err := cmd.Start(); err != nil {
		return err
	}
	return os.WriteFile("/run/azemu/dpkg-lock-holder", []byte(fmt.Sprintf("%d\n", cmd.Process.Pid)), 0o644)
}
