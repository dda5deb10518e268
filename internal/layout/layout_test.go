package layout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuiltinsAreValidAndDeveloperIsTheDefault(t *testing.T) {
	names := []string{}
	for _, l := range builtins {
		require.NoError(t, l.Validate(), l.Name)
		names = append(names, l.Name)
	}
	assert.Equal(t, []string{"developer", "minimal"}, names)
	l, err := Load(t.TempDir(), "")
	require.NoError(t, err)
	assert.Equal(t, "developer", l.Name)
	assert.Equal(t, []string{".vscode-server", ".cache", ".npm", ".local/share/containers", ".local/share/docker"}, l.Local)
	assert.Equal(t, []string{"ssh-control-path", "shell-history-per-vm", "git-fsmonitor-off"}, l.Settings)
	m, err := Load(t.TempDir(), "minimal")
	require.NoError(t, err)
	assert.Empty(t, m.Local)
	assert.Equal(t, []string{"ssh-control-path"}, m.Settings)

	// Load returns a copy: changing it does not change the built-in.
	l.Local[0] = "changed"
	again, _ := Load(t.TempDir(), "developer")
	assert.Equal(t, ".vscode-server", again.Local[0])
}

func TestUserLayoutFromFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rust.toml"), []byte(`# my layout
description = "rust work"
local = [".cargo/registry", "target-cache"]
settings = ["shell-history-per-vm"]
`), 0o600))
	l, err := Load(dir, "rust")
	require.NoError(t, err)
	assert.Equal(t, Layout{Name: "rust", Description: "rust work", Local: []string{".cargo/registry", "target-cache"},
		Settings: []string{"shell-history-per-vm"}}, l)
	names, err := Names(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"developer", "minimal", "rust"}, names)

	s := l.Resolve()
	assert.Equal(t, Resolved{Name: "rust", Local: []string{".cargo/registry", "target-cache"},
		Files: Settings["shell-history-per-vm"].Files}, s)
	assert.Equal(t, "/etc/profile.d/azlin-history.sh", s.Files[0].Path)
	assert.Empty(t, s.Files[0].Hooks, "bash's own bash.bashrc is not edited")
	assert.Equal(t, "/etc/azlin/zsh-history.zsh", s.Files[1].Path)
	assert.Equal(t, []string{"/etc/zsh/zshrc"}, s.Files[1].Hooks)
}

// Bad layout files are rejected with an error that says what to fix.
func TestBadLayoutFilesAreRejectedClearly(t *testing.T) {
	for _, tc := range []struct{ name, content, says string }{
		{"syntax", "local = [\".cache\"\n", "line 2, column 1: toml: expected character ]"},
		{"unknown key", "local = []\nlocals = [\".cache\"]\n", "unknown key(s) locals (a layout has description, local and settings)"},
		{"wrong type", "local = \".cache\"\n", "line 1, column 9: toml: cannot decode TOML string into struct field layout.file.Local of type []string"},
		{"absolute path", "local = [\"/etc\"]\n", `local path "/etc" must be relative to the home`},
		{"tilde", "local = [\"~/.cache\"]\n", `must be relative to the home`},
		{"dotdot", "local = [\".cache/../../etc\"]\n", `local path ".cache/../../etc" is not clean`},
		{"dot part", "local = [\"a/./b\"]\n", `is not clean`},
		{"trailing slash", "local = [\".cache/\"]\n", `is not clean`},
		{"space", "local = [\"my cache\"]\n", `may hold only letters, digits`},
		{"ssh", "local = [\".ssh\"]\n", "~/.ssh stays shared"},
		{"ssh inside", "local = [\".ssh/sockets\"]\n", "~/.ssh stays shared"},
		{"azlin's", "local = [\".azlin-lock\"]\n", "are the share's own"},
		{"empty", "local = [\"\"]\n", "must be relative to the home"},
		{"nested", "local = [\".local\", \".local/share/containers\"]\n", `local path ".local/share/containers" lies inside local path ".local"`},
		{"twice", "local = [\".npm\", \".npm\"]\n", `".npm" is listed twice`},
		{"unknown setting", "settings = [\"git-fsmonitor\"]\n", `unknown setting "git-fsmonitor" (known: git-fsmonitor-off, shell-history-per-vm, ssh-control-path)`},
		{"setting twice", "settings = [\"ssh-control-path\", \"ssh-control-path\"]\n", `setting "ssh-control-path" is listed twice`},
		{"too many", "local = [" + manyPaths(MaxLocal+1) + "]\n", "at most 24"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.toml"), []byte(tc.content), 0o600))
			_, err := Load(dir, "bad")
			require.Error(t, err)
			assert.Contains(t, err.Error(), filepath.Join(dir, "bad.toml"), "the error names the file")
			assert.Contains(t, err.Error(), tc.says)
		})
	}
}

func manyPaths(n int) string {
	var p []string
	for i := 0; i < n; i++ {
		p = append(p, `"p`+strings.Repeat("x", i)+`"`)
	}
	return strings.Join(p, ", ")
}

func TestLoadNamesWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir, "nope")
	var nf *NotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, `layout "nope" is not a built-in layout nor a file `+filepath.Join(dir, "nope.toml")+`; layouts here: developer, minimal`, err.Error())
	_, err = Load(dir, "Bad Name")
	assert.EqualError(t, err, `layout name "Bad Name" must be 1-32 lowercase letters, digits and hyphens, starting with a letter or digit`)
}
