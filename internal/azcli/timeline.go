package azcli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Span is one az process: what it ran and when.
type Span struct {
	Command    string // "az vm show -n vm1": the command words and the name, if any
	Start, End time.Time
}

// spanName is the command words of argv and the resource's name, if any
// (so that calls for different VMs tell apart).
func spanName(argv []string) string {
	name := "az " + commandString(argv)
	for i := 0; i+1 < len(argv); i++ {
		if argv[i] == "-n" || argv[i] == "--name" {
			return name + " -n " + argv[i+1]
		}
	}
	return name
}

// record keeps s for the timeline, under --debug only.
func (c *Client) record(s Span) {
	if c.opts.Debug == nil {
		return
	}
	c.debugMu.Lock()
	defer c.debugMu.Unlock()
	c.timeline = append(c.timeline, s)
}

// Rounds is the number of az calls one after the other that spans took: the
// longest chain of spans each starting after the one before it ended. Calls
// that overlap count once; a command whose calls all ran at once took one
// round.
func Rounds(spans []Span) int {
	s := slices.Clone(spans)
	slices.SortFunc(s, func(a, b Span) int { return a.Start.Compare(b.Start) })
	depth := make([]int, len(s))
	best := 0
	for i := range s {
		depth[i] = 1
		for j := range i {
			if !s[j].End.After(s[i].Start) {
				depth[i] = max(depth[i], depth[j]+1)
			}
		}
		best = max(best, depth[i])
	}
	return best
}

// AtOnce is, for each span, how many spans (itself included) were running
// when it started.
func AtOnce(spans []Span) []int {
	out := make([]int, len(spans))
	for i, a := range spans {
		for _, b := range spans {
			if !b.Start.After(a.Start) && b.End.After(a.Start) {
				out[i]++
			}
		}
	}
	return out
}

// WriteTimeline prints, under --debug, every az call of the command as a
// timeline: when it started (from the Client's creation), how long it took,
// how many az processes were running when it started, and a bar that shows
// which calls overlapped. Nothing without --debug.
func (c *Client) WriteTimeline(w io.Writer) {
	if c.opts.Debug == nil {
		return
	}
	c.debugMu.Lock()
	spans := slices.Clone(c.timeline)
	c.debugMu.Unlock()
	if len(spans) == 0 {
		return
	}
	slices.SortStableFunc(spans, func(a, b Span) int { return a.Start.Compare(b.Start) })
	end := c.began
	var busy time.Duration
	for _, s := range spans {
		end = later(end, s.End)
		busy += s.End.Sub(s.Start)
	}
	wall := max(end.Sub(c.began), time.Millisecond)
	atOnce := AtOnce(spans)
	fmt.Fprintf(w, "# az timeline: %d calls in %d rounds, at most %d at once; %s of az in %s\n",
		len(spans), Rounds(spans), slices.Max(atOnce), busy.Round(time.Millisecond), wall.Round(time.Millisecond))
	fmt.Fprintf(w, "#   %8s %8s %4s  %-*s  %s\n", "start", "took", "live", barWidth+2, "", "call")
	for i, s := range spans {
		from, to := s.Start.Sub(c.began), s.End.Sub(c.began)
		a := int(int64(barWidth) * int64(from) / int64(wall))
		b := max(a+1, int(int64(barWidth)*int64(to)/int64(wall)))
		bar := strings.Repeat(" ", a) + strings.Repeat("=", min(b, barWidth)-a) + strings.Repeat(" ", max(0, barWidth-b))
		fmt.Fprintf(w, "#   %8s %8s %4d  |%s|  %s\n", "+"+seconds(from), seconds(to-from), atOnce[i], bar, s.Command)
	}
}

const barWidth = 40

func seconds(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
