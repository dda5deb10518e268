//go:build localcloud

package azemu_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// az replaces an argument "@PATH" with the file's content (trailing newlines
// dropped) and keeps the argument as typed when the file cannot be read.
func TestRunCommandScriptsFromFile(t *testing.T) {
	c := newCloud(t)
	c.env["AZEMU_HOSTS"] = "1"
	t.Cleanup(func() { c.run("__azemu-down") })
	c.base()
	_, pub := sshKeyPair(t)
	c.ok("vm", "create", "-g", "rg", "-n", "vm1", "--image", "Ubuntu2204", "--ssh-key-values", pub, "-o", "none")

	script := "echo from-script; hostname >&2"
	file := filepath.Join(t.TempDir(), "script.sh")
	require.NoError(t, os.WriteFile(file, []byte(script+"\n\n"), 0o644))
	inline := c.runScript("vm1", script)
	assert.Equal(t, "Enable succeeded: \n[stdout]\nfrom-script\n\n[stderr]\nvm1\n", inline)
	assert.Equal(t, inline, c.runScript("vm1", "@"+file), "--scripts @FILE runs the file's content")

	missing := filepath.Join(t.TempDir(), "missing.sh")
	msg := c.runScript("vm1", "@"+missing)
	assert.Contains(t, msg, "@"+missing, "an unreadable @FILE is run as the literal text")
	assert.NotContains(t, msg, "from-script")
}

// hostVM is a cloud with VM hosts on and one running VM, vm1.
func hostVM(t *testing.T) *cloud {
	c := newCloud(t)
	c.env["AZEMU_HOSTS"] = "1"
	t.Cleanup(func() { c.run("__azemu-down") })
	c.base()
	_, pub := sshKeyPair(t)
	c.ok("vm", "create", "-g", "rg", "-n", "vm1", "--image", "Ubuntu2204", "--ssh-key-values", pub, "-o", "none")
	return c
}

// startScript starts a run-command on vm1 in the background and returns the
// running az process and its stderr.
func (c *cloud) startScript(script string) (*exec.Cmd, *bytes.Buffer) {
	c.t.Helper()
	cmd := c.command("vm", "run-command", "invoke", "-g", "rg", "-n", "vm1", "--command-id", "RunShellScript", "--scripts", script)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	require.NoError(c.t, cmd.Start())
	return cmd, &errb
}

func (c *cloud) invoke(script string) result {
	c.t.Helper()
	return c.run("vm", "run-command", "invoke", "-g", "rg", "-n", "vm1", "--command-id", "RunShellScript", "--scripts", script)
}

const conflictStderr = "ERROR: (Conflict) Run command extension execution is in progress. Please wait for completion before invoking a run command.\n" +
	"Code: Conflict\nMessage: Run command extension execution is in progress. Please wait for completion before invoking a run command.\n"

// "One script at a time may run" (run-command doc, Restrictions): a second
// invoke while one runs fails with ARM's Conflict, which az prints as
// "(Conflict) Run command extension execution is in progress. ..." (az's
// output in azure-cli's issue tracker) and exits 1; once the run ends the VM
// takes scripts again, and a run whose az process died does not keep it
// locked.
func TestRunCommandOneAtATime(t *testing.T) {
	c := hostVM(t)
	first, firstErr := c.startScript("sleep 4; echo first-done")
	time.Sleep(2 * time.Second)
	second := c.invoke("echo second")
	assert.Equal(t, 1, second.code, "a second run while one runs: %s", second.stderr)
	assert.Equal(t, conflictStderr, second.stderr)
	require.NoError(t, first.Wait(), "the first run: %s", firstErr)
	assert.Contains(t, c.runScript("vm1", "echo third"), "[stdout]\nthird\n", "the VM takes scripts once the run ended")

	crashed, _ := c.startScript("sleep 60")
	time.Sleep(2 * time.Second)
	require.NoError(t, crashed.Process.Kill())
	crashed.Wait()
	assert.Contains(t, c.runScript("vm1", "echo after-crash"), "[stdout]\nafter-crash\n", "a run whose az died does not lock the VM")
}

// "The maximum time a script can run is 90 minutes, after which it will time
// out" (run-command doc, Restrictions). AZEMU_TIME_SCALE shrinks the limit:
// at 0.0005 it is 2.7 s. The script is killed and az fails as the guest
// agent's timeout makes it fail (VMExtensionProvisioningTimeout, exit 1).
func TestRunCommandTimesOutAfter90Minutes(t *testing.T) {
	c := hostVM(t)
	c.env["AZEMU_TIME_SCALE"] = "0.0005"
	r := c.invoke("echo started; sleep 30; echo never")
	assert.Equal(t, 1, r.code)
	msg := "Provisioning of VM extension 'RunCommandLinux' has timed out. Extension installation may be taking too long, or extension status could not be obtained."
	assert.Equal(t, "ERROR: (VMExtensionProvisioningTimeout) "+msg+"\nCode: VMExtensionProvisioningTimeout\nMessage: "+msg+"\n", r.stderr)
	assert.Empty(t, r.stdout)
	assert.Contains(t, c.runScript("vm1", "pgrep -x sleep || echo no-sleep-left"), "no-sleep-left", "the timed-out script was killed")
}

// "Output is limited to the last 4096 bytes" (run-command doc,
// Restrictions), for stdout and stderr each.
func TestRunCommandKeepsLast4096BytesOfEachStream(t *testing.T) {
	c := hostVM(t)
	msg := c.runScript("vm1", "printf 'A%.0s' $(seq 5000); printf 'Z'; printf 'e%.0s' $(seq 300) >&2; printf 'E%.0s' $(seq 4500) >&2")
	want := "Enable succeeded: \n[stdout]\n" + strings.Repeat("A", 4095) + "Z" + "\n[stderr]\n" + strings.Repeat("E", 4096)
	assert.Equal(t, want, msg)
}

// On the azure profile a run holds the VM for at least run-command's
// minimum ("The minimum time to run a script is about 20 seconds",
// run-command doc, Restrictions), scaled: 2 s at 0.1. A second call during
// that time still meets a busy VM.
func TestRunCommandLastsTheProfilesMinimum(t *testing.T) {
	c := hostVM(t)
	c.env["AZEMU_PROFILE"] = "azure"
	c.env["AZEMU_TIME_SCALE"] = "0.1"
	began := time.Now()
	first, firstErr := c.startScript("true")
	time.Sleep(700 * time.Millisecond)
	second := c.invoke("true")
	assert.Equal(t, conflictStderr, second.stderr, "the VM is busy for the whole minimum")
	require.NoError(t, first.Wait(), "the first run: %s", firstErr)
	assert.GreaterOrEqual(t, time.Since(began), 2*time.Second, "a run lasts at least 20 s x 0.1")
}
