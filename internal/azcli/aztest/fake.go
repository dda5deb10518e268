// Package aztest replays recorded az calls in unit tests, and records them.
//
// A fixture file is JSON: {"calls": [Call, ...]} (see testdata/README.md in
// package azcli). A Fake answers each az call from the first unused entry
// whose argv matches, and fails the test on a call no entry matches (printing
// an entry to paste) and on entries never used.
package aztest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/shell"
)

// Call is one recorded az call. Argv excludes the leading "az" and the output
// flags azcli.Client adds (--output json, --only-show-errors); secret values
// appear as REDACTED (see azcli.RedactArgs).
type Call struct {
	Argv       []string `json:"argv"`
	Exit       int      `json:"exit"`
	Stdout     string   `json:"stdout,omitempty"`
	StdoutFile string   `json:"stdout_file,omitempty"` // relative to the fixture file's folder
	Stderr     string   `json:"stderr,omitempty"`
	Source     string   `json:"source,omitempty"` // where this output's shape comes from
}

// fixtureFile is the format of a fixture file.
type fixtureFile struct {
	Source string `json:"source,omitempty"` // what the fixture as a whole is based on
	Calls  []Call `json:"calls"`
}

// Fake is an azcli.Runner that replays fixture calls.
type Fake struct {
	t      testing.TB
	origin string // fixture file, or "inline fixture"

	mu     sync.Mutex
	queues map[string][]Call // by argvKey, first in first out
	calls  [][]string
}

var _ azcli.Runner = (*Fake)(nil)

// Load reads a fixture file and returns a Fake that replays it. A malformed
// file or a missing stdout_file fails the test at once.
func Load(t testing.TB, path string) *Fake {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("aztest: reading fixture: %v", err)
	}
	var f fixtureFile
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields() // a misspelt key would otherwise be silently empty
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("aztest: fixture %s is not valid: %v", path, err)
	}
	if dec.More() {
		t.Fatalf("aztest: fixture %s has data after its JSON object", path)
	}
	return newFake(t, path, filepath.Dir(path), f.Calls)
}

// New returns a Fake that replays calls given in the test. A StdoutFile is
// relative to the test's working directory (the package folder).
func New(t testing.TB, calls ...Call) *Fake {
	t.Helper()
	return newFake(t, "inline fixture", ".", calls)
}

func newFake(t testing.TB, origin, dir string, calls []Call) *Fake {
	t.Helper()
	f := &Fake{t: t, origin: origin, queues: map[string][]Call{}}
	for i, c := range calls {
		if err := c.check(); err != nil {
			t.Fatalf("aztest: %s, call %d: %v", origin, i+1, err)
		}
		if c.StdoutFile != "" {
			data, err := os.ReadFile(filepath.Join(dir, c.StdoutFile))
			if err != nil {
				t.Fatalf("aztest: %s, call %d (az %s): stdout_file: %v", origin, i+1, shell.Join(c.Argv), err)
			}
			c.Stdout, c.StdoutFile = string(data), ""
		}
		c.Argv = normalize(c.Argv)
		k := argvKey(c.Argv)
		f.queues[k] = append(f.queues[k], c)
	}
	t.Cleanup(f.checkAllUsed)
	return f
}

func (c Call) check() error {
	switch {
	case len(c.Argv) == 0:
		return fmt.Errorf("argv is empty")
	case c.Argv[0] == "az":
		return fmt.Errorf(`argv must not start with "az": %q`, c.Argv)
	case c.Stdout != "" && c.StdoutFile != "":
		return fmt.Errorf("both stdout and stdout_file are set for az %s", shell.Join(c.Argv))
	}
	return nil
}

// normalize is argv as fixtures hold it: without the output flags the Client
// adds, and with secrets redacted (a fixture never holds a real key).
// A run-command's `--scripts @FILE` is replaced by the file's content, as az
// reads it, so fixtures hold the script itself (the file is gone after the call).
func normalize(argv []string) []string {
	out := azcli.TrimOutputFlags(azcli.RedactArgs(argv))
	for i := 1; i < len(out); i++ {
		if out[i-1] == "--scripts" && strings.HasPrefix(out[i], "@") {
			if b, err := os.ReadFile(out[i][1:]); err == nil {
				out[i] = string(b)
			}
		}
	}
	return out
}

// marshal is JSON without HTML escaping (fixtures hold shell text with & < >).
func marshal(v any, indent string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		panic(err) // only plain strings and ints are encoded here
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func argvKey(argv []string) string { return strings.Join(argv, "\x00") }

// Run answers an az call from the fixture. A call no entry is left for fails
// the test (without stopping it, so it is safe from any goroutine) and
// returns an error, so the code under test stops there.
func (f *Fake) Run(ctx context.Context, args []string) (azcli.Result, error) {
	argv := normalize(args)
	if err := ctx.Err(); err != nil {
		return azcli.Result{}, fmt.Errorf("az not started: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, argv)
	k := argvKey(argv)
	q := f.queues[k]
	if len(q) == 0 {
		entry := marshal(Call{Argv: argv}, "")
		f.t.Errorf("aztest: unexpected az call (not in %s, or called more often than listed):\n  az %s\n"+
			"If it is expected, add this entry to the fixture's \"calls\" and fill in az's stdout (or stdout_file):\n    %s",
			f.origin, shell.Join(argv), entry)
		return azcli.Result{}, fmt.Errorf("aztest: unexpected az call: az %s", shell.Join(argv))
	}
	c := q[0]
	f.queues[k] = q[1:]
	return azcli.Result{ExitCode: c.Exit, Stdout: []byte(c.Stdout), Stderr: []byte(c.Stderr)}, nil
}

// Calls returns the argv of every call made so far, in order, normalised
// like fixture argv (no output flags, secrets redacted).
func (f *Fake) Calls() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([][]string, len(f.calls))
	copy(out, f.calls)
	return out
}

func (f *Fake) checkAllUsed() {
	f.mu.Lock()
	defer f.mu.Unlock()
	var unused []string
	for _, q := range f.queues {
		for _, c := range q {
			unused = append(unused, "  az "+shell.Join(c.Argv))
		}
	}
	if len(unused) > 0 {
		slices.Sort(unused)
		f.t.Errorf("aztest: %d fixture call(s) in %s never made:\n%s", len(unused), f.origin, strings.Join(unused, "\n"))
	}
}
