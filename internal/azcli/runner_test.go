package azcli_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
)

// writeScript writes an executable shell script standing in for az.
func writeScript(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "az")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755))
	return path
}

// spawner is a fake az that starts a child `sleep` (as az's Python starts
// children) and writes both pids, then waits.
func spawner(t *testing.T) (script, scriptPidFile, childPidFile string) {
	dir := t.TempDir()
	scriptPidFile, childPidFile = filepath.Join(dir, "script.pid"), filepath.Join(dir, "child.pid")
	script = writeScript(t, "echo $$ > "+scriptPidFile+".tmp && mv "+scriptPidFile+".tmp "+scriptPidFile+"\n"+
		"sleep 300 &\necho $! > "+childPidFile+".tmp && mv "+childPidFile+".tmp "+childPidFile+"\nwait\n")
	return script, scriptPidFile, childPidFile
}

func readPid(t *testing.T, file string) int {
	t.Helper()
	var data []byte
	require.Eventually(t, func() bool {
		var err error
		data, err = os.ReadFile(file)
		return err == nil
	}, 10*time.Second, 10*time.Millisecond, "the fake az did not start its child")
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err)
	return pid
}

// alive reports whether pid is a running process (a zombie is dead: it only
// waits for its parent to collect its exit status).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

func assertDead(t *testing.T, what string, pid int) {
	t.Helper()
	assert.Eventually(t, func() bool { return !alive(pid) }, 5*time.Second, 20*time.Millisecond, "%s (pid %d) still runs", what, pid)
}

func TestCancelKillsAzAndItsChildren(t *testing.T) {
	script, scriptPidFile, childPidFile := spawner(t)
	t.Setenv(azcli.EnvAzPath, script)
	r := azcli.NewExecRunner()

	ctx, cancel := context.WithCancel(context.Background())
	type outcome struct {
		res azcli.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := r.Run(ctx, []string{"vm", "create", "-n", "vm"})
		done <- outcome{res, err}
	}()
	scriptPid, childPid := readPid(t, scriptPidFile), readPid(t, childPidFile)
	require.True(t, alive(scriptPid) && alive(childPid), "both run before the cancel")

	cancel()
	var o outcome
	select {
	case o = <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
	assert.ErrorIs(t, o.err, context.Canceled)
	assert.Contains(t, o.err.Error(), "az vm create stopped")
	assertDead(t, "the fake az", scriptPid)
	assertDead(t, "its child sleep", childPid)
}

func TestTimeoutKillsAzAndSaysSo(t *testing.T) {
	script, scriptPidFile, childPidFile := spawner(t)
	c := azcli.New(&azcli.ExecRunner{Path: script}, azcli.Options{Timeout: 500 * time.Millisecond})
	start := time.Now()
	err := c.Read(context.Background(), nil, "storage", "account", "create", "-n", "acct")
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualError(t, err, "az storage account create gave no answer within 500ms: context deadline exceeded")
	assertDead(t, "the fake az", readPid(t, scriptPidFile))
	assertDead(t, "its child sleep", readPid(t, childPidFile))
}

func TestExecRunnerPassesArgsEnvAndExitCode(t *testing.T) {
	script := writeScript(t, `printf '%s|' "$@"; echo
echo "telemetry=$AZURE_CORE_COLLECT_TELEMETRY"
echo "agent=$AZURE_HTTP_USER_AGENT"
echo "extra=$AZLIN_EXTRA"
echo "ERROR: (ResourceNotFound) gone" >&2
exit 3
`)
	t.Setenv(azcli.EnvAzPath, script)
	t.Setenv("AZURE_CORE_COLLECT_TELEMETRY", "yes") // the user's setting does not win
	r := azcli.NewExecRunner()
	r.Env = []string{"AZLIN_EXTRA=1"}
	res, err := r.Run(context.Background(), []string{"storage", "account", "show", "-n", "a b", "--tags", "x='y'"})
	require.NoError(t, err, "a failing exit is not a Run error")
	assert.Equal(t, 3, res.ExitCode)
	assert.Equal(t, "storage|account|show|-n|a b|--tags|x='y'|\ntelemetry=no\nagent=azlin/dev\nextra=1\n", string(res.Stdout))
	assert.Equal(t, "ERROR: (ResourceNotFound) gone\n", string(res.Stderr))
	assert.Positive(t, res.Duration)

	// Through a Client the exit becomes a classified error.
	err = azcli.New(r, azcli.Options{}).Read(context.Background(), nil, "storage", "account", "show")
	assert.ErrorIs(t, err, azcli.ErrNotFound)
}

func TestAzNotInstalled(t *testing.T) {
	emptyDir := t.TempDir()
	notExecutable := filepath.Join(emptyDir, "az-not-executable")
	require.NoError(t, os.WriteFile(notExecutable, []byte("#!/bin/sh\n"), 0o644))

	t.Run("not on PATH", func(t *testing.T) {
		t.Setenv("PATH", emptyDir)
		t.Setenv(azcli.EnvAzPath, "")
		var s sleeps
		c := azcli.New(azcli.NewExecRunner(), azcli.Options{Retry: azcli.RetryPolicy{Sleep: s.sleep}})
		err := c.Read(context.Background(), nil, "account", "show")
		assert.ErrorIs(t, err, azcli.ErrAzNotInstalled)
		assert.Contains(t, err.Error(), "Azure CLI (az) not found on PATH")
		assert.Contains(t, err.Error(), "AZLIN_AZ_PATH")
		assert.Empty(t, s.all(), "not retried")
	})
	for name, path := range map[string]string{"missing file": filepath.Join(emptyDir, "nope"), "not executable": notExecutable} {
		t.Run(name, func(t *testing.T) {
			_, err := (&azcli.ExecRunner{Path: path}).Run(context.Background(), []string{"account", "show"})
			assert.ErrorIs(t, err, azcli.ErrAzNotInstalled)
			assert.Contains(t, err.Error(), path)
		})
	}
}
