package output

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/clierr"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run: go test ./internal/output -update")
	assert.Equal(t, string(want), got, "output differs from %s (rewrite with -update if the change is intended)", path)
}

// sample has what trips renderers: wide characters, an empty cell, a tab and
// a newline inside cells.
var sample = Table{
	Headers: []string{"NAME", "TIER", "SIZE", "USED", "REGION", "VMS"},
	Rows: [][]string{
		{"shared-dev", "Premium", "1TiB", "45GiB", "westus2", "3"},
		{"ml-data", "Standard", "5TiB", "2.1TiB", "westus2", "1"},
		{"日本-team", "Premium", "100GiB", "", "japaneast", "0"},
		{"odd\tname", "Premium", "100GiB", "line\nbreak", "eastus", "12"},
	},
}

type sampleJSON struct {
	Name    string   `json:"name"`
	Tier    string   `json:"tier"`
	VMs     []string `json:"vms"`
	Comment string   `json:"comment"`
}

var sampleValue = []sampleJSON{
	{Name: "shared-dev", Tier: "Premium", VMs: []string{"worker-1", "worker-2"}, Comment: "<html> & stays readable"},
	{Name: "ml-data", Tier: "Standard", VMs: []string{}},
}

func newTestPrinter(format Format, outTTY, errTTY bool) (*Printer, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &Printer{Out: &out, Err: &errb, Format: format, OutIsTTY: outTTY, ErrIsTTY: errTTY}, &out, &errb
}

func TestRenderGolden(t *testing.T) {
	cases := []struct {
		golden string
		format Format
		outTTY bool
	}{
		{"table_tty", FormatTable, true},
		{"table_piped", FormatTable, false},
		{"tsv", FormatTSV, true},
		{"json", FormatJSON, true},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			p, out, errb := newTestPrinter(tc.format, tc.outTTY, true)
			require.NoError(t, p.Render(sample, sampleValue))
			golden(t, tc.golden, out.String())
			assert.Empty(t, errb.String(), "data goes to stdout only")
		})
	}
}

func TestTSVIsTheSameWhetherPipedOrNot(t *testing.T) {
	p1, out1, _ := newTestPrinter(FormatTSV, true, false)
	p2, out2, _ := newTestPrinter(FormatTSV, false, false)
	p3, out3, _ := newTestPrinter(FormatTable, false, false)
	require.NoError(t, p1.Table(sample))
	require.NoError(t, p2.Table(sample))
	require.NoError(t, p3.Table(sample))
	assert.Equal(t, out1.String(), out2.String())
	assert.Equal(t, out1.String(), out3.String())
	assert.Equal(t, len(sample.Rows), strings.Count(out1.String(), "\n"), "one line per row, no header")
}

func TestJSONHasNoPartialOutputOnError(t *testing.T) {
	p, out, _ := newTestPrinter(FormatJSON, false, false)
	err := p.JSON(map[string]any{"bad": make(chan int)})
	require.Error(t, err)
	assert.Empty(t, out.String())
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": FormatTable, "table": FormatTable, "JSON": FormatJSON, " tsv ": FormatTSV} {
		got, err := ParseFormat(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := ParseFormat("yaml")
	require.Error(t, err)
	assert.True(t, clierr.IsUsage(err))
	assert.Equal(t, `invalid --output "yaml": use table, json or tsv`, err.Error())
}

func TestMessagesGoToStderr(t *testing.T) {
	p, out, errb := newTestPrinter(FormatTable, true, false)
	p.Infof("Creating %s", "shared-dev")
	p.Warnf("Standard tier has no file locking across VMs\n")
	p.Successf("Created %s", "shared-dev")
	assert.Empty(t, out.String())
	assert.Equal(t, "Creating shared-dev\nWarning: Standard tier has no file locking across VMs\n✓ Created shared-dev\n", errb.String())
}

func TestColourOnlyOnTerminalWithoutNoColor(t *testing.T) {
	p, _, errb := newTestPrinter(FormatTable, true, true)
	p.Warnf("careful")
	p.Successf("done")
	assert.Equal(t, "\x1b[33mWarning:\x1b[0m careful\n\x1b[32m✓\x1b[0m done\n", errb.String())

	p, _, errb = newTestPrinter(FormatTable, true, true)
	p.NoColor = true
	p.Warnf("careful")
	p.Successf("done")
	assert.Equal(t, "Warning: careful\n✓ done\n", errb.String(), "NO_COLOR drops colour, keeps the text")
}

func TestNewPrinterHonoursNoColorAndDetectsPipes(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()

	t.Setenv("NO_COLOR", "1")
	p := NewPrinter(w, w, FormatJSON)
	assert.True(t, p.NoColor)
	assert.False(t, p.OutIsTTY, "a pipe is not a terminal")
	assert.False(t, p.ErrIsTTY)
	assert.Equal(t, FormatJSON, p.Format)

	t.Setenv("NO_COLOR", "")
	assert.False(t, NewPrinter(w, w, FormatTable).NoColor, "an empty NO_COLOR does not count (no-color.org)")
}

func TestProgressPlainLinesWhenNotATerminal(t *testing.T) {
	p, out, errb := newTestPrinter(FormatTable, false, false)
	pr := p.StartProgress("Creating storage shared-dev")
	_, isSpinner := pr.(*spinProgress)
	assert.False(t, isSpinner, "no spinner without a terminal")
	pr.Step("creating storage account")
	pr.Step("creating file share")
	pr.Done("")
	pr.Fail("ignored after Done")
	pr.Step("ignored after Done")
	assert.Empty(t, out.String())
	assert.Equal(t, "==> Creating storage shared-dev\n==> creating storage account\n==> creating file share\n✓ Creating storage shared-dev\n", errb.String())
}

func TestProgressPlainLinesForJSONEvenOnTerminal(t *testing.T) {
	p, _, errb := newTestPrinter(FormatJSON, true, true)
	p.NoColor = true
	pr := p.StartProgress("Deleting")
	_, isSpinner := pr.(*spinProgress)
	assert.False(t, isSpinner)
	pr.Fail("could not delete share")
	assert.Equal(t, "==> Deleting\n✗ could not delete share\n", errb.String())
}

func TestProgressOnTerminalShowsStepAndElapsed(t *testing.T) {
	p, out, errb := newTestPrinter(FormatTable, false, true)
	p.NoColor = true
	clock := time.Date(2025, 10, 18, 12, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return clock }

	pr := p.StartProgress("Creating storage shared-dev")
	sp, isSpinner := pr.(*spinProgress)
	require.True(t, isSpinner, "a terminal gets the spinner form")
	assert.Empty(t, errb.String(), "nothing is printed line by line on a terminal")

	clock = clock.Add(12 * time.Second)
	pr.Step("creating file share")
	assert.Equal(t, "Creating storage shared-dev: creating file share (12s)", sp.label())

	clock = clock.Add(53 * time.Second)
	pr.Done("Created storage shared-dev")
	pr.Done("again")
	assert.Equal(t, "✓ Created storage shared-dev (1m5s)\n", errb.String())
	assert.Empty(t, out.String())
}

func TestSpinnerDrawsOnRealFileAndClearsItsLine(t *testing.T) {
	// A real file (not a terminal): the spinner refuses to animate, but the
	// Printer still clears its line before messages and ends cleanly.
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	require.NoError(t, err)
	defer f.Close()
	p := &Printer{Out: &bytes.Buffer{}, Err: f, ErrIsTTY: true, NoColor: true}
	pr := p.StartProgress("Working")
	p.Infof("note")
	pr.Done("")
	body, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	assert.Regexp(t, `^\r\x1b\[Knote\n✓ Working \(\d+s\)\n$`, string(body))
	assert.Nil(t, p.spin, "the finished spinner is forgotten")
}
