package azemu

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
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

// vmRunCommand runs a script as root inside the VM's host. Like Azure, it runs
// one script at a time per VM (a per-VM lock file), and the state lock is not
// held while the script runs.
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
	release, err := flockFile(filepath.Join(c.st.dir, "locks", "run-command-"+strings.ToLower(str(vm, "resourceGroup")+"-"+str(vm, "name"))))
	if err != nil {
		return nil, err
	}
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Minute)
	defer cancel()
	stdout, stderr, _, err := hostRun(ctx, c.st.hostDisk(str(vm, "resourceGroup"), str(vm, "name")), script)
	if err != nil {
		return nil, armError("VMAgentStatusCommunicationError", fmt.Sprintf("VM '%s' has not reported status for VM agent or extensions: %v", str(vm, "name"), err))
	}
	return c.noWait(runCommandResult(runCommandMessage(stdout, stderr)))
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
