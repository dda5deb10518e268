package layout

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Resolved is a layout as the VM scripts apply it: its settings resolved to
// the files azlin writes. A zero Resolved (no Name) leaves whatever layout a
// VM has untouched.
type Resolved struct {
	Name  string
	Local []string      // relative to the home, each on the VM's own disk
	Files []SettingFile // written whole, removed when no longer asked for
}

// SettingFile is one VM-wide setting: a whole file azlin owns. It is
// written only where no file is, or where the file is azlin's (its first line
// starts with "# azlin"), and removed only when it is azlin's; a file of
// someone else's at that path is left alone and reported as a conflict.
type SettingFile struct {
	Path, Content string
	// Hooks are files of the system that get one line reading Path, for
	// tools without a drop-in folder (Debian's zsh reads no /etc/profile.d).
	// A hook file that does not exist (zsh not installed) is left out. Only
	// for files in /etc/azlin/.
	Hooks []string
}

// Resolve is the layout as the scripts take it. The layout is expected to be
// valid (Load and Parse return only valid layouts).
func (l Layout) Resolve() Resolved {
	r := Resolved{Name: l.Name, Local: append([]string{}, l.Local...)}
	for _, name := range l.Settings {
		r.Files = append(r.Files, Settings[name].Files...)
	}
	return r
}

// settingDirs are the folders a setting file may be in: drop-in folders,
// whose files the system reads as a whole, and azlin's own folder, whose
// files are read through hook lines. settingWholeFiles are the files of the
// system azlin may own whole (where none is, as on a fresh Ubuntu VM).
// settingHooks are the files that may get a hook line.
var (
	settingDirs       = []string{"/etc/ssh/ssh_config.d/", "/etc/profile.d/", hookedDir}
	settingWholeFiles = []string{"/etc/gitconfig"}
	settingHooks      = []string{"/etc/zsh/zshrc"}
)

const hookedDir = "/etc/azlin/"

var settingPathRe = regexp.MustCompile(`^(/[A-Za-z0-9._-]+)+$`)

// Validate checks a resolved layout before a script is generated from it:
// the name and local paths as Layout.Validate checks them, and that every
// setting file is azlin's (starts with "# azlin") and lies directly in a
// drop-in folder, so that nothing can leave the home or a drop-in folder.
func (r Resolved) Validate() error {
	if r.Name == "" {
		if len(r.Local) > 0 || len(r.Files) > 0 {
			return fmt.Errorf("a layout with paths or settings needs a name")
		}
		return nil
	}
	if err := validateNameAndLocal(r.Name, r.Local); err != nil {
		return err
	}
	for _, f := range r.Files {
		ok := slices.Contains(settingWholeFiles, f.Path)
		for _, d := range settingDirs {
			if strings.HasPrefix(f.Path, d) && settingPathRe.MatchString(f.Path) && path.Clean(f.Path) == f.Path && path.Dir(f.Path)+"/" == d {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("layout %s: setting file %q must be directly in one of %s, or one of %s",
				r.Name, f.Path, strings.Join(settingDirs, ", "), strings.Join(settingWholeFiles, ", "))
		}
		if !strings.HasPrefix(f.Content, "# azlin") {
			return fmt.Errorf("layout %s: setting file %s must start with a line \"# azlin ...\" (how azlin knows its own files)", r.Name, f.Path)
		}
		for _, hk := range f.Hooks {
			if !slices.Contains(settingHooks, hk) || path.Dir(f.Path)+"/" != hookedDir {
				return fmt.Errorf("layout %s: setting file %s may hook into %s only from %s", r.Name, f.Path, strings.Join(settingHooks, ", "), hookedDir)
			}
		}
		if strings.ContainsRune(f.Content, 0) {
			return fmt.Errorf("layout %s: setting file %s holds a NUL byte", r.Name, f.Path)
		}
	}
	return nil
}
