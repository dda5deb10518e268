package vmscript

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/nfs"
)

//go:embed sh/layout.sh
var layoutSh string

//go:embed sh/layout-apply.sh
var layoutApplySh string

// setLayout adds the layout's variables to a script header.
func (h *header) setLayout(l layout.Resolved, user string) {
	h.set("LAYOUT_APPLY", boolFlag(l.Name != ""))
	h.set("LAYOUT_NAME", l.Name)
	h.set("LOCAL_ROOT", layout.LocalRoot(user))
	h.setArray("LAYOUT_LOCAL", l.Local)
	var paths, texts, hooks []string
	for _, f := range l.Files {
		paths = append(paths, f.Path)
		texts = append(texts, f.Content)
		hooks = append(hooks, strings.Join(f.Hooks, " ")) // paths without blanks (layout.Resolved.Validate)
	}
	h.setArray("LAYOUT_FILES", paths)
	h.setArray("LAYOUT_TEXTS", texts)
	h.setArray("LAYOUT_HOOKS", hooks)
}

// LayoutParams describes applying a layout to a VM whose home is attached.
type LayoutParams struct {
	Tier      nfs.Tier        // the storage's tier: on Standard (no hard links) files moved onto the share lose theirs
	User      string          // "azureuser"
	UID, GID  int             // 1000, 1000
	Home      string          // "/home/" + User
	Layout    layout.Resolved // required
	Timestamp string          // names things moved aside; now (UTC) if empty
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
	if !p.Tier.AzureFiles() && p.Tier != nfs.Standard {
		return "", fmt.Errorf("layout script: unknown tier %q", p.Tier)
	}
	if err := p.Layout.Validate(); err != nil {
		return "", fmt.Errorf("layout script: %w", err)
	}
	h := header{}
	h.set("USER_NAME", a.User)
	h.set("USER_UID", strconv.Itoa(a.UID))
	h.set("USER_GID", strconv.Itoa(a.GID))
	h.set("HOME_DIR", a.Home)
	h.set("TS", a.Timestamp)
	h.set("HARD_LINKS", boolFlag(nfs.HardLinks(p.Tier)))
	h.setLayout(p.Layout, a.User)
	return assemble("apply layout "+p.Layout.Name+" to "+a.Home, h, layoutApplySh), nil
}
