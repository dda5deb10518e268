// Package azcli is the only package in azlin that starts `az`. It runs az
// (Runner), adds the flags every call needs, decodes az's JSON, turns failures
// into classified errors (errors.Is(err, ErrNotFound), ...), retries transient
// failures, prints instead of running mutations under --dry-run, and logs each
// call under --debug with secrets redacted.
package azcli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/azlin-dev/azlin/internal/shell"
)

// DefaultTimeout bounds one az call when Options.Timeout is zero. Creating a
// storage account or a VM takes minutes; ten leaves room without hanging forever.
const DefaultTimeout = 10 * time.Minute

// Options configure a Client.
type Options struct {
	DryRun       bool          // mutations are printed, not run; reads still run
	DryRunOut    io.Writer     // where dry-run prints "az <shell-quoted args>" lines; nil = os.Stdout
	Debug        io.Writer     // nil = off; else one line per az call: argv (redacted), exit code, duration
	Subscription string        // appended as --subscription S when set
	Timeout      time.Duration // per az call; 0 = DefaultTimeout
	Retry        RetryPolicy   // zero value = DefaultRetry
	MaxProcs     int           // az processes alive at once; 0 = DefaultMaxProcs
}

// DefaultMaxProcs bounds the az processes one azlin runs at once: a
// resource group of 50 storages or VMs is read in one round (one call per
// storage, beside the group's own reads), and no more. An az is a Python
// process of about 100 MB whose time is mostly spent waiting on ARM, so the
// bound is about memory (some 6 GB at its rare peak), not CPU; ARM's read
// limits (a burst of 250 per principal) are far above it. Callers that ask
// for more at once queue here.
const DefaultMaxProcs = 64

// RetryPolicy bounds retries of transient failures. Zero fields take the
// values of DefaultRetry.
type RetryPolicy struct {
	MaxAttempts         int // total tries, the first included; 1 = no retry
	BaseDelay, MaxDelay time.Duration
	Sleep               func(time.Duration) // for tests; nil = wait on a timer (cut short by ctx)
}

// DefaultRetry: up to 4 tries, waiting about 2s, 4s, 8s between them.
var DefaultRetry = RetryPolicy{MaxAttempts: 4, BaseDelay: 2 * time.Second, MaxDelay: 30 * time.Second}

// CallOptions change, for the az calls made with one context, the Client's
// timeout per call and its retry policy; zero fields keep the Client's.
// A run-command, for one, may run for 90 minutes and meets Conflicts that
// last longer than other calls' retries.
type CallOptions struct {
	Timeout time.Duration
	Retry   RetryPolicy // Sleep is always the Client's
}

type callOptionsKey struct{}

// WithCallOptions returns ctx carrying o for the az calls made with it.
func WithCallOptions(ctx context.Context, o CallOptions) context.Context {
	return context.WithValue(ctx, callOptionsKey{}, o)
}

// forCall is the timeout and retry policy of a call made with ctx.
func (c *Client) forCall(ctx context.Context) (time.Duration, RetryPolicy) {
	timeout, p := c.opts.Timeout, c.opts.Retry
	o, ok := ctx.Value(callOptionsKey{}).(CallOptions)
	if !ok {
		return timeout, p
	}
	if o.Timeout > 0 {
		timeout = o.Timeout
	}
	if o.Retry.MaxAttempts > 0 {
		p.MaxAttempts = o.Retry.MaxAttempts
	}
	if o.Retry.BaseDelay > 0 {
		p.BaseDelay = o.Retry.BaseDelay
	}
	if o.Retry.MaxDelay > 0 {
		p.MaxDelay = o.Retry.MaxDelay
	}
	return timeout, p
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultRetry.MaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultRetry.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultRetry.MaxDelay
	}
	return p
}

// delay before try number attempt+1: exponential in attempt, capped at
// MaxDelay, with "equal jitter" (a random point in the upper half) so that
// parallel calls throttled together do not come back together.
func (p RetryPolicy) delay(attempt int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < attempt && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	return d/2 + rand.N(d/2+1)
}

func (p RetryPolicy) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		p.Sleep(d)
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Client runs az commands for azlin's managers. It is safe for concurrent use.
type Client struct {
	runner Runner
	opts   Options

	debugMu  sync.Mutex
	procs    chan struct{} // one token per az process alive
	began    time.Time     // the Client's creation: the timeline's zero
	timeline []Span        // every az process, under --debug

	loginMu sync.Mutex
	login   *loginCheck // nil: not started (or the last one was stopped by its context)
}

// loginCheck is one `az account show`, run once per Client; done closes
// when account and err are set.
type loginCheck struct {
	done    chan struct{}
	account Account
	err     error
	stopped bool // by the context of the caller that started it: forgotten
}

// New returns a Client that runs az through r.
func New(r Runner, opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.DryRunOut == nil {
		opts.DryRunOut = os.Stdout
	}
	opts.Retry = opts.Retry.withDefaults()
	if opts.MaxProcs <= 0 {
		opts.MaxProcs = DefaultMaxProcs
	}
	return &Client{runner: r, opts: opts, procs: make(chan struct{}, opts.MaxProcs), began: time.Now()}
}

// DryRun reports whether mutations are printed instead of run.
func (c *Client) DryRun() bool { return c.opts.DryRun }

// Read runs `az <args> --output json --only-show-errors [--subscription S]`
// and decodes az's JSON output into out. out may be nil; then empty output is
// fine. A non-zero exit becomes a classified *Error. A read does not wait for
// a login check started by StartLoginCheck, but when it fails and that check
// failed too, the check's error is returned: "not logged in" is the cause.
func (c *Client) Read(ctx context.Context, out any, args ...string) error {
	err := c.call(ctx, out, c.argv(args))
	if err != nil {
		if lerr := c.loginFailure(ctx); lerr != nil {
			return lerr
		}
	}
	return err
}

// Mutate is Read for calls that change Azure. Under DryRun it prints the
// exact az line (secrets redacted) to DryRunOut and returns nil without
// running anything; out is left untouched. A login check under way is
// waited for first: nothing changes (or is printed) before the login is
// known to work.
//
// Mutations are retried like reads: the az commands azlin uses to change
// Azure are idempotent ARM PUT/PATCH/DELETE calls that either did not happen
// (throttled, 5xx, another operation in progress) or can be repeated to the
// same end state.
func (c *Client) Mutate(ctx context.Context, out any, args ...string) error {
	if c.loginStarted() {
		if _, err := c.EnsureLoggedIn(ctx); err != nil {
			return err
		}
	}
	argv := c.argv(args)
	if c.opts.DryRun {
		_, err := fmt.Fprintln(c.opts.DryRunOut, "az "+shell.Join(RedactArgs(argv)))
		return err
	}
	return c.call(ctx, out, argv)
}

// Account is what `az account show` says about the current login.
type Account struct {
	ID       string                      `json:"id"`
	Name     string                      `json:"name"`
	TenantID string                      `json:"tenantId"`
	User     struct{ Name, Type string } `json:"user"` // "name", "type": encoding/json matches keys case-insensitively
}

// EnsureLoggedIn runs `az account show` once per Client, however many
// goroutines ask (or joins the check StartLoginCheck began); later calls get
// the same account or error. A check stopped by its own context is not
// remembered, so a later caller can still try.
func (c *Client) EnsureLoggedIn(ctx context.Context) (Account, error) {
	for {
		l := c.startLogin(ctx)
		select {
		case <-l.done:
		case <-ctx.Done():
			return Account{}, fmt.Errorf("az account show: %w", ctx.Err())
		}
		// Another caller's context stopped the check: try again with ours.
		if l.stopped && ctx.Err() == nil {
			continue
		}
		return l.account, l.err
	}
}

// StartLoginCheck begins EnsureLoggedIn's `az account show` without waiting
// for it, so that a command's first reads run beside it instead of after it
// (one round of az calls less). Mutations wait for its answer; a failed read
// reports its error (see Read); WaitLoginCheck waits for it at the end.
func (c *Client) StartLoginCheck(ctx context.Context) { c.startLogin(ctx) }

// WaitLoginCheck waits until a login check under way has ended (at once
// when none was started), so that no az process outlives azlin.
func (c *Client) WaitLoginCheck() {
	c.loginMu.Lock()
	l := c.login
	c.loginMu.Unlock()
	if l != nil {
		<-l.done
	}
}

func (c *Client) startLogin(ctx context.Context) *loginCheck {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	if c.login != nil {
		return c.login
	}
	l := &loginCheck{done: make(chan struct{})}
	c.login = l
	go func() {
		defer close(l.done)
		l.err = c.call(ctx, &l.account, c.argv([]string{"account", "show"}))
		if l.err != nil && ctx.Err() != nil {
			l.account, l.stopped = Account{}, true
			c.loginMu.Lock()
			if c.login == l {
				c.login = nil
			}
			c.loginMu.Unlock()
		}
	}()
	return l
}

func (c *Client) loginStarted() bool {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	return c.login != nil
}

// loginFailure is the error of a login check that was started, once it has
// ended; nil when none was started or it succeeded.
func (c *Client) loginFailure(ctx context.Context) error {
	if !c.loginStarted() {
		return nil
	}
	_, err := c.EnsureLoggedIn(ctx)
	if err != nil && isStopped(err) {
		return nil // the caller's own error says it was stopped
	}
	return err
}

// isStopped tells an error of a call that was cancelled or ran out of time.
func isStopped(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Flags Client adds to every call.
var outputFlags = []string{"--output", "json", "--only-show-errors"}

// argv is args plus the flags every call gets, unless args already set them.
func (c *Client) argv(args []string) []string {
	argv := slices.Clone(args)
	if !hasFlag(args, "--output", "-o") {
		argv = append(argv, outputFlags[:2]...)
	}
	if !hasFlag(args, outputFlags[2]) {
		argv = append(argv, outputFlags[2])
	}
	if c.opts.Subscription != "" && !hasFlag(args, "--subscription") {
		argv = append(argv, "--subscription", c.opts.Subscription)
	}
	return argv
}

func hasFlag(args []string, names ...string) bool {
	for _, a := range args {
		flag, _, _ := strings.Cut(a, "=")
		if slices.Contains(names, flag) {
			return true
		}
	}
	return false
}

// TrimOutputFlags returns args without the output flags Client adds
// (--output json / -o json, --only-show-errors). Recorded fixtures list argv
// in this form.
func TrimOutputFlags(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == outputFlags[2], a == "--output=json", a == "-o=json":
		case (a == "--output" || a == "-o") && i+1 < len(args) && args[i+1] == "json":
			i++
		default:
			out = append(out, a)
		}
	}
	return out
}

// call runs argv, retrying transient failures, and decodes stdout into out.
func (c *Client) call(ctx context.Context, out any, argv []string) error {
	timeout, p := c.forCall(ctx)
	for attempt := 1; ; attempt++ {
		res, err := c.runOnce(ctx, timeout, argv)
		if err != nil {
			return err
		}
		if res.ExitCode == 0 {
			return decode(argv, res.Stdout, out)
		}
		azErr := newError(argv, res)
		azErr.Attempts = attempt
		if attempt >= p.MaxAttempts || !azErr.transient() {
			return azErr
		}
		d := p.delay(attempt)
		c.debugf("# retrying in %s (attempt %d of %d)", d.Round(time.Millisecond), attempt+1, p.MaxAttempts)
		if err := p.sleep(ctx, d); err != nil {
			return fmt.Errorf("%w; stopped before retrying: %w", azErr, err)
		}
	}
}

func (c *Client) runOnce(ctx context.Context, timeout time.Duration, argv []string) (Result, error) {
	select {
	case c.procs <- struct{}{}:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("az %s not started: %w", commandString(argv), ctx.Err())
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	res, err := c.runner.Run(actx, argv)
	<-c.procs
	line := "az " + shell.Join(RedactArgs(argv))
	c.record(Span{Command: spanName(argv), Start: start, End: time.Now()})
	if err != nil {
		c.debugf("%s  # not completed: %v", line, err)
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return res, fmt.Errorf("az %s gave no answer within %s: %w", commandString(argv), timeout, context.DeadlineExceeded)
		}
		return res, err
	}
	c.debugf("%s  # exit %d, %s", line, res.ExitCode, res.Duration.Round(time.Millisecond))
	return res, nil
}

func (c *Client) debugf(format string, args ...any) {
	if c.opts.Debug == nil {
		return
	}
	c.debugMu.Lock()
	defer c.debugMu.Unlock()
	fmt.Fprintf(c.opts.Debug, format+"\n", args...)
}

func decode(argv []string, stdout []byte, out any) error {
	if out == nil {
		return nil
	}
	if len(bytes.TrimSpace(stdout)) == 0 {
		return fmt.Errorf("az %s printed nothing where JSON was expected", commandString(argv))
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		return fmt.Errorf("az %s: cannot read its output: %w", commandString(argv), err)
	}
	return nil
}
