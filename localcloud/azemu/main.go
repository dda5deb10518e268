// Package azemu emulates the subset of the Azure CLI (`az`) that azlin uses,
// for tests and the demo: az's argument names, exit codes, error texts and
// output shapes, Azure's rules that matter to azlin, state on disk shared by
// concurrent processes, test hooks, and (with AZEMU_HOSTS=1) VMs booted as
// real local hosts by package vmhost. Production code never imports it.
package azemu

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/azlin-dev/azlin/localcloud/azrules"
	"golang.org/x/term"
)

// Hidden commands: the emulator's own entry points, never logged, never
// offered to users. NFSMountCommand is what a host's mount.nfs helper runs.
const (
	NFSMountCommand = "__azemu-nfs-mount"
	DownCommand     = "__azemu-down"
)

// Env is the environment the emulator reads (os.Getenv in production).
type Env func(string) string

// IO bundles a call's standard streams.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Main runs one az command line (argv without the program name) and returns
// its exit code.
func Main(argv []string, env Env, stdio IO) int {
	start := time.Now()
	if err := setClock(env); err != nil {
		return fail(stdio, err)
	}
	if len(argv) > 0 {
		switch argv[0] {
		case NFSMountCommand:
			return nfsMountMain(argv, env, stdio)
		case DownCommand:
			return downMain(env, stdio)
		case BlobFSCommand:
			return blobFSMain(argv, stdio)
		}
	}
	code := run(argv, env, stdio)
	if path := env("AZEMU_LOG"); path != "" {
		appendLog(path, argv, code, start)
	}
	return code
}

// down stops every host under the state dir and deletes its NSG firewall
// table (`az __azemu-down`).
func downMain(env Env, stdio IO) int {
	st, err := openStore(env("AZEMU_STATE_DIR"))
	if err != nil {
		return fail(stdio, err)
	}
	if err := hostsDownAll(st.dir); err != nil {
		fmt.Fprintf(stdio.Stderr, "ERROR: azemu down: %v\n", err)
		return 1
	}
	if err := firewallClear(st.dir); err != nil {
		return fail(stdio, err)
	}
	return 0
}

func run(argv []string, env Env, stdio IO) int {
	if err := azrules.Check(env); err != nil {
		return fail(stdio, err)
	}
	clk, err := loadClock(env)
	if err != nil {
		return fail(stdio, err)
	}
	// The call lasts at least until done (Azure's clock, clock.go); the
	// wait comes after the handler, which has released the state lock.
	done := time.Now().Add(clk.scaled(clk.start))
	defer func() { sleepUntil(done) }()
	if ms, err := strconv.Atoi(env("AZEMU_LATENCY_MS")); err == nil && ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	expanded, err := expandFileArgs(argv, stdio.Stdin)
	if err != nil {
		return fail(stdio, err)
	}
	inv, outcome, help, err := parseArgv(expanded)
	if err != nil {
		return fail(stdio, err)
	}
	if outcome == parsedHelp {
		fmt.Fprint(stdio.Stdout, help)
		return 0
	}
	if env("AZEMU_LOGGED_OUT") == "1" {
		return fail(stdio, errNotLoggedIn)
	}
	st, err := openStore(env("AZEMU_STATE_DIR"))
	if err != nil {
		return fail(stdio, err)
	}
	c := &cmdCtx{inv: inv, st: st, env: env, stdio: stdio, clock: clk}
	if err := c.checkIdsRequired(); err != nil {
		return fail(stdio, err)
	}
	if f, err := matchFault(st, env("AZEMU_FAULTS"), argv, false, ""); err != nil {
		return fail(stdio, err)
	} else if f != nil {
		return f.apply(stdio)
	}
	h := handlers[inv.cmd]
	if h == nil {
		return fail(stdio, cliError("azemu: 'az %s' parses but is not emulated", inv.cmd))
	}
	result, err := h(c)
	if err != nil {
		done = done.Add(clk.scaled(clk.other))
		c.flushWarnings()
		return fail(stdio, err)
	}
	done = done.Add(clk.op(inv))
	c.flushWarnings()
	out, err := render(result, inv.str("--query"), inv.str("--output"))
	if err != nil {
		return fail(stdio, err)
	}
	fmt.Fprint(stdio.Stdout, out)
	return 0
}

func fail(stdio IO, err error) int {
	if e, ok := err.(*azError); ok {
		fmt.Fprint(stdio.Stderr, e.stderr)
		return e.exit
	}
	fmt.Fprintf(stdio.Stderr, "ERROR: %v\n", err)
	return 1
}

// appendLog adds one JSON line per call to AZEMU_LOG: {"argv","exit","ms",
// "start"} (start in Unix milliseconds, to see which calls overlapped).
// argv[0] is "az", as in az-shapes. One write per line keeps concurrent
// appends whole.
func appendLog(path string, argv []string, code int, start time.Time) {
	line, _ := json.Marshal(struct {
		Argv  []string `json:"argv"`
		Exit  int      `json:"exit"`
		Ms    int64    `json:"ms"`
		Start int64    `json:"start"`
	}{append([]string{"az"}, argv...), code, time.Since(start).Milliseconds(), start.UnixMilli()})
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	f.Write(append(line, '\n'))
}

// expandFileArgs applies az's "@file" convention: an argument (or the part
// after "=" in one) that starts with @ and names a readable file is replaced
// by the file's content without trailing newlines; "@-" reads stdin.
func expandFileArgs(argv []string, stdin io.Reader) ([]string, error) {
	load := func(arg string) string {
		if !strings.HasPrefix(arg, "@") || len(arg) == 1 {
			return arg
		}
		path := arg[1:]
		var data []byte
		var err error
		if path == "-" {
			data, err = io.ReadAll(stdin)
		} else {
			if strings.HasPrefix(path, "~/") {
				if home, herr := os.UserHomeDir(); herr == nil {
					path = home + path[1:]
				}
			}
			data, err = os.ReadFile(path)
		}
		if err != nil {
			return arg
		}
		return strings.TrimRight(string(data), "\n")
	}
	out := make([]string, len(argv))
	for i, a := range argv {
		if k := strings.IndexByte(a, '='); k >= 0 {
			out[i] = a[:k+1] + load(a[k+1:])
		} else {
			out[i] = load(a)
		}
	}
	return out, nil
}

// cmdCtx is what a command handler works with.
type cmdCtx struct {
	inv      *invocation
	st       *store
	env      Env
	stdio    IO
	clock    clock
	warnings []string
}

type handler func(c *cmdCtx) (any, error)

// handlers maps each emulated command to its implementation; filled by the
// files that implement them.
var handlers = map[string]handler{}

// locked runs a handler under the state lock: concurrent az processes share
// the state dir, and a handler's reads and writes must see one state.
func locked(h handler) handler {
	return func(c *cmdCtx) (any, error) {
		unlock, err := c.lock()
		if err != nil {
			return nil, err
		}
		defer unlock()
		if err := c.followCaller(); err != nil {
			return nil, err
		}
		return h(c)
	}
}

func register(name string, h handler) {
	if _, ok := specs[name]; !ok {
		panic("azemu: no argument spec for " + name)
	}
	handlers[name] = h
}

// warn queues a "WARNING:" line for stderr, suppressed by --only-show-errors.
func (c *cmdCtx) warn(format string, a ...any) {
	c.warnings = append(c.warnings, fmt.Sprintf(format, a...))
}

func (c *cmdCtx) flushWarnings() {
	if c.inv.flag("--only-show-errors") {
		return
	}
	for _, w := range c.warnings {
		fmt.Fprintf(c.stdio.Stderr, "WARNING: %s\n", w)
	}
	c.warnings = nil
}

// checkIdsRequired reproduces az's check for commands that accept --ids: the
// resource's name parts are required unless --ids is given, and the error
// comes from a validator (exit 1), not from argparse.
func (c *cmdCtx) checkIdsRequired() error {
	msg := c.inv.spec.IdsRequired
	if msg == "" || c.inv.has("--ids") {
		return nil
	}
	if strings.HasPrefix(msg, "InvalidArgumentValue: Missing required field: ") {
		// AAZ commands name only the first missing field.
		for _, opt := range idParts(msg) {
			if o := c.inv.find(opt); o != nil && !c.inv.set[o.dest()] {
				return cliError("InvalidArgumentValue: Missing required field: %s", o.Opts[0])
			}
		}
		return nil
	}
	var missing []string
	for _, opt := range idParts(msg) {
		if !c.inv.has(opt) {
			missing = append(missing, opt)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return cliError("(%s | --ids) are required", strings.Join(missing, " "))
}

// idParts lists the options a command's --ids message names.
func idParts(msg string) []string {
	if strings.HasPrefix(msg, "(") {
		inner := strings.TrimPrefix(msg, "(")
		inner = inner[:strings.Index(inner, " | --ids")]
		return strings.Fields(inner)
	}
	return aazIDParts[strings.TrimPrefix(msg, "InvalidArgumentValue: Missing required field: ")]
}

// aazIDParts: for AAZ commands az names only the first missing field; these
// are the fields each first field stands for, in az's order.
var aazIDParts = map[string][]string{
	"--resource-group": {"--resource-group", "--vnet-name", "--name"},
	"-n":               {"--name", "--resource-group"},
	"-z":               {"--zone-name", "--resource-group", "--name"},
	"--nsg-name":       {"--nsg-name", "--resource-group", "--name"},
	// share-rm show/delete: az looks the account's group up itself and
	// asks only for the account by name here.
	"--account-name": {"--account-name"},
}

// confirm asks before a destructive command unless --yes was given, and
// fails as az does when no terminal can answer.
func (c *cmdCtx) confirm(question string) error {
	if c.inv.flag("--yes") {
		return nil
	}
	f, ok := c.stdio.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return cliError("Unable to prompt for confirmation as no tty available. Use --yes.")
	}
	fmt.Fprintf(c.stdio.Stderr, "%s (y/n): ", question)
	var answer string
	fmt.Fscanln(c.stdio.Stdin, &answer)
	if strings.HasPrefix(strings.ToLower(answer), "y") {
		return nil
	}
	return cliError("Operation cancelled.")
}
