//go:build localcloud

package vmscript

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/shell"
)

// testLayout is a developer-like layout (package layout has the real ones).
var testLayout = layout.Resolved{
	Name:  "dev",
	Local: []string{".cache", ".vscode-server", ".local/share/containers"},
	Files: []layout.SettingFile{{Path: "/etc/ssh/ssh_config.d/50-azlin.conf", Content: "# azlin: ssh control sockets\nHost *\n    ControlPath /run/user/%i/ssh-%C\n"}},
}

var sharedOnly = layout.Resolved{Name: "plain", Local: []string{}}

func attachWithLayout(t *testing.T, e *nsEnv, name, ts string, l layout.Resolved) map[string]string {
	t.Helper()
	s, err := AttachScript(AttachParams{Target: premium, AuthorizedKeys: []string{paramKey}, Timestamp: ts, Layout: l})
	require.NoError(t, err)
	res, out := e.runScript(name, s)
	require.True(t, res.OK, out)
	return res.Info
}

func applyLayout(t *testing.T, e *nsEnv, name, ts string, l layout.Resolved) map[string]string {
	t.Helper()
	s, err := LayoutScript(LayoutParams{Tier: nfs.Premium, Layout: l, Timestamp: ts})
	require.NoError(t, err)
	res, out := e.runScript(name, s)
	require.True(t, res.OK, out)
	return res.Info
}

// localListing is the checksummed listing of a VM's local folder for a path.
func (e *nsEnv) localTree(t *testing.T, rel string) string {
	t.Helper()
	return treeListing(t, filepath.Join(e.dir, "varlib-upper", "azlin-local", "azureuser", rel))
}

// Two VMs share a home with a layout: the layout's paths are per VM (a
// symlink on the share to each VM's own disk), the rest is shared; the home's
// existing ~/.cache moves to the disk of the VM that seeded the share. Then
// the layout is switched to one without local paths, and the VMs detach:
// every file is somewhere, checked by checksummed listings.
func TestLayoutKeepsPathsPerVMAndMovesDataWithoutLoss(t *testing.T) {
	vm1 := newNSEnv(t, envOpts{installed: true})
	vm2 := newNSEnv(t, envOpts{installed: true, shares: vm1.shares})
	populateHome(t, vm1.home(), 1000, localKey+"\n")
	populateHome(t, vm2.home(), 1000, otherVMKey+"\n")
	vm1.writeFile(filepath.Join(vm1.home(), ".cache/pip/wheel.whl"), "from vm1's old home\n", 0o644)
	require.NoError(t, os.Lchown(filepath.Join(vm1.home(), ".cache/pip/wheel.whl"), 1000, 1000))
	require.NoError(t, os.Lchown(filepath.Join(vm1.home(), ".cache/pip"), 1000, 1000))
	require.NoError(t, os.Lchown(filepath.Join(vm1.home(), ".cache"), 1000, 1000))
	oldCache := treeListing(t, filepath.Join(vm1.home(), ".cache"))
	share := vm1.share(premium.Account, premium.Share)
	require.NoError(t, os.MkdirAll(share, 0o755))

	info := attachWithLayout(t, vm1, "attach-vm1.sh", "T1", testLayout)
	assert.Equal(t, "dev", info["layout"])
	assert.Equal(t, "~/.cache -> /var/lib/azlin-local/azureuser/.cache", info["layout_moved"])
	assert.Equal(t, oldCache, vm1.localTree(t, ".cache"), "the seeded ~/.cache moved to vm1's disk, whole")
	for _, p := range testLayout.Local {
		target, err := os.Readlink(filepath.Join(share, p))
		require.NoError(t, err, "%s is a symlink on the share", p)
		assert.Equal(t, "/var/lib/azlin-local/azureuser/"+p, target)
	}
	assert.Equal(t, testLayout.Files[0].Content, vm1.etcFile("ssh/ssh_config.d/50-azlin.conf"))
	assert.Equal(t, "name=dev\nlocal=.cache\nlocal=.vscode-server\nlocal=.local/share/containers\nfile=/etc/ssh/ssh_config.d/50-azlin.conf\n",
		vm1.varLibFile("azlin/layout"))

	info = attachWithLayout(t, vm2, "attach-vm2.sh", "T1", testLayout)
	assert.Equal(t, "dev", info["layout"])
	assert.Empty(t, info["layout_moved"], "the share had the symlinks already")

	// Per VM: the same path holds different files; the rest is shared.
	for i, e := range []*nsEnv{vm1, vm2} {
		_, code := e.sh("cd /home/azureuser && setpriv --reuid=1000 --regid=1000 --clear-groups sh -c " +
			"'echo vm" + string(rune('1'+i)) + " > .cache/x && mkdir -p .vscode-server && echo 4242 > .vscode-server/.lock-vm" + string(rune('1'+i)) + "'")
		require.Equal(t, 0, code)
	}
	_, code := vm1.sh("echo shared > /home/azureuser/project/y")
	require.Equal(t, 0, code)
	got1, _ := vm1.sh("cat /home/azureuser/.cache/x; ls -A /home/azureuser/.vscode-server")
	got2, _ := vm2.sh("cat /home/azureuser/.cache/x; ls -A /home/azureuser/.vscode-server; cat /home/azureuser/project/y")
	assert.Equal(t, "vm1\n.lock-vm1\n", got1)
	assert.Equal(t, "vm2\n.lock-vm2\nshared\n", got2)

	// Switch to a layout without local paths: the first VM gives the share
	// its files back; the second keeps its own on its disk, reported.
	vm1Cache, vm2Cache := vm1.localTree(t, ".cache"), vm2.localTree(t, ".cache")
	info = applyLayout(t, vm1, "layout-vm1.sh", "T2", sharedOnly)
	assert.Equal(t, "plain", info["layout"])
	assert.Equal(t, "dev", info["layout_previous"])
	assert.Contains(t, info["layout_moved"], "/var/lib/azlin-local/azureuser/.cache -> ~/.cache (shared again)")
	assert.Equal(t, vm1Cache, treeListing(t, filepath.Join(share, ".cache")), "vm1's cache is the shared one now, whole")
	assert.Empty(t, vm1.etcFile("ssh/ssh_config.d/50-azlin.conf"), "the setting file went with the layout")
	info = applyLayout(t, vm2, "layout-vm2.sh", "T2", sharedOnly)
	assert.Equal(t, "/var/lib/azlin-local/azureuser/.cache (~/.cache is shared again; this VM's files stay here)"+
		"; /var/lib/azlin-local/azureuser/.vscode-server (~/.vscode-server is shared again; this VM's files stay here)", info["layout_kept_local"])
	assert.Equal(t, vm2Cache, vm2.localTree(t, ".cache"), "vm2's cache stays on its disk, whole")

	// Back to the layout: the share's (vm1's) cache moves to vm2's disk? No:
	// vm2's own local cache is in the way, a conflict: the share's is kept aside.
	info = applyLayout(t, vm2, "layout-vm2-again.sh", "T3", testLayout)
	assert.Contains(t, info["layout_conflicts"], "~/.cache on the share and /var/lib/azlin-local/azureuser/.cache both hold files; kept as ~/.cache.azlin-conflict")
	assert.Equal(t, vm1Cache, treeListing(t, filepath.Join(share, ".cache.azlin-conflict")))
	assert.Equal(t, vm2Cache, vm2.localTree(t, ".cache"))

	// Detach vm2: its local files come into its (now local) home.
	res, out := vm2.runScript("detach-vm2.sh", detachScript(t, DetachParams{Timestamp: "T4"}))
	require.True(t, res.OK, out)
	assert.Equal(t, "dev", res.Info["layout_removed"])
	assert.Contains(t, res.Info["layout_moved"], "/var/lib/azlin-local/azureuser/.cache -> ~/.cache")
	assert.Equal(t, vm2Cache, treeListing(t, filepath.Join(vm2.home(), ".cache")), "vm2's cache is in its local home, whole")
	fi, err := os.Lstat(filepath.Join(vm2.home(), ".vscode-server"))
	require.NoError(t, err)
	assert.True(t, fi.IsDir(), "a real directory again, not a symlink")
	assert.Empty(t, vm2.varLibFile("azlin/layout"))
	assert.Empty(t, vm2.etcFile("ssh/ssh_config.d/50-azlin.conf"))
	_, err = os.Readlink(filepath.Join(share, ".cache"))
	assert.NoError(t, err, "the share keeps its symlink for the VMs that use it")
}

// A layout path that is a file on the share, or lies under a symlink, is
// not made local: both are reported, nothing is lost.
func TestLayoutConflictsAreReported(t *testing.T) {
	e := newNSEnv(t, envOpts{installed: true})
	populateHome(t, e.home(), 1000, localKey+"\n")
	share := e.share(premium.Account, premium.Share)
	e.writeFile(filepath.Join(share, ".cache"), "a file, not a folder\n", 0o644)
	require.NoError(t, os.MkdirAll(filepath.Join(share, "elsewhere"), 0o755))
	require.NoError(t, os.Symlink("elsewhere", filepath.Join(share, ".local")))
	info := attachWithLayout(t, e, "attach.sh", "T1", testLayout)
	assert.Equal(t, "~/.cache was not a directory; kept as ~/.cache.azlin-conflict; ~/.local/share/containers not made local: ~/.local is a symlink",
		info["layout_conflicts"])
	b, err := os.ReadFile(filepath.Join(share, ".cache.azlin-conflict"))
	require.NoError(t, err)
	assert.Equal(t, "a file, not a folder\n", string(b))
	assert.NoDirExists(t, filepath.Join(share, "elsewhere", "share"), "nothing was made through the symlink")
	_, err = os.Readlink(filepath.Join(share, ".vscode-server"))
	assert.NoError(t, err)
	assert.False(t, strings.Contains(info["layout_moved"], ".local"))
}

// Setting files: bash reads its own from /etc/profile.d; zsh, which has no
// such folder, through one line azlin adds to (and later removes from)
// /etc/zsh/zshrc, every other line kept; bash's own bash.bashrc is never
// edited. A file at a setting's path that is not azlin's, or that someone
// changed after azlin wrote it, is never replaced nor removed, only reported.
// Detach takes azlin's lines and files away again.
func TestLayoutSettingsHookZshAndLeaveOthersFilesAlone(t *testing.T) {
	e := newNSEnv(t, envOpts{installed: true})
	populateHome(t, e.home(), 1000, localKey+"\n")
	require.NoError(t, os.MkdirAll(e.share(premium.Account, premium.Share), 0o755))
	const zshrc = "# /etc/zsh/zshrc: system-wide .zshrc file for zsh(1).\nbindkey -e" // no final newline
	const gitconfig = "[user]\n\tname = someone else's\n"
	_, code := e.sh("mkdir -p /etc/zsh && printf %s " + shell.Quote(zshrc) + " >/etc/zsh/zshrc && printf %s " + shell.Quote(gitconfig) + " >/etc/gitconfig")
	require.Equal(t, 0, code)
	bashHistory := layout.SettingFile{Path: "/etc/profile.d/azlin-history.sh",
		Content: "# azlin: history per VM\nif [ -n \"${BASH_VERSION:-}\" ]; then export HISTFILE=\"$HOME/.bash_history.$HOSTNAME\"; fi\n"}
	zshHistory := layout.SettingFile{Path: "/etc/azlin/zsh-history.zsh", Hooks: []string{"/etc/zsh/zshrc"}, Content: "# azlin: zsh history per VM\nsetopt HIST_FCNTL_LOCK\n"}
	git := layout.SettingFile{Path: "/etc/gitconfig", Content: "# azlin: git\n[core]\n\tfsmonitor = false\n"}
	withSettings := layout.Resolved{Name: "dev", Local: []string{".cache"}, Files: []layout.SettingFile{bashHistory, zshHistory, git}}
	hook := "if [ -r /etc/azlin/zsh-history.zsh ]; then . /etc/azlin/zsh-history.zsh; fi # azlin: layout setting (azlin removes this line with it)\n"

	info := attachWithLayout(t, e, "attach.sh", "T1", withSettings)
	assert.Equal(t, zshHistory.Content, e.etcFile("azlin/zsh-history.zsh"))
	assert.Equal(t, zshrc+"\n"+hook, e.etcFile("zsh/zshrc"), "one line added, the rest as it was")
	assert.NoFileExists(t, filepath.Join(e.dir, "etc-upper", "bash.bashrc"), "bash's own file is not edited")
	assert.Equal(t, gitconfig, e.etcFile("gitconfig"), "a file that is not azlin's is never replaced")
	assert.Equal(t, "/etc/gitconfig is not azlin's: left as it is, without this layout's setting", info["layout_conflicts"])
	host, _ := e.sh("hostname")
	got, code := e.sh("setpriv --reuid=1000 --regid=1000 --clear-groups env -i HOME=/home/azureuser bash -lic 'bash -ic \"echo \\$HISTFILE\"' 2>/dev/null")
	require.Equal(t, 0, code)
	assert.Equal(t, "/home/azureuser/.bash_history."+host, got, "a login bash, and the shells it starts, keep the history per VM")

	// Again: nothing more is added.
	applyLayout(t, e, "again.sh", "T2", withSettings)
	assert.Equal(t, zshrc+"\n"+hook, e.etcFile("zsh/zshrc"))

	// A layout without settings takes azlin's lines and files away, not the others'.
	applyLayout(t, e, "plain.sh", "T3", sharedOnly)
	assert.Equal(t, zshrc+"\n", e.etcFile("zsh/zshrc"), "only azlin's line is gone")
	for _, f := range []string{"azlin/zsh-history.zsh", "profile.d/azlin-history.sh"} {
		assert.NoFileExists(t, filepath.Join(e.dir, "etc-upper", f))
	}
	assert.Equal(t, gitconfig, e.etcFile("gitconfig"))

	// With /etc/gitconfig free, azlin's is written. An admin then changes it:
	// azlin neither replaces it nor, at detach, removes it.
	_, code = e.sh("rm /etc/gitconfig")
	require.Equal(t, 0, code)
	applyLayout(t, e, "dev.sh", "T4", withSettings)
	assert.Equal(t, git.Content, e.etcFile("gitconfig"))
	_, code = e.sh("git config --system user.name Admin")
	require.Equal(t, 0, code)
	changed := e.etcFile("gitconfig")
	require.Contains(t, changed, "name = Admin")
	info = applyLayout(t, e, "dev-again.sh", "T5", withSettings)
	assert.Equal(t, changed, e.etcFile("gitconfig"), "a file changed since azlin wrote it is not azlin's any more")
	assert.Contains(t, info["layout_conflicts"], "/etc/gitconfig is not azlin's")
	res, out := e.runScript("detach.sh", detachScript(t, DetachParams{Timestamp: "T6"}))
	require.True(t, res.OK, out)
	assert.Equal(t, changed, e.etcFile("gitconfig"), "detach keeps the admin's file")
	assert.Equal(t, zshrc+"\n", e.etcFile("zsh/zshrc"))
	_, code = e.sh("test -e /etc/azlin/zsh-history.zsh || test -e /etc/profile.d/azlin-history.sh")
	assert.NotEqual(t, 0, code, "azlin's setting files are gone after detach")
}
