package vmprov

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/azlin-dev/azlin/internal/shell"
)

// SSHTarget is one ssh session to an azlin VM.
type SSHTarget struct {
	KeyPath    string // azlin's private key
	KnownHosts string // azlin's own known_hosts file (not the user's ~/.ssh/known_hosts)
	// HostKeyAlias is the name the VM's host key has in KnownHosts ("" = its
	// address). Azure hands a deleted VM's public IP to the next VM, so an
	// address does not say which VM answers; an alias names one VM.
	HostKeyAlias string
	// Pinned: the VM's key must be in KnownHosts already
	// (StrictHostKeyChecking=yes). Otherwise a VM's first key is accepted
	// and remembered, and checked ever after (accept-new).
	Pinned bool
	// ConnectedMarker, when set, is a file ssh creates once it has connected
	// and logged in, before the remote command starts (LocalCommand): a
	// failed ssh that left no marker ran nothing on the VM.
	ConnectedMarker string
	// ConnectTimeout bounds the TCP connect and ssh's greeting (0 =
	// DefaultConnectTimeout).
	ConnectTimeout time.Duration
	Host           string   // the VM's IP
	Command        []string // remote command; empty = interactive login
	// Batch: no one is at the terminal (azlin itself runs the command): ssh
	// never prompts, and a connection that stops answering ends the session.
	Batch bool
}

// DefaultConnectTimeout is how long ssh waits for a VM to answer: a VM
// that is still booting may take a while to accept connections.
const DefaultConnectTimeout = 20 * time.Second

// SSHArgs returns ssh's arguments (without the program name). All options
// come before "--" and the destination, so nothing in the remote command can
// be read as an ssh option: after "--" ssh takes the destination and then
// passes the command's words on as they are (joined by spaces, like ssh does).
func SSHArgs(t SSHTarget) []string {
	check := "accept-new"
	if t.Pinned {
		check = "yes"
	}
	args := []string{
		"-i", t.KeyPath,
		"-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=" + check,
		"-o", "UserKnownHostsFile=" + sshConfigValue(t.KnownHosts),
	}
	if t.HostKeyAlias != "" {
		// CheckHostIP=no: the key is the VM's, whatever address it has now;
		// no entry for the address is written or compared.
		args = append(args, "-o", "HostKeyAlias="+t.HostKeyAlias, "-o", "CheckHostIP=no")
	}
	timeout := DefaultConnectTimeout
	if t.ConnectTimeout > 0 {
		timeout = t.ConnectTimeout
	}
	args = append(args, "-o", fmt.Sprintf("ConnectTimeout=%d", int(timeout.Seconds())))
	if t.ConnectedMarker != "" {
		// The rest of the line is the command, run by the user's shell, with
		// ssh's %-tokens expanded: the path is quoted, its % doubled.
		// ControlPath=none: a session through a shared connection runs no
		// LocalCommand, and so would leave no mark.
		path := strings.ReplaceAll(t.ConnectedMarker, "%", "%%")
		args = append(args, "-o", "PermitLocalCommand=yes", "-o", "LocalCommand=touch "+shell.Quote(path), "-o", "ControlPath=none")
	}
	if t.Batch {
		args = append(args, "-o", "BatchMode=yes", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4")
	}
	args = append(args, "--", AdminUser+"@"+t.Host)
	return append(args, t.Command...)
}

// sshConfigValue quotes a path for an ssh -o option, whose values are split
// at spaces unless double-quoted.
func sshConfigValue(v string) string {
	if strings.ContainsAny(v, " \t") {
		return `"` + v + `"`
	}
	return v
}

// ForgetHost removes host's entries (an address or a host key alias) from
// azlin's known_hosts. Azure reuses public IPs and names, so a new VM may
// get the address or name of a deleted one with another host key; without
// this, ssh would refuse the new VM as an impostor.
func ForgetHost(ctx context.Context, knownHosts, host string) error {
	if _, err := os.Stat(knownHosts); err != nil {
		return nil // nothing remembered yet
	}
	_, err := sshKeygen(ctx, "-R", host, "-f", knownHosts)
	// ssh-keygen -R keeps a backup copy; azlin's file needs none.
	_ = os.Remove(knownHosts + ".old")
	return err
}

// KnowsHost tells whether azlin's known_hosts holds a key for host (an
// address or a host key alias), hashed or not (ssh-keygen -F).
func KnowsHost(ctx context.Context, knownHosts, host string) (bool, error) {
	if _, err := os.Stat(knownHosts); err != nil {
		return false, nil
	}
	out, err := sshKeygen(ctx, "-F", host, "-f", knownHosts)
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 && len(out) == 0 {
		return false, nil // not found
	}
	return err == nil && len(out) > 0, err
}

// SSHRunner runs one batch ssh session and returns the remote command's
// output; an error means ssh did not run the command to its end.
type SSHRunner func(ctx context.Context, t SSHTarget) (stdout string, err error)

// SSHError is an ssh session that exited non-zero.
type SSHError struct {
	Host   string
	Exit   int
	Stderr string
}

func (e *SSHError) Error() string {
	return fmt.Sprintf("ssh to %s exited with status %d: %s", e.Host, e.Exit, e.Stderr)
}

// Refused tells that the VM answered but did not accept azlin's key (ssh's
// "Permission denied (publickey)"), as opposed to not answering at all.
func (e *SSHError) Refused() bool {
	return e.Exit == 255 && strings.Contains(e.Stderr, "Permission denied")
}

// RunSSH is an SSHRunner that runs the ssh program bin ("" = ssh on PATH).
func RunSSH(bin string) SSHRunner {
	return func(ctx context.Context, t SSHTarget) (string, error) {
		if bin == "" {
			bin = "ssh"
		}
		t.Batch = true
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, SSHArgs(t)...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return stdout.String(), nil
		case errors.As(err, &ee):
			return stdout.String(), &SSHError{Host: t.Host, Exit: ee.ExitCode(), Stderr: strings.TrimSpace(stderr.String())}
		default:
			return stdout.String(), fmt.Errorf("running ssh: %w", err)
		}
	}
}
