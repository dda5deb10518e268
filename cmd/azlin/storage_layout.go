package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/output"
	"github.com/azlin-dev/azlin/internal/sharedhome"
)

// layoutsDir is where user layouts live: ~/.azlin/layouts.
func layoutsDir() (string, error) {
	dir, err := azlinDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "layouts"), nil
}

// loadLayout finds a layout by name: built in, or ~/.azlin/layouts/NAME.toml.
func loadLayout(name string) (layout.Layout, error) {
	dir, err := layoutsDir()
	if err != nil {
		return layout.Layout{}, err
	}
	return layout.Load(dir, name)
}

// scriptLayout is what the scripts apply for a storage's layout name.
func scriptLayout(name string) (layout.Resolved, error) {
	l, err := loadLayout(name)
	if err != nil {
		return layout.Resolved{}, fmt.Errorf("%w\nThe storage's layout must be known on this machine to attach or create VMs: "+
			"copy the file, or choose another layout: azlin storage layout set STORAGE developer", err)
	}
	return l.Resolve(), nil
}

// layoutView is a layout as `storage layout show|list` print it.
type layoutView struct {
	Storage string `json:"storage,omitempty"`
	layout.Layout
	SettingFiles []string `json:"settingFiles"`
}

func viewOfLayout(storage string, l layout.Layout) layoutView {
	v := layoutView{Storage: storage, Layout: l, SettingFiles: []string{}}
	for _, s := range l.Settings {
		v.SettingFiles = append(v.SettingFiles, layout.Settings[s].Paths()...)
	}
	return v
}

func printLayout(p *output.Printer, v layoutView) error {
	w := &lineWriter{}
	if v.Storage != "" {
		w.kv("Storage", v.Storage)
	}
	kind := "user layout"
	if v.Builtin {
		kind = "built in"
	}
	w.kv("Layout", v.Name+" ("+kind+")")
	w.kv("About", v.Description)
	w.line("Per-VM local paths (each a symlink to " + layout.LocalRoot("azureuser") + "/PATH on every VM):")
	if len(v.Local) == 0 {
		w.line("  (none: the whole home is shared)")
	}
	for _, l := range v.Local {
		w.line("  ~/" + l)
	}
	w.line("VM-wide settings azlin writes:")
	if len(v.Settings) == 0 {
		w.line("  (none)")
	}
	for _, s := range v.Settings {
		w.line(fmt.Sprintf("  %s (%s): %s", s, strings.Join(layout.Settings[s].Paths(), ", "), layout.Settings[s].Why))
	}
	_, err := fmt.Fprint(p.Out, w.String())
	return err
}

func newStorageLayoutCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "layout",
		Short: "Which paths of a shared home stay on each VM's own disk",
		Long: joinLines(
			"Sharing one home between VMs breaks some tools: VS Code's server keeps its lock",
			"files in ~/.vscode-server (a second VM clobbers the first session), Unix sockets",
			"and FIFOs on NFS are only names, caches break under writers on several VMs,",
			"container storage does not work on NFS, and shell histories clobber each other.",
			"",
			"A layout names the paths under the home that stay per VM: in the shared home each",
			"is a symlink to the same path on every VM's own disk, "+layout.LocalRoot("azureuser")+"/PATH,",
			"which works for every tool, also over non-interactive ssh. It also names VM-wide",
			"settings azlin writes: ssh-control-path (ssh's ControlPath on /run), shell-history-per-vm",
			"(bash and zsh; zsh also locks it), git-fsmonitor-off (in /etc/gitconfig where there is",
			"none). Each is a whole file of azlin's, removed with the setting; a file azlin did not",
			"write, or that was changed since, is left as it is. zsh reads no drop-in folder: azlin",
			"adds one line to /etc/zsh/zshrc (when zsh is installed) and removes it again.",
			"",
			"Built in: developer (the default) and minimal. Your own: ~/.azlin/layouts/NAME.toml:",
			"",
			"  description = \"my tools\"",
			"  local = [\".cache\", \".vscode-server\", \".cargo/registry\"]",
			"  settings = [\"ssh-control-path\", \"shell-history-per-vm\"]",
			"",
			"Attach and azlin new --shared-home apply the storage's layout; detach removes it (each",
			"VM's local files come into its local home). Existing files at a path being made local",
			"are moved to that VM's disk, never deleted; a conflict is kept aside and reported.",
		),
		Example: joinLines(
			"  azlin storage layout list",
			"  azlin storage layout show shared-dev",
			"  azlin storage layout set shared-dev minimal",
		),
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newLayoutListCmd(a), newLayoutShowCmd(a, nil), newLayoutSetCmd(a, nil))
	return cmd
}

func newLayoutListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the layouts: built-in ones and ~/.azlin/layouts/*.toml",
		Long:    "List the layouts azlin knows on this machine, built-in ones first. A broken layout file is listed with its error.",
		Example: "  azlin storage layout list",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := layoutsDir()
			if err != nil {
				return err
			}
			names, err := layout.Names(dir)
			if err != nil {
				return err
			}
			t := output.Table{Headers: []string{"LAYOUT", "LOCAL PATHS", "SETTINGS"}}
			var views []layoutView
			for _, n := range names {
				l, err := layout.Load(dir, n)
				if err != nil {
					t.Rows = append(t.Rows, []string{n, "error: " + err.Error(), "-"})
					continue
				}
				views = append(views, viewOfLayout("", l))
				t.Rows = append(t.Rows, []string{n, orDash(strings.Join(l.Local, " ")), orDash(strings.Join(l.Settings, " "))})
			}
			return a.Printer().Render(t, views)
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// layoutShowOptions are `azlin storage layout show`'s argument.
type layoutShowOptions struct {
	Storage string
}

// newLayoutShowCmd is `azlin storage layout show`; runF, when not nil,
// replaces the run (tests of flag parsing).
func newLayoutShowCmd(a *app, runF func(*layoutShowOptions) error) *cobra.Command {
	var o layoutShowOptions
	return &cobra.Command{
		Use:   "show STORAGE",
		Short: "Show a storage's layout: its per-VM local paths and settings",
		Long: joinLines(
			"Show the layout recorded on the storage (tag azlin-layout; developer when none),",
			"with its per-VM local paths and the settings azlin writes on each VM.",
		),
		Example: "  azlin storage layout show shared-dev\n  azlin storage layout show shared-dev -o json",
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Storage = args[0]
			if runF != nil {
				return runF(&o)
			}
			return runLayoutShow(cmd.Context(), a, &o)
		},
	}
}

// runLayoutShow prints the layout recorded on a storage.
func runLayoutShow(ctx context.Context, a *app, o *layoutShowOptions) error {
	name := o.Storage
	rg, err := a.storageTarget(name)
	if err != nil {
		return err
	}
	m, err := a.storageManager(ctx)
	if err != nil {
		return err
	}
	st, err := m.Find(ctx, rg, name)
	if err != nil {
		return err
	}
	l, err := loadLayout(st.Layout)
	if err != nil {
		return err
	}
	p := a.Printer()
	v := viewOfLayout(st.Name, l)
	if p.Format == output.FormatTable && p.Query == nil {
		return printLayout(p, v)
	}
	return p.JSON(v)
}

// layoutSetOptions are `azlin storage layout set`'s arguments.
type layoutSetOptions struct {
	Storage, Layout string
}

// newLayoutSetCmd is `azlin storage layout set`; runF, when not nil,
// replaces the run (tests of flag parsing).
func newLayoutSetCmd(a *app, runF func(*layoutSetOptions) error) *cobra.Command {
	var o layoutSetOptions
	return &cobra.Command{
		Use:   "set STORAGE LAYOUT",
		Short: "Change a storage's layout and apply it on every attached VM",
		Long: joinLines(
			"Record LAYOUT on the storage and apply it on every VM whose home is the storage,",
			"one script per VM through az vm run-command:",
			"  - paths of the old layout that the new one shares again: the first VM gives the",
			"    share its local files; on the other VMs their local files stay where they are",
			"    (reported, under "+layout.LocalRoot("azureuser")+");",
			"  - paths the new layout makes local: files on the share move to the disk of the",
			"    first VM that applies it; if that VM has files there already, the share's are",
			"    kept aside (PATH.azlin-conflict) and reported;",
			"  - settings files are written or removed.",
			"Nothing is deleted. VMs attached later get the layout at attach.",
		),
		Example: "  azlin storage layout set shared-dev minimal\n  azlin storage layout set shared-dev mytools   # ~/.azlin/layouts/mytools.toml",
		Args:    usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Storage, o.Layout = args[0], args[1]
			if runF != nil {
				return runF(&o)
			}
			return runLayoutSet(cmd.Context(), a, &o)
		},
	}
}

// runLayoutSet records a layout on a storage and applies it on its VMs.
func runLayoutSet(ctx context.Context, a *app, o *layoutSetOptions) error {
	name := o.Storage
	rg, err := a.storageTarget(name)
	if err != nil {
		return err
	}
	l, err := loadLayout(o.Layout)
	if err != nil {
		return clierr.Usagef("%v", err)
	}
	c, err := a.Azure(ctx)
	if err != nil {
		return err
	}
	p := a.Printer()
	prog := p.StartProgress(fmt.Sprintf("Setting the layout of storage %s to %s", name, l.Name))
	st, results, err := a.sharedHomeManager(c).ApplyLayout(ctx, sharedhome.LayoutRequest{
		ResourceGroup: rg, Storage: name, Layout: l.Resolve(),
		Progress: func(vm, step string) {
			if vm != "" {
				step = vm + ": " + step
			}
			prog.Step(step)
		},
	})
	if err != nil {
		prog.Fail("")
		return err
	}
	if c.DryRun() {
		prog.Done("Dry run: nothing was changed")
		return nil
	}
	return reportLayout(p, prog, st.Name, l.Name, results)
}

// layoutResultView is one VM's result of `storage layout set`.
type layoutResultView struct {
	VM        string `json:"vm"`
	OK        bool   `json:"ok"`
	Moved     string `json:"moved,omitempty"`
	KeptLocal string `json:"keptLocal,omitempty"`
	Conflicts string `json:"conflicts,omitempty"`
	Message   string `json:"error,omitempty"`
}

func reportLayout(p *output.Printer, prog output.Progress, storageName, layoutName string, results []sharedhome.Result) error {
	failed := 0
	t := output.Table{Headers: []string{"VM", "RESULT"}}
	views := []layoutResultView{}
	for _, r := range results {
		v := layoutResultView{VM: r.VM, OK: r.Err == nil, Moved: r.Info["layout_moved"], KeptLocal: r.Info["layout_kept_local"],
			Conflicts: r.Info["layout_conflicts"]}
		result := "applied"
		if r.Err != nil {
			failed++
			v.Message, result = r.Err.Error(), "failed"
		}
		views = append(views, v)
		t.Rows = append(t.Rows, []string{r.VM, result})
	}
	if failed == 0 {
		prog.Done(fmt.Sprintf("Storage %s has layout %s, applied on %d VM(s)", storageName, layoutName, len(results)))
	} else {
		prog.Fail(fmt.Sprintf("layout %s recorded on storage %s; %d of %d VM(s) failed to apply it", layoutName, storageName, failed, len(results)))
	}
	if err := p.Render(t, views); err != nil {
		return err
	}
	reportLayoutInfo(p, views)
	if failed > 0 {
		return fmt.Errorf("%d of %d VM(s) did not apply layout %s (see above)", failed, len(results), layoutName)
	}
	return nil
}

// reportLayoutInfo says on stderr what a layout change moved, kept and set aside.
func reportLayoutInfo(p *output.Printer, views []layoutResultView) {
	for _, v := range views {
		if v.Moved != "" {
			p.Infof("%s: moved %s", v.VM, v.Moved)
		}
		if v.KeptLocal != "" {
			p.Infof("%s: kept on the VM's disk: %s", v.VM, v.KeptLocal)
		}
		if v.Conflicts != "" {
			p.Warnf("%s: %s", v.VM, v.Conflicts)
		}
		if v.Message != "" {
			p.Warnf("%s: %s", v.VM, v.Message)
		}
	}
}
