// Package testenv runs the real azlin binary against the local cloud (the
// az emulator) for end-to-end tests. It builds both binaries once per test
// process, gives each test its own emulator state and config folder, and
// tears every emulated VM host down when the test ends, pass or fail.
package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azlin-dev/azlin/localcloud/azrules"
	"github.com/azlin-dev/azlin/localcloud/retailprices"
)

// Result is what one command printed and how it exited.
type Result struct {
	Stdout, Stderr string
	Exit           int
}

// Call is one az invocation as the emulator logged it (AZEMU_LOG), with
// Argv the arguments after "az".
type Call struct {
	Argv  []string `json:"argv"`
	Exit  int      `json:"exit"`
	MS    int      `json:"ms"`
	Start int64    `json:"start"` // Unix milliseconds
}

// Began is when the call started; Ended when it ended.
func (c Call) Began() time.Time { return time.UnixMilli(c.Start) }

// Ended is when the call ended.
func (c Call) Ended() time.Time { return c.Began().Add(time.Duration(c.MS) * time.Millisecond) }

// Overlaps tells whether c and d ran at the same time for a while.
func (c Call) Overlaps(d Call) bool {
	return c.Began().Before(d.Ended()) && d.Began().Before(c.Ended())
}

// Cloud is one test's private local cloud.
type Cloud struct {
	t         testing.TB
	StateDir  string // AZEMU_STATE_DIR
	ConfigDir string // AZLIN_CONFIG_DIR
	LogFile   string // AZEMU_LOG
	Env       []string
	Prices    *retailprices.Server // the Retail Prices API's stand-in (AZLIN_PRICES_URL)
	callerIP  atomic.Value         // string: AZEMU_CALLER_IP, also what the IP-echo server answers
}

// DefaultCallerIP is the caller's public address in a local cloud (the
// emulator's default, set explicitly so azlin and the emulator agree).
const DefaultCallerIP = "203.0.113.7"

// SetCallerIP makes ip the caller's public address: the emulator's NSGs see
// it (AZEMU_CALLER_IP) and azlin discovers it (AZLIN_PUBLIC_IP_URL).
func (c *Cloud) SetCallerIP(ip string) {
	c.callerIP.Store(ip)
	c.setEnv("AZEMU_CALLER_IP", ip)
}

func (c *Cloud) setEnv(key, value string) {
	c.Env = slices.DeleteFunc(c.Env, func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
	c.Env = append(c.Env, key+"="+value)
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// RepoRoot is the folder holding go.mod.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Binaries builds azlin and the emulator (as `az`) once per test process and
// returns the folder holding both.
func Binaries(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		// In the repo's build folder (git ignores it), so runs leave no
		// temp folders behind; `go build -o` replaces a binary atomically.
		binDir = filepath.Join(RepoRoot(), "build", "e2e")
		if buildErr = os.MkdirAll(binDir, 0o755); buildErr != nil {
			return
		}
		for _, b := range []struct{ out, pkg string }{{"azlin", "./cmd/azlin"}, {"az", "./localcloud/cmd/az"}} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, b.out), b.pkg)
			cmd.Dir = RepoRoot()
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = errors.New("go build " + b.pkg + ": " + string(out))
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// Option changes a Cloud before it is used.
type Option func(*Cloud)

// WithHosts boots VMs as real hosts (AZEMU_HOSTS=1; needs root on Linux)
// from the VM image (AZEMU_VM_IMAGE).
func WithHosts() Option {
	return func(c *Cloud) {
		image, err := VMImage()
		if err != nil {
			c.t.Fatal(err)
		}
		c.Env = append(c.Env, "AZEMU_HOSTS=1", "AZEMU_VM_IMAGE="+image)
	}
}

var (
	imageOnce sync.Once
	image     string
	imageErr  error
)

// VMImage is the path of the VM image the local cloud's hosts boot:
// $AZEMU_VM_IMAGE if set, else what scripts/rootfs.sh vm prints, which builds
// it first (minutes, as root) when the machine's cache has none for its
// recipe. Once per test process.
func VMImage() (string, error) {
	imageOnce.Do(func() {
		if image = os.Getenv("AZEMU_VM_IMAGE"); image != "" {
			return
		}
		cmd := exec.Command("bash", "scripts/rootfs.sh", "vm")
		cmd.Dir = RepoRoot()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			imageErr = errors.New("scripts/rootfs.sh vm (the VM hosts' image; make vm-image builds it): " + err.Error() + "\n" + stderr.String())
			return
		}
		image = strings.TrimSpace(string(out))
	})
	return image, imageErr
}

// WithEnv adds environment variables (KEY=VALUE) for azlin and the emulator.
func WithEnv(kv ...string) Option {
	return func(c *Cloud) { c.Env = append(c.Env, kv...) }
}

// PendingRules are the local cloud's Azure rules that azlin does not keep yet:
// they are off in azlin's end-to-end tests (and on in the emulator's own
// tests, which prove each rule). Making azlin keep one means deleting it here.
var PendingRules = []string{}

// New returns a fresh local cloud for t. Its state lives under a temp
// folder outside every tree a VM host overlays.
func New(t testing.TB, opts ...Option) *Cloud {
	t.Helper()
	bin := Binaries(t)
	root, err := os.MkdirTemp("/tmp", "azlin-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cloud{
		t:         t,
		StateDir:  filepath.Join(root, "state"),
		ConfigDir: filepath.Join(root, "config"),
		LogFile:   filepath.Join(root, "az.log"),
	}
	for _, d := range []string{c.StateDir, c.ConfigDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	c.Env = []string{
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"AZLIN_AZ_PATH=" + filepath.Join(bin, "az"),
		"AZEMU_STATE_DIR=" + c.StateDir,
		"AZEMU_LOG=" + c.LogFile,
		"AZLIN_CONFIG_DIR=" + c.ConfigDir,
		"HOME=" + root,
		"NO_COLOR=1",
		azrules.Env + "=" + strings.Join(PendingRules, ","),
	}
	// azlin asks a "what is my IP" service; here it is a local one answering
	// the address the emulator takes as the caller's.
	ipEcho := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, c.callerIP.Load().(string))
	}))
	t.Cleanup(ipEcho.Close)
	c.Env = append(c.Env, "AZLIN_PUBLIC_IP_URL="+ipEcho.URL)
	// azlin fetches prices the table lacks from the Retail Prices API; here
	// from a local stand-in, so no test reaches the internet.
	c.Prices = retailprices.Start(nil)
	t.Cleanup(c.Prices.Close)
	c.Env = append(c.Env, "AZLIN_PRICES_URL="+c.Prices.URL())
	c.SetCallerIP(DefaultCallerIP)
	for _, o := range opts {
		o(c)
	}
	t.Cleanup(func() {
		c.appendConformanceLog()
		c.checkArgLengths()
		// Stop every emulated host, even when the test failed.
		r := c.Az("__azemu-down")
		if r.Exit != 0 {
			t.Errorf("tearing down the local cloud: %s%s", r.Stdout, r.Stderr)
		}
		if !t.Failed() {
			os.RemoveAll(root)
		} else {
			t.Logf("local cloud state kept for inspection in %s", root)
		}
	})
	return c
}

// Azlin runs the built azlin with args and no standard input.
func (c *Cloud) Azlin(args ...string) Result {
	return c.run(filepath.Join(Binaries(c.t), "azlin"), "", args)
}

// AzlinWithStdin runs the built azlin with args and stdin as its standard
// input (a test's terminal, for prompts).
func (c *Cloud) AzlinWithStdin(stdin *os.File, args ...string) Result {
	return c.start(filepath.Join(Binaries(c.t), "azlin"), stdin, args, nil)
}

// Az runs the emulator directly, e.g. to set up or inspect state.
func (c *Cloud) Az(args ...string) Result {
	return c.run(filepath.Join(Binaries(c.t), "az"), "", args)
}

// AzJSON runs the emulator and decodes its JSON output into out, failing the
// test on a non-zero exit.
func (c *Cloud) AzJSON(out any, args ...string) {
	c.t.Helper()
	r := c.Az(append(args, "-o", "json")...)
	if r.Exit != 0 {
		c.t.Fatalf("az %s: exit %d: %s", strings.Join(args, " "), r.Exit, r.Stderr)
	}
	if err := json.Unmarshal([]byte(r.Stdout), out); err != nil {
		c.t.Fatalf("az %s: bad JSON: %v\n%s", strings.Join(args, " "), err, r.Stdout)
	}
}

// AzlinInterrupted runs azlin and presses Ctrl+C (SIGINT) once when, as seen
// every 20 ms, the local cloud meets cond (e.g. a call is in the log).
func (c *Cloud) AzlinInterrupted(cond func() bool, args ...string) Result {
	c.t.Helper()
	return c.runWith(filepath.Join(Binaries(c.t), "azlin"), "", args, func(p *os.Process, done <-chan struct{}) {
		for !cond() {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		_ = p.Signal(os.Interrupt)
	})
}

// AzlinPeakRSS runs azlin and returns, with its result, the largest
// resident memory azlin's own process reached (VmHWM, read every 10 ms from
// /proc; its az children are not counted), in bytes.
func (c *Cloud) AzlinPeakRSS(args ...string) (Result, int64) {
	c.t.Helper()
	var peak int64
	watched := make(chan struct{})
	r := c.runWith(filepath.Join(Binaries(c.t), "azlin"), "", args, func(p *os.Process, done <-chan struct{}) {
		defer close(watched)
		status := fmt.Sprintf("/proc/%d/status", p.Pid)
		for {
			if b, err := os.ReadFile(status); err == nil {
				for _, l := range strings.Split(string(b), "\n") {
					var kb int64
					if _, err := fmt.Sscanf(l, "VmHWM: %d kB", &kb); err == nil {
						peak = max(peak, kb*1024)
					}
				}
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	<-watched
	return r, peak
}

func (c *Cloud) run(bin, stdin string, args []string) Result {
	return c.runWith(bin, stdin, args, nil)
}

// runWith runs bin; while it runs, meanwhile (if any) gets its process and
// a channel closed when it has ended.
func (c *Cloud) runWith(bin, stdin string, args []string, meanwhile func(*os.Process, <-chan struct{})) Result {
	return c.start(bin, strings.NewReader(stdin), args, meanwhile)
}

func (c *Cloud) start(bin string, stdin io.Reader, args []string, meanwhile func(*os.Process, <-chan struct{})) Result {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Start()
	if err == nil {
		done := make(chan struct{})
		if meanwhile != nil {
			go meanwhile(cmd.Process, done)
		}
		err = cmd.Wait()
		close(done)
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("running %s: %v", bin, err)
	}
	return Result{Stdout: out.String(), Stderr: errb.String(), Exit: code}
}

// Calls returns the az calls logged so far (those azlin made and those the
// test made through Az).
func (c *Cloud) Calls() []Call {
	c.t.Helper()
	f, err := os.Open(c.LogFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	var calls []Call
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var cl Call
		if err := json.Unmarshal(sc.Bytes(), &cl); err != nil {
			c.t.Fatalf("bad emulator log line %q: %v", sc.Text(), err)
		}
		if len(cl.Argv) > 0 && cl.Argv[0] == "az" {
			cl.Argv = cl.Argv[1:]
		}
		calls = append(calls, cl)
	}
	return calls
}

// ResetLog forgets the calls logged so far, so a test can count the calls of
// one command.
func (c *Cloud) ResetLog() {
	c.t.Helper()
	if err := os.Remove(c.LogFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		c.t.Fatal(err)
	}
}

// MaxAzArg is the longest single az argument a test may send: on Windows az
// runs through cmd.exe, whose whole command line takes 8191 characters, and
// Linux limits one argument to 128 KiB. Long content (scripts) goes as @FILE.
const MaxAzArg = 8000

// checkArgLengths fails the test for every az argument longer than MaxAzArg.
func (c *Cloud) checkArgLengths() {
	for _, call := range c.Calls() {
		for _, a := range call.Argv {
			if len(a) > MaxAzArg {
				c.t.Errorf("an az argument of %d characters (more than %d): az %.120s", len(a), MaxAzArg, strings.Join(call.Argv, " "))
			}
		}
	}
}

// ConformanceLogEnv names a file to which every local cloud appends the az
// calls it saw, when the test ends: `make test` collects them so that `make
// conformance` can check each distinct argv against the real az's parser.
const ConformanceLogEnv = "AZLIN_CONFORMANCE_LOG"

func (c *Cloud) appendConformanceLog() {
	dst := os.Getenv(ConformanceLogEnv)
	if dst == "" {
		return
	}
	data, err := os.ReadFile(c.LogFile)
	if err != nil || len(data) == 0 {
		return
	}
	f, err := os.OpenFile(dst, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Errorf("appending to the conformance log: %v", err)
		return
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		c.t.Errorf("appending to the conformance log: %v", err)
	}
}
