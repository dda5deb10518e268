package azemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// store keeps the emulated cloud under AZEMU_STATE_DIR: one JSON file per
// resource at arm/<its ARM id, lower-cased, without the subscription>.json
// (ids are case-insensitive in Azure), each share's files under
// shares/<account>/<share>, each container's under blobs/<account>/<container>
// and each VM host's disk under hosts/<group>/<vm>. Every az process takes the
// lock file while it reads and writes records, and only then.
type store struct {
	dir string
}

// emuKey holds emulator-private facts inside a record; never printed.
const emuKey = "azemu"

func openStore(dir string) (*store, error) {
	if dir == "" {
		return nil, cliError("azemu: AZEMU_STATE_DIR is not set; it names the folder that holds the emulated cloud")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, cliError("azemu: bad AZEMU_STATE_DIR %q: %v", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(abs, "arm"), 0o755); err != nil {
		return nil, cliError("azemu: cannot create state dir: %v", err)
	}
	return &store{dir: abs}, nil
}

// lock takes the state lock (an flock on <state>/lock) and returns its release.
func (s *store) lock() (func(), error) {
	return flockFile(filepath.Join(s.dir, "lock"))
}

func flockFile(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("azemu: lock %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("azemu: lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// relPath maps an ARM id to its record path (without .json).
func (s *store) relPath(id string) string {
	p := strings.ToLower(id)
	if i := strings.Index(p, "/resourcegroups/"); i >= 0 {
		p = p[i+1:]
	}
	return filepath.Join(s.dir, "arm", filepath.FromSlash(p))
}

// get returns the record for id, or nil when it does not exist.
func (s *store) get(id string) (map[string]any, error) {
	data, err := os.ReadFile(s.relPath(id) + ".json")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("azemu: corrupt record %s: %w", id, err)
	}
	return m, nil
}

// put writes a record atomically (temp file + rename), so a reader never
// sees half a file even without the lock.
func (s *store) put(id string, rec map[string]any) error {
	stampCreated(rec)
	path := s.relPath(id) + ".json"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// del removes a record and every record nested under it (child resources).
func (s *store) del(id string) error {
	p := s.relPath(id)
	if err := os.Remove(p + ".json"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.RemoveAll(p)
}

// list returns the records directly inside a collection id, e.g.
// ".../resourceGroups/rg/providers/Microsoft.Storage/storageAccounts",
// sorted by name.
func (s *store) list(collection string) ([]map[string]any, error) {
	return s.readAll(filepath.Join(s.relPath(collection), "*.json"))
}

// listAllGroups returns records of one type across every resource group;
// typePath is like "providers/microsoft.storage/storageaccounts".
func (s *store) listAllGroups(typePath string) ([]map[string]any, error) {
	return s.readAll(filepath.Join(s.dir, "arm", "resourcegroups", "*", filepath.FromSlash(strings.ToLower(typePath)), "*.json"))
}

func (s *store) readAll(pattern string) ([]map[string]any, error) {
	files, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []map[string]any
	for _, f := range files {
		data, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("azemu: corrupt record %s: %w", f, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// shareDir is the folder holding a file share's files.
func (s *store) shareDir(account, share string) string {
	return filepath.Join(s.dir, "shares", strings.ToLower(account), strings.ToLower(share))
}

// containerDir is the folder holding a blob container's files.
func (s *store) containerDir(account, container string) string {
	return filepath.Join(s.dir, "blobs", strings.ToLower(account), strings.ToLower(container))
}

// hostDisk is a VM host's persistent disk.
func (s *store) hostDisk(rg, vm string) string {
	return filepath.Join(s.dir, "hosts", strings.ToLower(rg), strings.ToLower(vm))
}

// counters are small integers kept in the state (next loopback address,
// fault rule hits); callers hold the lock.
func (s *store) readCounters(name string) (map[string]int, error) {
	m := map[string]int{}
	data, err := os.ReadFile(filepath.Join(s.dir, name+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return m, nil
}

func (s *store) writeCounters(name string, m map[string]int) error {
	data, _ := json.Marshal(m)
	tmp := filepath.Join(s.dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(s.dir, name+".json"))
}
