package output

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/briandowns/spinner"
)

// Progress reports a long operation's steps on Err. Call Done or Fail once at
// the end; later calls do nothing.
type Progress interface {
	Step(msg string) // the step now running
	Done(msg string) // finished well; "" repeats the title
	Fail(msg string) // finished badly; "" repeats the title
}

// StartProgress begins reporting an operation called title.
//
// On a terminal (and not -o json) a spinner shows "title: step (elapsed)" and
// the end is one "✓ msg (elapsed)" or "✗ msg (elapsed)" line. Anywhere else
// each step is a plain "==> step" line, with no times, so logs and
// transcripts are stable; the end is "✓ msg" or "✗ msg".
func (p *Printer) StartProgress(title string) Progress {
	if !p.ErrIsTTY || p.Format == FormatJSON {
		p.message(stepPrefix, "", "%s", title)
		return &lineProgress{p: p, title: title}
	}
	sp := &spinProgress{p: p, title: title, start: p.clock()}
	// The spinner needs the real file to draw on; with any other writer
	// (tests) only the final line is printed.
	if f, ok := p.Err.(*os.File); ok {
		s := spinner.New(spinner.CharSets[14], spinnerTick, spinner.WithWriterFile(f))
		s.PreUpdate = func(s *spinner.Spinner) { s.Suffix = " " + sp.label() }
		sp.s = s
		p.mu.Lock()
		p.spin = s
		p.mu.Unlock()
		s.Start()
	}
	return sp
}

// lineProgress is the plain form: one line per event.
type lineProgress struct {
	p     *Printer
	title string
	mu    sync.Mutex
	ended bool
}

func (l *lineProgress) Step(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ended {
		l.p.message(stepPrefix, "", "%s", msg)
	}
}

func (l *lineProgress) Done(msg string) { l.end(markOK, ansiGreen, msg) }
func (l *lineProgress) Fail(msg string) { l.end(markFail, ansiRed, msg) }

func (l *lineProgress) end(mark, color, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return
	}
	l.ended = true
	if msg == "" {
		msg = l.title
	}
	l.p.message(mark, color, "%s", msg)
}

// spinProgress is the terminal form.
type spinProgress struct {
	p     *Printer
	title string
	start time.Time
	s     *spinner.Spinner // nil when Err is not a file

	// mu guards step and ended. Lock order: never hold mu while taking the
	// spinner's lock, because the spinner calls label (which takes mu) while
	// holding its own.
	mu    sync.Mutex
	step  string
	ended bool
}

func (sp *spinProgress) label() string {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	text := sp.title
	if sp.step != "" {
		text += ": " + sp.step
	}
	return fmt.Sprintf("%s (%s)", text, sp.elapsed())
}

func (sp *spinProgress) elapsed() string {
	return sp.p.clock().Sub(sp.start).Round(time.Second).String()
}

func (sp *spinProgress) Step(msg string) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.step = msg
}

func (sp *spinProgress) Done(msg string) { sp.end(markOK, ansiGreen, msg) }
func (sp *spinProgress) Fail(msg string) { sp.end(markFail, ansiRed, msg) }

func (sp *spinProgress) end(mark, color, msg string) {
	sp.mu.Lock()
	if sp.ended {
		sp.mu.Unlock()
		return
	}
	sp.ended = true
	sp.mu.Unlock()

	if sp.s != nil {
		sp.s.Stop() // erases the spinner line and shows the cursor again
		sp.p.mu.Lock()
		if sp.p.spin == sp.s {
			sp.p.spin = nil
		}
		sp.p.mu.Unlock()
	}
	if msg == "" {
		msg = sp.title
	}
	sp.p.message(mark, color, "%s (%s)", msg, sp.elapsed())
}
