//go:build localcloud

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/localcloud/testenv"
)

// BenchmarkTargets measures the speed targets of "Fast on Azure's clock"
// (docs/design-choices.md, "What runs at once") and prints them as one
// table, each figure beside its target; `make bench` runs it. Every figure
// is a ratio or a count taken within one run, so the machine's speed
// cancels out: wall times against the az calls' own durations from the
// emulator's call log, rounds of az calls one after the other and az
// processes at once (the timeline --debug prints), one command against
// another run just before it. It asserts nothing: a figure off its target is marked in
// the table, for a person to read.
func BenchmarkTargets(b *testing.B) {
	var t targetTable
	b.Run("storage-create", func(b *testing.B) { benchStorageCreate(b, &t) })
	b.Run("reads", func(b *testing.B) { benchReads(b, &t) })
	b.Run("vms", func(b *testing.B) { benchVMs(b, &t) })
	b.Run("help-version", func(b *testing.B) { benchHelpVersion(b, &t) })
	t.print(os.Stdout)
}

// targetTable collects the rows of BenchmarkTargets.
type targetTable struct {
	mu   sync.Mutex
	rows []targetRow
}

type targetRow struct {
	what, measured, target string
	ok                     bool
}

func (t *targetTable) add(what, measured, target string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rows = append(t.rows, targetRow{what, measured, target, ok})
}

func (t *targetTable) print(w *os.File) {
	fmt.Fprintf(w, "\nFast on Azure's clock: the targets (%d cores, %s)\n", runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "| %-58s | %-52s | %-28s | %s |\n", "what", "measured", "target", "ok")
	fmt.Fprintf(w, "|%s|%s|%s|----|\n", strings.Repeat("-", 60), strings.Repeat("-", 54), strings.Repeat("-", 30))
	for _, r := range t.rows {
		mark := "yes"
		if !r.ok {
			mark = "NO"
		}
		fmt.Fprintf(w, "| %-58s | %-52s | %-28s | %-3s|\n", r.what, r.measured, r.target, mark)
	}
}

// azTimeline is what the timeline `--debug` ends with says: how many az
// calls the command made, in how many rounds one after the other, and at
// most how many at once. It is azlin's own view: when it started each az
// process and saw it end. (The emulator's log starts each call once its
// process runs, which on this machine's two cores lags when fifty start at
// once: a lag of the emulated az's start, not of azlin's scheduling.)
type azTimeline struct{ calls, rounds, atOnce int }

var timelineLine = regexp.MustCompile(`(?m)^# az timeline: (\d+) calls in (\d+) rounds, at most (\d+) at once`)

func timelineOf(b *testing.B, stderr string) azTimeline {
	b.Helper()
	m := timelineLine.FindStringSubmatch(stderr)
	require.NotNil(b, m, "no az timeline in: %s", stderr)
	var tl azTimeline
	for i, p := range []*int{&tl.calls, &tl.rounds, &tl.atOnce} {
		*p, _ = strconv.Atoi(m[i+1])
	}
	return tl
}

// timed runs one azlin command line, which must succeed, and returns its
// wall time and the az calls it made.
func timed(b *testing.B, c *testenv.Cloud, args ...string) (time.Duration, []testenv.Call) {
	b.Helper()
	wall, _, calls := timedDebug(b, c, args...)
	return wall, calls
}

// timedDebug is timed with --debug: it also returns the az timeline.
func timedDebug(b *testing.B, c *testenv.Cloud, args ...string) (time.Duration, azTimeline, []testenv.Call) {
	b.Helper()
	c.ResetLog()
	start := time.Now()
	r := azlinRun(b, c, append(args, "--debug")...)
	wall := time.Since(start)
	var tl azTimeline
	if calls := c.Calls(); len(calls) > 0 {
		tl = timelineOf(b, r.Stderr)
	}
	return wall, tl, c.Calls()
}

func withEnv(c *testenv.Cloud, kv ...string) func() {
	old := c.Env
	c.Env = append(slices.Clone(c.Env), kv...)
	return func() { c.Env = old }
}

// createScale compresses Azure's clock for the storage create: its 180 s of
// az calls take 36 s, long beside the milliseconds each emulated az
// process takes to start on this machine.
const createScale = 0.2

// benchStorageCreate: a storage create with a private endpoint, a new VNet
// and a new DNS zone, on the azure profile; its wall time against the sum of
// its az calls' durations (what it would take one call after the other).
func benchStorageCreate(b *testing.B, t *targetTable) {
	for range b.N {
		c := newStorageCloud(b)
		defer withEnv(c, "AZEMU_PROFILE=azure", fmt.Sprintf("AZEMU_TIME_SCALE=%g", createScale))()
		wall, calls := timed(b, c, "storage", "create", "bench-pe", "-g", "rg", "--region", "eastus")
		var sum time.Duration
		for _, call := range calls {
			sum += time.Duration(call.MS) * time.Millisecond
		}
		ratio := wall.Seconds() / sum.Seconds()
		t.add("storage create (private endpoint, new VNet and zone), azure", fmt.Sprintf("%.2f (wall %.1fs / %.1fs of %d az calls)",
			ratio, wall.Seconds(), sum.Seconds(), len(calls)), "<= 0.70 x sum of az calls", ratio <= 0.7)
		b.ReportMetric(ratio, "wall/sum-az")
	}
}

// benchReads: storage list, storage status, list and cost at a flat 1 s
// per az call, with 1 and with 50 storages and VMs: the rounds of az calls
// one after the other, from the call log.
func benchReads(b *testing.B, t *targetTable) {
	for range b.N {
		c := newStorageCloud(b)
		key := filepath.Join(b.TempDir(), "key")
		require.NoError(b, exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).Run())
		made := 0
		grow := func(n int) {
			for ; made < n; made++ {
				azlinRun(b, c, "storage", "create", fmt.Sprintf("s%02d", made), "-g", "rg", "--network", "service-endpoint")
				r := c.Az("vm", "create", "-g", "rg", "-n", fmt.Sprintf("vm%02d", made), "--image", "Debian:debian-13:13:latest",
					"--admin-username", "azureuser", "--ssh-key-values", key+".pub")
				require.Equal(b, 0, r.Exit, r.Stderr)
			}
		}
		commands := [][]string{{"storage", "list"}, {"storage", "status", "s00"}, {"list"}, {"cost"}}
		rounds := make([][2]int, len(commands))
		walls := make([][2]time.Duration, len(commands))
		for k, n := range []int{1, 50} {
			grow(n)
			restore := withEnv(c, "AZEMU_LATENCY_MS=1000")
			for i, cmd := range commands {
				var tl azTimeline
				walls[i][k], tl, _ = timedDebug(b, c, append(cmd, "-g", "rg")...)
				rounds[i][k] = tl.rounds
			}
			restore()
		}
		for i, cmd := range commands {
			what := fmt.Sprintf("%s, 1 vs 50 storages and VMs, 1 s per az call", strings.Join(cmd[:min(2, len(cmd))], " "))
			if cmd[0] == "storage" && cmd[1] == "status" {
				what = "storage status, 1 vs 50 storages and VMs, 1 s per az call"
			}
			t.add(what, fmt.Sprintf("%d vs %d rounds (wall %.1fs vs %.1fs)", rounds[i][0], rounds[i][1], walls[i][0].Seconds(), walls[i][1].Seconds()),
				"<= 2 rounds", rounds[i][0] <= 2 && rounds[i][1] <= 2)
			b.ReportMetric(float64(rounds[i][1]), "rounds-50/"+strings.Join(cmd[:min(2, len(cmd))], "-"))
		}
	}
}

// Azure's clock for the VM rows: what azlin waits for on a VM (cloud-init,
// scripts, booting the host) runs at this machine's speed, so the scale is
// large enough for Azure's own times to dominate, as they do on Azure.
const (
	newScale    = 0.5
	attachScale = 1.0
)

// benchVMs: new --shared-home against a plain new, attach of 10 VMs against
// 1 (both on the azure profile), the second `azlin ssh` of a VM, and an
// attach of 50 VMs (az processes alive at once, azlin's peak memory).
func benchVMs(b *testing.B, t *targetTable) {
	for range b.N {
		c := sharedCloud(b)
		azlinRun(b, c, "storage", "create", "home")
		names := make([]string, 50)
		for i := range names {
			names[i] = fmt.Sprintf("a%02d", i)
		}
		// The first VM of a group also makes its NSG and azlin's SSH key:
		// made before, so that both measured news find them.
		newVMs(b, c, names[0])

		restore := withEnv(c, "AZEMU_PROFILE=azure", fmt.Sprintf("AZEMU_TIME_SCALE=%g", newScale))
		plain, _ := timed(b, c, "new", "--name", "plain")
		shared, _ := timed(b, c, "new", "--shared-home", "home", "--name", "shared")
		restore()
		ratio := shared.Seconds() / plain.Seconds()
		t.add("new --shared-home vs plain new, azure", fmt.Sprintf("%.2f (%.1fs vs %.1fs)", ratio, shared.Seconds(), plain.Seconds()),
			"<= 1.25", ratio <= 1.25)
		b.ReportMetric(ratio, "new-shared/plain")

		azlinRun(b, c, "ssh", "plain", "--", "true")
		_, calls := timed(b, c, "ssh", "plain", "--", "true")
		t.add("azlin ssh VM -- true, second time", fmt.Sprintf("%d az processes", len(calls)), "0 az processes", len(calls) == 0)

		newVMs(b, c, names[1:11]...)
		restore = withEnv(c, "AZEMU_PROFILE=azure", fmt.Sprintf("AZEMU_TIME_SCALE=%g", attachScale))
		one, _ := timed(b, c, "storage", "attach", "home", "--vm", names[0])
		args := []string{"storage", "attach", "home"}
		for _, n := range names[1:11] {
			args = append(args, "--vm", n)
		}
		ten, _ := timed(b, c, args...)
		restore()
		ratio = ten.Seconds() / one.Seconds()
		t.add("storage attach of 10 VMs vs 1, azure", fmt.Sprintf("%.2f (%.1fs vs %.1fs)", ratio, ten.Seconds(), one.Seconds()), "<= 1.30", ratio <= 1.3)
		b.ReportMetric(ratio, "attach-10/1")

		newVMs(b, c, names[11:]...)
		args = []string{"storage", "attach", "home"}
		for _, n := range names {
			args = append(args, "--vm", n)
		}
		r, rss := c.AzlinPeakRSS(append(args, "--debug")...)
		require.Equal(b, 0, r.Exit, r.Stderr)
		peak := timelineOf(b, r.Stderr).atOnce
		t.add("storage attach of 50 VMs", fmt.Sprintf("at most %d az at once; azlin's peak RSS %.0f MB", peak, float64(rss)/(1<<20)),
			fmt.Sprintf("<= %d az at once; < 100 MB", azcli.DefaultMaxProcs), peak <= azcli.DefaultMaxProcs && rss < 100<<20)
		b.ReportMetric(float64(rss)/(1<<20), "MB-peak-attach-50")
	}
}

// benchHelpVersion: azlin --help and azlin version, which start no az: the
// fastest of ten runs (the others wait for this machine's other work), and
// the CPU azlin used.
func benchHelpVersion(b *testing.B, t *targetTable) {
	bin := filepath.Join(testenv.Binaries(b), "azlin")
	for range b.N {
		for _, args := range [][]string{{"--help"}, {"version"}} {
			fastest, cpu := time.Hour, time.Hour
			for range 10 {
				cmd := exec.Command(bin, args...)
				cmd.Env = append(os.Environ(), "AZLIN_CONFIG_DIR="+b.TempDir())
				start := time.Now()
				require.NoError(b, cmd.Run())
				fastest = min(fastest, time.Since(start))
				cpu = min(cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
			}
			t.add("azlin "+args[0], fmt.Sprintf("%.1f ms (fastest of 10; %.1f ms of CPU)", ms(fastest), ms(cpu)), "< 20 ms", fastest < 20*time.Millisecond)
			b.ReportMetric(ms(fastest), "ms/"+strings.TrimPrefix(args[0], "--"))
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
