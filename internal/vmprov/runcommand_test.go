package vmprov

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/remote"
	"github.com/azlin-dev/azlin/internal/testjson"
)

// runCommandLimit is how much of a script's output run-command keeps: the
// last 4096 bytes (docs/azure-facts.md#run-command).
const runCommandLimit = 4096

func TestSplitRunCommandMessageOnRecordedShape(t *testing.T) {
	var out runCommandOutput
	require.NoError(t, json.Unmarshal([]byte(readTestdata(t, "vm-run-command-invoke.json")), &out))
	stdout, stderr, err := parseRunCommand(out)
	require.NoError(t, err)
	assert.Equal(t, "hi\n", stdout)
	assert.Equal(t, "", stderr)
}

func TestSplitRunCommandMessageRejectsOtherForms(t *testing.T) {
	_, _, ok := SplitRunCommandMessage("Enable failed: the VM agent is not ready")
	assert.False(t, ok)
	_, _, err := parseRunCommand(runCommandOutput{})
	assert.Error(t, err)
}

// execLocally runs script with bash here, as run-command would on the VM,
// and returns what it printed (its exit status is dropped, as run-command
// drops it).
func execLocally(t *testing.T, script string) (stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command("bash", "-c", script)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running bash: %v", err)
	}
	return o.String(), e.String()
}

// runCommandJSON is az's output for a script that printed stdout and stderr:
// the recorded shape with its message replaced, each stream cut to its last
// 4096 bytes as run-command does.
func runCommandJSON(t *testing.T, stdout, stderr string) string {
	t.Helper()
	var shape map[string]any
	require.NoError(t, json.Unmarshal([]byte(readTestdata(t, "vm-run-command-invoke.json")), &shape))
	entry := testjson.Obj(t, shape, "value", 0)
	entry["message"] = "Enable succeeded: \n[stdout]\n" + keepTail(stdout) + "\n[stderr]\n" + keepTail(stderr)
	b, err := json.MarshalIndent(shape, "", "  ")
	require.NoError(t, err)
	return string(b)
}

func keepTail(s string) string {
	if len(s) > runCommandLimit {
		return s[len(s)-runCommandLimit:]
	}
	return s
}

func runCommandArgv(script string) []string {
	return []string{"vm", "run-command", "invoke", "-g", "rg", "-n", "vm",
		"--command-id", "RunShellScript", "--scripts", script}
}

// runOnFakeVM runs body (wrapped by Script) locally, replays its output as
// az would print it, and returns what RunScript made of it.
func runOnFakeVM(t *testing.T, body string, mangle func(stdout string) string) (remote.Result, string, string, error) {
	t.Helper()
	script := Script(body)
	stdout, stderr := execLocally(t, script)
	if mangle != nil {
		stdout = mangle(stdout)
	}
	m, fake := newTestManager(t, aztest.Call{Argv: runCommandArgv(script), Stdout: runCommandJSON(t, stdout, stderr)})
	res, so, se, err := m.RunScript(context.Background(), "rg", "vm", script)
	assert.Equal(t, [][]string{runCommandArgv(script)}, fake.Calls(), "exactly one run-command call")
	return res, so, se, err
}

func TestRunScriptSuccess(t *testing.T) {
	res, stdout, _, err := runOnFakeVM(t, "azlin_step check\necho hello\nazlin_info answer 42\n", nil)
	require.NoError(t, err)
	assert.True(t, res.OK)
	assert.Equal(t, "check", res.Step)
	assert.Equal(t, map[string]string{"answer": "42"}, res.Info)
	assert.Contains(t, stdout, "hello\n")
}

func TestRunScriptFailingCommandNamesStepAndReason(t *testing.T) {
	_, _, _, err := runOnFakeVM(t, "azlin_step mount-share\necho 'mount.nfs: access denied by server' >&2\nfalse\n", nil)
	var se *ScriptError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "mount-share", se.Step)
	assert.Contains(t, se.Reason, "command failed (exit 1)")
	assert.Contains(t, err.Error(), `on VM vm, step "mount-share" failed`)
	assert.Contains(t, err.Error(), "access denied by server", "the script's stderr helps the user")
}

func TestRunScriptExplicitFailure(t *testing.T) {
	_, _, _, err := runOnFakeVM(t, "azlin_step wait-apt\nazlin_fail 'dpkg lock held for 300s'\n", nil)
	var se *ScriptError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "wait-apt", se.Step)
	assert.Equal(t, "dpkg lock held for 300s", se.Reason)
}

func TestRunScriptWithoutMarkerIsAFailure(t *testing.T) {
	// exit 0 ends the script before azlin_ok: run-command still says
	// "succeeded", but nothing reported the result.
	res, _, _, err := runOnFakeVM(t, "echo working\nexit 0\n", nil)
	var se *ScriptError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "", se.Step)
	assert.False(t, res.OK)
	assert.Contains(t, err.Error(), "ended without reporting a result")
}

func TestRunScriptOutputCutAt4096Bytes(t *testing.T) {
	// 10000 bytes of output before the marker: run-command keeps the last
	// 4096, which start in the middle of a line and still end with the marker.
	body := "azlin_step noisy\nfor i in $(seq 1 1000); do echo \"line $i.....\"; done\nazlin_info kept yes\n"
	res, stdout, _, err := runOnFakeVM(t, body, nil)
	require.NoError(t, err)
	assert.True(t, res.OK)
	assert.Equal(t, "yes", res.Info["kept"])
	assert.Len(t, stdout, runCommandLimit, "the fixture really was cut")
	assert.False(t, strings.HasPrefix(stdout, "line 1."), "the head was cut off")

	// A failure after long output keeps its marker too.
	_, _, _, err = runOnFakeVM(t, "azlin_step copy\nseq 1 5000\nazlin_fail 'disk full'\n", nil)
	var se *ScriptError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "copy", se.Step)
	assert.Equal(t, "disk full", se.Reason)

	// Output cut so that the marker is lost counts as a failure, never as success.
	_, _, _, err = runOnFakeVM(t, body, func(s string) string { return s[:runCommandLimit] })
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "", se.Step)
}

func TestRunScriptRequiresPrelude(t *testing.T) {
	m, fake := newTestManager(t)
	_, _, _, err := m.RunScript(context.Background(), "rg", "vm", "echo hi")
	require.Error(t, err)
	assert.Empty(t, fake.Calls(), "nothing is run")
}

func TestRunScriptAzFailure(t *testing.T) {
	script := Script("true")
	m, _ := newTestManager(t, aztest.Call{Argv: runCommandArgv(script), Exit: 3,
		Stderr: strings.ReplaceAll(stderrVMNotFound, "%s", "vm")})
	_, _, _, err := m.RunScript(context.Background(), "rg", "vm", script)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "running a script on VM vm")
	assert.Contains(t, err.Error(), "ResourceNotFound")
}

func TestRunScriptInsistsOnThePrelude(t *testing.T) {
	assert.True(t, startsWithPrelude(Script("echo hi")))
	assert.True(t, startsWithPrelude("#!/bin/bash\n# azlin: attach\n"+remote.Prelude+"azlin_ok\n"))
	assert.False(t, startsWithPrelude("echo hi\n"+remote.Prelude))
	assert.False(t, startsWithPrelude("#!/bin/bash\necho hi\n"))
}

// scriptFileRunner is an az that checks how run-command's script arrives:
// as --scripts @FILE, a file only the user may read, holding the script.
// It answers Conflict (another run-command on the VM) `conflicts` times first.
type scriptFileRunner struct {
	t         *testing.T
	conflicts int
	files     []string
	deadline  time.Duration
}

func (r *scriptFileRunner) Run(ctx context.Context, args []string) (azcli.Result, error) {
	i := slices.Index(args, "--scripts")
	require.GreaterOrEqual(r.t, i, 0)
	arg := args[i+1]
	require.True(r.t, strings.HasPrefix(arg, "@"), "the script goes as @FILE, not as an argument: %.40q", arg)
	info, err := os.Stat(arg[1:])
	require.NoError(r.t, err)
	assert.Equal(r.t, os.FileMode(0o600), info.Mode().Perm())
	b, err := os.ReadFile(arg[1:])
	require.NoError(r.t, err)
	assert.Equal(r.t, "echo hi\n", string(b))
	r.files = append(r.files, arg[1:])
	if d, ok := ctx.Deadline(); ok {
		r.deadline = time.Until(d)
	}
	if r.conflicts > 0 {
		r.conflicts--
		msg := "Run command extension execution is in progress. Please wait for completion before invoking a run command."
		return azcli.Result{ExitCode: 1, Stderr: []byte("ERROR: (Conflict) " + msg + "\nCode: Conflict\nMessage: " + msg + "\n")}, nil
	}
	return azcli.Result{Stdout: []byte(readTestdata(r.t, "vm-run-command-invoke.json"))}, nil
}

func TestRunCommandSendsTheScriptAsAPrivateFileAndOutlastsConflicts(t *testing.T) {
	r := &scriptFileRunner{t: t, conflicts: 8}
	var waited time.Duration
	// The Client's own policy would give up after 2 tries.
	c := azcli.New(r, azcli.Options{Retry: azcli.RetryPolicy{MaxAttempts: 2, Sleep: func(d time.Duration) { waited += d }}})
	stdout, _, err := NewManager(c).RunRaw(context.Background(), "rg", "vm", "echo hi\n")
	require.NoError(t, err)
	assert.Equal(t, "hi\n", stdout)
	assert.Len(t, r.files, 9, "8 Conflicts, then the run")
	for _, f := range r.files {
		assert.NoFileExists(t, f, "the script file is removed after the call")
	}
	assert.Greater(t, r.deadline, 90*time.Minute, "az may wait as long as Azure lets a run-command run")
	assert.GreaterOrEqual(t, waited, 2*time.Minute-time.Second*30, "8 Conflicts are outlasted by waiting, not given up on")
}

func TestRunCommandGivesUpOnConflictsAfterMoreThanTwoMinutes(t *testing.T) {
	r := &scriptFileRunner{t: t, conflicts: 100}
	var waited time.Duration
	c := azcli.New(r, azcli.Options{Retry: azcli.RetryPolicy{Sleep: func(d time.Duration) { waited += d }}})
	_, _, err := NewManager(c).RunRaw(context.Background(), "rg", "vm", "echo hi\n")
	require.ErrorIs(t, err, azcli.ErrConflict)
	assert.Contains(t, err.Error(), "Run command extension execution is in progress")
	assert.Greater(t, waited, 2*time.Minute)
	for _, f := range r.files {
		assert.NoFileExists(t, f)
	}
}
