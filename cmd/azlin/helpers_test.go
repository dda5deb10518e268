package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	a := &app{stdin: strings.NewReader(""), stdout: outF, stderr: errF, newRunner: func() azcli.Runner { return fake }}
	code = execute(ctx, a, args)
	outF.Close()
	errF.Close()
	o, _ := os.ReadFile(outF.Name())
	e, _ := os.ReadFile(errF.Name())
	return string(o), string(e), code
}
