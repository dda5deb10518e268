package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/clierr"
)

// useDir points AZLIN_CONFIG_DIR at a fresh folder and returns it.
func useDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	t.Setenv(EnvConfigDir, d)
	return d
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
}

func TestDirHonoursEnvThenHome(t *testing.T) {
	t.Setenv(EnvConfigDir, "/srv/azlin-settings/")
	d, err := Dir()
	require.NoError(t, err)
	assert.Equal(t, "/srv/azlin-settings", d)

	t.Setenv(EnvConfigDir, "")
	t.Setenv("HOME", "/home/dev")
	d, err = Dir()
	require.NoError(t, err)
	assert.Equal(t, "/home/dev/.azlin", d)
	p, err := DefaultPath()
	require.NoError(t, err)
	assert.Equal(t, "/home/dev/.azlin/config.toml", p)
}

func TestLoadMissingFileGivesDefaults(t *testing.T) {
	dir := useDir(t)
	c, err := Load(filepath.Join(dir, "config.toml"))
	require.NoError(t, err)
	assert.Equal(t, &Config{
		DefaultVMSize: "Standard_D2s_v5",
		SSHKeyPath:    filepath.Join(dir, "azlin_ed25519"),
		VNetName:      "azlin-vnet",
		VNetPrefix:    "10.0.0.0/16",
		SubnetName:    "azlin-subnet",
		SubnetPrefix:  "10.0.0.0/24",
	}, c)
}

func TestLoadEmptyValuesKeepDefaults(t *testing.T) {
	dir := useDir(t)
	p := filepath.Join(dir, "config.toml")
	writeFile(t, p, "vnet_name = \"\"\ndefault_region = \"eastus\"\n")
	c, err := Load(p)
	require.NoError(t, err)
	assert.Equal(t, "azlin-vnet", c.VNetName)
	assert.Equal(t, "eastus", c.DefaultRegion)
}

func TestLoadRejectsBadFilesNamingFileAndLine(t *testing.T) {
	cases := []struct {
		name, body string
		want       []string
	}{
		{"not TOML", "default_region = \"westus2\"\nvnet_name = \n", []string{"is not valid TOML", "line 2"}},
		{"unclosed string", "default_region = \"westus2\n", []string{"is not valid TOML", "line 1"}},
		{"unknown key", "default_regoin = \"westus2\"\n", []string{`unknown key "default_regoin"`, "valid keys: default_region, default_resource_group"}},
		{"section", "[vnet]\nname = \"x\"\n", []string{`unknown key "vnet.name"`}},
		{"not a string", "default_region = 5\n", []string{`default_region must be a quoted string`}},
		{"invalid value", "vnet_prefix = \"10.0.0.1/16\"\n", []string{"invalid value for vnet_prefix", "the prefix is 10.0.0.0/16", "azlin config set vnet_prefix VALUE"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := useDir(t)
			p := filepath.Join(dir, "config.toml")
			writeFile(t, p, tc.body)
			c, err := Load(p)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.True(t, clierr.IsUsage(err), "a broken settings file is the user's to fix: usage error, got %T", err)
			assert.Contains(t, err.Error(), p)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := useDir(t)
	p := filepath.Join(dir, "nested", "config.toml")
	c, err := Load(p)
	require.NoError(t, err)
	require.NoError(t, c.Set("default_resource_group", "team-rg.(dev)"))
	require.NoError(t, c.Set("default_region", "westeurope"))
	require.NoError(t, c.Set("default_vm_size", "Standard_E4s_v5"))
	require.NoError(t, c.Set("ssh_key_path", "/keys/id_ed25519"))
	require.NoError(t, c.Set("vnet_name", "my_vnet"))
	require.NoError(t, c.Set("vnet_prefix", "172.16.0.0/12"))
	require.NoError(t, c.Set("subnet_name", "s1"))
	require.NoError(t, c.Set("subnet_prefix", "172.16.4.0/22"))
	require.NoError(t, Save(p, c))

	got, err := Load(p)
	require.NoError(t, err)
	assert.Equal(t, c, got)
}

func TestSaveWritesOnlyChangedKeysWithPrivateModes(t *testing.T) {
	dir := useDir(t)
	p := filepath.Join(dir, "new", "config.toml")
	c, err := Load(p)
	require.NoError(t, err)
	require.NoError(t, c.Set("default_resource_group", "rg1"))
	require.NoError(t, c.Set("vnet_prefix", "10.1.0.0/16"))
	require.NoError(t, Save(p, c))

	body, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "# azlin settings. Change them with: azlin config set KEY VALUE\n"+
		"# Keys not listed here take their defaults (azlin config set --help lists them).\n"+
		"default_resource_group = 'rg1'\n"+
		"vnet_prefix = '10.1.0.0/16'\n", string(body))

	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	di, err := os.Stat(filepath.Dir(p))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), di.Mode().Perm())
}

func TestSaveTightensLooseFileButLeavesExistingFolder(t *testing.T) {
	dir := useDir(t)
	require.NoError(t, os.Chmod(dir, 0o755))
	p := filepath.Join(dir, "config.toml")
	writeFile(t, p, "")
	require.NoError(t, os.Chmod(p, 0o644))

	c, err := Load(p)
	require.NoError(t, err)
	require.NoError(t, Save(p, c))

	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	di, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), di.Mode().Perm(), "a folder the user made is not changed")
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteAtomicFailureKeepsOldFileAndLeavesNoTemp(t *testing.T) {
	dir := useDir(t)
	p := filepath.Join(dir, "config.toml")
	writeFile(t, p, "default_region = 'westus2'\n")

	boom := errors.New("disk full")
	err := writeAtomic(p, func(f *os.File) error {
		_, _ = f.WriteString("default_reg") // half written, then the failure
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "the previous file, if any, is unchanged")

	body, rerr := os.ReadFile(p)
	require.NoError(t, rerr)
	assert.Equal(t, "default_region = 'westus2'\n", string(body))
	assert.Equal(t, []string{"config.toml"}, dirNames(t, dir))
}

func TestSaveRenameFailureLeavesNoTemp(t *testing.T) {
	dir := useDir(t)
	// A non-empty folder where the file should be: rename cannot replace it.
	p := filepath.Join(dir, "config.toml")
	require.NoError(t, os.MkdirAll(filepath.Join(p, "keep"), 0o700))

	c, err := Load(filepath.Join(dir, "absent.toml"))
	require.NoError(t, err)
	require.NoError(t, c.Set("default_region", "westus2"))
	err = Save(p, c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), p)
	assert.Equal(t, []string{"config.toml"}, dirNames(t, dir))
	assert.DirExists(t, filepath.Join(p, "keep"))
}

func TestSaveThroughSymlinkKeepsLink(t *testing.T) {
	dir := useDir(t)
	target := filepath.Join(dir, "dotfiles", "azlin.toml")
	require.NoError(t, os.MkdirAll(filepath.Dir(target), 0o700))
	writeFile(t, target, "")
	link := filepath.Join(dir, "config.toml")
	require.NoError(t, os.Symlink(target, link))

	c, err := Load(link)
	require.NoError(t, err)
	require.NoError(t, c.Set("default_region", "northeurope"))
	require.NoError(t, Save(link, c))

	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSymlink, fi.Mode()&os.ModeSymlink, "the link is kept")
	body, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Contains(t, string(body), "default_region = 'northeurope'")
}

func TestSaveRefusesInvalidConfig(t *testing.T) {
	dir := useDir(t)
	p := filepath.Join(dir, "config.toml")
	c := &Config{VNetPrefix: "not-a-cidr"}
	err := Save(p, c)
	require.Error(t, err)
	assert.True(t, clierr.IsUsage(err))
	assert.NoFileExists(t, p)
}

func TestKeysAreSortedAndCoverEveryField(t *testing.T) {
	assert.Equal(t, []string{
		"default_region", "default_resource_group", "default_vm_size", "ssh_from", "ssh_key_path",
		"subnet_name", "subnet_prefix", "vnet_name", "vnet_prefix",
	}, Keys())
	assert.Equal(t, structKeys(), Keys(), "every Config field needs a keySpec and vice versa")
	for _, k := range Keys() {
		assert.NotEmpty(t, Describe(k), k)
	}
	assert.Empty(t, Describe("nope"))
}

func TestGetUnknownKeyListsValidKeys(t *testing.T) {
	c := &Config{}
	_, err := c.Get("region")
	require.Error(t, err)
	assert.True(t, clierr.IsUsage(err))
	assert.Equal(t, `unknown setting "region"; valid keys: `+strings.Join(Keys(), ", "), err.Error())
	err = c.Set("region", "westus2")
	require.Error(t, err)
	assert.True(t, clierr.IsUsage(err))
}

func TestSetValidatesAndStores(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	cases := []struct {
		key, value string
		want       string // stored value when ok
		errPart    string // non-empty: must fail with this in the message
	}{
		{"default_resource_group", "my-rg_1.(x)", "my-rg_1.(x)", ""},
		{"default_resource_group", "rgé", "rgé", ""},
		{"default_resource_group", "ends.", "", "must not end with a period"},
		{"default_resource_group", "has space", "", `' ' is not allowed`},
		{"default_resource_group", strings.Repeat("a", 91), "", "1-90 characters"},
		{"default_region", "westus2", "westus2", ""},
		{"default_region", "West US 2", "", `did you mean "westus2"`},
		{"default_region", "west-us", "", "lowercase letters and digits"},
		{"default_vm_size", "Standard_B2s", "Standard_B2s", ""},
		{"default_vm_size", "Standard D2", "", "is not a VM size"},
		{"ssh_key_path", "~/.ssh/id_ed25519", filepath.Join(home, ".ssh/id_ed25519"), ""},
		{"ssh_key_path", "keys/id", "", "absolute path"},
		{"vnet_name", "v", "", "2-64 characters"},
		{"vnet_name", "corp.vnet_", "corp.vnet_", ""},
		{"vnet_name", "-vnet", "", "must start with a letter or digit"},
		{"vnet_name", "vnet.", "", "must end with a letter, digit or underscore"},
		{"subnet_name", "s", "s", ""},
		{"subnet_name", "sub net", "", `contains ' '`},
		{"vnet_prefix", "10.20.0.0/16", "10.20.0.0/16", ""},
		{"vnet_prefix", "10.20.0.0", "", "not an IPv4 CIDR prefix"},
		{"vnet_prefix", "fd00::/64", "", "not an IPv4 CIDR prefix"},
		{"subnet_prefix", "10.0.1.7/24", "", "the prefix is 10.0.1.0/24"},
		{"subnet_prefix", "10.0.1.0/30", "", "/29 or larger"},
	}
	for _, tc := range cases {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			useDir(t)
			c, err := Defaults()
			require.NoError(t, err)
			before := *c
			err = c.Set(tc.key, tc.value)
			if tc.errPart != "" {
				require.Error(t, err)
				assert.True(t, clierr.IsUsage(err))
				assert.Contains(t, err.Error(), "invalid value for "+tc.key)
				assert.Contains(t, err.Error(), tc.errPart)
				assert.Equal(t, before, *c, "a rejected value changes nothing")
				return
			}
			require.NoError(t, err)
			got, err := c.Get(tc.key)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestSetEmptyResetsToDefault(t *testing.T) {
	dir := useDir(t)
	c, err := Defaults()
	require.NoError(t, err)
	require.NoError(t, c.Set("vnet_name", "other"))
	require.NoError(t, c.Set("default_region", "eastus"))
	require.NoError(t, c.Set("ssh_key_path", "/k"))
	require.NoError(t, c.Set("vnet_name", ""))
	require.NoError(t, c.Set("default_region", ""))
	require.NoError(t, c.Set("ssh_key_path", ""))
	assert.Equal(t, "azlin-vnet", c.VNetName)
	assert.Equal(t, "", c.DefaultRegion)
	assert.Equal(t, filepath.Join(dir, "azlin_ed25519"), c.SSHKeyPath)
}

func TestValidResourceGroup(t *testing.T) {
	for _, ok := range []string{"a", "rg-1", "My_RG.(test)", strings.Repeat("x", 90), "ресурсы"} {
		assert.NoError(t, ValidResourceGroup(ok), ok)
	}
	for _, bad := range []string{"", "rg.", "rg/1", "rg 1", "rg;rm", strings.Repeat("x", 91)} {
		err := ValidResourceGroup(bad)
		if assert.Error(t, err, bad) {
			assert.True(t, clierr.IsUsage(err))
			assert.Contains(t, err.Error(), "invalid resource group name")
		}
	}
}

func TestParseSSHFrom(t *testing.T) {
	for in, want := range map[string]string{"203.0.113.7/32": "203.0.113.7/32", "203.0.113.7": "203.0.113.7/32",
		"192.0.2.9/24": "192.0.2.0/24", "2001:db8::1": "2001:db8::1/128"} {
		got, err := ParseSSHFrom(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "*", "203.0.113.300/32", "203.0.113.7/40", "example.com"} {
		_, err := ParseSSHFrom(bad)
		assert.True(t, clierr.IsUsage(err), "%q: %v", bad, err)
	}
}
