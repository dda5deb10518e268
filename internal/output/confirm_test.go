package output

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/clierr"
)

func TestConfirmYesFlagDoesNotAsk(t *testing.T) {
	var errOut bytes.Buffer
	in := strings.NewReader("n\n")
	ok, err := Confirm(in, false, &errOut, "Delete storage shared-dev?", true)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Empty(t, errOut.String(), "no prompt with --yes")
	assert.Equal(t, len("n\n"), in.Len(), "stdin untouched")
}

func TestConfirmAnswers(t *testing.T) {
	cases := []struct {
		input string
		want  bool
	}{
		{"y\n", true}, {"Y\n", true}, {"yes\n", true}, {" YES \r\n", true}, {"y", true},
		{"\n", false}, {"", false}, {"n\n", false}, {"no\n", false}, {"yep\n", false}, {"sure\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.input, func(t *testing.T) {
			var errOut bytes.Buffer
			ok, err := Confirm(strings.NewReader(tc.input), true, &errOut, "Delete storage shared-dev?", false)
			assert.Equal(t, tc.want, ok)
			if tc.want {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, clierr.ErrCancelled)
			}
			assert.True(t, strings.HasPrefix(errOut.String(), "Delete storage shared-dev? [y/N]: "), errOut.String())
		})
	}
}

func TestConfirmReadsOnlyItsLine(t *testing.T) {
	in := strings.NewReader("y\nnext input\n")
	ok, err := Confirm(in, true, &bytes.Buffer{}, "Go?", false)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, len("next input\n"), in.Len())
}

func TestConfirmWithoutTerminalRefuses(t *testing.T) {
	var errOut bytes.Buffer
	ok, err := Confirm(strings.NewReader("y\n"), false, &errOut, "Delete storage shared-dev?", false)
	assert.False(t, ok)
	require.Error(t, err)
	assert.True(t, clierr.IsUsage(err))
	assert.Equal(t, "Delete storage shared-dev: refusing to go ahead without confirmation: pass --yes (-y) to confirm when not running interactively", err.Error())
	assert.Empty(t, errOut.String(), "no prompt is shown to nobody")
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("input/output error") }

func TestConfirmReadErrorIsNotAYes(t *testing.T) {
	ok, err := Confirm(failingReader{}, true, &bytes.Buffer{}, "Go?", false)
	assert.False(t, ok)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "input/output error")
	assert.NotErrorIs(t, err, clierr.ErrCancelled)
}
