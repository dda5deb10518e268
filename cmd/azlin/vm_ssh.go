package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/provision"
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
			"Host keys are remembered in azlin's own known_hosts file in the config",
			"folder (accepted on first use, checked after), not in ~/.ssh/known_hosts.",
			"$"+envSSHPath+" names another ssh program.",
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

// runSSH finds the VM's address and runs ssh to it.
func runSSH(ctx context.Context, a *app, o *sshOptions) error {
	name, command := o.VM, o.Command
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
	c, err := a.Azure(ctx)
	if err != nil {
		return err
	}
	vm, err := vmprov.NewManager(c).Show(ctx, rg, name, true)
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
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return execSSH(a, name, vmprov.SSHTarget{
		KeyPath:    key.Private,
		KnownHosts: provision.KnownHostsPath(dir),
		Host:       vm.PublicIP,
		Command:    command,
	})
}

// execSSH runs ssh attached to azlin's terminal and maps its exit status.
// It is not tied to the command's context: Ctrl+C reaches ssh from the
// terminal itself, and ssh must be free to end the session its own way.
func execSSH(a *app, vm string, t vmprov.SSHTarget) error {
	bin := os.Getenv(envSSHPath)
	if bin == "" {
		bin = "ssh"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return fmt.Errorf("cannot run ssh (%v): install OpenSSH's client (Debian/Ubuntu: apt-get install openssh-client), or set %s", err, envSSHPath)
	}
	cmd := exec.Command(path, vmprov.SSHArgs(t)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = a.stdin, a.stdout, a.stderr
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee) && ee.ExitCode() == 255:
		return fmt.Errorf("ssh could not connect to VM %s at %s, or the connection broke (ssh exit status 255). "+
			"Check that the VM is running (azlin list); ssh's own message is above", vm, t.Host)
	case errors.As(err, &ee) && ee.ExitCode() > 0:
		return &remoteExitError{vm: vm, code: ee.ExitCode()}
	}
	return fmt.Errorf("running ssh: %w", err)
}
