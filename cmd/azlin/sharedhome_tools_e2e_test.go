//go:build localcloud

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/localcloud/testenv"
)

// End-to-end tests of a shared home that developer tools survive (docs/architecture.md#shared-home-layouts)
// in the local cloud: break-glass login, layouts, the share self-test. The
// helpers (sharedCloud, ssh, asRoot, ...) are in sharedhome_e2e_test.go.

// vmIP is the VM's public IP (a loopback address in the local cloud).
func vmIP(t testing.TB, c *testenv.Cloud, vm string) string {
	t.Helper()
	var v struct {
		PublicIps string `json:"publicIps"`
	}
	c.AzJSON(&v, "vm", "show", "-d", "-g", "rg", "-n", vm)
	require.NotEmpty(t, v.PublicIps)
	return v.PublicIps
}

// sshWithKey runs ssh with a key of the test's own (not azlin's) and returns
// its exit status and output.
func sshWithKey(t testing.TB, key, ip, command string) (int, string) {
	t.Helper()
	cmd := exec.Command("ssh", "-i", key, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", "azureuser@"+ip, command)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	require.NoError(t, err)
	return 0, string(out)
}

// Break-glass login: with the share gone from under the home (unmounted in
// the VM), azlin's key still logs in, because sshd reads it from local disk
// first; a key that lives only in the share's authorized_keys no longer does,
// which shows that the share's file really is out of reach.
func TestE2EBreakGlassLoginWhenTheShareIsUnreachable(t *testing.T) {
	c := sharedCloud(t)
	azlinRun(t, c, "storage", "create", "sh1")
	azlinRun(t, c, "new", "--shared-home", "sh1", "--name", "v1")

	pub, err := os.ReadFile(filepath.Join(c.ConfigDir, "azlin_ed25519.pub"))
	require.NoError(t, err)
	assert.Equal(t, "AuthorizedKeysFile /etc/ssh/azlin_authorized_keys/%u .ssh/authorized_keys\n",
		asRoot(t, c, "v1", "grep -v '^#' /etc/ssh/sshd_config.d/50-azlin.conf"))
	assert.Contains(t, asRoot(t, c, "v1", "cat /etc/ssh/azlin_authorized_keys/azureuser"), strings.TrimSpace(string(pub)))
	assert.Contains(t, asRoot(t, c, "v1", "cat /var/lib/azlin/attach.log"), "breakglass=on")

	other := filepath.Join(t.TempDir(), "other_ed25519")
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "only-on-the-share", "-f", other).CombinedOutput()
	require.NoError(t, err, string(out))
	otherPub, err := os.ReadFile(other + ".pub")
	require.NoError(t, err)
	ssh(t, c, "v1", "echo "+strings.TrimSpace(string(otherPub))+" >> ~/.ssh/authorized_keys")
	ip := vmIP(t, c, "v1")
	code, out2 := sshWithKey(t, other, ip, "echo in")
	require.Equal(t, 0, code, "the premise: a key in the share's authorized_keys logs in while the share is there: %s", out2)

	asRoot(t, c, "v1", "umount -l /home/azureuser")
	require.Equal(t, "local\n", asRoot(t, c, "v1", "mountpoint -q /home/azureuser && echo mounted || echo local"))

	assert.Equal(t, "v1 break-glass\n", ssh(t, c, "v1", "echo $(hostname) break-glass"), "azlin's key logs in without the share")
	code, out2 = sshWithKey(t, other, ip, "echo in")
	assert.Equal(t, 255, code, "a key only on the share cannot log in while the share is gone: %s", out2)
	assert.Contains(t, out2, "Permission denied")
}

// controlMasterSurvivesTheOtherVM: an ssh ControlMaster opened on v1 (its
// socket where the layout's ControlPath puts it, on v1's own /run) still
// serves v1 after v2 opens a control connection of its own: each VM's socket
// is on its own disk, none in the shared home. The ControlPath comes only
// from the layout's ssh_config drop-in: without it, ssh refuses -O check.
func controlMasterSurvivesTheOtherVM(t *testing.T, c *testenv.Cloud) {
	t.Helper()
	ssh(t, c, "v1", "ssh-keygen -q -t ed25519 -N '' -C control-test -f ~/.ssh/control_test && cat ~/.ssh/control_test.pub >> ~/.ssh/authorized_keys")
	opts := "-i ~/.ssh/control_test -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "
	master := func(vm string) string { // opens a master to the VM itself, in the background
		to := "azureuser@" + vmIP(t, c, vm)
		ssh(t, c, vm, "ssh "+opts+"-o ControlMaster=yes -o ControlPersist=600 -fN "+to+" </dev/null >/dev/null")
		return to
	}
	v1 := master("v1")
	v1Socket := ssh(t, c, "v1", "ls -A /run/user/1000")
	require.Regexp(t, `^ssh-[0-9a-f]+\n$`, v1Socket, "v1's control socket is in its /run/user/1000")

	v2 := master("v2")
	v2Socket := ssh(t, c, "v2", "ls -A /run/user/1000")
	require.Regexp(t, `^ssh-[0-9a-f]+\n$`, v2Socket)
	assert.Equal(t, "", ssh(t, c, "v2", "find ~/ -type s"), "no socket in the shared home")

	assert.Equal(t, v1Socket, ssh(t, c, "v1", "ls -A /run/user/1000"), "v2's control connection left v1's socket alone")
	assert.Contains(t, ssh(t, c, "v1", "ssh "+opts+"-O check "+v1+" 2>&1"), "Master running")
	assert.Equal(t, "v1 through its master\n", ssh(t, c, "v1", "ssh "+opts+"-o ControlMaster=no "+v1+" 'echo $(hostname) through its master'"))
	assert.Contains(t, ssh(t, c, "v2", "ssh "+opts+"-O check "+v2+" 2>&1"), "Master running")
	// The masters' working folder is the home: they would hold up a detach.
	ssh(t, c, "v1", "ssh "+opts+"-O exit "+v1+" 2>/dev/null")
	ssh(t, c, "v2", "ssh "+opts+"-O exit "+v2+" 2>/dev/null")
}

// treeCmd lists a folder as homeListCmd lists a home (checksums included).
func treeCmd(dir string) string {
	return "cd " + dir + " && " + strings.TrimPrefix(homeListCmd, "cd ~ && ")
}

// Two VMs on one share with the default layout (developer): ~/.cache and
// ~/.vscode-server are per VM, the rest is shared. Detach brings a VM's local
// files into its local home; switching the layout gives the share the files
// of the VM that switched: every file is somewhere, by checksummed listings.
func TestE2ELayoutKeepsToolStatePerVM(t *testing.T) {
	c := sharedCloud(t)
	r := azlinRun(t, c, "storage", "create", "sh1")
	assert.Contains(t, r.Stdout, "Layout: developer\n")
	r = azlinRun(t, c, "new", "--shared-home", "sh1", "--name", "v1")
	assert.Contains(t, r.Stderr, `"remote.SSH.lockfilesInTmp": true`)
	assert.Contains(t, r.Stderr, "v1: layout developer applied.", "new --shared-home reports what the attach did, as attach does")
	assert.Contains(t, r.Stderr, "v1: share self-test: all 7 probes passed.")
	assert.NotContains(t, r.Stderr, "not azlin's", "a fresh VM has no setting file of someone else's")
	newVMs(t, c, "v2")
	r = azlinRun(t, c, "storage", "attach", "sh1", "--vm", "v2")
	assert.Contains(t, r.Stderr, "v2: layout developer applied.")
	assert.Contains(t, r.Stderr, "v2: share self-test: all 7 probes passed.")
	assert.Contains(t, r.Stderr, "VS Code Remote-SSH on your laptop: add to its settings.json")
	assert.Contains(t, r.Stderr, `"remote.SSH.serverInstallPath": {
      "v2": "/var/lib/azlin-local/azureuser"
    }`)
	assert.Equal(t, 1, strings.Count(r.Stderr, "VS Code Remote-SSH"), "printed once per attach")

	// The self-test, with the write-then-read probe across v1 and v2.
	r = azlinRun(t, c, "storage", "check", "sh1", "--vm", "v1")
	// tls: the storage is encrypted in transit and v1 mounts it through AZNFS.
	assert.Equal(t, "owner\tok\t-\nflock\tok\t-\nfcntl\tok\t-\nmkfifo\tok\t-\nunix_socket\tok\t-\nhard_link\tok\t-\nrename\tok\t-\ntls\tok\t-\npeer\tok\t-\n", r.Stdout)
	assert.Contains(t, r.Stderr, "All 9 probes passed on VM v1")

	ssh(t, c, "v1", "mkdir -p ~/.cache/tool ~/project ~/.vscode-server && echo one > ~/.cache/x && echo deep1 > ~/.cache/tool/d && "+
		"echo shared > ~/project/y && echo 4242 > ~/.vscode-server/.lock-abc123")
	ssh(t, c, "v2", "mkdir -p ~/.cache && echo two > ~/.cache/x")
	assert.Equal(t, "one\n", ssh(t, c, "v1", "cat ~/.cache/x"))
	assert.Equal(t, "two\n", ssh(t, c, "v2", "cat ~/.cache/x"), "the same path holds each VM's own file")
	assert.Equal(t, "shared\n", ssh(t, c, "v2", "cat ~/project/y"), "the rest of the home is shared")
	assert.Equal(t, "", ssh(t, c, "v2", "ls -A ~/.vscode-server"), "VS Code's lock file on v1 is not seen on v2")
	assert.Equal(t, "/var/lib/azlin-local/azureuser/.cache\n", ssh(t, c, "v2", "readlink ~/.cache"))
	assert.Contains(t, asRoot(t, c, "v1", "cat /etc/ssh/ssh_config.d/50-azlin.conf"), "ControlPath /run/user/%i/ssh-%C")
	controlMasterSurvivesTheOtherVM(t, c)
	assert.Equal(t, "/home/azureuser/.bash_history.v1\n", ssh(t, c, "v1", "bash -lic 'echo $HISTFILE' 2>/dev/null"), "a login bash keeps its history per VM")
	assert.Equal(t, "/home/azureuser/.bash_history.v2\n", ssh(t, c, "v2", "bash -lc 'bash -ic \"echo \\$HISTFILE\"' 2>/dev/null"), "and so do the shells it starts")
	assert.Equal(t, "false\n", ssh(t, c, "v1", "git config --system core.fsmonitor"))
	assert.Equal(t, "false\n", ssh(t, c, "v2", "git config --system core.fsmonitor"))

	r = azlinRun(t, c, "storage", "layout", "show", "sh1")
	assert.Contains(t, r.Stdout, "Layout: developer (built in)\n")
	assert.Contains(t, r.Stdout, "  ~/.vscode-server\n")

	// Detach v2: its own ~/.cache comes into its local home, whole.
	v2Cache := asRoot(t, c, "v2", treeCmd("/var/lib/azlin-local/azureuser/.cache"))
	require.Contains(t, v2Cache, "x f 664 azureuser:azureuser", "written over SSH with pam_umask's umask 002")
	r = azlinRun(t, c, "storage", "detach", "--vm", "v2")
	assert.Contains(t, r.Stderr, "/var/lib/azlin-local/azureuser/.cache -> ~/.cache")
	assert.Equal(t, v2Cache, ssh(t, c, "v2", treeCmd("~/.cache")))
	assert.Equal(t, "d\n", ssh(t, c, "v2", "stat -c %F ~/.cache | cut -c1"), "a real directory again")
	assert.Equal(t, "", asRoot(t, c, "v2", "ls -d /etc/ssh/ssh_config.d/50-azlin.conf /etc/profile.d/azlin-history.sh /etc/azlin/zsh-history.zsh /etc/gitconfig /var/lib/azlin/layout /var/lib/azlin/layout-files 2>/dev/null || true"),
		"the layout's files and hook lines are gone")

	// Switch the layout: v1's local files become the share's.
	v1Cache := asRoot(t, c, "v1", treeCmd("/var/lib/azlin-local/azureuser/.cache"))
	require.Contains(t, v1Cache, "tool/d f 664 azureuser:azureuser")
	r = azlinRun(t, c, "storage", "layout", "set", "sh1", "minimal")
	assert.Equal(t, "v1\tapplied\n", r.Stdout)
	assert.Contains(t, r.Stderr, "Storage sh1 has layout minimal, applied on 1 VM(s)")
	assert.Contains(t, r.Stderr, "/var/lib/azlin-local/azureuser/.cache -> ~/.cache (shared again)")
	assert.Equal(t, v1Cache, ssh(t, c, "v1", treeCmd("~/.cache")), "the share holds v1's cache, whole")
	assert.Equal(t, "", ssh(t, c, "v1", "test -L ~/.cache && echo still a link || true"))
	r = azlinRun(t, c, "storage", "layout", "show", "sh1", "-o", "json")
	assert.Contains(t, r.Stdout, `"name": "minimal"`)

	// A probe forced to fail (the home read-only inside the VM) is reported,
	// with what it means, and the check exits 1.
	asRoot(t, c, "v1", "mount -o remount,bind,ro /home/azureuser")
	r = c.Azlin("storage", "check", "sh1", "--vm", "v1")
	assert.Equal(t, 1, r.Exit, r.Stderr)
	assert.Contains(t, r.Stdout, "hard_link\tfail\tazureuser cannot make a folder in /home/azureuser\n")
	assert.Contains(t, r.Stderr, "7 of 8 probes failed on VM v1")
	assert.Contains(t, r.Stderr, "probe fcntl fail (azureuser cannot make a folder in /home/azureuser): POSIX locks do not work")
	assert.Contains(t, r.Stderr, "No other running VM has this home")
	asRoot(t, c, "v1", "mount -o remount,bind,rw /home/azureuser")

	// A broken user layout is refused before any az call, with what to fix.
	dir := filepath.Join(c.ConfigDir, "layouts")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mine.toml"), []byte("local = [\"../etc\"]\n"), 0o600))
	calls := len(commands(c))
	r = c.Azlin("storage", "layout", "set", "sh1", "mine")
	assert.Equal(t, 2, r.Exit)
	assert.Contains(t, r.Stderr, "mine.toml: layout mine: local path \"../etc\" may hold only letters")
	r = c.Azlin("storage", "create", "sh2", "--layout", "nope")
	assert.Equal(t, 2, r.Exit)
	assert.Contains(t, r.Stderr, `--layout: layout "nope" is not a built-in layout nor a file`)
	assert.Equal(t, calls, len(commands(c)), "bad layouts are refused before any az call")

	// --layout is kept on the storage.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mine.toml"), []byte("local = [\".cargo\"]\n"), 0o600))
	azlinRun(t, c, "storage", "create", "sh2", "--layout", "mine", "--network", "service-endpoint")
	r = azlinRun(t, c, "storage", "layout", "show", "sh2")
	assert.Contains(t, r.Stdout, "Layout: mine (user layout)\n")
	assert.Contains(t, r.Stdout, "  ~/.cargo\n")
}
