package namecache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The SSH addresses of VMs, so that `azlin ssh VM` can connect without an
// az call (each takes seconds). Like the names, an address is a hint: it
// is only ever used behind the VM's pinned host key (HostKeyAlias), so a
// stale address reaches another host, which ssh refuses, and azlin looks
// the VM up again. One file per scope holds the addresses of its VMs.

// Host is what azlin remembers of one VM for SSH.
type Host struct {
	Address string    `json:"address"`
	Updated time.Time `json:"updated"` // when azlin last connected to it there
}

type hostsFile struct {
	VMs map[string]Host `json:"vms"`
}

func (c Cache) hostsPath(s Scope) string { return filepath.Join(c.Dir, s.file()+".hosts.json") }

func (c Cache) readHosts(s Scope) hostsFile {
	var f hostsFile
	raw, err := os.ReadFile(c.hostsPath(s))
	if err != nil || json.Unmarshal(raw, &f) != nil || f.VMs == nil {
		return hostsFile{VMs: map[string]Host{}}
	}
	return f
}

// Host returns the remembered address of vm; found is false when there is
// none (or the file is unreadable: the cache is only a hint).
func (c Cache) Host(s Scope, vm string) (h Host, found bool) {
	h, found = c.readHosts(s).VMs[vm]
	return h, found && h.Address != ""
}

// SetHost remembers that azlin connected to vm at address.
func (c Cache) SetHost(s Scope, vm, address string, now time.Time) error {
	f := c.readHosts(s)
	f.VMs[vm] = Host{Address: address, Updated: now.UTC()}
	return c.writeHosts(s, f)
}

// ForgetHost drops vm's address (the VM was deleted, or is not where it was).
func (c Cache) ForgetHost(s Scope, vm string) error {
	f := c.readHosts(s)
	if _, ok := f.VMs[vm]; !ok {
		return nil
	}
	delete(f.VMs, vm)
	return c.writeHosts(s, f)
}

func (c Cache) writeHosts(s Scope, f hostsFile) error {
	raw, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return c.writeFile(c.hostsPath(s), raw)
}

// HostKeyAlias is the name under which azlin's known_hosts keeps the host
// key of vm in scope s: the VM's name and a digest of its scope (a group
// name may hold characters known_hosts patterns treat specially).
func HostKeyAlias(s Scope, vm string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(s.Subscription) + "\x00" + strings.ToLower(s.Group)))
	return vm + "." + hex.EncodeToString(sum[:6]) + ".azlin"
}
