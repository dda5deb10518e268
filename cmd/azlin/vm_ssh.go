package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/config"
	"github.com/azlin-dev/azlin/internal/namecache"
	"github.com/azlin-dev/azlin/internal/network"
	"github.com/azlin-dev/azlin/internal/provision"
	"github.com/azlin-dev/azlin/internal/shell"
	"github.com/azlin-dev/azlin/internal/vmprov"
)

// envSSHPath names the ssh program azlin runs (default: ssh on PATH).
const envSSHPath = "AZLIN_SSH_PATH"

// remoteExitError is a remote command that ran and exited non-zero: azlin
// exits with the same status, so `azlin ssh vm -- cmd` composes like ssh.
type remoteExitError struct {
	vm   string
	code int
}

func (e *remoteExitError) Error() string {
	return fmt.Sprintf("the command on VM %s exited with status %d", e.vm, e.code)
}

// ExitCode is the exit status azlin should exit with.
func (e *remoteExitError) ExitCode() int { return e.code }

// sshOptions are `azlin ssh`'s arguments.
type sshOptions struct {
	VM      string
	Command []string // the words after --; none opens a login session
}

// newSSHCmd is `azlin ssh`; runF, when not nil, replaces the run (tests of
// flag parsing).
func newSSHCmd(a *app, runF func(*sshOptions) error) *cobra.Command {
	var o sshOptions
	return &cobra.Command{
		Use:   "ssh VM [-- COMMAND [ARG...]]",
		Short: "Log in to a VM, or run a command on it, over SSH",
		Long: joinLines(
			"Open an SSH session to the VM as azureuser with azlin's key, or run the",
			"command given after --. The remote command's exit status becomes azlin's",
			"(exit 255 means ssh itself could not connect). As with ssh, the command's",
			"words are joined with spaces and run by the VM's shell: quote a pipeline",
			"as one argument.",
			"",
			"azlin remembers the VM's address and host key from the last time it asked",
			"Azure, so connecting again makes no az call: the remembered address is used",
			"only with the VM's pinned host key (StrictHostKeyChecking=yes). When it does",
			"not answer with that key within 8 seconds (the VM moved, was deallocated or",
			"deleted), azlin asks Azure again and connects to the address Azure reports.",
			"",
			"Host keys are kept in azlin's own known_hosts file in the config folder, one",
			"per VM (under an alias, not the address: Azure reuses addresses), accepted on",
			"first use and checked ever after; not in ~/.ssh/known_hosts.",
			"",
			"When the VM does not answer at all, azlin reads its network security group's",
			"azlin-ssh rule and says whether your address is let in; if not, run",
			"azlin allow-ssh VM. $"+envSSHPath+" names another ssh program.",
		),
		Example: joinLines(
			"  azlin ssh dev-1",
			"  azlin ssh dev-1 -- hostname",
			"  azlin ssh dev-1 -- 'df -h | grep home'",
		),
		Args: usageArgs(func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			switch {
			case len(args) == 0:
				return errors.New("name the VM: azlin ssh VM [-- COMMAND]")
			case dash == 0:
				return errors.New("name the VM before --: azlin ssh VM -- COMMAND")
			case dash < 0 && len(args) > 1, dash > 1:
				return fmt.Errorf("put -- before the remote command: azlin ssh %s -- %s", args[0], args[1])
			}
			return nil
		}),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.VM, o.Command = args[0], args[1:]
			if runF != nil {
				return runF(&o)
			}
			return runSSH(cmd.Context(), a, &o)
		},
	}
}

// runSSH connects to the VM at the address azlin remembers, behind the
// VM's pinned host key and without an az call; when there is none, or ssh
// could not get through there, at the address Azure reports now.
func runSSH(ctx context.Context, a *app, o *sshOptions) error {
	name := o.VM
	if err := vmprov.ValidateName(name); err != nil {
		return err
	}
	cfg, err := a.Config()
	if err != nil {
		return err
	}
	rg, err := a.ResourceGroup()
	if err != nil {
		return err
	}
	dir, err := azlinDir()
	if err != nil {
		return err
	}
	key := vmprov.KeyPairAt(cfg.SSHKeyPath)
	if _, err := os.Stat(key.Private); err != nil {
		return fmt.Errorf("azlin's SSH key %s is missing (%v); azlin's VMs accept only the key they were created with. "+
			"Restore it, or point azlin at it: azlin config set ssh_key_path PATH", key.Private, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	scope := a.sshScope(rg)
	cache := namecache.In(dir)
	base := vmprov.SSHTarget{
		KeyPath:      key.Private,
		KnownHosts:   provision.KnownHostsPath(dir),
		HostKeyAlias: namecache.HostKeyAlias(scope, name),
		Command:      o.Command,
	}
	p := a.Printer()

	// The remembered address, only ever with the pinned key: no az call.
	var missed *sshResult
	if h, ok := cache.Host(scope, name); ok && !a.flags.dryRun {
		if pinned, _ := vmprov.KnowsHost(ctx, base.KnownHosts, base.HostKeyAlias); pinned {
			t := base
			t.Host, t.Pinned, t.ConnectTimeout = h.Address, true, pinnedConnectTimeout
			res, err := runSSHProcess(a, t)
			if err != nil {
				return err
			}
			if res.connected {
				return res.outcome(name, base)
			}
			if ctx.Err() != nil {
				return ctx.Err() // Ctrl+C while ssh was connecting
			}
			p.Infof("VM %s did not answer at %s, where azlin last reached it (%s); asking Azure where it is now.", name, h.Address, res.why())
			if a.flags.debug {
				fmt.Fprintf(a.stderr, "ssh said:\n%s", res.stderr)
			}
			missed = &res
		} else {
			_ = cache.ForgetHost(scope, name) // an address without its key is never used
		}
	}

	c, err := a.Azure(ctx)
	if err != nil {
		return err
	}
	vm, err := vmprov.NewManager(c).Show(ctx, rg, name, true)
	if errors.Is(err, azcli.ErrNotFound) {
		a.forgetSSHHost(ctx, rg, name)
	}
	if err != nil {
		return err
	}
	if !vm.Running() {
		return fmt.Errorf("VM %s is %s, not running; start it: az vm start -g %s -n %s", name, vm.State(), rg, name)
	}
	if vm.PublicIP == "" {
		return fmt.Errorf("VM %s has no public IP address, so azlin cannot reach it over SSH; "+
			"run commands on it without SSH: az vm run-command invoke -g %s -n %s --command-id RunShellScript --scripts '...'", name, rg, name)
	}
	if missed != nil && missed.host == vm.PublicIP && missed.noAnswer() {
		// Azure says the VM is where ssh found no one: another wait of
		// ConnectTimeout would tell nothing new.
		return a.explainNoAnswer(ctx, c, cfg, rg, name, *missed)
	}
	if missed != nil && missed.host == vm.PublicIP && !missed.otherKey() {
		// Azure says the VM is where ssh failed for a reason azlin cannot
		// tell apart from a session that ran: never run the command twice.
		return missed.outcome(name, base)
	}
	t := base
	t.Host = vm.PublicIP
	res, err := runSSHProcess(a, t)
	if err != nil {
		return err
	}
	if res.connected && !a.flags.dryRun {
		_ = cache.SetHost(scope, name, vm.PublicIP, time.Now()) // a hint: a failed write only costs a lookup
	}
	if !res.connected && res.noAnswer() {
		return a.explainNoAnswer(ctx, c, cfg, rg, name, res)
	}
	return res.outcome(name, base)
}

// pinnedConnectTimeout bounds the wait at a remembered address: a VM that
// answered there before answers within a second or two, and one that
// moved or was deallocated should cost a short wait before azlin asks
// Azure, not ssh's full timeout.
const pinnedConnectTimeout = 8 * time.Second

// sshScope is where a VM's address and host key are kept: its group in
// the subscription --subscription names, else in az's current one (read
// from az's profile, without an az call), so that a VM of the same group
// and name in another subscription is another VM.
func (a *app) sshScope(rg string) namecache.Scope {
	sub := a.flags.subscription
	if sub == "" {
		sub = azcli.CurrentSubscription()
	}
	return namecache.Scope{Subscription: sub, Group: rg}
}

// forgetSSHHost drops what azlin remembers of a VM that is gone: its
// address and its pinned host key (a new VM of that name has another).
func (a *app) forgetSSHHost(ctx context.Context, rg, name string) {
	if a.flags.dryRun {
		return
	}
	dir, err := azlinDir()
	if err != nil {
		return
	}
	s := a.sshScope(rg)
	_ = namecache.In(dir).ForgetHost(s, name)
	_ = vmprov.ForgetHost(ctx, provision.KnownHostsPath(dir), namecache.HostKeyAlias(s, name))
}

// sshResult is how one ssh run ended.
type sshResult struct {
	host string
	exit int // ssh's exit status: the remote command's, or 255 for ssh's own failure
	// connected: ssh got through and logged in, so the remote command may
	// have run (and must not be run again elsewhere).
	connected bool
	stderr    string // the end of ssh's stderr, to tell why it failed
}

// noAnswer tells that nothing answered on port 22 (the connection timed
// out, as an NSG's drop does, or was refused).
func (r sshResult) noAnswer() bool {
	return strings.Contains(r.stderr, "timed out") || strings.Contains(r.stderr, "Connection refused") ||
		strings.Contains(r.stderr, "No route to host")
}

// otherKey tells that the host there did not show the VM's pinned key.
func (r sshResult) otherKey() bool {
	return strings.Contains(r.stderr, "Host key verification failed") || strings.Contains(r.stderr, "IDENTIFICATION HAS CHANGED")
}

func (r sshResult) why() string {
	switch {
	case r.otherKey():
		return "the host there has another host key"
	case r.noAnswer():
		return "no answer on port 22"
	}
	return fmt.Sprintf("ssh exit status %d", r.exit)
}

// outcome maps how ssh ended to azlin's result: nothing, the remote
// command's exit status, or why ssh itself failed.
func (r sshResult) outcome(vm string, t vmprov.SSHTarget) error {
	switch {
	case r.exit == 0:
		return nil
	case r.exit == 255 && r.otherKey():
		return fmt.Errorf("VM %s at %s did not show the host key azlin pinned for it, so azlin did not connect (ssh's message is above). "+
			"If the VM was made again or its OS disk replaced outside azlin, forget the old key and connect again: %s",
			vm, r.host, "ssh-keygen "+shell.Join([]string{"-R", t.HostKeyAlias, "-f", t.KnownHosts}))
	case r.exit == 255:
		return fmt.Errorf("ssh could not connect to VM %s at %s, or the connection broke (ssh exit status 255). "+
			"Check that the VM is running (azlin list); ssh's own message is above", vm, r.host)
	}
	return &remoteExitError{vm: vm, code: r.exit}
}

// runSSHProcess runs ssh attached to azlin's terminal. It is not tied to
// the command's context: Ctrl+C reaches ssh from the terminal itself, and
// ssh must be free to end the session its own way. For a pinned attempt
// (t.Pinned, the remembered address) ssh marks that it connected, and its
// stderr is held back until then: a failure before that is azlin's to
// explain, since azlin then asks Azure and tries again.
func runSSHProcess(a *app, t vmprov.SSHTarget) (sshResult, error) {
	bin := os.Getenv(envSSHPath)
	if bin == "" {
		bin = "ssh"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return sshResult{}, fmt.Errorf("cannot run ssh (%v): install OpenSSH's client (Debian/Ubuntu: apt-get install openssh-client), or set %s", err, envSSHPath)
	}
	w := &sshStderr{out: a.stderr}
	if t.Pinned {
		tmp, err := os.MkdirTemp("", "azlin-ssh-")
		if err != nil {
			return sshResult{}, err
		}
		defer os.RemoveAll(tmp)
		t.ConnectedMarker = filepath.Join(tmp, "connected")
		w.holdUntil = t.ConnectedMarker
	}
	cmd := exec.Command(path, vmprov.SSHArgs(t)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = a.stdin, a.stdout, w
	// A process ssh leaves behind (a ControlPersist master) must not keep
	// azlin waiting for the end of its stderr.
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	res := sshResult{host: t.Host}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		res.exit = ee.ExitCode()
	default:
		return res, fmt.Errorf("running ssh: %w", err)
	}
	// ssh exits 255 for its own failures; any other status is the remote
	// command's, so ssh got through. For 255 the marker tells.
	res.connected = res.exit != 255 || (t.ConnectedMarker != "" && fileExists(t.ConnectedMarker))
	if res.connected {
		w.release()
	}
	res.stderr = w.tail.String()
	return res, nil
}

// sshStderr passes ssh's stderr on, keeping its end to tell why ssh
// failed. With holdUntil set, text is held back until that file exists
// (ssh has connected), and dropped if it never does.
type sshStderr struct {
	out       io.Writer
	holdUntil string
	held      bytes.Buffer
	tail      bytes.Buffer
}

// sshStderrTail is how much of ssh's stderr azlin keeps to read: ssh's own
// messages are its last lines.
const sshStderrTail = 8 << 10

func (w *sshStderr) Write(b []byte) (int, error) {
	w.tail.Write(b)
	if over := w.tail.Len() - sshStderrTail; over > 0 {
		w.tail.Next(over)
	}
	if w.holdUntil != "" && !fileExists(w.holdUntil) && w.held.Len() < 1<<20 {
		return w.held.Write(b)
	}
	w.release()
	return w.out.Write(b)
}

// release passes on what was held back, and holds nothing more.
func (w *sshStderr) release() {
	w.holdUntil = ""
	if w.held.Len() > 0 {
		_, _ = w.out.Write(w.held.Bytes())
		w.held.Reset()
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// explainNoAnswer is the error for a VM that did not answer on SSH at all:
// it reads the azlin-ssh rule of the VM's NSG (one az call) and says
// whether the caller's address is among its sources, and if not, the
// command that lets it in.
func (a *app) explainNoAnswer(ctx context.Context, c *azcli.Client, cfg *config.Config, rg, vm string, r sshResult) error {
	nsg := vmprov.NSGFor(cfg.VNetName)
	type found struct {
		cidr string
		err  error
	}
	mine := make(chan found, 1)
	go func() {
		cidr, err := callerAddress(ctx, cfg, "")
		mine <- found{cidr, err}
	}()
	sources, err := network.NewManager(c).SSHSources(ctx, rg, nsg)
	me := <-mine
	allow := "azlin allow-ssh " + shell.Join(a.targetArgs(vm, rg))
	head := fmt.Sprintf("VM %s did not answer on SSH at %s (%s)", vm, r.host, r.why())
	switch {
	case errors.Is(err, azcli.ErrNotFound):
		return fmt.Errorf("%s: network security group %s in resource group %s has no rule %s, so SSH is let in from nowhere. Let your address in: %s",
			head, nsg, rg, network.SSHRuleName, allow)
	case err != nil:
		return fmt.Errorf("%s, and reading rule %s of network security group %s failed: %w", head, network.SSHRuleName, nsg, err)
	case me.err != nil:
		return fmt.Errorf("%s. Its network security group %s lets SSH in only from %s (rule %s); azlin could not tell your address (%v). "+
			"If yours is not among them: %s --from YOUR-ADDRESS", head, nsg, listOrNone(sources), network.SSHRuleName, me.err, allow)
	case !network.Covers(sources, me.cidr):
		return fmt.Errorf("%s: your address %s is not let in. Its network security group %s lets SSH in only from %s (rule %s); "+
			"your public address has likely changed since. Let it in: %s", head, me.cidr, nsg, listOrNone(sources), network.SSHRuleName, allow)
	}
	return fmt.Errorf("%s. Its network security group %s does let your address %s in (rule %s): check that the VM is running (azlin list) "+
		"and that nothing else drops port 22 (a firewall on your side, an NSG on the subnet)",
		head, nsg, me.cidr, network.SSHRuleName)
}

// targetArgs are the words that name vm for another azlin command: the
// VM, its resource group and the --subscription given.
func (a *app) targetArgs(vm, rg string) []string {
	args := []string{vm, "-g", rg}
	if a.flags.subscription != "" {
		args = append(args, "--subscription", a.flags.subscription)
	}
	return args
}

// callerAddress is the range SSH must be let in from, as `new` finds it:
// flag (given), else the config's ssh_from, else the caller's public
// address as a third-party service sees it.
func callerAddress(ctx context.Context, cfg *config.Config, flag string) (string, error) {
	if flag == "" {
		flag = cfg.SSHFrom
	}
	if flag != "" {
		return config.ParseSSHFrom(flag)
	}
	return network.DiscoverPublicIP(ctx, os.Getenv(network.EnvPublicIPURL))
}
