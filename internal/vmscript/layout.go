package vmscript

import (
	_ "embed"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

//go:embed sh/layout.sh
var layoutSh string

//go:embed sh/layout-apply.sh
var layoutApplySh string

// Layout is a shared-home layout as the scripts apply it (package layout
// builds it from a named layout): the paths under the home that live on
// each VM's own disk, and the VM-wide setting files azlin writes. A zero
// Layout (no Name) leaves whatever layout a VM has untouched.
type Layout struct {
	Name  string
	Local []string      // relative to the home: each becomes home/P -> LocalRoot(user)/P
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

// LocalRoot is where a user's per-VM local paths live on each VM's disk.
func LocalRoot(user string) string { return "/var/lib/azlin-local/" + user }

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

var (
	layoutNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	localPathRe  = regexp.MustCompile(`^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$`)
)

// validate is the scripts' own check (package layout checks more, with
// friendlier messages): nothing that could leave the home or a drop-in folder.
func (l Layout) validate() error {
	if l.Name == "" {
		if len(l.Local) > 0 || len(l.Files) > 0 {
			return fmt.Errorf("a layout with paths or settings needs a name")
		}
		return nil
	}
	if !layoutNameRe.MatchString(l.Name) {
		return fmt.Errorf("layout name %q is not 1-32 lowercase letters, digits and hyphens", l.Name)
	}
	for _, p := range l.Local {
		if !localPathRe.MatchString(p) || path.Clean(p) != p || strings.HasPrefix(p, ".ssh") || strings.HasPrefix(p, ".azlin-") {
			return fmt.Errorf("layout %s: local path %q must be a clean relative path inside the home, not ~/.ssh nor azlin's", l.Name, p)
		}
		for _, part := range strings.Split(p, "/") {
			if part == "." || part == ".." {
				return fmt.Errorf("layout %s: local path %q must not contain . or ..", l.Name, p)
			}
		}
	}
	for _, f := range l.Files {
		ok := slices.Contains(settingWholeFiles, f.Path)
		for _, d := range settingDirs {
			if strings.HasPrefix(f.Path, d) && pathRe.MatchString(f.Path) && path.Clean(f.Path) == f.Path && path.Dir(f.Path)+"/" == d {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("layout %s: setting file %q must be directly in one of %s, or one of %s",
				l.Name, f.Path, strings.Join(settingDirs, ", "), strings.Join(settingWholeFiles, ", "))
		}
		if !strings.HasPrefix(f.Content, "# azlin") {
			return fmt.Errorf("layout %s: setting file %s must start with a line \"# azlin ...\" (how azlin knows its own files)", l.Name, f.Path)
		}
		for _, hk := range f.Hooks {
			if !slices.Contains(settingHooks, hk) || path.Dir(f.Path)+"/" != hookedDir {
				return fmt.Errorf("layout %s: setting file %s may hook into %s only from %s", l.Name, f.Path, strings.Join(settingHooks, ", "), hookedDir)
			}
		}
		if strings.ContainsRune(f.Content, 0) {
			return fmt.Errorf("layout %s: setting file %s holds a NUL byte", l.Name, f.Path)
		}
	}
	return nil
}

// setLayout adds the layout's variables to a script header.
func (h *header) setLayout(l Layout, user string) {
	h.set("LAYOUT_APPLY", boolFlag(l.Name != ""))
	h.set("LAYOUT_NAME", l.Name)
	h.set("LOCAL_ROOT", LocalRoot(user))
	h.setArray("LAYOUT_LOCAL", l.Local)
	var paths, texts, hooks []string
	for _, f := range l.Files {
		paths = append(paths, f.Path)
		texts = append(texts, f.Content)
		hooks = append(hooks, strings.Join(f.Hooks, " ")) // paths without blanks (validate)
	}
	h.setArray("LAYOUT_FILES", paths)
	h.setArray("LAYOUT_TEXTS", texts)
	h.setArray("LAYOUT_HOOKS", hooks)
}

// LayoutParams describes applying a layout to a VM whose home is attached.
type LayoutParams struct {
	User      string // "azureuser"
	UID, GID  int    // 1000, 1000
	Home      string // "/home/" + User
	Layout    Layout // required
	Timestamp string // names things moved aside; now (UTC) if empty
}

// LayoutScript returns the bash script that applies a layout on a VM whose
// home is the share (sh/layout-apply.sh): paths the VM's previous layout made
// local and this one does not are shared again (data moved, never deleted),
// this layout's paths are made local, setting files are written or removed.
// Info it reports: layout, layout_previous, layout_moved, layout_conflicts,
// layout_kept_local.
func LayoutScript(p LayoutParams) (string, error) {
	a := AttachParams{User: p.User, UID: p.UID, GID: p.GID, Home: p.Home, Timestamp: p.Timestamp}.withDefaults()
	if err := validateUser(a.User, a.UID, a.GID, a.Home); err != nil {
		return "", fmt.Errorf("layout script: %w", err)
	}
	if err := validateTimestamp(a.Timestamp); err != nil {
		return "", fmt.Errorf("layout script: %w", err)
	}
	if p.Layout.Name == "" {
		return "", fmt.Errorf("layout script: no layout given")
	}
	if err := p.Layout.validate(); err != nil {
		return "", fmt.Errorf("layout script: %w", err)
	}
	h := header{}
	h.set("USER_NAME", a.User)
	h.set("USER_UID", strconv.Itoa(a.UID))
	h.set("USER_GID", strconv.Itoa(a.GID))
	h.set("HOME_DIR", a.Home)
	h.set("TS", a.Timestamp)
	h.setLayout(p.Layout, a.User)
	return assemble("apply layout "+p.Layout.Name+" to "+a.Home, h, layoutApplySh), nil
}
