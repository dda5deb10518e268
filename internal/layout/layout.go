// Package layout describes how a shared home is laid out across the VMs
// that share it: which paths under the home are per-VM local, and
// which VM-wide settings azlin writes, because sharing one home breaks some
// tools in known ways (VS Code server locks, Unix sockets, caches, shell
// history). A layout is data; the VM scripts (package vmscript) apply its Resolved form.
//
// Built-in layouts are `developer` (the default) and `minimal`. Users add
// their own as TOML files, ~/.azlin/layouts/<name>.toml:
//
//	description = "my tools"
//	local = [".cache", ".vscode-server", ".cargo/registry"]
//	settings = ["ssh-control-path", "shell-history-per-vm"]
//
// A per-VM local path P becomes, in the shared home, a symlink
// P -> /var/lib/azlin-local/<user>/P: the same absolute path on every VM,
// pointing at each VM's own disk. A symlink works for every tool, also for
// non-interactive ssh sessions (VS Code's `ssh -T host bash`), which read no
// profile scripts.
package layout

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Default is the layout of a storage that names none.
const Default = "developer"

// LocalRoot is where a user's per-VM local paths live on each VM's own disk:
// each local path P of a layout is a symlink from the home to LocalRoot/P.
func LocalRoot(user string) string { return "/var/lib/azlin-local/" + user }

// Layout is one layout.
type Layout struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Builtin     bool     `json:"builtin"`
	Local       []string `json:"local"`    // paths relative to the home, each on the VM's own disk
	Settings    []string `json:"settings"` // names of Settings
}

// Setting is a VM-wide setting a layout may ask for: files azlin owns.
type Setting struct {
	Name, Why string
	Files     []SettingFile
}

// Paths are the setting's files, for people to read.
func (s Setting) Paths() []string {
	var out []string
	for _, f := range s.Files {
		out = append(out, f.Path)
	}
	return out
}

// Settings are the settings azlin knows, by name. Each is whole files that
// azlin writes and, when the layout no longer asks for them or the VM is
// detached, removes (SettingFile: never a file that is not azlin's).
// Drop-in folders where there are some. zsh has none for interactive shells:
// azlin adds one line to /etc/zsh/zshrc (when zsh is installed) that reads
// its file. That line makes dpkg see the file as changed, so an upgrade of
// zsh-common that changes it asks (unattended upgrades leave it to you);
// bash's /etc/bash.bashrc is not touched for that reason (bash is essential).
var Settings = map[string]Setting{
	"ssh-control-path": {
		Name: "ssh-control-path",
		Why:  "ssh ControlMaster sockets in /run/user/<uid> on each VM: a socket in the shared home is only a name on NFS, and another VM unlinks it as stale",
		Files: []SettingFile{{Path: "/etc/ssh/ssh_config.d/50-azlin.conf", Content: `# azlin (layout setting ssh-control-path): ssh control sockets on this VM's
# own /run, not in the shared home, where another VM would find a socket name
# it cannot use and unlink it as stale.
Host *
    ControlPath /run/user/%i/ssh-%C
`}},
	},
	"shell-history-per-vm": {
		Name: "shell-history-per-vm",
		Why: "one shell history file per VM (bash login shells and the shells they start; zsh, which also locks it: HIST_FCNTL_LOCK): " +
			"shells on several VMs writing one file in the shared home clobber it",
		Files: []SettingFile{
			{Path: "/etc/profile.d/azlin-history.sh", Content: `# azlin (layout setting shell-history-per-vm): one bash history file per VM
# in the shared home, since shells on several VMs writing one file clobber
# it. Exported, so that the shells a login shell starts (tmux, bash) keep it.
if [ -n "${BASH_VERSION:-}" ]; then
  export HISTFILE="$HOME/.bash_history.${HOSTNAME:-$(hostname)}"
  shopt -s histappend
fi
`},
			{Path: "/etc/azlin/zsh-history.zsh", Hooks: []string{"/etc/zsh/zshrc"}, Content: `# azlin (layout setting shell-history-per-vm): one zsh history file per VM in
# the shared home, since shells on several VMs writing one file clobber it,
# and fcntl locks on it (they work on Azure Files NFS) for a user whose own
# HISTFILE points every VM at one file. Read by a line in /etc/zsh/zshrc.
HISTFILE="$HOME/.zsh_history.${HOST:-$(hostname)}"
setopt HIST_FCNTL_LOCK
`},
		},
	},
	"git-fsmonitor-off": {
		Name: "git-fsmonitor-off",
		Why:  "git's file system monitor off in the system git config (core.fsmonitor=false): its daemon keeps a Unix socket in the repository's .git, only a name to the other VMs",
		Files: []SettingFile{{Path: "/etc/gitconfig", Content: `# azlin (layout setting git-fsmonitor-off): git's file system monitor off on
# this VM: its daemon keeps a Unix socket in the repository's .git, which in
# the shared home is only a name to the other VMs. A user's ~/.gitconfig
# still decides for that user. azlin writes this file only where there was
# none, and removes it with the setting.
[core]
	fsmonitor = false
`}},
	},
}

var builtins = []Layout{
	{
		Name:        "developer",
		Description: "per-VM VS Code server, caches, npm, container storage; ssh control sockets and shell history per VM; git's fsmonitor off",
		Builtin:     true,
		Local: []string{
			".vscode-server",          // VS Code keeps pid/port/lock files there, keyed by version, not host
			".cache",                  // tools' caches: concurrent writers from several VMs corrupt them
			".npm",                    // npm's cache (npm/cli #1484)
			".local/share/containers", // rootless Podman storage: unsupported on NFS
			".local/share/docker",     // rootless Docker storage: unsupported on NFS
		},
		Settings: []string{"ssh-control-path", "shell-history-per-vm", "git-fsmonitor-off"},
	},
	{
		Name:        "minimal",
		Description: "only ssh control sockets on each VM's /run; everything in the home is shared",
		Builtin:     true,
		Local:       []string{},
		Settings:    []string{"ssh-control-path"},
	},
}

func (l Layout) clone() Layout {
	l.Local = append([]string{}, l.Local...)
	l.Settings = append([]string{}, l.Settings...)
	return l
}

var (
	nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	partRe = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
)

// MaxLocal bounds a layout's local paths (the attach script's output, which
// run-command cuts at 4096 bytes, reports on each).
const MaxLocal = 24

// ValidateName checks a layout name: 1-32 lowercase letters, digits and
// hyphens, starting with a letter or digit (it is kept in an Azure tag and
// names a file).
func ValidateName(name string) error {
	if !nameRe.MatchString(name) {
		return fmt.Errorf("layout name %q must be 1-32 lowercase letters, digits and hyphens, starting with a letter or digit", name)
	}
	return nil
}

// Validate checks a layout: its name, that every local path is a clean
// relative path inside the home that is not the home itself, ~/.ssh (the
// keys must stay shared) or azlin's own, that no path lies inside another,
// and that every setting is known.
func (l Layout) Validate() error {
	if err := validateNameAndLocal(l.Name, l.Local); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, s := range l.Settings {
		if _, ok := Settings[s]; !ok {
			return fmt.Errorf("layout %s: unknown setting %q (known: %s)", l.Name, s, strings.Join(SettingNames(), ", "))
		}
		if seen[s] {
			return fmt.Errorf("layout %s: setting %q is listed twice", l.Name, s)
		}
		seen[s] = true
	}
	return nil
}

// validateNameAndLocal is the one check of a layout's name and local paths,
// for layouts as users write them and as the scripts take them.
func validateNameAndLocal(name string, local []string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if len(local) > MaxLocal {
		return fmt.Errorf("layout %s has %d local paths; at most %d", name, len(local), MaxLocal)
	}
	for _, p := range local {
		if err := validateLocalPath(p); err != nil {
			return fmt.Errorf("layout %s: %w", name, err)
		}
	}
	sorted := append([]string{}, local...)
	sort.Strings(sorted)
	for i := 1; i < len(sorted); i++ {
		a, b := sorted[i-1], sorted[i]
		if a == b {
			return fmt.Errorf("layout %s: local path %q is listed twice", name, a)
		}
		if strings.HasPrefix(b, a+"/") {
			return fmt.Errorf("layout %s: local path %q lies inside local path %q; list only %q", name, b, a, a)
		}
	}
	return nil
}

func validateLocalPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "~") {
		return fmt.Errorf("local path %q must be relative to the home, e.g. \".cache\"", p)
	}
	if path.Clean(p) != p {
		return fmt.Errorf("local path %q is not clean (no trailing slash, no doubled slashes or . and ..)", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "." || part == ".." || !partRe.MatchString(part) {
			return fmt.Errorf("local path %q may hold only letters, digits, '.', '_' and '-' in each part, and no . or ..", p)
		}
	}
	first := strings.Split(p, "/")[0]
	switch {
	case first == ".ssh":
		return fmt.Errorf("local path %q: ~/.ssh stays shared (it holds the keys every VM logs in with)", p)
	case strings.HasPrefix(first, ".azlin-"), first == ".snapshot":
		return fmt.Errorf("local path %q: names starting with .azlin- and .snapshot are the share's own", p)
	}
	return nil
}

// SettingNames are the known settings, sorted.
func SettingNames() []string {
	var out []string
	for n := range Settings {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// file is the TOML form of a user layout.
type file struct {
	Description string   `toml:"description"`
	Local       []string `toml:"local"`
	Settings    []string `toml:"settings"`
}

// Parse reads a user layout file's content. Unknown keys, wrong types and
// invalid paths or settings are errors that say what to fix.
func Parse(name string, data []byte) (Layout, error) {
	var f file
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var strict *toml.StrictMissingError
		var de *toml.DecodeError
		switch {
		case errors.As(err, &strict):
			var keys []string
			for _, e := range strict.Errors {
				keys = append(keys, strings.Join(e.Key(), "."))
			}
			return Layout{}, fmt.Errorf("unknown key(s) %s (a layout has description, local and settings)", strings.Join(keys, ", "))
		case errors.As(err, &de):
			row, col := de.Position()
			return Layout{}, fmt.Errorf("line %d, column %d: %s", row, col, de.Error())
		}
		return Layout{}, err
	}
	l := Layout{Name: name, Description: f.Description, Local: f.Local, Settings: f.Settings}
	if l.Local == nil {
		l.Local = []string{}
	}
	if l.Settings == nil {
		l.Settings = []string{}
	}
	if err := l.Validate(); err != nil {
		return Layout{}, err
	}
	return l, nil
}

// NotFoundError is a layout that is neither built in nor a file in dir.
type NotFoundError struct {
	Name, Dir string
	Known     []string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("layout %q is not a built-in layout nor a file %s; layouts here: %s",
		e.Name, filepath.Join(e.Dir, e.Name+".toml"), strings.Join(e.Known, ", "))
}

// Load finds a layout by name: a built-in one, or dir/<name>.toml (dir is
// ~/.azlin/layouts). "" is the Default. A user file may not take a built-in's name.
func Load(dir, name string) (Layout, error) {
	if name == "" {
		name = Default
	}
	if err := ValidateName(name); err != nil {
		return Layout{}, err
	}
	for _, b := range builtins {
		if b.Name == name {
			return b.clone(), nil
		}
	}
	p := filepath.Join(dir, name+".toml")
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		known, _ := Names(dir)
		return Layout{}, &NotFoundError{Name: name, Dir: dir, Known: known}
	}
	if err != nil {
		return Layout{}, fmt.Errorf("reading layout %s: %w", p, err)
	}
	l, err := Parse(name, data)
	if err != nil {
		return Layout{}, fmt.Errorf("layout file %s: %w", p, err)
	}
	return l, nil
}

// Names lists the layouts: the built-in ones, then dir's *.toml files.
func Names(dir string) ([]string, error) {
	var out []string
	for _, b := range builtins {
		out = append(out, b.Name)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		return out, err
	}
	for _, f := range files {
		n := strings.TrimSuffix(filepath.Base(f), ".toml")
		if ValidateName(n) == nil && !isBuiltin(n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func isBuiltin(name string) bool {
	for _, b := range builtins {
		if b.Name == name {
			return true
		}
	}
	return false
}
