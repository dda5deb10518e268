//go:build localcloud

package azemu_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// az replaces an argument "@PATH" with the file's content (trailing newlines
// dropped) and keeps the argument as typed when the file cannot be read.
func TestRunCommandScriptsFromFile(t *testing.T) {
	c := newCloud(t)
	c.env["AZEMU_HOSTS"] = "1"
	t.Cleanup(func() { c.run("__azemu-down") })
	c.base()
	_, pub := sshKeyPair(t)
	c.ok("vm", "create", "-g", "rg", "-n", "vm1", "--image", "Ubuntu2204", "--ssh-key-values", pub, "-o", "none")

	script := "echo from-script; hostname >&2"
	file := filepath.Join(t.TempDir(), "script.sh")
	require.NoError(t, os.WriteFile(file, []byte(script+"\n\n"), 0o644))
	inline := c.runScript("vm1", script)
	assert.Equal(t, "Enable succeeded: \n[stdout]\nfrom-script\n\n[stderr]\nvm1\n", inline)
	assert.Equal(t, inline, c.runScript("vm1", "@"+file), "--scripts @FILE runs the file's content")

	missing := filepath.Join(t.TempDir(), "missing.sh")
	msg := c.runScript("vm1", "@"+missing)
	assert.Contains(t, msg, "@"+missing, "an unreadable @FILE is run as the literal text")
	assert.NotContains(t, msg, "from-script")
}
