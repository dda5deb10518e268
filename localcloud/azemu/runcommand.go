package azemu

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// runCommandTail is how much of each stream Azure keeps: the last 4096 bytes.
const runCommandTail = 4096

// runCommandResult is az's output for `vm run-command invoke`
// (az-shapes/vm-run-command-invoke.json). It never carries the script's exit
// status: a failing script still "succeeds".
func runCommandResult(message string) map[string]any {
	return map[string]any{"value": []any{map[string]any{
		"code": "ProvisioningState/succeeded", "displayStatus": "Provisioning succeeded",
		"level": "Info", "message": message, "time": nil,
	}}}
}

func runCommandMessage(stdout, stderr string) string {
	return "Enable succeeded: \n[stdout]\n" + lastBytes(stdout, runCommandTail) + "\n[stderr]\n" + lastBytes(stderr, runCommandTail)
}

func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// runCommandLimit: "The maximum time a script can run is 90 minutes, after
// which it will time out" (run-command doc, Restrictions). Scaled by
// AZEMU_TIME_SCALE.
const runCommandLimit = 90 * time.Minute

// errRunCommandBusy is ARM's 409 while a script runs on the VM: "One script
// at a time may run" (run-command doc, Restrictions); az prints it as
// "ERROR: (Conflict) Run command extension execution is in progress. ..."
// and exits 1 (seen in azure-cli's issue tracker, for a second call made
// while the first ran and even right after it returned).
var errRunCommandBusy = armError("Conflict", "Run command extension execution is in progress. Please wait for completion before invoking a run command.")

// errRunCommandTimeout is what az reports when the script outlives the
// limit: the guest agent gives up on the RunCommandLinux extension and the
// long-running operation fails with VMExtensionProvisioningTimeout (as
// reported in azure-cli's and azure-sdk-for-python's issue trackers).
var errRunCommandTimeout = armError("VMExtensionProvisioningTimeout", "Provisioning of VM extension 'RunCommandLinux' has timed out. Extension installation may be taking too long, or extension status could not be obtained.")

// vmRunCommand runs a script as root inside the VM's host, as Azure does:
// one script at a time per VM (a second call fails with Conflict), at least
// the profile's minimum time, at most 90 minutes (then the script is killed),
// the last 4096 bytes of each stream. The state lock is not held while the
// script runs, so other calls go on.
func vmRunCommand(c *cmdCtx) (any, error) {
	vm, err := c.lockedVM()
	if err != nil {
		return nil, err
	}
	if id := c.inv.str("--command-id"); id != "RunShellScript" {
		return nil, armError("NotFound", fmt.Sprintf("The entity was not found in this Azure location. Command id '%s' is not available for Linux VMs; use RunShellScript.", id))
	}
	script := strings.Join(c.inv.list("--scripts"), "\n")
	f, err := matchFault(c.st, c.env("AZEMU_FAULTS"), c.inv.argvForFaults(), true, script)
	if err != nil {
		return nil, err
	}
	if f != nil {
		f.wait()
		if f.Exit != 0 {
			fmt.Fprint(c.stdio.Stdout, f.Stdout)
			return nil, &azError{exit: f.Exit, stderr: f.Stderr}
		}
		return c.noWait(runCommandResult(f.Message))
	}
	if !hostsOn(c.env) {
		return nil, cliError("azemu: VM hosts are off (AZEMU_HOSTS is not 1), so run-command cannot run scripts on VM '%s'.", str(vm, "name"))
	}
	if p := str(emu(vm), "power"); p != "running" && p != "" {
		return nil, armError("OperationNotAllowed", fmt.Sprintf("Operation 'RunCommand' is not allowed on VM '%s' since the VM is %s.", str(vm, "name"), p))
	}
	// The VM's run lock is an flock held by this az process: the kernel
	// drops it when the process ends, however it ends, so a crashed run
	// never leaves the VM locked (Azure's handler keeps its pid and start
	// time for the same reason).
	release, busy, err := tryFlockFile(filepath.Join(c.st.dir, "locks", "run-command-"+strings.ToLower(str(vm, "resourceGroup")+"-"+str(vm, "name"))))
	if err != nil {
		return nil, err
	}
	if busy {
		return nil, errRunCommandBusy
	}
	defer release()
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), c.clock.scaled(runCommandLimit))
	defer cancel()
	stdout, stderr, _, err := hostRun(ctx, c.st.hostDisk(str(vm, "resourceGroup"), str(vm, "name")), script)
	if ctx.Err() == context.DeadlineExceeded {
		return nil, errRunCommandTimeout
	}
	if err != nil {
		return nil, armError("VMAgentStatusCommunicationError", fmt.Sprintf("VM '%s' has not reported status for VM agent or extensions: %v", str(vm, "name"), err))
	}
	// The VM stays busy for the run's minimum even when the script is done.
	sleepUntil(began.Add(c.clock.op(c.inv)))
	return c.noWait(runCommandResult(runCommandMessage(stdout, stderr)))
}

// tryFlockFile takes an exclusive flock on path without waiting; busy is
// true when another process holds it.
func tryFlockFile(path string) (release func(), busy bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("azemu: lock %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if err == syscall.EWOULDBLOCK {
		f.Close()
		return nil, true, nil
	}
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("azemu: lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, false, nil
}

// noWait drops the result when --no-wait was given.
func (c *cmdCtx) noWait(result any) (any, error) {
	if o := c.inv.find("--no-wait"); o != nil && c.inv.has("--no-wait") {
		return nil, nil
	}
	return result, nil
}

// argvForFaults is the command line fault rules match against.
func (inv *invocation) argvForFaults() []string {
	return append(strings.Fields(inv.cmd), inv.args...)
}
