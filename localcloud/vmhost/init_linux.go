//go:build linux

package vmhost

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
// namespaces. It builds the host's root, seeds cloud-init at first boot and
// runs its init stages, mounts fstab's NFS entries, starts sshd and
// cloud-init's config and final stages, and then
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
	if err := step("machine and boot ids", setIDs); err != nil {
		return err
	}
	if firstBoot {
		fmt.Printf("first boot of %s: writing its cloud-init seed\n", cfg.Name)
		if err := step("cloud-init seed", func() error { return writeSeed(cfg) }); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(hostDisk, provisionedMarker), nil, 0o600); err != nil {
			return err
		}
	}
	// Every boot runs cloud-init's stages, as systemd does on an image: its
	// per-instance modules (users, keys, write_files, runcmd ...) act at the
	// first boot only. The init stages run before sshd, as cloud-init.service
	// is ordered before ssh.service; their failure does not stop the boot.
	runCloudInitInitStages()
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
	// The config and final stages run after sshd: Boot may return while
	// they (packages, runcmd) still run, as `az vm create` does.
	if err := step("cloud-init config and final stages", startCloudInitLateStages); err != nil {
		return err
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
	// The image is the lower layer of the whole root; all the host writes
	// lands in the upper layer on its disk. pivot_root needs the new root to
	// be a mount point: the overlay is one.
	add(func() error { return mountRoot(cfg.Image, cfg.DiskDir, rootfs) })
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

// mountRoot mounts the host's root on target: an overlay whose read-only
// lower layer is the VM image and whose upper layer is on the host's disk.
// The kernel never writes to a lower layer, so hosts cannot change the image.
func mountRoot(image, disk, target string) error {
	upper := filepath.Join(disk, "upper")
	work := filepath.Join(disk, "work")
	for _, d := range []string{upper, work, target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", image, upper, work)
	if err := unix.Mount("overlay", target, "overlay", 0, opts); err != nil {
		return fmt.Errorf("overlay root (%s): %w", opts, err)
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

// holdDpkgLock makes a process hold the dpkg locks (flock and fcntl) for n seconds, as
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
		// apt, dpkg and cloud-init's apt lock check use fcntl locks, which
		// do not see flock's: hold one too. An open file description lock
		// belongs to the file, so the child holding it keeps it.
		lk := unix.Flock_t{Type: unix.F_WRLCK}
		if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
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

// cloudInitStageTimeout bounds each init stage (it waits for nothing on a
// NoCloud seed; a hang must not hold the boot forever).
const cloudInitStageTimeout = 90 * time.Second

// runCloudInitInitStages runs `cloud-init init --local` and `cloud-init init`
// with their output in the host's log (cloud-init also keeps it in
// /var/log/cloud-init-output.log). A failing stage is logged: the VM boots
// on, as on Azure, and `cloud-init status` reports the error.
func runCloudInitInitStages() {
	for _, args := range [][]string{{"init", "--local"}, {"init"}} {
		ctx, cancel := context.WithTimeout(context.Background(), cloudInitStageTimeout)
		cmd := exec.CommandContext(ctx, "/usr/bin/cloud-init", args...)
		cmd.Dir, cmd.Env = "/", cloudInitEnv
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		start := time.Now()
		err := cmd.Run()
		cancel()
		fmt.Printf("cloud-init %s: %v after %s\n", strings.Join(args, " "), exitText(err), time.Since(start).Round(time.Millisecond))
	}
}

func exitText(err error) string {
	if err == nil {
		return "done"
	}
	return "failed (" + err.Error() + ")"
}

// startCloudInitLateStages starts the config and final stages in the
// background; PID 1's reaper collects them.
func startCloudInitLateStages() error {
	cmd := exec.Command("/bin/sh", "-c", lateStagesScript)
	cmd.Dir, cmd.Env = "/", cloudInitEnv
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Start()
}

// setIDs gives the host what tells one VM, and one boot of it, from another:
// its own machine id, made once (as systemd-machine-id-setup does at a cloud
// image's first boot, whose /etc/machine-id ships empty), and a new boot id
// at every boot (the kernel's /proc/sys/kernel/random/boot_id is the
// machine's, shared by all hosts, so a per-boot file is bound over it).
// Scripts that must recognise a run of their own from before a restart
// (azlin's share lock) rely on both.
func setIDs() error {
	if id, err := os.ReadFile("/etc/machine-id"); err != nil || len(strings.TrimSpace(string(id))) != 32 {
		if err := os.WriteFile("/etc/machine-id", []byte(randomHex(16)+"\n"), 0o444); err != nil {
			return err
		}
	}
	b := randomHex(16)
	boot := b[:8] + "-" + b[8:12] + "-" + b[12:16] + "-" + b[16:20] + "-" + b[20:]
	const file = "/run/azemu-boot_id"
	if err := os.WriteFile(file, []byte(boot+"\n"), 0o444); err != nil {
		return err
	}
	return unix.Mount(file, "/proc/sys/kernel/random/boot_id", "", unix.MS_BIND, "")
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
