package shell

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuoteRoundTripsThroughSh(t *testing.T) {
	hostile := []string{
		"", "plain", "with space", "it's", `"double"`, "$(touch /tmp/pwned)", "`id`",
		"a;b", "new\nline", "tab\there", "*", "~", "--flag", "back\\slash", "'", "''", "ünïcode",
	}
	for _, s := range hostile {
		out, err := exec.Command("sh", "-c", "printf %s "+Quote(s)).Output()
		require.NoError(t, err, s)
		assert.Equal(t, s, string(out), "quoting %q", s)
	}
}

func TestQuoteLeavesSafeWordsBare(t *testing.T) {
	assert.Equal(t, "--name", Quote("--name"))
	assert.Equal(t, "'a b'", Quote("a b"))
	assert.Equal(t, `'it'"'"'s'`, Quote("it's"))
	assert.Equal(t, "az storage account show -n 'x y'", "az "+Join([]string{"storage", "account", "show", "-n", "x y"}))
}
