package azcli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/azlin-dev/azlin/internal/version"
)

// Result of one az process.
type Result struct {
	ExitCode       int
	Stdout, Stderr []byte
	Duration       time.Duration
}

// Runner runs az with args (args exclude the leading "az"). err != nil only
// when az could not be run at all (ErrAzNotInstalled, or the context was
// cancelled or timed out: ctx.Err() wrapped). A non-zero exit is not an error
// here; Client turns it into a classified *Error.
type Runner interface {
	Run(ctx context.Context, args []string) (Result, error)
}

// EnvAzPath names the environment variable that says which az to run.
const EnvAzPath = "AZLIN_AZ_PATH"

// ExecRunner is the real Runner: it starts the az executable.
type ExecRunner struct {
	// Path is the az executable: a path, or a name looked up on PATH.
	// Empty means "az" on PATH.
	Path string
	// Env is added to the inherited environment (later entries win).
	Env []string
	// WaitDelay bounds how long Run waits for az's output pipes to close
	// after az exited or was killed (a grandchild that escaped the process
	// group may hold them). Zero means 5 seconds.
	WaitDelay time.Duration
}

// NewExecRunner returns a runner for the az at $AZLIN_AZ_PATH, or on PATH.
func NewExecRunner() *ExecRunner {
	return &ExecRunner{Path: os.Getenv(EnvAzPath)}
}

// azEnv is what every az process gets on top of the user's environment.
func azEnv() []string {
	return []string{
		"AZURE_CORE_COLLECT_TELEMETRY=no",
		"AZURE_HTTP_USER_AGENT=azlin/" + version.Version,
		// Colour codes would end up in error messages azlin shows.
		"AZURE_CORE_NO_COLOR=true",
	}
}

func (r *ExecRunner) lookPath() (string, error) {
	if r.Path == "" {
		p, err := exec.LookPath("az")
		if err != nil {
			return "", fmt.Errorf("%w on PATH: install the Azure CLI (https://aka.ms/InstallAzureCLI) or set %s", ErrAzNotInstalled, EnvAzPath)
		}
		return p, nil
	}
	p, err := exec.LookPath(r.Path)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not an executable file (check %s)", ErrAzNotInstalled, r.Path, EnvAzPath)
	}
	return p, nil
}

// Run starts az in a process group of its own. az is a Python program that
// starts children of its own; when ctx is cancelled or times out, the whole
// group is killed, so nothing keeps running (or keeps changing Azure) after
// azlin has given up on the call.
func (r *ExecRunner) Run(ctx context.Context, args []string) (Result, error) {
	path, err := r.lookPath()
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("az not started: %w", err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(append(os.Environ(), azEnv()...), r.Env...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr // stdin stays /dev/null: az must never wait for input
	// A group of its own also keeps a terminal's Ctrl+C from reaching az
	// directly: azlin's context is cancelled instead, and Cancel ends the group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Cancel runs only while the leader has not been reaped, so its pid is
	// still the group's id and cannot name another process group.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = r.WaitDelay
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 5 * time.Second
	}

	start := time.Now()
	err = cmd.Run()
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Duration: time.Since(start), ExitCode: -1}
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return res, fmt.Errorf("az %s stopped: %w", commandString(args), ctxErr)
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil, errors.As(err, &exitErr), errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil:
		return res, nil
	case cmd.ProcessState == nil: // never started: not executable, bad interpreter line, ...
		return res, fmt.Errorf("%w: starting %s: %v", ErrAzNotInstalled, path, err)
	default:
		return res, fmt.Errorf("running %s: %w", path, err)
	}
}
