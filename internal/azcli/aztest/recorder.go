package aztest

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/azlin-dev/azlin/internal/azcli"
)

// EnvRecord turns recording on: with AZLIN_RECORD=1, Replay runs the real az
// and rewrites the fixture instead of replaying it.
const EnvRecord = "AZLIN_RECORD"

// Replay returns the az runner for a test built on the fixture at path:
// normally a Fake that replays it; with AZLIN_RECORD=1 a Recorder around the
// real az (azcli.NewExecRunner: $AZLIN_AZ_PATH or az on PATH) that writes the
// fixture when the test ends.
func Replay(t testing.TB, path string) azcli.Runner {
	t.Helper()
	if os.Getenv(EnvRecord) == "1" {
		return Recorder(t, azcli.NewExecRunner(), path)
	}
	return Load(t, path)
}

// inlineLimit is the stdout size above which a recording writes stdout to a
// file of its own next to the fixture, where it stays readable.
const inlineLimit = 1024

// Recording is an azcli.Runner that passes calls to a real runner and keeps
// them, scrubbed, for a fixture file.
type Recording struct {
	t     testing.TB
	inner azcli.Runner
	path  string

	mu    sync.Mutex
	calls []Call
	scrub *scrubber
}

// Recorder wraps inner and, when the test ends without failing, writes every
// call it made to the fixture file at path, with subscription and tenant ids
// (all GUIDs), secrets, public IP addresses and e-mail addresses replaced by
// stable placeholders. Stdout larger than 1 KiB goes to a stdout_file
// "<fixture name>-<n>.out.json" beside the fixture.
func Recorder(t testing.TB, inner azcli.Runner, path string) *Recording {
	r := &Recording{t: t, inner: inner, path: path, scrub: newScrubber()}
	t.Cleanup(r.write)
	return r
}

// Run runs the call through the real runner and keeps it. Calls az could not
// run at all (cancelled, az missing) are not kept: they are no az output.
func (r *Recording) Run(ctx context.Context, args []string) (azcli.Result, error) {
	res, err := r.inner.Run(ctx, args)
	if err != nil {
		return res, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	argv := normalize(args)
	for i := range argv {
		argv[i] = r.scrub.text(argv[i])
	}
	r.calls = append(r.calls, Call{
		Argv:   argv,
		Exit:   res.ExitCode,
		Stdout: r.scrub.text(string(res.Stdout)),
		Stderr: r.scrub.text(string(res.Stderr)),
	})
	return res, nil
}

func (r *Recording) write() {
	if r.t.Failed() {
		r.t.Logf("aztest: the test failed, so %s was not rewritten", r.path)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	base := strings.TrimSuffix(filepath.Base(r.path), filepath.Ext(r.path))
	f := fixtureFile{Source: "recorded with AZLIN_RECORD=1 from " + r.t.Name(), Calls: make([]Call, len(r.calls))}
	for i, c := range r.calls {
		if len(c.Stdout) > inlineLimit {
			name := fmt.Sprintf("%s-%d.out.json", base, i+1)
			if err := os.WriteFile(filepath.Join(filepath.Dir(r.path), name), []byte(c.Stdout), 0o644); err != nil {
				r.t.Errorf("aztest: writing recorded stdout: %v", err)
				return
			}
			c.Stdout, c.StdoutFile = "", name
		}
		f.Calls[i] = c
	}
	if err := os.WriteFile(r.path, []byte(marshal(f, "  ")+"\n"), 0o644); err != nil {
		r.t.Errorf("aztest: writing fixture: %v", err)
		return
	}
	r.t.Logf("aztest: recorded %d az call(s) to %s", len(f.Calls), r.path)
}

// scrubber replaces identifying values with placeholders, the same value by
// the same placeholder throughout one recording so that ids still line up
// (the subscription id in `account show` and in every resource id).
type scrubber struct {
	seen map[string]string
	n    map[string]int // placeholders handed out, per kind
}

func newScrubber() *scrubber { return &scrubber{seen: map[string]string{}, n: map[string]int{}} }

var (
	guidRe  = regexp.MustCompile(`\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b`)
	ipv4Re  = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)
	emailRe = regexp.MustCompile(`\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b`)
)

func (s *scrubber) text(in string) string {
	out := azcli.Redact(in)
	out = guidRe.ReplaceAllStringFunc(out, func(g string) string {
		if strings.Trim(g, "0-") == "" {
			return g
		}
		return s.placeholder("guid", strings.ToLower(g), "00000000-0000-0000-0000-%012d")
	})
	out = ipv4Re.ReplaceAllStringFunc(out, func(ip string) string {
		a, err := netip.ParseAddr(ip)
		if err != nil || a.IsPrivate() || a.IsLoopback() || a.IsUnspecified() || isDocumentation(a) {
			return ip // private addresses name no one; keep subnets meaningful
		}
		return s.placeholder("ip", ip, "203.0.113.%d")
	})
	return emailRe.ReplaceAllStringFunc(out, func(m string) string {
		return s.placeholder("email", strings.ToLower(m), "user%d@example.com")
	})
}

func (s *scrubber) placeholder(kind, value, format string) string {
	key := kind + " " + value
	if p, ok := s.seen[key]; ok {
		return p
	}
	s.n[kind]++
	p := fmt.Sprintf(format, s.n[kind])
	s.seen[key] = p
	return p
}

// Documentation address blocks (RFC 5737), where placeholders come from.
var docPrefixes = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
}

func isDocumentation(a netip.Addr) bool {
	for _, p := range docPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
