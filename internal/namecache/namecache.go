// Package namecache keeps the VM and storage names azlin saw last, per
// resource group, for shell completion: a completion must answer at once,
// and an az call takes seconds. The names are a hint, never a record:
// commands read Azure for what exists (docs/architecture.md), and a stale
// name only offers a completion that the command then reports as missing.
// It also keeps the VMs' SSH addresses (hosts.go), hints of the same kind.
//
// One small JSON file per resource group and kind, written atomically
// (temporary file, then rename), so a reader never sees half a file and
// two writers never mix their lists.
package namecache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Kind is what the names are of.
type Kind string

const (
	VMs      Kind = "vms"
	Storages Kind = "storages"
)

// StaleAfter is the age from which a completion starts a refresh: long
// enough that a burst of TABs costs one refresh, short enough that a VM
// made elsewhere (the portal, a teammate) shows up within minutes.
const StaleAfter = 5 * time.Minute

// RefreshTimeout bounds a background refresh (the login check and two
// list calls); a refresh claim older than this is taken as abandoned.
const RefreshTimeout = 90 * time.Second

// Scope is where names live: a resource group, in the subscription named by
// --subscription ("" for az's current one). Azure's group names are not
// case-sensitive, so neither is the scope.
type Scope struct {
	Subscription, Group string
}

func (s Scope) file() string {
	name := url.PathEscape(strings.ToLower(s.Group))
	if s.Subscription != "" {
		name += "@" + url.PathEscape(strings.ToLower(s.Subscription))
	}
	return name
}

// Entry is one cached list.
type Entry struct {
	Names   []string  `json:"names"`
	Updated time.Time `json:"updated"`
}

// Stale tells whether the entry is old enough to refresh.
func (e Entry) Stale(now time.Time) bool { return now.Sub(e.Updated) >= StaleAfter }

// Cache is the folder of the cache files (azlin's config folder's "names").
type Cache struct {
	Dir string
}

// In is the cache inside azlin's config folder.
func In(configDir string) Cache { return Cache{Dir: filepath.Join(configDir, "names")} }

func (c Cache) path(s Scope, k Kind) string {
	return filepath.Join(c.Dir, s.file()+"."+string(k)+".json")
}

// Read returns the cached names; found is false when there are none yet
// (or the file is unreadable: the cache is only a hint).
func (c Cache) Read(s Scope, k Kind) (e Entry, found bool) {
	raw, err := os.ReadFile(c.path(s, k))
	if err != nil || json.Unmarshal(raw, &e) != nil {
		return Entry{}, false
	}
	return e, true
}

// Write replaces the names of kind k in scope s, atomically.
func (c Cache) Write(s Scope, k Kind, names []string, now time.Time) error {
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	if sorted == nil {
		sorted = []string{}
	}
	raw, err := json.Marshal(Entry{Names: sorted, Updated: now.UTC()})
	if err != nil {
		return err
	}
	return c.writeFile(c.path(s, k), raw)
}

// writeFile replaces path with raw atomically: a temporary file, then a
// rename, so that a reader never sees half a file.
func (c Cache) writeFile(path string, raw []byte) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.Dir, ".names-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone after the rename; removes a failed write
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Add and Remove change a cached list after azlin made or deleted one
// thing, so completion offers the new VM at once and no longer the deleted
// one. They only touch a list that exists, and keep its time: a list is
// only as fresh as the last full read of the group.
func (c Cache) Add(s Scope, k Kind, name string) error {
	return c.edit(s, k, func(names []string) []string { return append(names, name) })
}

// Remove takes name out of a cached list (see Add).
func (c Cache) Remove(s Scope, k Kind, name string) error {
	return c.edit(s, k, func(names []string) []string {
		return slices.DeleteFunc(names, func(n string) bool { return n == name })
	})
}

func (c Cache) edit(s Scope, k Kind, f func([]string) []string) error {
	e, found := c.Read(s, k)
	if !found {
		return nil
	}
	return c.Write(s, k, f(e.Names), e.Updated)
}

// ClaimRefresh takes the right to refresh scope s, so that many TABs start
// one refresh: it creates a claim file, and fails while another claim is
// younger than RefreshTimeout. Release gives it back.
func (c Cache) ClaimRefresh(s Scope, now time.Time) (bool, error) {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return false, err
	}
	claim := c.claimPath(s)
	for range 2 {
		f, err := os.OpenFile(claim, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			_, werr := fmt.Fprintln(f, now.UTC().Format(time.RFC3339))
			return true, errors.Join(werr, f.Close())
		}
		if !errors.Is(err, fs.ErrExist) {
			return false, err
		}
		info, err := os.Stat(claim)
		if err != nil || now.Sub(info.ModTime()) < RefreshTimeout {
			return false, nil
		}
		os.Remove(claim) // abandoned (a refresh that was killed): take it over
	}
	return false, nil
}

// Release ends a refresh of scope s.
func (c Cache) Release(s Scope) { os.Remove(c.claimPath(s)) }

func (c Cache) claimPath(s Scope) string { return filepath.Join(c.Dir, s.file()+".refreshing") }

// Complete returns the names that start with prefix, as a shell completes.
func Complete(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}
