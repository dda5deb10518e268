package vmprov

import (
	"context"
	"os"
	"strings"
)

// SSHTarget is one ssh session to an azlin VM.
type SSHTarget struct {
	KeyPath    string   // azlin's private key
	KnownHosts string   // azlin's own known_hosts file (not the user's ~/.ssh/known_hosts)
	Host       string   // the VM's IP
	Command    []string // remote command; empty = interactive login
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
		"--", AdminUser + "@" + t.Host,
	}
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
