//go:build linux && localcloud

package vmhost

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSSHAsAdminUser(t *testing.T) {
	cfg := newConfig(t, "vm-ssh")
	boot(t, cfg)
	require.True(t, Running(cfg.DiskDir))

	out, err := sshRun(t, cfg, "hostname; id -u; id -g; pwd; sudo -n id -u")
	require.NoError(t, err, out)
	assert.Equal(t, "vm-ssh\n1000\n1000\n/home/azureuser\n0\n", out)

	// cloud-init made the admin user: Debian's default user's gecos, inside the host only.
	machinePasswd, err := os.ReadFile("/etc/passwd")
	require.NoError(t, err)
	hostPasswd := mustRun(t, cfg, "cat /etc/passwd")
	assert.Equal(t, "azureuser:x:1000:1000:Debian:/home/azureuser:/bin/bash", lineOf(hostPasswd, "azureuser:"))
	assert.Equal(t, "azureuser ALL=(ALL) NOPASSWD:ALL\n", mustRun(t, cfg, "grep -v '^#' /etc/sudoers.d/90-cloud-init-users | grep ."))
	assert.Empty(t, lineOf(string(machinePasswd), "azureuser:"), "the machine's /etc/passwd must not change")
	assert.Equal(t, 1, strings.Count(hostPasswd, ":1000:1000:"), "only azureuser may have uid 1000 in the host:\n%s", hostPasswd)

	// StrictModes-proof home, as Debian 13's useradd (HOME_MODE 0700) and cloud-init leave it.
	assert.Equal(t, "700 1000:1000\n700 1000:1000\n600 1000:1000\n",
		mustRun(t, cfg, "cd /home/azureuser && stat -c '%a %u:%g' . .ssh .ssh/authorized_keys"))
	// A fresh image's /etc: none of this machine's own git config.
	assert.Equal(t, "none\n", mustRun(t, cfg, "test -e /etc/gitconfig && echo there || echo none"))
	// The user's runtime folder, as logind makes it on an Azure VM.
	assert.Equal(t, "755 0:0\n700 1000:1000\n", mustRun(t, cfg, "stat -c '%a %u:%g' /run/user /run/user/1000"))
	// The host has its own sshd host key, not the machine's.
	hostKey := mustRun(t, cfg, "cat /etc/ssh/ssh_host_ed25519_key.pub")
	machineKey, _ := os.ReadFile("/etc/ssh/ssh_host_ed25519_key.pub")
	assert.NotEqual(t, string(machineKey), hostKey)
	assert.Contains(t, hostKey, "root@vm-ssh")

	// Password logins are refused.
	denied, err := exec.Command("ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "PubkeyAuthentication=no", cfg.AdminUser+"@"+cfg.IP, "true").CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(denied), "Permission denied (publickey)")
}

func lineOf(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func TestRunReturnsOutputAndExitCode(t *testing.T) {
	cfg := newConfig(t, "vm-run")
	boot(t, cfg)

	out, errOut, code := run(t, cfg, `echo "out $(pwd) $HOME $(id -u) $(hostname)"; echo "$PATH"; echo oops >&2; exit 7`)
	assert.Equal(t, "out /root /root 0 vm-run\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n", out)
	assert.Equal(t, "oops\n", errOut)
	assert.Equal(t, 7, code)

	// The script is in the host's PID namespace: PID 1 is the host's init.
	assert.Contains(t, mustRun(t, cfg, "cat /proc/1/cmdline | tr '\\0' ' '"), InitArg)

	// A background process keeping stdout open does not hold Run up.
	start := time.Now()
	mustRun(t, cfg, "sleep 30 & echo started")
	assert.Less(t, time.Since(start), 5*time.Second)

	// Cancelling the context stops the script.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, _, _, err := Run(ctx, cfg.DiskDir, "sleep 20")
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// A host that is not running is an error, not an exit code.
	require.NoError(t, Stop(cfg.DiskDir))
	_, _, _, err = Run(context.Background(), cfg.DiskDir, "true")
	require.ErrorContains(t, err, "is not running")
}

func TestWritesStayInHostAndSurviveRestart(t *testing.T) {
	cfg := newConfig(t, "vm-persist")
	boot(t, cfg)
	marker := fmt.Sprintf("vmhost-test-%d", time.Now().UnixNano())
	mustRun(t, cfg, fmt.Sprintf(`set -e
echo etc > /etc/%[1]s
echo home > /home/azureuser/%[1]s
echo usr > /usr/local/bin/%[1]s
echo mnt > /mnt/%[1]s
echo tmp > /tmp/%[1]s
mkdir -p /var/lib/%[1]s`, marker))
	for _, p := range []string{"/etc/", "/home/azureuser/", "/usr/local/bin/", "/mnt/", "/tmp/", "/var/lib/"} {
		_, err := os.Stat(p + marker)
		assert.ErrorIs(t, err, os.ErrNotExist, "%s%s leaked to the machine", p, marker)
	}

	ids := func() []string {
		return strings.Fields(mustRun(t, cfg, "cat /etc/machine-id /proc/sys/kernel/random/boot_id"))
	}
	before := ids()
	require.Len(t, before, 2)
	assert.Regexp(t, `^[0-9a-f]{32}$`, before[0], "a machine id of its own, made at first boot")
	machine, _ := os.ReadFile("/etc/machine-id")
	kernelBoot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	assert.NotEqual(t, strings.TrimSpace(string(machine)), before[0])
	assert.NotEqual(t, strings.TrimSpace(string(kernelBoot)), before[1], "a boot id of its own")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang guard
	defer cancel()
	require.NoError(t, Restart(ctx, cfg))
	after := ids()
	assert.Equal(t, before[0], after[0], "the machine id survives a restart")
	assert.NotEqual(t, before[1], after[1], "every boot has a new boot id")
	out := mustRun(t, cfg, fmt.Sprintf("cat /etc/%[1]s /home/azureuser/%[1]s /usr/local/bin/%[1]s /mnt/%[1]s; ls /tmp/%[1]s 2>&1; true", marker))
	assert.Equal(t, "etc\nhome\nusr\nmnt\nls: cannot access '/tmp/"+marker+"': No such file or directory\n", out,
		"the disk persists across a restart; /tmp is a tmpfs")
	out, err := sshRun(t, cfg, "hostname")
	require.NoError(t, err, out)
	assert.Equal(t, "vm-persist\n", out)

	// Booting a running host is a no-op: the same init keeps running.
	pid := hostPID(cfg.DiskDir)
	boot(t, cfg)
	assert.Equal(t, pid, hostPID(cfg.DiskDir))

	require.NoError(t, Destroy(cfg.DiskDir))
	assert.False(t, Running(cfg.DiskDir))
	assert.NoDirExists(t, cfg.DiskDir)
	require.NoError(t, Stop(cfg.DiskDir), "Stop is idempotent, also without a disk")
}

const testCloudConfig = `#cloud-config
packages:
  - nfs-common
  - [jq, '1.6']
write_files:
  # azureuser exists only after users-groups, which runs after write_files:
  # files it owns must be deferred to the final stage.
  - path: /etc/azlin/info
    content: |
      shared home
    permissions: '0640'
    owner: azureuser:azureuser
    defer: true
  - path: /usr/local/bin/hello
    encoding: b64
    content: %s
    permissions: '0755'
  - path: /etc/azlin/info
    content: "second line\n"
    append: true
    # cloud-init applies permissions and owner (defaults 0644 root:root) also when appending
    permissions: '0640'
    owner: azureuser:azureuser
    defer: true
runcmd:
  - echo "run $(hostname) $(id -u)" >> /var/log/azlin-runcmd.log
  - [sh, -c, 'echo "list form: $1" >> /var/log/azlin-runcmd.log', sh, 'it works']
  - hello >> /var/log/azlin-runcmd.log
  - command -v mount.nfs4 >> /var/log/azlin-runcmd.log
`

func TestCloudInitRunsOnceAtFirstBoot(t *testing.T) {
	cfg := newConfig(t, "vm-cloudinit")
	cfg.CustomData = []byte(fmt.Sprintf(testCloudConfig, base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho hello from b64\n"))))
	boot(t, cfg)

	out, errOut, code := run(t, cfg, "cloud-init status --wait")
	require.Equal(t, 0, code, "%s%s\n%s", out, errOut, mustRun(t, cfg, "cat /var/log/cloud-init-output.log"))
	assert.True(t, strings.HasSuffix(out, "status: done\n"), out)
	assert.Equal(t, "run vm-cloudinit 0\nlist form: it works\nhello from b64\n/usr/sbin/mount.nfs4\n",
		mustRun(t, cfg, "cat /var/log/azlin-runcmd.log"))
	assert.Equal(t, "shared home\nsecond line\n", mustRun(t, cfg, "cat /etc/azlin/info"))
	assert.Equal(t, "640 azureuser:azureuser\n755 root:root\n",
		mustRun(t, cfg, "stat -c '%a %U:%G' /etc/azlin/info /usr/local/bin/hello"))
	assert.Contains(t, mustRun(t, cfg, "dpkg -s jq"), "Status: install ok installed")
	finished, _ := filepath.Glob(filepath.Join(cfg.DiskDir, "upper/var/lib/cloud/instances/*/boot-finished"))
	assert.Len(t, finished, 1, "cloud-init's record of the instance is on the host's disk")
	// cloud-init's packages module ran the host's apt-get stand-in.
	assert.Contains(t, mustRun(t, cfg, "cat /var/log/cloud-init-output.log"), "Setting up nfs-common (azemu) ...")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang guard
	defer cancel()
	require.NoError(t, Restart(ctx, cfg))
	// A boot runs cloud-init's stages again; its per-instance modules do nothing.
	assert.True(t, strings.HasSuffix(mustRun(t, cfg, "cloud-init status --wait"), "status: done\n"))
	assert.Equal(t, 4, strings.Count(mustRun(t, cfg, "cat /var/log/azlin-runcmd.log"), "\n"), "runcmd must not run again after a restart")
}

// The host is Debian 13 from the VM image, whatever the machine runs, and its
// cloud-init is the image's real one: what custom data writes through
// write_files (init stage, before sshd) and runcmd (final stage) is there
// for the admin user over SSH.
func TestRealCloudInitOnTheImage(t *testing.T) {
	cfg := newConfig(t, "vm-real")
	cfg.CustomData = []byte(`#cloud-config
write_files:
  - path: /etc/from-write-files
    content: "written by write_files\n"
runcmd:
  - [sh, -c, 'echo "written by runcmd on $(hostname)" > /var/tmp/from-runcmd']
`)
	boot(t, cfg)
	out, err := sshRun(t, cfg, "cat /etc/from-write-files; cloud-init status --wait >/dev/null; cat /var/tmp/from-runcmd")
	require.NoError(t, err, out)
	assert.Equal(t, "written by write_files\nwritten by runcmd on vm-real\n", out)

	out, err = sshRun(t, cfg, "cloud-init --version 2>&1; . /etc/os-release; echo $VERSION_ID $VERSION_CODENAME")
	require.NoError(t, err, out)
	assert.Regexp(t, `^/usr/bin/cloud-init 25\.[0-9.]+\n13 trixie\n$`, out)
	machine, err := os.ReadFile("/etc/os-release")
	require.NoError(t, err)
	assert.NotContains(t, string(machine), `VERSION_ID="13"`, "the machine is not the image: a host is an OS of its own")
	// The sshd that answers is the image's, not the machine's.
	banner := sshBanner(t, cfg)
	machineSSHD, _ := exec.Command("/usr/sbin/sshd", "-V").CombinedOutput()
	machineVersion, _, _ := strings.Cut(string(machineSSHD), ",")
	assert.Contains(t, banner, "Debian")
	assert.NotContains(t, banner, strings.ReplaceAll(machineVersion, " ", "-"), "machine's sshd: %s", machineSSHD)

	out, _, code := run(t, cfg, "cloud-init status --long")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "status: done\n")
	assert.Contains(t, out, "DataSourceNoCloud")
	assert.NoFileExists(t, filepath.Join(cfg.Image, "etc/from-write-files"), "hosts never write into the shared image")
	assert.FileExists(t, filepath.Join(cfg.DiskDir, "upper/etc/from-write-files"))
}

// Custom data cloud-init rejects fails cloud-init, not the boot, as on Azure:
// the error is in cloud-init's log and status, and SSH works.
func TestInvalidUserDataFailsCloudInitNotTheBoot(t *testing.T) {
	cfg := newConfig(t, "vm-badyaml")
	cfg.CustomData = []byte("#cloud-config\nwrite_files: [\n  - path: /x\n")
	boot(t, cfg)
	out, err := sshRun(t, cfg, "id -un")
	require.NoError(t, err, out)
	assert.Equal(t, "azureuser\n", out)
	// cloud-init 25.1 skips a user-data part it cannot parse and ends
	// "degraded done" (exit 2: recoverable errors), naming the error.
	out, _, code := run(t, cfg, "cloud-init status --wait --long")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "status: done\nextended_status: degraded done\n")
	assert.Contains(t, out, "Failed loading yaml blob")
	assert.Contains(t, mustRun(t, cfg, "cat /var/log/cloud-init.log"), "Failed loading yaml blob")
}

// aptLockWait is how long cloud-init's first apt command waited for the apt
// locks, from its log's "Waiting for APT lock" to "APT lock available".
func aptLockWait(t *testing.T, log string) time.Duration {
	var start time.Time
	for _, line := range strings.Split(log, "\n") {
		if len(line) < 23 {
			continue
		}
		at, err := time.Parse("2006-01-02 15:04:05,000", line[:23])
		if err != nil {
			continue
		}
		switch {
		case strings.Contains(line, "Waiting for APT lock") && start.IsZero():
			start = at
		case strings.Contains(line, "APT lock available") && !start.IsZero():
			return at.Sub(start)
		}
	}
	t.Fatalf("no APT lock wait in cloud-init's log:\n%s", log)
	return 0
}

// sshBanner is the identification line the host's sshd sends first.
func sshBanner(t *testing.T, cfg Config) string {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(cfg.IP, "22"), 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	return line
}

func TestCloudInitErrorIsReported(t *testing.T) {
	cfg := newConfig(t, "vm-cloudinit-err")
	cfg.CustomData = []byte("#cloud-config\nruncmd:\n  - echo before\n  - exit 3\n")
	boot(t, cfg)
	out, _, code := run(t, cfg, "cloud-init status --wait --long")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "status: error\n")
	assert.Contains(t, mustRun(t, cfg, "cat /var/log/cloud-init-output.log"), "before\n")
	assert.Contains(t, mustRun(t, cfg, "cat /var/log/cloud-init-output.log"), "Failed to run module scripts-user")
}

func TestFakePackageTools(t *testing.T) {
	cfg := newConfig(t, "vm-apt")
	boot(t, cfg)

	_, errOut, code := run(t, cfg, "dpkg -s nfs-common")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "package 'nfs-common' is not installed")
	_, _, code = run(t, cfg, "command -v mount.nfs")
	assert.Equal(t, 1, code, "no NFS mount helper before nfs-common is installed")

	mustRun(t, cfg, "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nfs-common")
	assert.Contains(t, mustRun(t, cfg, "dpkg -s nfs-common"), "Status: install ok installed\n")
	assert.Equal(t, "install ok installed", mustRun(t, cfg, "dpkg-query -W -f='${Status}' nfs-common"))
	assert.Equal(t, "/usr/sbin/mount.nfs\n", mustRun(t, cfg, "command -v mount.nfs"))
	_, errOut, code = run(t, cfg, "sudo -u azureuser apt-get install -y jq")
	assert.Equal(t, 100, code)
	assert.Contains(t, errOut, "are you root?")

	// Nothing of this reached the machine.
	assert.NoFileExists(t, "/var/lib/azemu/packages")
	assert.NoFileExists(t, "/usr/sbin/mount.nfs")
	machineApt, err := os.ReadFile("/usr/bin/apt-get")
	require.NoError(t, err)
	assert.NotContains(t, string(machineApt), "azemu")

	mustRun(t, cfg, "apt-get remove -y nfs-common")
	_, _, code = run(t, cfg, "dpkg -s nfs-common || command -v mount.nfs")
	assert.Equal(t, 1, code)
}

func TestPackageFaults(t *testing.T) {
	locked := newConfig(t, "vm-dpkg-lock")
	// Held long enough that cloud-init's packages module, which starts after
	// sshd, still finds it on a loaded machine.
	locked.Env = append(locked.Env, "AZEMU_HOST_DPKG_LOCK_SECONDS=6")
	failing := newConfig(t, "vm-apt-fail")
	failing.Env = append(failing.Env, "AZEMU_HOST_APT_FAIL=1")
	// Real cloud-init's packages module runs the apt-get stand-in, so the faults reach it.
	locked.CustomData = []byte("#cloud-config\npackages: [jq]\n")
	failing.CustomData = locked.CustomData
	// The lock is taken when the boot is all but done: boot the locked host last.
	boot(t, failing)
	boot(t, locked)

	_, errOut, code := run(t, locked, "apt-get install -y nfs-common")
	assert.Equal(t, 100, code)
	assert.Contains(t, errOut, "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process")
	start := time.Now()
	mustRun(t, locked, "apt-get -o DPkg::Lock::Timeout=30 install -y nfs-common")
	assert.Greater(t, time.Since(start), 500*time.Millisecond, "install must have waited for the lock")
	assert.Contains(t, mustRun(t, locked, "dpkg -s nfs-common"), "install ok installed")

	_, errOut, code = run(t, failing, "apt-get update && apt-get install -y nfs-common")
	assert.Equal(t, 100, code)
	assert.Contains(t, errOut, "E: Unable to fetch some archives")
	_, _, code = run(t, failing, "dpkg -s nfs-common")
	assert.Equal(t, 1, code)

	// cloud-init waited for the lock, then installed; with the archive unreachable its packages failed.
	out, _, code := run(t, locked, "cloud-init status --wait; dpkg -s jq")
	assert.Equal(t, 0, code, out)
	assert.GreaterOrEqual(t, aptLockWait(t, mustRun(t, locked, "cat /var/log/cloud-init.log")), 500*time.Millisecond,
		"cloud-init must have waited for the fcntl lock")
	out, _, code = run(t, failing, "cloud-init status --wait --long")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "status: error\n")
	assert.Contains(t, mustRun(t, failing, "cat /var/log/cloud-init-output.log"), "E: Unable to fetch some archives")
}

// shareDir makes an "Azure Files share" the test's stand-in NFS helper serves.
func shareDir(t *testing.T, cfg Config, account, share string) string {
	dir := filepath.Join(cfg.StateDir, "shares", account, share)
	require.NoError(t, os.MkdirAll(dir, 0o777))
	return dir
}

func TestNFSMountHelperAndFstab(t *testing.T) {
	cfg := newConfig(t, "vm-nfs")
	share := shareDir(t, cfg, "acct", "home")
	require.NoError(t, os.WriteFile(filepath.Join(share, "from-share"), []byte("shared\n"), 0o644))
	boot(t, cfg)
	const src = "acct.file.core.windows.net:/acct/home"

	_, errOut, code := run(t, cfg, "mkdir -p /mnt/share && mount -t nfs4 "+src+" /mnt/share")
	assert.NotEqual(t, 0, code, "without nfs-common there is no mount helper")
	assert.Contains(t, errOut, "unknown filesystem type 'nfs4'")

	mustRun(t, cfg, "apt-get install -y nfs-common && mount -t nfs4 -o vers=4,minorversion=1,sec=sys "+src+" /mnt/share")
	assert.Equal(t, "/mnt/share is a mountpoint\n", mustRun(t, cfg, "mountpoint /mnt/share"))
	assert.Equal(t, "/mnt/share\n", mustRun(t, cfg, "findmnt -n -o TARGET /mnt/share"))
	assert.Equal(t, "shared\n", mustRun(t, cfg, "cat /mnt/share/from-share"))
	mustRun(t, cfg, "echo from-vm > /mnt/share/from-vm")
	data, err := os.ReadFile(filepath.Join(share, "from-vm"))
	require.NoError(t, err)
	assert.Equal(t, "from-vm\n", string(data), "writes reach the share's folder in the state dir")
	var out string

	calls, err := os.ReadFile(filepath.Join(cfg.StateDir, "nfs-mount-calls"))
	require.NoError(t, err)
	assert.Equal(t, "vm-nfs nfs4 "+src+" /mnt/share -o rw,vers=4,minorversion=1,sec=sys\n", string(calls),
		"what the emulator's __azemu-nfs-mount receives: argv from mount(8), env from the host")

	// A busy mount cannot be unmounted.
	mustRun(t, cfg, "cd /mnt/share && setsid sleep 60 >/dev/null 2>&1 < /dev/null &")
	time.Sleep(100 * time.Millisecond)
	_, errOut, code = run(t, cfg, "umount /mnt/share")
	assert.Equal(t, 32, code)
	assert.Contains(t, errOut, "target is busy")
	mustRun(t, cfg, "pkill -x sleep; sleep 0.2; umount /mnt/share && ! mountpoint -q /mnt/share")

	// Access denied comes back as mount's error.
	_, errOut, code = run(t, cfg, "mount -t nfs4 acct.file.core.windows.net:/acct/missing /mnt/share")
	assert.Equal(t, 32, code)
	assert.Contains(t, errOut, "access denied by server")

	// fstab: a good entry is mounted at boot, a failing nofail one is skipped.
	mustRun(t, cfg, `cat >> /etc/fstab <<'EOF'
acct.file.core.windows.net:/acct/home /home/azureuser/shared nfs4 vers=4,minorversion=1,_netdev 0 0
acct.file.core.windows.net:/acct/missing /mnt/missing nfs4 vers=4,minorversion=1,_netdev,nofail 0 0
acct.file.core.windows.net:/acct/home /mnt/ro nfs ro,vers=4.1,nofail 0 0
EOF`)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang guard
	defer cancel()
	require.NoError(t, Restart(ctx, cfg))
	assert.Equal(t, "shared\n", mustRun(t, cfg, "mountpoint -q /home/azureuser/shared && cat /home/azureuser/shared/from-share"))
	out, _, code = run(t, cfg, "mountpoint /mnt/missing")
	assert.NotEqual(t, 0, code)
	assert.Equal(t, "/mnt/missing is not a mountpoint\n", out)
	_, errOut, code = run(t, cfg, "touch /mnt/ro/x")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errOut, "Read-only file system")
	log, _ := os.ReadFile(logFile(cfg.DiskDir))
	assert.Contains(t, string(log), "mount failed, skipped (nofail)")
	out, err = sshRun(t, cfg, "ls ~/shared")
	require.NoError(t, err, out)
	assert.Contains(t, out, "from-vm")

	// A failing entry without nofail fails the boot, naming the line.
	mustRun(t, cfg, "echo 'acct.file.core.windows.net:/acct/gone /mnt/gone nfs4 vers=4.1 0 0' >> /etc/fstab")
	err = Restart(ctx, cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `/etc/fstab line`)
	assert.Contains(t, err.Error(), `acct.file.core.windows.net:/acct/gone /mnt/gone nfs4 vers=4.1 0 0`)
	assert.Contains(t, err.Error(), "access denied by server")
	assert.False(t, Running(cfg.DiskDir))
}

func TestDownAllLeavesNothingBehind(t *testing.T) {
	a := newConfig(t, "vm-a")
	b := newConfig(t, "vm-b")
	b.StateDir, b.DiskDir = a.StateDir, filepath.Join(a.StateDir, "hosts", "vm-b")
	shareDir(t, a, "acct", "home")
	boot(t, a)
	boot(t, b)
	mustRun(t, a, "apt-get install -y nfs-common && mkdir -p /mnt/s && mount -t nfs4 acct.file.core.windows.net:/acct/home /mnt/s")
	// An odd duration marks this test's process: other tests may run a
	// "sleep 300" at the same time.
	mustRun(t, b, "setsid sleep 300.0417 >/dev/null 2>&1 < /dev/null &")
	require.NotEmpty(t, pgrep(t, InitArg+" "+a.StateDir))

	require.NoError(t, DownAll(a.StateDir))
	assert.Empty(t, pgrep(t, InitArg+" "+a.StateDir), "no host init left")
	assert.Empty(t, pgrep(t, "ListenAddress="+a.IP), "no sshd left")
	assert.Empty(t, pgrep(t, "ListenAddress="+b.IP), "no sshd left")
	assert.Empty(t, pgrep(t, "sleep 300.0417"), "no host process left")
	assert.False(t, Running(a.DiskDir))
	assert.False(t, Running(b.DiskDir))
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	assert.NotContains(t, string(mounts), a.StateDir, "no mounts in the machine's namespace")
	entries, _ := os.ReadDir("/run/netns")
	assert.Empty(t, entries)
	require.NoError(t, DownAll(a.StateDir), "DownAll is idempotent")
}

func pgrep(t *testing.T, pattern string) string {
	out, _ := exec.Command("pgrep", "-f", "--", pattern).Output()
	return strings.TrimSpace(string(out))
}

func TestBootRefusesBadConfig(t *testing.T) {
	good := newConfig(t, "vm-bad")
	for name, tc := range map[string]struct {
		mod  func(*Config)
		want string
	}{
		"disk in image":    {func(c *Config) { c.DiskDir = filepath.Join(c.Image, "tmp/azemu-disk") }, "overlaps the VM image"},
		"state over image": {func(c *Config) { c.StateDir = filepath.Dir(c.Image) }, "overlaps the VM image"},
		"no image":         {func(c *Config) { c.Image = "/nonexistent/vm" }, "/nonexistent/vm is not a VM image"},
		"public IP":        {func(c *Config) { c.IP = "10.0.0.4" }, "not a loopback address"},
		"no key":           {func(c *Config) { c.SSHPublicKey = "" }, "needs an SSH public key"},
		"bad name":         {func(c *Config) { c.Name = "a b" }, "invalid host name"},
		"relative bin":     {func(c *Config) { c.EmulatorBin = "az" }, "not an absolute path"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := good
			tc.mod(&cfg)
			err := Boot(context.Background(), cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.NoDirExists(t, filepath.Join(good.Image, "tmp/azemu-disk"), "nothing was written into the image")
}

func TestBootReportsAFailingInit(t *testing.T) {
	cfg := newConfig(t, "vm-broken")
	// A binary that is not an emulator: the init exits at once.
	cfg.EmulatorBin = "/bin/false"
	err := Boot(context.Background(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "host vm-broken failed to boot")
	assert.Contains(t, err.Error(), "host.log")
	assert.False(t, Running(cfg.DiskDir))
}

func BenchmarkHostBoot(b *testing.B) {
	for i := 0; i < b.N; i++ {
		cfg := newConfig(b, fmt.Sprintf("bench-%d", i))
		start := time.Now()
		boot(b, cfg)
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/boot-to-ssh")
		require.NoError(b, Destroy(cfg.DiskDir))
	}
}
