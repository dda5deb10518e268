// Package config reads and writes azlin's settings file (~/.azlin/config.toml)
// and decides which resource group and region a command uses.
//
// The file is TOML, read through viper. It holds only plain string keys; a key
// that is absent or empty takes its default. Save writes only the keys that
// differ from their defaults, so a later azlin with better defaults still
// applies them to everything the user never chose.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/viper"

	"github.com/azlin-dev/azlin/internal/clierr"
)

// Environment variables this package reads.
const (
	EnvConfigDir     = "AZLIN_CONFIG_DIR"
	EnvResourceGroup = "AZLIN_RESOURCE_GROUP"
)

// Config is the content of config.toml. Every field is a settable key (see
// Keys); the mapstructure tag is the key's name in the file and on the
// command line.
type Config struct {
	DefaultResourceGroup string `mapstructure:"default_resource_group"`
	DefaultRegion        string `mapstructure:"default_region"`
	DefaultVMSize        string `mapstructure:"default_vm_size"`
	SSHKeyPath           string `mapstructure:"ssh_key_path"`
	VNetName             string `mapstructure:"vnet_name"`
	VNetPrefix           string `mapstructure:"vnet_prefix"`
	SubnetName           string `mapstructure:"subnet_name"`
	SubnetPrefix         string `mapstructure:"subnet_prefix"`
	SSHFrom              string `mapstructure:"ssh_from"`
}

// Dir is azlin's own folder: $AZLIN_CONFIG_DIR if set, else ~/.azlin.
// It holds config.toml and, by default, azlin's SSH key.
func Dir() (string, error) {
	if d := os.Getenv(EnvConfigDir); d != "" {
		return filepath.Clean(d), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", fmt.Errorf("cannot find your home folder to keep azlin's settings in (%v): set %s to a folder of your choice", err, EnvConfigDir)
	}
	return filepath.Join(home, ".azlin"), nil
}

// DefaultPath is the settings file used when --config is not given.
func DefaultPath() (string, error) {
	d, err := Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "config.toml"), nil
}

// Defaults returns a Config holding every key's default value.
func Defaults() (*Config, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	c := &Config{}
	for _, s := range specs {
		*s.field(c) = s.defaultValue(dir)
	}
	return c, nil
}

// Keys lists the settable keys, sorted.
func Keys() []string {
	keys := make([]string, 0, len(specs))
	for _, s := range specs {
		keys = append(keys, s.name)
	}
	sort.Strings(keys)
	return keys
}

// Describe returns a one-line description of key (with its default), for
// `azlin config set --help`; "" for an unknown key.
func Describe(key string) string {
	s := lookup(key)
	if s == nil {
		return ""
	}
	return s.help
}

// Get returns key's value.
func (c *Config) Get(key string) (string, error) {
	s := lookup(key)
	if s == nil {
		return "", unknownKey(key)
	}
	return *s.field(c), nil
}

// Set validates value and stores it under key. An empty value resets the key
// to its default (for default_resource_group and default_region: unset).
// Bad keys and values are usage errors; c is unchanged then.
func (c *Config) Set(key, value string) error {
	s := lookup(key)
	if s == nil {
		return unknownKey(key)
	}
	if value == "" {
		dir, err := Dir()
		if err != nil {
			return err
		}
		*s.field(c) = s.defaultValue(dir)
		return nil
	}
	v, err := s.check(value)
	if err != nil {
		return clierr.Usagef("invalid value for %s: %v", key, err)
	}
	*s.field(c) = v
	return nil
}

// Load reads the settings file at path. A missing file is not an error: the
// result is all defaults. A file that is not valid TOML, or that holds an
// unknown key, a non-string value or an invalid value, is a usage error that
// names the file (and the line, when the TOML parser knows it).
func Load(path string) (*Config, error) {
	c, err := Defaults()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return c, nil
	} else if err != nil {
		return nil, fmt.Errorf("cannot read azlin's settings file: %w", err)
	}

	v := viper.New()
	v.SetConfigFile(path)
	v.SetConfigType("toml")
	if err := v.ReadInConfig(); err != nil {
		return nil, parseError(path, err)
	}
	for _, k := range v.AllKeys() {
		if lookup(k) == nil {
			return nil, clierr.Usagef("settings file %s: unknown key %q (valid keys: %s)", path, k, strings.Join(Keys(), ", "))
		}
		if _, ok := v.Get(k).(string); !ok {
			return nil, clierr.Usagef("settings file %s: %s must be a quoted string, e.g. %s = \"...\"", path, k, k)
		}
	}
	var fromFile Config
	if err := v.Unmarshal(&fromFile); err != nil {
		return nil, clierr.Usagef("settings file %s: %v", path, err)
	}
	for _, s := range specs {
		raw := *s.field(&fromFile)
		if raw == "" {
			continue // absent or empty: keep the default
		}
		val, err := s.check(raw)
		if err != nil {
			return nil, clierr.Usagef("settings file %s: invalid value for %s: %v (fix it with: azlin config set %s VALUE)", path, s.name, err, s.name)
		}
		*s.field(c) = val
	}
	return c, nil
}

// parseError turns viper's parse error into one that names the file and line.
func parseError(path string, err error) error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		return clierr.Usagef("settings file %s is not valid TOML: line %d, column %d: %s", path, line, col, msg)
	}
	return clierr.Usagef("settings file %s cannot be read: %v", path, err)
}

// Save writes c to path atomically (see writeAtomic): a reader sees the old
// file or the new one, never a mix, and a failed save leaves the old file as
// it was. Only keys that differ from their defaults are written. The file is
// 0600; a missing folder is created 0700. An existing folder keeps its mode:
// it may be one the user chose on purpose with AZLIN_CONFIG_DIR, and the file's
// own 0600 already keeps its content private.
func Save(path string, c *Config) error {
	dir, err := Dir()
	if err != nil {
		return err
	}
	v := viper.New()
	v.SetConfigType("toml")
	for _, s := range specs {
		val := *s.field(c)
		if val == "" || val == s.defaultValue(dir) {
			continue
		}
		if _, err := s.check(val); err != nil {
			return clierr.Usagef("not saving settings: invalid value for %s: %v", s.name, err)
		}
		v.Set(s.name, val)
	}
	var body strings.Builder
	body.WriteString("# azlin settings. Change them with: azlin config set KEY VALUE\n")
	body.WriteString("# Keys not listed here take their defaults (azlin config set --help lists them).\n")
	if err := v.WriteConfigTo(&body); err != nil {
		return fmt.Errorf("encoding settings: %w", err)
	}
	return writeAtomic(path, func(w *os.File) error {
		_, err := w.WriteString(body.String())
		return err
	})
}

// writeAtomic replaces path with what fill writes: into a temporary file in
// the same folder (so the rename cannot cross filesystems), synced to disk,
// then renamed over path, then the folder synced so the rename itself
// survives a crash. If path is a symlink (dotfile managers do this), its
// target is replaced and the link kept.
func writeAtomic(path string, fill func(*os.File) error) (err error) {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create folder for azlin's settings: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write azlin's settings in %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("cannot save azlin's settings to %s (the previous file, if any, is unchanged): %w", path, err)
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return err
	}
	if err = fill(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // best effort: the data is already safe in the renamed file
		d.Close()
	}
	return nil
}

// keySpec is everything about one settable key, in one place.
type keySpec struct {
	name  string
	field func(*Config) *string
	// def is the default; "" means none. A default that depends on the
	// config folder is computed by defaultValue.
	def   string
	check func(string) (string, error) // returns the value to store
	help  string
}

func (s *keySpec) defaultValue(dir string) string {
	if s.name == "ssh_key_path" {
		return filepath.Join(dir, "azlin_ed25519")
	}
	return s.def
}

var specs = []keySpec{
	{name: "default_resource_group", field: func(c *Config) *string { return &c.DefaultResourceGroup },
		check: func(v string) (string, error) { return v, validRG(v) },
		help:  "resource group used when -g and AZLIN_RESOURCE_GROUP are not given (no default)"},
	{name: "default_region", field: func(c *Config) *string { return &c.DefaultRegion },
		check: func(v string) (string, error) { return v, validRegion(v) },
		help:  "Azure region for new resources, e.g. westus2 (default: the resource group's region)"},
	{name: "default_vm_size", field: func(c *Config) *string { return &c.DefaultVMSize },
		def: "Standard_D2s_v5", check: checkVMSize,
		help: "VM size for new VMs (default Standard_D2s_v5)"},
	{name: "ssh_key_path", field: func(c *Config) *string { return &c.SSHKeyPath },
		check: checkKeyPath,
		help:  "private SSH key azlin uses for its VMs; created if missing (default <config dir>/azlin_ed25519)"},
	{name: "vnet_name", field: func(c *Config) *string { return &c.VNetName },
		def: "azlin-vnet", check: func(v string) (string, error) { return v, validNetworkName(v, 2, 64) },
		help: "virtual network azlin creates or reuses (default azlin-vnet)"},
	{name: "vnet_prefix", field: func(c *Config) *string { return &c.VNetPrefix },
		def: "10.0.0.0/16", check: checkPrefix,
		help: "address space of a VNet azlin creates (default 10.0.0.0/16)"},
	{name: "subnet_name", field: func(c *Config) *string { return &c.SubnetName },
		def: "azlin-subnet", check: func(v string) (string, error) { return v, validNetworkName(v, 1, 80) },
		help: "subnet for azlin's VMs (default azlin-subnet)"},
	{name: "subnet_prefix", field: func(c *Config) *string { return &c.SubnetPrefix },
		def: "10.0.0.0/24", check: checkPrefix,
		help: "address range of a subnet azlin creates; must lie inside the VNet's (default 10.0.0.0/24)"},
	{name: "ssh_from", field: func(c *Config) *string { return &c.SSHFrom },
		check: ParseSSHFrom,
		help:  "address range (CIDR) azlin new lets SSH in from (default: your public address, asked of AZLIN_PUBLIC_IP_URL or https://api.ipify.org)"},
}

func lookup(key string) *keySpec {
	for i := range specs {
		if specs[i].name == key {
			return &specs[i]
		}
	}
	return nil
}

func unknownKey(key string) error {
	return clierr.Usagef("unknown setting %q; valid keys: %s", key, strings.Join(Keys(), ", "))
}

// structKeys lists the mapstructure tags of Config, so a test can check that
// every field has a keySpec.
func structKeys() []string {
	t := reflect.TypeOf(Config{})
	keys := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		keys = append(keys, t.Field(i).Tag.Get("mapstructure"))
	}
	sort.Strings(keys)
	return keys
}

// ParseSSHFrom checks a --ssh-from / ssh_from value: a CIDR, or a bare
// address (taken as /32, or /128 for IPv6). It returns the canonical prefix.
func ParseSSHFrom(s string) (string, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked().String(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()).String(), nil
	}
	return "", clierr.Usagef("%q is not an address range: give a CIDR such as 203.0.113.7/32", s)
}
