//go:build linux

package vmhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// bootTimeout bounds how long Boot waits for the host's sshd, which starts
// after cloud-init's init stages (Python: seconds on a busy machine).
const bootTimeout = 60 * time.Second

// killHostsWithParent makes hosts die with the process that booted them.
// Only this package's tests set it (so that even a test binary killed by a
// timeout leaves no host behind); the emulator's hosts outlive `az`.
var killHostsWithParent = false

// Boot starts the host as a daemon (it survives the calling process) and
// returns when its sshd accepts connections on IP:22, or an error with the
// host's log tail after bootTimeout. Every boot runs the image's cloud-init
// (its first boot on a disk gets the seed: admin user, key, custom data) and
// mounts the nfs/nfs4 entries of the host's /etc/fstab. Booting a running
// host is a no-op.
func Boot(ctx context.Context, cfg Config) error {
	cfg, err := cfg.normalize()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DiskDir, 0o700); err != nil {
		return fmt.Errorf("vmhost: create disk dir: %w", err)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(cfg.DiskDir, &fs); err == nil && fs.Type == unix.OVERLAYFS_SUPER_MAGIC {
		return fmt.Errorf("vmhost: disk dir %s is on an overlay file system (a container's root?), "+
			"which cannot hold a host's overlay layers; put the emulator's state dir on ext4, xfs, btrfs or tmpfs", cfg.DiskDir)
	}
	unlock, err := lockDisk(cfg.DiskDir)
	if err != nil {
		return err
	}
	defer unlock()
	if Running(cfg.DiskDir) {
		return nil
	}
	addr := net.JoinHostPort(cfg.IP, "22")
	if c, err := probeDial(addr, 200*time.Millisecond); err == nil {
		c.Close()
		return fmt.Errorf("vmhost: cannot boot %s: %s is already in use by another process", cfg.Name, addr)
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(configFile(cfg.DiskDir), data, 0o600); err != nil {
		return fmt.Errorf("vmhost: write host config: %w", err)
	}
	_ = os.Remove(bootErrFile(cfg.DiskDir))
	log, err := os.OpenFile(logFile(cfg.DiskDir), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("vmhost: open host log: %w", err)
	}
	defer log.Close()
	fmt.Fprintf(log, "---- boot %s at %s\n", cfg.Name, time.Now().Format(time.RFC3339))

	cmd := exec.Command(cfg.EmulatorBin, InitArg, cfg.DiskDir)
	cmd.Env = []string{"PATH=" + hostPATH, "LANG=C.UTF-8"}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setsid:     true, // a daemon: no controlling terminal, own session
		Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWPID,
	}
	if killHostsWithParent {
		cmd.SysProcAttr.Pdeathsig = unix.SIGKILL
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("vmhost: start host %s: %w", cfg.Name, err)
	}
	if err := os.WriteFile(pidFile(cfg.DiskDir), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600); err != nil {
		_ = cmd.Process.Kill()
		return fmt.Errorf("vmhost: record host pid: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }() // reaps the init if this process outlives it

	deadline := time.Now().Add(bootTimeout)
	for {
		select {
		case <-exited:
			_ = os.Remove(pidFile(cfg.DiskDir))
			return bootFailure(cfg, "its init exited during boot")
		case <-ctx.Done():
			_ = stopLocked(cfg.DiskDir)
			return ctx.Err()
		default:
		}
		if c, err := probeDial(addr, 100*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			err := bootFailure(cfg, fmt.Sprintf("sshd did not accept connections on %s within %s", addr, bootTimeout))
			_ = stopLocked(cfg.DiskDir)
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// bootFailure builds Boot's error: the reason the init recorded, if any, and
// the tail of the host's log.
func bootFailure(cfg Config, what string) error {
	msg := fmt.Sprintf("vmhost: host %s failed to boot: %s", cfg.Name, what)
	if reason, err := os.ReadFile(bootErrFile(cfg.DiskDir)); err == nil {
		msg = fmt.Sprintf("vmhost: host %s failed to boot: %s", cfg.Name, strings.TrimSpace(string(reason)))
	}
	return fmt.Errorf("%s\n--- last lines of %s:\n%s", msg, logFile(cfg.DiskDir), logTail(logFile(cfg.DiskDir), 20))
}

func logTail(path string, n int) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lockDisk serialises Boot, Stop and Destroy of one disk across processes.
func lockDisk(disk string) (func(), error) {
	f, err := os.OpenFile(lockFile(disk), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("vmhost: lock disk: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("vmhost: lock disk: %w", err)
	}
	return func() { f.Close() }, nil
}

// Stop stops every process of the host: killing its init (PID 1 of its PID
// namespace) makes the kernel kill the rest, and its mounts vanish with its
// mount namespace. Idempotent.
func Stop(diskDir string) error {
	disk := resolveExisting(filepath.Clean(diskDir))
	if _, err := os.Stat(disk); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	unlock, err := lockDisk(disk)
	if err != nil {
		return err
	}
	defer unlock()
	return stopLocked(disk)
}

func stopLocked(disk string) error {
	if pid := hostPID(disk); pid > 0 {
		if err := killAndWait(pid); err != nil {
			return err
		}
		waitPortClosed(disk)
	}
	if err := os.Remove(pidFile(disk)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// killAndWait SIGKILLs a host's init and waits until it is dead (gone or a
// zombie: by then the kernel has killed and reaped the whole PID namespace).
func killAndWait(pid int) error {
	_ = unix.Kill(pid, unix.SIGKILL)
	for i := 0; i < 1000; i++ {
		if !alive(pid) {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("vmhost: host init %d did not die within 5s of SIGKILL", pid)
}

// waitPortClosed waits (briefly) until the host's sshd socket is gone: the
// kernel releases a killed process's listening socket a moment after the
// process is gone, and until then connections to it still succeed.
func waitPortClosed(disk string) {
	var cfg Config
	data, err := os.ReadFile(configFile(disk))
	if err != nil || json.Unmarshal(data, &cfg) != nil || cfg.IP == "" {
		return
	}
	addr := net.JoinHostPort(cfg.IP, "22")
	for i := 0; i < 300; i++ {
		c, err := probeDial(addr, 100*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
}

// Restart stops the host and boots it again from the same disk, as a boot:
// cloud-init's stages run (its per-instance modules do nothing again) and the
// nfs/nfs4 entries of its /etc/fstab are mounted.
func Restart(ctx context.Context, cfg Config) error {
	if err := Stop(cfg.DiskDir); err != nil {
		return err
	}
	return Boot(ctx, cfg)
}

// Destroy stops the host and removes its disk.
func Destroy(diskDir string) error {
	if err := Stop(diskDir); err != nil {
		return err
	}
	if err := os.RemoveAll(diskDir); err != nil {
		return fmt.Errorf("vmhost: remove disk: %w", err)
	}
	return nil
}

// Running reports whether the host whose disk is diskDir is up.
func Running(diskDir string) bool {
	return hostPID(resolveExisting(filepath.Clean(diskDir))) > 0
}

// hostPID is the machine PID of the host's init, or 0 when it is not running.
// The PID file alone is not trusted: the process must still be the init of
// this very disk (PIDs are reused).
func hostPID(disk string) int {
	data, err := os.ReadFile(pidFile(disk))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0
	}
	if d, ok := initDisk(pid); !ok || d != disk || !alive(pid) {
		return 0
	}
	return pid
}

// initDisk tells whether pid is a host init and, if so, the disk it runs.
func initDisk(pid int) (string, bool) {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return "", false
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) != 3 || args[1] != InitArg {
		return "", false
	}
	return args[2], true
}

// alive is false for a PID that is gone or a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

// Run executes a bash script as root inside the host (all its namespaces, its
// root, cwd /root, HOME=/root, a sane PATH) and returns its stdout, stderr
// and exit code. err is set only when the script could not be run at all.
// Cancelling ctx kills the script's whole process group.
func Run(ctx context.Context, diskDir, script string) (stdout, stderr string, exitCode int, err error) {
	pid := hostPID(resolveExisting(filepath.Clean(diskDir)))
	if pid == 0 {
		return "", "", -1, fmt.Errorf("vmhost: host with disk %s is not running", diskDir)
	}
	// nsenter --root/--wd take the target's root and cwd; the `cd /root`
	// happens inside, so that it is the host's /root, not the machine's.
	cmd := exec.CommandContext(ctx, "nsenter", "--target", strconv.Itoa(pid),
		"--mount", "--uts", "--ipc", "--pid", "--root", "--wd", "--",
		"/usr/bin/env", "-i", "HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/bin/bash",
		"LANG=C.UTF-8", "PATH="+hostPATH,
		"/bin/bash", "-c", `cd /root || exit 1; exec /bin/bash -c "$1"`, "bash", script)
	// Output goes to files, not pipes: Run returns when the script exits,
	// even if it left a background process holding its stdout.
	out, err := os.CreateTemp("", "vmhost-run-out")
	if err != nil {
		return "", "", -1, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	errOut, err := os.CreateTemp("", "vmhost-run-err")
	if err != nil {
		return "", "", -1, err
	}
	defer os.Remove(errOut.Name())
	defer errOut.Close()
	cmd.Stdout, cmd.Stderr = out, errOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return unix.Kill(-cmd.Process.Pid, unix.SIGKILL) }
	runErr := cmd.Run()
	stdoutData, _ := os.ReadFile(out.Name())
	stderrData, _ := os.ReadFile(errOut.Name())
	stdout, stderr = string(stdoutData), string(stderrData)
	if ctx.Err() != nil {
		return stdout, stderr, -1, ctx.Err()
	}
	var exitErr *exec.ExitError
	switch {
	case runErr == nil:
		return stdout, stderr, 0, nil
	case errors.As(runErr, &exitErr) && exitErr.ExitCode() >= 0:
		return stdout, stderr, exitErr.ExitCode(), nil
	default:
		return stdout, stderr, -1, fmt.Errorf("vmhost: run script in host: %w", runErr)
	}
}

// DownAll stops every host whose disk lies under stateDir, found by their
// init's command line (so also hosts whose PID file is gone), and leaves
// nothing behind: no host process, and no mount in the machine's namespace
// (hosts never mount there). For t.Cleanup and signal handlers.
func DownAll(stateDir string) error {
	root := resolveExisting(filepath.Clean(stateDir))
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		disk, ok := initDisk(pid)
		if !ok || !strings.HasPrefix(disk, root+"/") {
			continue
		}
		if err := killAndWait(pid); err != nil {
			errs = append(errs, err)
			continue
		}
		_ = os.Remove(pidFile(disk))
	}
	return errors.Join(errs...)
}

// MountShare bind-mounts shareDir on target. It is called by the emulator's
// NFS mount helper, which runs inside a host's mount namespace (so both
// paths are the host's) after it has checked Azure's access rules. findmnt
// then reports a mount at target whose FSTYPE is the backing file system's
// (e.g. ext4), not nfs4: the kernel has no NFS.
func MountShare(shareDir, target string, readOnly bool) error {
	if fi, err := os.Stat(target); err != nil || !fi.IsDir() {
		return fmt.Errorf("mount point %s does not exist", target)
	}
	if fi, err := os.Stat(shareDir); err != nil || !fi.IsDir() {
		return fmt.Errorf("share folder %s does not exist", shareDir)
	}
	if err := unix.Mount(shareDir, target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", shareDir, target, err)
	}
	if readOnly {
		if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			_ = unix.Unmount(target, unix.MNT_DETACH)
			return fmt.Errorf("make %s read-only: %w", target, err)
		}
	}
	return nil
}
