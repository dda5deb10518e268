// Package output is the one way azlin writes to the terminal. stdout carries
// data only (tables, JSON); progress, notes, warnings and success lines go to
// stderr. What is printed adapts to where it goes: aligned tables with headers
// and a spinner on a terminal, plain tab-separated rows and plain step lines
// when piped, so scripts and logs get stable text.
//
// Colour: only on a terminal, and never when NO_COLOR is set (no-color.org).
// Symbols such as ✓ are kept without colour: NO_COLOR is about colour only.
package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/briandowns/spinner"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"golang.org/x/term"

	"github.com/azlin-dev/azlin/internal/clierr"
)

// Format is the value of -o/--output.
type Format string

const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatTSV   Format = "tsv"
)

// ParseFormat reads an -o value; "" means table. Case does not matter.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case "":
		return FormatTable, nil
	case FormatTable, FormatJSON, FormatTSV:
		return f, nil
	}
	return "", clierr.Usagef("invalid --output %q: use table, json or tsv", s)
}

// Printer writes data to Out and messages to Err. The zero value of the TTY
// and colour fields means "plain", which is what tests and pipes want.
type Printer struct {
	Out, Err           io.Writer
	Format             Format
	OutIsTTY, ErrIsTTY bool
	NoColor            bool
	// Query, from --query, shapes every JSON document printed (see JSON).
	Query *Query

	now func() time.Time // for tests; nil means time.Now

	mu   sync.Mutex
	spin *spinner.Spinner // the running spinner, so messages can clear its line
}

// NewPrinter makes the Printer for a real process: it asks the OS whether
// stdout and stderr are terminals and honours NO_COLOR.
func NewPrinter(stdout, stderr *os.File, format Format) *Printer {
	return &Printer{
		Out:      stdout,
		Err:      stderr,
		Format:   format,
		OutIsTTY: IsTerminal(stdout),
		ErrIsTTY: IsTerminal(stderr),
		NoColor:  os.Getenv("NO_COLOR") != "",
	}
}

// IsTerminal reports whether f is a terminal (e.g. os.Stdin, for Confirm).
func IsTerminal(f *os.File) bool {
	return f != nil && term.IsTerminal(int(f.Fd()))
}

// Table is rows of cells under column headers.
type Table struct {
	Headers []string
	Rows    [][]string
}

// Table prints t to Out. On a terminal (and format table) it is aligned, with
// headers. Otherwise (piped, or format tsv) it is one line per row, cells
// separated by tabs, no headers: the form `cut`, `awk` and `while read` want.
// Tabs and line breaks inside cells become spaces so a row stays one line.
func (p *Printer) Table(t Table) error {
	if p.Format == FormatTSV || !p.OutIsTTY {
		var b strings.Builder
		for _, row := range t.Rows {
			for i, cell := range row {
				if i > 0 {
					b.WriteByte('\t')
				}
				b.WriteString(flatten(cell))
			}
			b.WriteByte('\n')
		}
		_, err := io.WriteString(p.Out, b.String())
		return err
	}

	var buf bytes.Buffer
	tbl := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders:  tw.BorderNone,
			Symbols:  tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{Separators: tw.SeparatorsNone, Lines: tw.LinesNone},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off), // headers as given, e.g. "NAME"
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "  ", Overwrite: true}),
	)
	tbl.Header(t.Headers)
	for _, row := range t.Rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = flatten(c)
		}
		if err := tbl.Append(cells); err != nil {
			return err
		}
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	// The padding after the last column is invisible but makes diffs and
	// copy-paste noisy: drop it.
	lines := strings.SplitAfter(buf.String(), "\n")
	for i, l := range lines {
		if strings.HasSuffix(l, "\n") {
			lines[i] = strings.TrimRight(l[:len(l)-1], " ") + "\n"
		}
	}
	_, err := io.WriteString(p.Out, strings.Join(lines, ""))
	return err
}

func flatten(cell string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(cell)
}

// JSON prints v as one JSON document with 2-space indentation and a final
// newline. Nothing is written if v cannot be encoded.
//
// With a query (--query), the document is searched first and the result is
// printed as az prints a queried result: -o json as az's JSON, -o tsv as
// az's tsv, -o table as az's table on a terminal and, piped, as az's tsv
// (azlin's tables lose their headers when piped, too); a null result prints
// nothing (knack/cli.py prints no result that is None).
func (p *Printer) JSON(v any) error {
	if p.Query != nil {
		return p.queried(v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "<" stays "<": this is for people and jq, not HTML
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encoding JSON output: %w", err)
	}
	_, err := p.Out.Write(buf.Bytes())
	return err
}

// Document tells whether a command prints its JSON document (with JSON)
// rather than its table or text: for -o json, and for any format when a
// query is given, since a query shapes the document.
func (p *Printer) Document() bool { return p.Format == FormatJSON || p.Query != nil }

func (p *Printer) queried(v any) error {
	r, err := p.Query.Apply(v)
	if err != nil {
		return err
	}
	if r.value == nil {
		return nil
	}
	var text string
	switch {
	case p.Format == FormatJSON:
		text = r.azJSON()
	case p.Format == FormatTable && p.OutIsTTY:
		text = r.azTable()
	default: // tsv, and a table piped: rows without headers, as azlin's tables
		text = r.azTSV()
	}
	_, err = io.WriteString(p.Out, text)
	return err
}

// Render prints jsonValue for -o json (or with a query), else t.
func (p *Printer) Render(t Table, jsonValue any) error {
	if p.Document() {
		return p.JSON(jsonValue)
	}
	return p.Table(t)
}

// Infof prints a note or progress line to Err.
func (p *Printer) Infof(format string, a ...any) {
	p.message("", "", format, a...)
}

// Warnf prints "Warning: ..." to Err (the prefix yellow on a colour terminal).
func (p *Printer) Warnf(format string, a ...any) {
	p.message("Warning:", ansiYellow, format, a...)
}

// Successf prints "✓ ..." to Err (the mark green on a colour terminal).
func (p *Printer) Successf(format string, a ...any) {
	p.message(markOK, ansiGreen, format, a...)
}

const (
	markOK      = "✓"
	markFail    = "✗"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiRed     = "\x1b[31m"
	ansiReset   = "\x1b[0m"
	clearLine   = "\r\x1b[K"
	stepPrefix  = "==>"
	spinnerTick = 120 * time.Millisecond
)

func (p *Printer) colorOn() bool { return p.ErrIsTTY && !p.NoColor }

// message writes one line to Err: an optional prefix (coloured when allowed)
// and the formatted text. If a spinner is running its line is cleared first,
// under the spinner's lock, so the two never interleave.
func (p *Printer) message(prefix, color, format string, a ...any) {
	text := strings.TrimSuffix(fmt.Sprintf(format, a...), "\n")
	if prefix != "" {
		if color != "" && p.colorOn() {
			prefix = color + prefix + ansiReset
		}
		text = prefix + " " + text
	}
	p.mu.Lock()
	s := p.spin
	p.mu.Unlock()
	if s != nil {
		s.Lock()
		defer s.Unlock()
		text = clearLine + text
	}
	fmt.Fprintln(p.Err, text)
}

func (p *Printer) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}
