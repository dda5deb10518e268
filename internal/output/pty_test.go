package output

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// openPTY returns a pseudo-terminal pair: what is written to tty can be read
// from pty. Only the standard library and x/sys: /dev/ptmx, unlock, name.
func openPTY(t *testing.T) (pty, tty *os.File) {
	t.Helper()
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	require.NoError(t, err)
	require.NoError(t, unix.IoctlSetPointerInt(int(pty.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(int(pty.Fd()), unix.TIOCGPTN)
	require.NoError(t, err)
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	return pty, tty
}

func TestSpinnerOnARealTerminal(t *testing.T) {
	pty, tty := openPTY(t)
	defer pty.Close()
	read := make(chan string)
	go func() {
		var b bytes.Buffer
		_, _ = io.Copy(&b, pty) // ends with EIO once tty is closed
		read <- b.String()
	}()

	var out bytes.Buffer
	p := &Printer{Out: &out, Err: tty, ErrIsTTY: IsTerminal(tty), NoColor: true}
	require.True(t, p.ErrIsTTY)
	pr := p.StartProgress("Creating storage")
	pr.Step("creating file share")
	time.Sleep(3 * spinnerTick)
	p.Warnf("slow")
	time.Sleep(2 * spinnerTick)
	pr.Done("Created")
	require.NoError(t, tty.Close())
	got := <-read

	assert.Contains(t, got, "\x1b[?25l", "cursor hidden while spinning")
	assert.Contains(t, got, " Creating storage: creating file share (0s)", "the spinner shows title, step and elapsed time")
	assert.Contains(t, got, "\r\x1b[KWarning: slow\r\n", "a message clears the spinner line first")
	assert.Contains(t, got, "\x1b[?25h", "cursor shown again")
	assert.Regexp(t, `\x1b\[\?25h\r\x1b\[K✓ Created \(\d+s\)\r\n$`, got, "the spinner line is erased and replaced by the result")
	assert.Empty(t, out.String())
}
