package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/config"
	"github.com/azlin-dev/azlin/internal/output"
)

// globalFlags are the flags every command accepts (docs/architecture.md#conventions).
type globalFlags struct {
	resourceGroup string
	subscription  string
	output        string
	query         string
	yes           bool
	dryRun        bool
	debug         bool
	configPath    string
}

// app holds what commands share: parsed global flags, the terminal, and
// lazily built dependencies. A test can replace newRunner to replay fixtures.
type app struct {
	flags  globalFlags
	stdin  io.Reader
	stdout *os.File
	stderr *os.File

	newRunner func() azcli.Runner
	// now is the clock storage records use (azlin-unused-since); nil: time.Now.
	now func() time.Time

	cfgOnce sync.Once
	cfg     *config.Config
	cfgErr  error

	printer *output.Printer

	clientOnce sync.Once
	client     *azcli.Client
}

// run executes azlin with args and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr *os.File) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr,
		newRunner: func() azcli.Runner { return azcli.NewExecRunner() }}
	return execute(ctx, a, args)
}

// execute runs one azlin command line with a's terminal and az runner, and
// returns the exit code (tests give it a recorded-fixture runner).
func execute(ctx context.Context, a *app, args []string) int {
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if a.client != nil {
		a.client.WaitLoginCheck()        // no az process outlives azlin
		a.client.WriteTimeline(a.stderr) // --debug only
	}
	if cmd == nil {
		cmd = root
	}
	return reportError(ctx, err, a.stderr, cmd)
}

// exitCode maps an error to azlin's documented exit codes.
func exitCode(ctx context.Context, err error) int {
	switch {
	case err == nil:
		return clierr.ExitOK
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return clierr.ExitInterrupted
	case clierr.IsUsage(err):
		return clierr.ExitUsage
	case errors.Is(err, clierr.ErrCancelled):
		return clierr.ExitCancelled
	case errors.Is(err, azcli.ErrAzNotInstalled), errors.Is(err, azcli.ErrNotLoggedIn):
		return clierr.ExitAzUnavailable
	}
	// A command run on a VM (azlin ssh) passes its own exit status through.
	var remote *remoteExitError
	if errors.As(err, &remote) {
		return remote.ExitCode()
	}
	switch {
	default:
		return clierr.ExitFailed
	}
}

// reportError prints err for a person and returns the exit code. cmd is the
// command that ran (or failed to parse), for the "--help" hint.
func reportError(ctx context.Context, err error, stderr io.Writer, cmd *cobra.Command) int {
	code := exitCode(ctx, err)
	var remote *remoteExitError
	if errors.As(err, &remote) {
		// The remote command already spoke for itself on stderr.
		return code
	}
	switch code {
	case clierr.ExitOK:
	case clierr.ExitInterrupted:
		fmt.Fprintln(stderr, "Interrupted.")
		var partial interface{ WhatExistsNow() string }
		switch {
		case errors.As(err, &partial):
			// Ctrl+C midway: say what the job left behind and how to finish it.
			fmt.Fprintln(stderr, partial.WhatExistsNow())
		case err != nil && !errors.Is(err, context.Canceled):
			fmt.Fprintf(stderr, "Error: %v\n", err)
		}
	case clierr.ExitCancelled:
		fmt.Fprintln(stderr, "Cancelled: nothing was changed.")
	case clierr.ExitUsage:
		fmt.Fprintf(stderr, "Error: %v\n", err)
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	case clierr.ExitAzUnavailable:
		fmt.Fprintf(stderr, "Error: %v\n", err)
		if errors.Is(err, azcli.ErrAzNotInstalled) {
			fmt.Fprintln(stderr, "Install the Azure CLI (https://learn.microsoft.com/cli/azure/install-azure-cli), or set AZLIN_AZ_PATH to its path.")
		} else {
			fmt.Fprintln(stderr, "Log in first: az login")
		}
	default:
		fmt.Fprintf(stderr, "Error: %v\n", err)
	}
	return code
}

// usageArgs wraps a Cobra argument validator so that its errors are usage
// errors (exit 2). The "--help" hint names the command Cobra ran, so usage
// errors need not carry it.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return clierr.Usagef("%s", err.Error())
		}
		return nil
	}
}

// Config loads the configuration once per command.
func (a *app) Config() (*config.Config, error) {
	a.cfgOnce.Do(func() {
		path := a.flags.configPath
		if path == "" {
			path, a.cfgErr = config.DefaultPath()
			if a.cfgErr != nil {
				return
			}
		}
		a.cfg, a.cfgErr = config.Load(path)
	})
	return a.cfg, a.cfgErr
}

// ConfigPath is where the configuration lives for this invocation.
func (a *app) ConfigPath() (string, error) {
	if a.flags.configPath != "" {
		return a.flags.configPath, nil
	}
	return config.DefaultPath()
}

// Printer renders data on stdout and progress on stderr.
func (a *app) Printer() *output.Printer { return a.printer }

// StdinIsTTY tells whether a confirmation prompt can be answered.
func (a *app) StdinIsTTY() bool {
	f, ok := a.stdin.(*os.File)
	return ok && output.IsTerminal(f)
}

// Confirm asks before a destructive step; default No, and without a
// terminal it needs --yes.
func (a *app) Confirm(prompt string) error {
	ok, err := output.Confirm(a.stdin, a.StdinIsTTY(), a.stderr, prompt, a.flags.yes)
	if err != nil {
		return err
	}
	if !ok {
		return clierr.ErrCancelled
	}
	return nil
}

// Client returns the az client, without checking the login.
func (a *app) Client() *azcli.Client {
	a.clientOnce.Do(func() {
		opts := azcli.Options{
			DryRun:       a.flags.dryRun,
			DryRunOut:    a.stdout,
			Subscription: a.flags.subscription,
		}
		if a.flags.debug {
			opts.Debug = a.stderr
		}
		runner := a.newRunner()
		if dir := os.Getenv(azcli.EnvRecordDir); dir != "" {
			runner = &azcli.Recorder{Runner: runner, Dir: dir}
		}
		a.client = azcli.New(runner, opts)
	})
	return a.client
}

// Azure returns the az client with its login check (one `az account show`
// per command, only for commands that need Azure) started but not awaited:
// the command's first reads run beside it, mutations wait for it, and a
// failed read reports "not logged in" when that is the cause
// (docs/design-choices.md, "What runs at once").
func (a *app) Azure(ctx context.Context) (*azcli.Client, error) {
	c := a.Client()
	c.StartLoginCheck(ctx)
	return c, nil
}

// ResourceGroup resolves the resource group: flag, AZLIN_RESOURCE_GROUP, config.
func (a *app) ResourceGroup() (string, error) {
	cfg, err := a.Config()
	if err != nil {
		return "", err
	}
	rg, _, err := config.ResolveResourceGroup(a.flags.resourceGroup, cfg)
	return rg, err
}

func (a *app) setupPrinter() error {
	format, err := output.ParseFormat(a.flags.output)
	if err != nil {
		return err
	}
	a.printer = output.NewPrinter(a.stdout, a.stderr, format)
	return nil
}

// joinLines is a small helper for multi-line help texts.
func joinLines(lines ...string) string { return strings.Join(lines, "\n") }
