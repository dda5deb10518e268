package vmhost

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestNFSFstabEntries(t *testing.T) {
	fstab := "# UNCONFIGURED FSTAB\n/dev/vda / ext4 defaults 0 1\n" +
		"acct.file.core.windows.net:/acct/home /home/azureuser nfs4 vers=4,minorversion=1,_netdev,nofail 0 0\n" +
		"  acct.blob.core.windows.net:/acct/c  /mnt/c  nfs  vers=3,sec=sys  0 0\n" +
		"srv:/x /mnt/x nfs4 noauto 0 0\n#srv:/y /mnt/y nfs4 defaults 0 0\nsrv:/z /mnt/z nfs4\n"
	got := nfsFstabEntries(fstab)
	require.Len(t, got, 3)
	assert.Equal(t, fstabEntry{lineNo: 3, line: "acct.file.core.windows.net:/acct/home /home/azureuser nfs4 vers=4,minorversion=1,_netdev,nofail 0 0",
		source: "acct.file.core.windows.net:/acct/home", dir: "/home/azureuser", fstype: "nfs4", opt: "vers=4,minorversion=1,_netdev,nofail"}, got[0])
	assert.True(t, got[0].hasOption("nofail"))
	assert.Equal(t, "nfs", got[1].fstype)
	assert.False(t, got[1].hasOption("nofail"))
	assert.Equal(t, "defaults", got[2].opt)
}

func TestCloudInitSeedSettings(t *testing.T) {
	data, err := yaml.Marshal(cloudCfg("alice"))
	require.NoError(t, err)
	var back map[string]any
	require.NoError(t, yaml.Unmarshal(data, &back))
	user := back["system_info"].(map[string]any)["default_user"].(map[string]any)
	assert.Equal(t, "alice", user["name"])
	assert.Equal(t, 1000, user["uid"])
	assert.Equal(t, []any{"ALL=(ALL) NOPASSWD:ALL"}, user["sudo"])
	assert.Equal(t, []any{"NoCloud"}, back["datasource_list"])
	assert.NotContains(t, back["cloud_init_modules"], "growpart", "a host has no partition to grow")
	assert.Contains(t, back["cloud_final_modules"], "scripts-user", "runcmd's script runs in the final stage")
	assert.Equal(t, "0123abcd-0000-1111-2222-333344445555", uuidString([]byte{0x01, 0x23, 0xab, 0xcd, 0, 0, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44, 0x55, 0x55}))
}

func TestEnvValueLastWins(t *testing.T) {
	env := []string{"AZEMU_HOST_DPKG_LOCK_SECONDS=5", "AZEMU_HOST_APT_FAIL=1", "AZEMU_HOST_DPKG_LOCK_SECONDS=2"}
	assert.Equal(t, 2, lockSeconds(env))
	assert.Equal(t, 0, lockSeconds(nil))
}
