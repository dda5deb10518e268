package output

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/azlin-dev/azlin/internal/clierr"
)

// Confirm asks prompt on errOut and reads one line from in. The default is
// No. yes (from --yes) answers for the user without asking. Without a
// terminal on stdin and without yes, it refuses (a usage error) rather than
// reading an answer a script never meant to give. y, Y, yes (any case) mean
// yes; anything else, an empty line or end of input is No and returns
// clierr.ErrCancelled.
func Confirm(in io.Reader, inIsTTY bool, errOut io.Writer, prompt string, yes bool) (bool, error) {
	if yes {
		return true, nil
	}
	if !inIsTTY {
		return false, clierr.Usagef("%s: refusing to go ahead without confirmation: pass --yes (-y) to confirm when not running interactively", strings.TrimRight(prompt, "? "))
	}
	fmt.Fprintf(errOut, "%s [y/N]: ", prompt)
	answer, complete, err := readLine(in)
	if !complete {
		fmt.Fprintln(errOut) // end of input: end the prompt's line ourselves
	}
	if err != nil {
		return false, fmt.Errorf("reading the answer to %q: %w", prompt, err)
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return true, nil
	}
	return false, clierr.ErrCancelled
}

// readLine reads up to a newline one byte at a time, so nothing after the
// answer is consumed from stdin (a buffered reader would swallow it).
// complete is false when input ended without a newline.
func readLine(in io.Reader) (line string, complete bool, err error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := in.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return b.String(), true, nil
			}
			b.WriteByte(buf[0])
		}
		if errors.Is(err, io.EOF) {
			return b.String(), false, nil
		}
		if err != nil {
			return "", false, err
		}
	}
}
