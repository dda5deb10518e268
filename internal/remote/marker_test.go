package remote

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runBash(t *testing.T, body string) string {
	t.Helper()
	out, _ := exec.Command("bash", "-c", Prelude+body).Output()
	return string(out)
}

func TestPreludeReportsSuccess(t *testing.T) {
	out := runBash(t, "azlin_step mount\nazlin_info backup /home/azureuser.backup\necho noise\nazlin_ok\n")
	res, err := Parse(out)
	require.NoError(t, err)
	assert.True(t, res.OK)
	assert.Equal(t, "mount", res.Step)
	assert.Equal(t, "/home/azureuser.backup", res.Info["backup"])
	assert.NoError(t, res.Err())
}

func TestPreludeReportsExplicitFailure(t *testing.T) {
	res, err := Parse(runBash(t, "azlin_step uid-check\nazlin_fail uid 1000 belongs to bob\n"))
	require.NoError(t, err)
	assert.False(t, res.OK)
	assert.Equal(t, "uid-check", res.Step)
	assert.Equal(t, "uid 1000 belongs to bob", res.Reason)
	assert.EqualError(t, res.Err(), `step "uid-check" failed: uid 1000 belongs to bob`)
}

func TestPreludeTurnsUnexpectedErrorsIntoFailureMarker(t *testing.T) {
	res, err := Parse(runBash(t, "azlin_step copy\nfalse\nazlin_ok\n"))
	require.NoError(t, err)
	assert.False(t, res.OK)
	assert.Equal(t, "copy", res.Step)
	assert.Contains(t, res.Reason, "false")
}

func TestParseWithoutMarkerIsFailure(t *testing.T) {
	_, err := Parse("[stdout]\nsome output\n[stderr]\n")
	assert.ErrorIs(t, err, ErrNoMarker)
	// output cut at the front (run-command keeps the last 4096 bytes) still finds the marker
	cut := strings.Repeat("x", 5000) + "\n##azlin-result## status=ok step=verify reason=\n"
	res, err := Parse(cut[len(cut)-4096:])
	require.NoError(t, err)
	assert.True(t, res.OK)
}

func TestParseRejectsMalformedMarker(t *testing.T) {
	_, err := Parse("##azlin-result## status=maybe\n")
	assert.Error(t, err)
}
