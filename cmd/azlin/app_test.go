package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/config"
)

func TestExitCodeMapping(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		{"success", live, nil, 0},
		{"failure", live, errors.New("boom"), 1},
		{"usage", live, clierr.Usagef("bad size %q", "12XB"), 2},
		{"wrapped usage", live, fmt.Errorf("create: %w", clierr.Usagef("bad")), 2},
		{"cancelled at prompt", live, clierr.ErrCancelled, 3},
		{"az missing", live, fmt.Errorf("x: %w", azcli.ErrAzNotInstalled), 4},
		{"not logged in", live, fmt.Errorf("x: %w", azcli.ErrNotLoggedIn), 4},
		{"interrupted", cancelled, errors.New("signal: killed"), 130},
		{"context canceled", live, fmt.Errorf("az: %w", context.Canceled), 130},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, exitCode(c.ctx, c.err))
		})
	}
}

// runAzlin runs the CLI in-process with files standing in for the terminal.
func runAzlin(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	outF, err := os.Create(filepath.Join(dir, "stdout"))
	require.NoError(t, err)
	errF, err := os.Create(filepath.Join(dir, "stderr"))
	require.NoError(t, err)
	code = run(args, strings.NewReader(""), outF, errF)
	outF.Close()
	errF.Close()
	o, _ := os.ReadFile(outF.Name())
	e, _ := os.ReadFile(errF.Name())
	return string(o), string(e), code
}

func noAz(t *testing.T) map[string]string {
	return map[string]string{
		"AZLIN_CONFIG_DIR":     t.TempDir(),
		"AZLIN_AZ_PATH":        "",
		"PATH":                 t.TempDir(), // no az anywhere
		"AZLIN_RESOURCE_GROUP": "",
	}
}

func TestVersionHelpAndConfigWorkWithoutAz(t *testing.T) {
	env := noAz(t)
	out, _, code := runAzlin(t, env, "version")
	assert.Equal(t, 0, code)
	assert.Regexp(t, `^azlin \S+ \(commit \S+, go1\.\d+.*\)\n$`, out)

	out, _, code = runAzlin(t, env, "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "azlin storage create dev-shared")

	out, errOut, code := runAzlin(t, env, "config", "show")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "default_vm_size\tStandard_D2s_v5\n")
	assert.Contains(t, errOut, "azlin config init")
}

func TestConfigInitSetGetRoundTrip(t *testing.T) {
	env := noAz(t)
	_, _, code := runAzlin(t, env, "config", "init", "-g", "team-rg", "--region", "westus2")
	require.Equal(t, 0, code)
	info, err := os.Stat(filepath.Join(env["AZLIN_CONFIG_DIR"], "config.toml"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	out, _, code := runAzlin(t, env, "config", "get", "default_resource_group")
	assert.Equal(t, 0, code)
	assert.Equal(t, "team-rg\n", out)

	_, _, code = runAzlin(t, env, "config", "set", "default_vm_size", "Standard_D4s_v5")
	require.Equal(t, 0, code)
	out, _, _ = runAzlin(t, env, "config", "get", "default_vm_size")
	assert.Equal(t, "Standard_D4s_v5\n", out)
}

func TestUsageErrorsExitTwoAndPointAtHelp(t *testing.T) {
	env := noAz(t)
	cases := [][]string{
		{"--bogus"},
		{"nosuch"},
		{"config", "get"},
		{"config", "set", "nokey", "x"},
		{"config", "set", "default_resource_group", "bad name!"},
		{"-o", "yaml", "version"},
	}
	for _, args := range cases {
		_, errOut, code := runAzlin(t, env, args...)
		assert.Equal(t, 2, code, "azlin %v", args)
		assert.Contains(t, errOut, "Error: ", "azlin %v", args)
		assert.Contains(t, errOut, "--help' for usage.", "azlin %v", args)
	}
	_, errOut, _ := runAzlin(t, env, "config", "set", "nokey", "x")
	assert.Contains(t, errOut, "Run 'azlin config set --help'")
}

func TestRemoteExitStatusPassesThrough(t *testing.T) {
	err := fmt.Errorf("ssh: %w", &remoteExitError{vm: "w1", code: 7})
	assert.Equal(t, 7, exitCode(context.Background(), err))
	// Other errors that carry an exit code (a failing helper program) are plain failures.
	assert.Equal(t, 1, exitCode(context.Background(), fmt.Errorf("ssh-keygen: %w", &exec.ExitError{})))
}

// `config set --help` teaches every key: its name and what it means.
func TestConfigSetHelpListsEveryKeyWithItsMeaning(t *testing.T) {
	out, _, code := runWith(t, context.Background(), aztest.New(t), "config", "set", "--help")
	require.Equal(t, 0, code)
	for _, k := range config.Keys() {
		assert.Regexp(t, `(?m)^  `+regexp.QuoteMeta(k)+` +`+regexp.QuoteMeta(config.Describe(k))+`$`, out, k)
	}
}
