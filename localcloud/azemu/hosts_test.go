//go:build localcloud

package azemu_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/testjson"
)

// runScript runs a script on a VM through run-command and returns az's message.
func (c *cloud) runScript(vm, script string) string {
	c.t.Helper()
	out := c.obj("vm", "run-command", "invoke", "-g", "rg", "-n", vm, "--command-id", "RunShellScript", "--scripts", script)
	return testjson.Str(c.t, out, "value", 0, "message")
}

func sshKeyPair(t *testing.T) (priv, pub string) {
	t.Helper()
	dir := t.TempDir()
	priv = filepath.Join(dir, "id")
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", priv).CombinedOutput()
	require.NoError(t, err, string(out))
	return priv, priv + ".pub"
}

func sshRun(t *testing.T, key, ip, command string) (string, error) {
	t.Helper()
	cmd := exec.Command("ssh", "-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", "azureuser@"+ip, command)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

const mountScript = `set -e
apt-get install -y nfs-common >/dev/null
mkdir -p /mnt/share
mount -t nfs4 acct.file.core.windows.net:/acct/share /mnt/share -o vers=4,minorversion=1,sec=sys
echo 'acct.file.core.windows.net:/acct/share /mnt/share nfs4 vers=4,minorversion=1,sec=sys,_netdev,nofail 0 0' >> /etc/fstab
echo MOUNTED`

func TestHostsShareAnNFSMountAcrossVMs(t *testing.T) {
	c := newCloud(t)
	c.env["AZEMU_HOSTS"] = "1"
	t.Cleanup(func() { c.run("__azemu-down") })
	c.base()
	c.ok("storage", "share-rm", "create", "-g", "rg", "--storage-account", "acct", "-n", "share",
		"--quota", "100", "--enabled-protocols", "NFS", "-o", "none")
	c.ok("network", "vnet", "subnet", "create", "-g", "rg", "--vnet-name", "v", "-n", "other",
		"--address-prefixes", "10.0.1.0/24", "-o", "none")
	// A faults file inside the state dir reaches the hosts' mount helper too.
	faults := filepath.Join(c.dir, "faults.json")
	require.NoError(t, os.WriteFile(faults, []byte("[]"), 0o644))
	c.env["AZEMU_FAULTS"] = faults
	priv, pub := sshKeyPair(t)
	ips := map[string]string{}
	for _, vm := range []string{"vm1", "vm2"} {
		out := c.obj("vm", "create", "-g", "rg", "-n", vm, "--image", "Ubuntu2204", "--vnet-name", "v", "--subnet", "s",
			"--admin-username", "azureuser", "--ssh-key-values", pub)
		ips[vm] = testjson.Str(t, out, "publicIpAddress")
	}

	// Not allowed yet: the account has no rule for the subnet.
	msg := c.runScript("vm1", mountScript)
	assert.Contains(t, msg, "mount.nfs: access denied by server while mounting acct.file.core.windows.net:/acct/share")
	assert.NotContains(t, msg, "MOUNTED")
	c.ok("storage", "account", "network-rule", "add", "-g", "rg", "--account-name", "acct", "--vnet-name", "v", "--subnet", "s", "-o", "none")

	require.NoError(t, os.WriteFile(faults, []byte(`[{"prefix": ["__azemu-nfs-mount"], "exit": 32, "times": 1,
		"stderr": "mount.nfs: Connection timed out\n"}]`), 0o644))
	msg = c.runScript("vm1", "sed -i '/acct.file/d' /etc/fstab\n"+mountScript)
	assert.Contains(t, msg, "mount.nfs: Connection timed out")
	for _, vm := range []string{"vm1", "vm2"} {
		msg := c.runScript(vm, "sed -i '/acct.file/d' /etc/fstab\n"+mountScript)
		require.Contains(t, msg, "MOUNTED", vm)
	}
	// A new share's root belongs to root, as on Azure (NoRootSquash lets root chown it).
	c.runScript("vm1", "chown 1000:1000 /mnt/share")
	out, err := sshRun(t, priv, ips["vm1"], "echo written-on-vm1 > /mnt/share/note && id -u")
	require.NoError(t, err, out)
	assert.Equal(t, "1000\n", out)
	out, err = sshRun(t, priv, ips["vm2"], "cat /mnt/share/note")
	require.NoError(t, err, out)
	assert.Equal(t, "written-on-vm1\n", out)
	assert.Equal(t, "15\n", c.ok("storage", "share-rm", "stats", "-g", "rg", "--storage-account", "acct", "-n", "share"))

	// A restart mounts the share again from fstab.
	c.ok("vm", "restart", "-g", "rg", "-n", "vm2")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err = sshRun(t, priv, ips["vm2"], "findmnt -n -o TARGET /mnt/share && cat /mnt/share/note")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	require.NoError(t, err, out)
	assert.Equal(t, "/mnt/share\nwritten-on-vm1\n", out)

	// A VM in a subnet the account does not allow is refused; NFS v3 against
	// Files is not supported.
	c.ok("vm", "create", "-g", "rg", "-n", "vm3", "--image", "Ubuntu2204", "--vnet-name", "v", "--subnet", "other",
		"--ssh-key-values", pub, "-o", "none")
	msg = c.runScript("vm3", mountScript)
	assert.Contains(t, msg, "access denied by server")
	msg = c.runScript("vm1", "mkdir -p /mnt/v3; mount -t nfs -o vers=3 acct.file.core.windows.net:/acct/share /mnt/v3; echo rc=$?")
	assert.Contains(t, msg, "mount.nfs: Protocol not supported")
	assert.Contains(t, msg, "rc=32")
}

func TestRunCommandShapeTailAndHiddenExitStatus(t *testing.T) {
	c := newCloud(t)
	c.env["AZEMU_HOSTS"] = "1"
	t.Cleanup(func() { c.run("__azemu-down") })
	c.base()
	_, pub := sshKeyPair(t)
	c.ok("vm", "create", "-g", "rg", "-n", "vm1", "--image", "Ubuntu2204", "--ssh-key-values", pub, "-o", "none")
	out := c.obj("vm", "run-command", "invoke", "-g", "rg", "-n", "vm1", "--command-id", "RunShellScript", "--scripts", "echo hi")
	assert.Equal(t, shape(t, "vm-run-command-invoke.json"), out, "exactly what real az printed")

	msg := c.runScript("vm1", "echo out; echo err >&2; hostname; exit 7")
	assert.Equal(t, "Enable succeeded: \n[stdout]\nout\nvm1\n\n[stderr]\nerr\n", msg, "the exit status is not reported")

	msg = c.runScript("vm1", "head -c 5000 /dev/zero | tr '\\0' a; echo; printf END")
	stdout := strings.TrimPrefix(msg, "Enable succeeded: \n[stdout]\n")
	stdout = stdout[:strings.Index(stdout, "\n[stderr]\n")]
	assert.Len(t, stdout, 4096)
	assert.True(t, strings.HasSuffix(stdout, "a\nEND"))

	// One script at a time per VM: TestRunCommandOneAtATime.

	// What a script writes stays in the host.
	c.runScript("vm1", "mkdir -p /var/lib/azlin && echo x > /var/lib/azlin/state")
	_, err := os.Stat("/var/lib/azlin/state")
	assert.True(t, os.IsNotExist(err))
}
