package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
