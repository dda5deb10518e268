package vmhost

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// provision does, at a host's first boot, what Azure's provisioning
// (cloud-init's init stage) does on a real image before sshd starts: hostname,
// the admin user with passwordless sudo and the SSH key, fresh host keys.
// It runs inside the host, after pivot_root: every path is the host's.
// notInTheImage are files of this machine's /etc that a fresh Azure Ubuntu
// VM does not have.
var notInTheImage = []string{"/etc/gitconfig"}

func provision(cfg Config) error {
	if err := os.WriteFile("/etc/hostname", []byte(cfg.Name+"\n"), 0o644); err != nil {
		return err
	}
	if err := appendLineOnce("/etc/hosts", cfg.IP+" "+cfg.Name); err != nil {
		return err
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	if err := os.WriteFile("/etc/machine-id", []byte(hex.EncodeToString(id)+"\n"), 0o444); err != nil {
		return err
	}
	if err := addAdminUser("/etc", cfg.AdminUser); err != nil {
		return err
	}
	// The host's /etc is this machine's under an overlay; what a fresh Azure
	// Ubuntu image has none of, and this machine may, goes (from the overlay
	// only): its system git config.
	for _, f := range notInTheImage {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	// Azure images: cloud-init writes this file for the admin user.
	if err := os.MkdirAll("/etc/sudoers.d", 0o755); err != nil {
		return err
	}
	sudoers := fmt.Sprintf("# Created by cloud-init (azemu) for the VM's admin user\n%s ALL=(ALL) NOPASSWD:ALL\n", cfg.AdminUser)
	if err := os.WriteFile("/etc/sudoers.d/90-cloud-init-users", []byte(sudoers), 0o440); err != nil {
		return err
	}
	if err := makeHome(cfg.AdminUser, cfg.SSHPublicKey); err != nil {
		return err
	}
	return sshHostSetup(cfg.Name)
}

// makeHome creates the admin user's home as useradd -m and Azure's
// provisioning do: skeleton files, ~/.ssh/authorized_keys, modes sshd's
// StrictModes accepts, everything owned by uid/gid 1000.
func makeHome(user, key string) error {
	home := "/home/" + user
	ssh := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(ssh, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(home, 0o750); err != nil {
		return err
	}
	skel, _ := os.ReadDir("/etc/skel")
	for _, e := range skel {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/etc/skel", e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(home, e.Name()), data, 0o644); err != nil {
			return err
		}
	}
	keys := strings.TrimSpace(key) + "\n"
	if err := os.WriteFile(filepath.Join(ssh, "authorized_keys"), []byte(keys), 0o600); err != nil {
		return err
	}
	return filepath.Walk(home, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, adminUID, adminUID)
	})
}

// sshHostSetup gives the host its own host key (not the machine's, which the
// /etc overlay would otherwise show) and its own sshd_config. ListenAddress is
// passed on sshd's command line at every boot.
func sshHostSetup(name string) error {
	old, _ := filepath.Glob("/etc/ssh/ssh_host_*")
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@"+name,
		"-f", "/etc/ssh/ssh_host_ed25519_key").CombinedOutput()
	if err != nil {
		return fmt.Errorf("ssh-keygen: %v: %s", err, out)
	}
	return os.WriteFile("/etc/ssh/sshd_config", []byte(sshdConfig), 0o644)
}

const sshdConfig = `# Written by azemu at this VM host's first boot. sshd also gets
# -o ListenAddress=<the VM's address>:22 on its command line.
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes yes
X11Forwarding no
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
`

func appendLineOnce(path, line string) error {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) == line {
			return nil
		}
	}
	if len(data) > 0 && !strings.HasSuffix(string(data), "\n") {
		data = append(data, '\n')
	}
	return os.WriteFile(path, append(data, line+"\n"...), 0o644)
}

// addAdminUser edits etc/{passwd,group,shadow,gshadow} so that user has
// uid/gid 1000, moving whoever had them in the base image to free ids.
func addAdminUser(etc, user string) error {
	files := []string{"passwd", "group", "shadow", "gshadow"}
	dbs := make([]string, len(files))
	for i, f := range files {
		data, err := os.ReadFile(filepath.Join(etc, f))
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		dbs[i] = string(data)
	}
	passwd, group, shadow, gshadow := withAdminUser(dbs[0], dbs[1], dbs[2], dbs[3], user)
	modes := []os.FileMode{0o644, 0o644, 0o640, 0o640}
	for i, content := range []string{passwd, group, shadow, gshadow} {
		if err := os.WriteFile(filepath.Join(etc, files[i]), []byte(content), modes[i]); err != nil {
			return err
		}
	}
	return nil
}

// withAdminUser is addAdminUser on the files' contents.
func withAdminUser(passwd, group, shadow, gshadow, user string) (string, string, string, string) {
	pw, gr := parseDB(passwd, 7), parseDB(group, 4)
	id := strconv.Itoa(adminUID)
	usedUIDs, usedGIDs := map[string]bool{}, map[string]bool{}
	for _, e := range pw {
		usedUIDs[e[2]] = true
	}
	for _, e := range gr {
		usedGIDs[e[2]] = true
	}
	free := func(used map[string]bool) string {
		for n := adminUID + 1; ; n++ {
			if s := strconv.Itoa(n); !used[s] {
				used[s] = true
				return s
			}
		}
	}
	// Move another group off gid 1000, and its members' primary gid with it.
	for _, e := range gr {
		if e[2] == id && e[0] != user {
			e[2] = free(usedGIDs)
			for _, p := range pw {
				if p[3] == id && p[0] != user {
					p[3] = e[2]
				}
			}
		}
	}
	for _, e := range pw {
		if e[2] == id && e[0] != user {
			e[2] = free(usedUIDs)
		}
	}
	if e := findEntry(pw, user); e != nil {
		e[2], e[3], e[5] = id, id, "/home/"+user
	} else {
		pw = append(pw, []string{user, "x", id, id, ",,,", "/home/" + user, "/bin/bash"})
	}
	if e := findEntry(gr, user); e != nil {
		e[2] = id
	} else {
		gr = append(gr, []string{user, "x", id, ""})
	}
	for _, g := range []string{"adm", "sudo"} {
		if e := findEntry(gr, g); e != nil && !contains(strings.Split(e[3], ","), user) {
			e[3] = strings.TrimPrefix(e[3]+","+user, ",")
		}
	}
	sh, gsh := parseDB(shadow, 9), parseDB(gshadow, 4)
	if findEntry(sh, user) == nil {
		// "*": no password, but not locked ("!"), so that sshd without PAM
		// accepts the key; empty aging fields: no forced password change.
		sh = append(sh, []string{user, "*", "", "", "", "", "", "", ""})
	}
	if findEntry(gsh, user) == nil {
		gsh = append(gsh, []string{user, "!", "", ""})
	}
	return formatDB(pw), formatDB(gr), formatDB(sh), formatDB(gsh)
}

// parseDB splits a colon-separated database into entries of at least n fields.
func parseDB(s string, n int) [][]string {
	var db [][]string
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, ":")
		for len(f) < n {
			f = append(f, "")
		}
		db = append(db, f)
	}
	return db
}

func formatDB(db [][]string) string {
	var b strings.Builder
	for _, e := range db {
		b.WriteString(strings.Join(e, ":") + "\n")
	}
	return b.String()
}

func findEntry(db [][]string, name string) []string {
	for _, e := range db {
		if e[0] == name {
			return e
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
