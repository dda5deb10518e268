// An external test package, so that it may use the script generator, which
// imports package layout.
package layout_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// Every setting's file passes the scripts' own checks (drop-in folders only).
func TestSettingsAreDropInFilesTheScriptsAccept(t *testing.T) {
	all := layout.Layout{Name: "all", Local: []string{}, Settings: layout.SettingNames()}
	require.NoError(t, all.Validate())
	_, err := vmscript.LayoutScript(vmscript.LayoutParams{Tier: nfs.Premium, Layout: all.Resolve(), Timestamp: "T"})
	assert.NoError(t, err)
	for name, s := range layout.Settings {
		assert.Equal(t, name, s.Name)
		require.NotEmpty(t, s.Files, name)
		for _, f := range s.Files {
			assert.True(t, strings.HasPrefix(f.Content, "# azlin (layout setting "+name+")"), name)
			assert.True(t, strings.HasSuffix(f.Content, "\n"), name)
		}
	}
}
