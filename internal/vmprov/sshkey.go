package vmprov

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
)

// KeyPair is azlin's SSH key: the private key at Private, its public half at
// Public (Private + ".pub").
type KeyPair struct {
	Private string
	Public  string
}

// KeyPairAt names the key pair whose private key is at path.
func KeyPairAt(path string) KeyPair { return KeyPair{Private: path, Public: path + ".pub"} }

// Exists reports whether both halves of the key are on disk.
func (k KeyPair) Exists() bool {
	return fileExists(k.Private) && fileExists(k.Public)
}

// EnsureKeyPair creates azlin's ed25519 key pair at path with ssh-keygen if
// it is missing, and reports whether it did. An existing key is never
// overwritten: a private key without its .pub gets the .pub derived from it,
// and a .pub without its private key is an error, since VMs created with it
// would be unreachable.
func EnsureKeyPair(ctx context.Context, path string) (k KeyPair, created bool, err error) {
	k = KeyPairAt(path)
	havePriv, havePub := fileExists(k.Private), fileExists(k.Public)
	switch {
	case havePriv && havePub:
		return k, false, nil
	case !havePriv && havePub:
		return k, false, fmt.Errorf("SSH public key %s exists but its private key %s does not: azlin will not replace a key it did not make; "+
			"restore the private key, or move both away (or set another path: azlin config set ssh_key_path PATH)", k.Public, k.Private)
	case havePriv && !havePub:
		out, err := sshKeygen(ctx, "-y", "-f", k.Private)
		if err != nil {
			return k, false, fmt.Errorf("deriving the public key from %s: %w", k.Private, err)
		}
		if err := os.WriteFile(k.Public, out, 0o644); err != nil {
			return k, false, fmt.Errorf("writing SSH public key: %w", err)
		}
		return k, false, os.Chmod(k.Public, 0o644)
	}
	if err := os.MkdirAll(filepath.Dir(k.Private), 0o700); err != nil {
		return k, false, fmt.Errorf("creating the folder for azlin's SSH key: %w", err)
	}
	if _, err := sshKeygen(ctx, "-q", "-t", "ed25519", "-N", "", "-C", "azlin", "-f", k.Private); err != nil {
		return k, false, fmt.Errorf("creating azlin's SSH key at %s: %w", k.Private, err)
	}
	// ssh-keygen's modes depend on the umask; make them what ssh expects.
	if err := os.Chmod(k.Private, 0o600); err != nil {
		return k, true, err
	}
	return k, true, os.Chmod(k.Public, 0o644)
}

func sshKeygen(ctx context.Context, args ...string) ([]byte, error) {
	bin, err := exec.LookPath("ssh-keygen")
	if err != nil {
		return nil, errors.New("ssh-keygen not found: install OpenSSH's client tools (Debian/Ubuntu: apt-get install openssh-client)")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = nil // never prompt
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ssh-keygen %v: %w: %s", args, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}
