package vmprov

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/remote"
)

// Script is body wrapped for RunScript: remote.Prelude first, and the
// success marker last, so a body that runs to its end under `set -e`
// reports success and any failing command reports the step it was in.
func Script(body string) string {
	return remote.Prelude + body + "\nazlin_ok\n"
}

// runCommandOutput is what `az vm run-command invoke` prints
// (az-shapes/vm-run-command-invoke.json).
type runCommandOutput struct {
	Value []struct {
		Code          string `json:"code"`
		DisplayStatus string `json:"displayStatus"`
		Level         string `json:"level"`
		Message       string `json:"message"`
	} `json:"value"`
}

// The message of RunShellScript is "Enable succeeded: \n[stdout]\n<stdout>\n[stderr]\n<stderr>".
const (
	stdoutHeader = "[stdout]\n"
	stderrHeader = "\n[stderr]\n"
)

// SplitRunCommandMessage splits run-command's message into the script's
// stdout and stderr. ok is false when the message does not have that form.
// A line "[stderr]" printed by the script itself on stdout would end its
// stdout early here; the result marker is then lost and the run counts as a
// failure, which is the safe side.
func SplitRunCommandMessage(msg string) (stdout, stderr string, ok bool) {
	i := strings.Index(msg, stdoutHeader)
	if i < 0 {
		return "", "", false
	}
	rest := msg[i+len(stdoutHeader):]
	j := strings.Index(rest, stderrHeader)
	if j < 0 {
		return rest, "", true
	}
	return rest[:j], rest[j+len(stderrHeader):], true
}

// parseRunCommand reads the JSON that `az vm run-command invoke` printed and
// returns the script's stdout and stderr.
func parseRunCommand(out runCommandOutput) (stdout, stderr string, err error) {
	if len(out.Value) == 0 {
		return "", "", errors.New("run-command returned no output at all")
	}
	v := out.Value[0]
	stdout, stderr, ok := SplitRunCommandMessage(v.Message)
	if !ok {
		return "", "", fmt.Errorf("run-command's output has an unexpected form (code %s): %q", v.Code, clip(v.Message, 300))
	}
	return stdout, stderr, nil
}

// ScriptError is a remote script that failed: it reported a failure marker,
// or it reported nothing (Step is empty then).
type ScriptError struct {
	VM     string
	Step   string // the step it failed in; "" when no marker was found
	Reason string
	Stderr string // the tail of its stderr, for the user
}

func (e *ScriptError) Error() string {
	var b strings.Builder
	if e.Step == "" {
		fmt.Fprintf(&b, "the script on VM %s ended without reporting a result (it was cut short or its output lost)", e.VM)
	} else {
		fmt.Fprintf(&b, "on VM %s, step %q failed: %s", e.VM, e.Step, e.Reason)
	}
	if s := strings.TrimSpace(e.Stderr); s != "" {
		fmt.Fprintf(&b, "; its last error output: %s", clip(lastLines(s, 5), 600))
	}
	return b.String()
}

// RunScript runs script on the VM as root through `az vm run-command invoke`,
// which works without SSH. script must start with remote.Prelude (build it
// with Script). run-command hides the exit status and keeps only the last
// 4096 bytes of output, so the result is the script's last result marker: a
// failure marker or no marker is a *ScriptError. stdout and stderr are
// returned as run-command reported them. Under dry-run the call is printed
// and an OK result is returned.
func (m *Manager) RunScript(ctx context.Context, rg, vm, script string) (res remote.Result, stdout, stderr string, err error) {
	if !startsWithPrelude(script) {
		return remote.Result{}, "", "", errors.New("vmprov.RunScript: the script must start with remote.Prelude (build it with vmprov.Script)")
	}
	stdout, stderr, err = m.RunRaw(ctx, rg, vm, script)
	if err != nil {
		return remote.Result{}, "", "", err
	}
	if m.az.DryRun() {
		return remote.Result{OK: true, Step: "dry-run", Info: map[string]string{}}, "", "", nil
	}
	res, err = remote.Parse(stdout)
	switch {
	case errors.Is(err, remote.ErrNoMarker):
		return res, stdout, stderr, &ScriptError{VM: vm, Stderr: stderr}
	case err != nil:
		return res, stdout, stderr, fmt.Errorf("reading the result of the script on VM %s: %w", vm, err)
	case !res.OK:
		return res, stdout, stderr, &ScriptError{VM: vm, Step: res.Step, Reason: res.Reason, Stderr: stderr}
	}
	return res, stdout, stderr, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// startsWithPrelude reports whether script begins with remote.Prelude, after
// an optional block of comment lines (a #! line and a header comment).
func startsWithPrelude(script string) bool {
	for strings.HasPrefix(script, "#") {
		_, rest, ok := strings.Cut(script, "\n")
		if !ok {
			return false
		}
		script = rest
	}
	return strings.HasPrefix(script, remote.Prelude)
}

// Azure runs one run-command at a time on a VM, for up to 90 minutes, and
// answers another one meanwhile with a Conflict ("Run command extension
// execution is in progress"), sometimes even right after the last one ended.
// So az waits as long as Azure may run the script (az's own default for
// other calls would kill the client while the script goes on), and a Conflict
// is retried for more than 2 minutes (12 tries, waits of 5 s doubling to at
// most 30 s, each at least half that: 137 s or more in all).
var (
	RunCommandTimeout = 95 * time.Minute
	runCommandRetry   = azcli.RetryPolicy{MaxAttempts: 12, BaseDelay: 5 * time.Second, MaxDelay: 30 * time.Second}
)

// RunRaw runs script on the VM as root through `az vm run-command invoke` and
// returns what it printed, without looking for a result marker: for probes
// whose output is itself the answer (e.g. a result file another script left).
// Under dry-run the call is printed and nothing is returned.
//
// The script goes to az as a file (`--scripts @FILE`, private to the user,
// removed after the call), never as one argument: scripts of tens of KB
// exceed what one argument may hold on Linux (128 KiB) and what Windows'
// command line takes (8191 characters, no newlines).
func (m *Manager) RunRaw(ctx context.Context, rg, vm, script string) (stdout, stderr string, err error) {
	scriptArg := fmt.Sprintf("@<script of %d bytes>", len(script)) // what dry-run prints
	if !m.az.DryRun() {
		path, err := writeScriptFile(script)
		if err != nil {
			return "", "", fmt.Errorf("running a script on VM %s: %w", vm, err)
		}
		defer os.Remove(path)
		scriptArg = "@" + path
	}
	ctx = azcli.WithCallOptions(ctx, azcli.CallOptions{Timeout: RunCommandTimeout, Retry: runCommandRetry})
	var out runCommandOutput
	if err := m.az.Mutate(ctx, &out, "vm", "run-command", "invoke", "-g", rg, "-n", vm,
		"--command-id", "RunShellScript", "--scripts", scriptArg); err != nil {
		return "", "", fmt.Errorf("running a script on VM %s: %w", vm, err)
	}
	if m.az.DryRun() {
		return "", "", nil
	}
	stdout, stderr, err = parseRunCommand(out)
	if err != nil {
		return "", "", fmt.Errorf("running a script on VM %s: %w", vm, err)
	}
	return stdout, stderr, nil
}

// writeScriptFile writes script to a new file only the user can read (the
// scripts carry the VM's configuration) and returns its path.
func writeScriptFile(script string) (string, error) {
	f, err := os.CreateTemp("", "azlin-run-command-*.sh") // mode 0600
	if err != nil {
		return "", fmt.Errorf("writing the script to a temporary file: %w", err)
	}
	if _, err := f.WriteString(script); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("writing the script to a temporary file: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing the script to a temporary file: %w", err)
	}
	return f.Name(), nil
}
