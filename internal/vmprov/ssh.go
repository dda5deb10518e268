package vmprov

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// SSHTarget is one ssh session to an azlin VM.
type SSHTarget struct {
	KeyPath    string   // azlin's private key
	KnownHosts string   // azlin's own known_hosts file (not the user's ~/.ssh/known_hosts)
	Host       string   // the VM's IP
	Command    []string // remote command; empty = interactive login
	// Batch: no one is at the terminal (azlin itself runs the command): ssh
	// never prompts, and a connection that stops answering ends the session.
	Batch bool
}

// SSHArgs returns ssh's arguments (without the program name). All options
// come before "--" and the destination, so nothing in the remote command can
// be read as an ssh option: after "--" ssh takes the destination and then
// passes the command's words on as they are (joined by spaces, like ssh does).
// A new VM's host key is accepted on first use and checked ever after.
func SSHArgs(t SSHTarget) []string {
	args := []string{
		"-i", t.KeyPath,
		"-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=accept-new",
		"-o", "UserKnownHostsFile=" + sshConfigValue(t.KnownHosts),
		"-o", "ConnectTimeout=20",
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

// ForgetHost removes ip's entries from azlin's known_hosts. Azure reuses
// public IPs, so a new VM may get the address of a deleted one with another
// host key; without this, ssh would refuse the new VM as an impostor.
func ForgetHost(ctx context.Context, knownHosts, ip string) error {
	if _, err := os.Stat(knownHosts); err != nil {
		return nil // nothing remembered yet
	}
	_, err := sshKeygen(ctx, "-R", ip, "-f", knownHosts)
	// ssh-keygen -R keeps a backup copy; azlin's file needs none.
	_ = os.Remove(knownHosts + ".old")
	return err
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
