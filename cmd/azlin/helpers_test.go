package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/azlin-dev/azlin/internal/azcli"
)

// runWith runs azlin in-process with fake as its az runner, files standing
// in for the terminal, and no standard input.
func runWith(t *testing.T, ctx context.Context, fake azcli.Runner, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	dir := t.TempDir()
	outF, err := os.Create(filepath.Join(dir, "stdout"))
	require.NoError(t, err)
	errF, err := os.Create(filepath.Join(dir, "stderr"))
	require.NoError(t, err)
	a := &app{stdin: strings.NewReader(""), stdout: outF, stderr: errF, newRunner: func() azcli.Runner { return fake },
		now: func() time.Time { return testNow }}
	code = execute(ctx, a, args)
	outF.Close()
	errF.Close()
	o, _ := os.ReadFile(outF.Name())
	e, _ := os.ReadFile(errF.Name())
	return string(o), string(e), code
}

// testNow is the app's clock in tests run by runWith.
var testNow = time.Date(2025, 11, 25, 12, 0, 0, 0, time.UTC)

// terminal is a pseudo-terminal whose tty end stands in for a user's
// terminal on stdin: answers are typed into it before the command runs (the
// tty keeps them, line by line, until read). What the tty echoes is drained.
func terminal(t *testing.T, answers string) *os.File {
	t.Helper()
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	require.NoError(t, err)
	require.NoError(t, unix.IoctlSetPointerInt(int(pty.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(int(pty.Fd()), unix.TIOCGPTN)
	require.NoError(t, err)
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, pty) }() // ends when pty is closed
	_, err = pty.WriteString(answers)
	require.NoError(t, err)
	t.Cleanup(func() { tty.Close(); pty.Close() })
	return tty
}

// runOnTerminal is runWith with stdin a terminal given answers.
func runOnTerminal(t *testing.T, fake azcli.Runner, answers string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Setenv("AZLIN_CONFIG_DIR", t.TempDir())
	t.Setenv("AZLIN_RESOURCE_GROUP", "")
	dir := t.TempDir()
	outF, err := os.Create(filepath.Join(dir, "stdout"))
	require.NoError(t, err)
	errF, err := os.Create(filepath.Join(dir, "stderr"))
	require.NoError(t, err)
	a := &app{stdin: terminal(t, answers), stdout: outF, stderr: errF, newRunner: func() azcli.Runner { return fake },
		now: func() time.Time { return testNow }}
	code = execute(context.Background(), a, args)
	outF.Close()
	errF.Close()
	o, _ := os.ReadFile(outF.Name())
	e, _ := os.ReadFile(errF.Name())
	return string(o), string(e), code
}
