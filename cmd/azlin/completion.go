package main

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/namecache"
	"github.com/azlin-dev/azlin/internal/storage"
)

// Shell completion of VM and storage names (`azlin ssh <TAB>`). A
// completion answers from the names azlin saw last (package namecache) and
// never waits for az: it reads one small file and, when that is older than
// namecache.StaleAfter or missing, starts `azlin __refresh-names` in the
// background and answers with what it has. The refresh, a process of its
// own, updates the file for the next TAB.

// refreshNamesCmd is the hidden command a completion starts.
const refreshNamesCmd = "__refresh-names"

// completedArgs names, per command, the kind of each positional argument
// that completes (the first, for all of these).
var completedArgs = map[string]namecache.Kind{
	"azlin ssh":                 namecache.VMs,
	"azlin allow-ssh":           namecache.VMs,
	"azlin delete":              namecache.VMs,
	"azlin storage status":      namecache.Storages,
	"azlin storage delete":      namecache.Storages,
	"azlin storage attach":      namecache.Storages,
	"azlin storage check":       namecache.Storages,
	"azlin storage layout show": namecache.Storages,
	"azlin storage layout set":  namecache.Storages,
}

var kindWord = map[namecache.Kind]string{namecache.VMs: "VM", namecache.Storages: "storage"}

// completedFlags names the flags whose values are VM or storage names.
var completedFlags = map[string]map[string]namecache.Kind{
	"azlin storage attach": {"vm": namecache.VMs},
	"azlin storage detach": {"vm": namecache.VMs},
	"azlin storage check":  {"vm": namecache.VMs},
	"azlin new":            {"shared-home": namecache.Storages},
}

// registerCompletions gives every command of root its name completions, and
// adds the hidden refresh command.
func registerCompletions(a *app, root *cobra.Command) {
	root.AddCommand(newRefreshNamesCmd(a))
	walk(root, func(c *cobra.Command) {
		path := c.CommandPath()
		if kind, ok := completedArgs[path]; ok {
			c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 { // only the first argument is a name
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return a.completeNames(kind, toComplete)
			}
		}
		for flag, kind := range completedFlags[path] {
			_ = c.RegisterFlagCompletionFunc(flag, func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return a.completeNames(kind, toComplete)
			})
		}
	})
}

// completeNames answers a completion from the cache, starting a refresh
// when the cache is stale or missing. It makes no az call.
func (a *app) completeNames(kind namecache.Kind, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	const directive = cobra.ShellCompDirectiveNoFileComp
	scope, cache, ok := a.nameScope()
	if !ok {
		return cobra.AppendActiveHelp(nil, "no resource group: pass -g NAME (or azlin config set default_resource_group NAME) to complete names"), directive
	}
	entry, found := cache.Read(scope, kind)
	now := time.Now()
	if !found || entry.Stale(now) {
		if claimed, err := cache.ClaimRefresh(scope, now); err == nil && claimed {
			if err := startRefresh(a, scope); err != nil {
				cache.Release(scope)
			}
		}
	}
	if !found {
		return cobra.AppendActiveHelp(nil, "no "+kindWord[kind]+" names cached yet for "+scope.Group+": azlin is reading them; press TAB again in a moment"), directive
	}
	return namecache.Complete(entry.Names, prefix), directive
}

// nameScope is the resource group (and --subscription) a command line
// names, and the cache in azlin's config folder.
func (a *app) nameScope() (namecache.Scope, namecache.Cache, bool) {
	rg, err := a.ResourceGroup()
	if err != nil || rg == "" {
		return namecache.Scope{}, namecache.Cache{}, false
	}
	dir, err := azlinDir()
	if err != nil {
		return namecache.Scope{}, namecache.Cache{}, false
	}
	return namecache.Scope{Subscription: a.flags.subscription, Group: rg}, namecache.In(dir), true
}

// rememberNames keeps the names a list command just read, for completion.
// A failure to write only costs completions, so it is not reported.
func (a *app) rememberNames(rg string, kind namecache.Kind, names []string) {
	if a.flags.dryRun {
		return
	}
	if dir, err := azlinDir(); err == nil {
		_ = namecache.In(dir).Write(namecache.Scope{Subscription: a.flags.subscription, Group: rg}, kind, names, time.Now())
	}
}

// vmNameChanged and storageNameChanged keep the cache right after azlin
// created (exists) or deleted a VM or a storage.
func (a *app) vmNameChanged(rg, name string, exists bool) {
	a.nameChanged(rg, namecache.VMs, name, exists)
}

func (a *app) storageNameChanged(rg, name string, exists bool) {
	a.nameChanged(rg, namecache.Storages, name, exists)
}

// nameChanged adds a name azlin just created to the cached list, or takes
// out one it deleted (namecache.Add), so the next TAB is right at once.
func (a *app) nameChanged(rg string, kind namecache.Kind, name string, exists bool) {
	dir, err := azlinDir()
	if err != nil {
		return
	}
	cache, scope := namecache.In(dir), namecache.Scope{Subscription: a.flags.subscription, Group: rg}
	if exists {
		_ = cache.Add(scope, kind, name)
	} else {
		_ = cache.Remove(scope, kind, name)
	}
}

// startRefresh starts `azlin __refresh-names` detached: in a session of its
// own (the shell's Ctrl+C and job control do not reach it), with no
// standard input or output (it can never write into a completion's
// answer), and not waited for. Tests replace it.
var startRefresh = func(a *app, s namecache.Scope) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{refreshNamesCmd, "-g", s.Group}
	if s.Subscription != "" {
		args = append(args, "--subscription", s.Subscription)
	}
	if a.flags.configPath != "" {
		args = append(args, "--config", a.flags.configPath)
	}
	cmd := exec.Command(exe, args...) // Stdin, Stdout, Stderr nil: /dev/null
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}

// newRefreshNamesCmd is the hidden `azlin __refresh-names`: it reads the
// group's VM and storage names (the login check and two list calls, at
// most namecache.RefreshTimeout) and writes them to the cache.
func newRefreshNamesCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:    refreshNamesCmd,
		Short:  "Refresh the names shell completion offers (started by a completion)",
		Hidden: true,
		Args:   usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			scope, cache, ok := a.nameScope()
			if !ok {
				_, err := a.ResourceGroup()
				return err
			}
			defer cache.Release(scope)
			ctx, cancel := context.WithTimeout(cmd.Context(), namecache.RefreshTimeout)
			defer cancel()
			c, err := a.Azure(ctx)
			if err != nil {
				return err
			}
			// The login check runs under ctx too: let it end before cancel
			// stops it (deferred calls run last-first).
			defer c.WaitLoginCheck()
			storages, vms, err := storage.NewManager(c, nil).GroupNames(ctx, scope.Group)
			if err != nil {
				return err
			}
			now := time.Now()
			if err := cache.Write(scope, namecache.VMs, vms, now); err != nil {
				return err
			}
			return cache.Write(scope, namecache.Storages, storages, now)
		},
	}
}
