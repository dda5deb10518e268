package vmhost

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestWithAdminUserMovesTheBaseImagesUID1000(t *testing.T) {
	passwd := "root:x:0:0:root:/root:/bin/bash\ncloudsdk:x:1000:1000::/home/cloudsdk:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/sh\n"
	group := "root:x:0:\nadm:x:4:syslog\nsudo:x:27:\ncloudsdk:x:1000:\nbob:x:1001:\n"
	shadow := "root:*:19000:0:99999:7:::\ncloudsdk:!:19000:0:99999:7:::\n"
	gshadow := "root:*::\n"

	p, g, s, gs := withAdminUser(passwd, group, shadow, gshadow, "azureuser")
	assert.Equal(t, "root:x:0:0:root:/root:/bin/bash\ncloudsdk:x:1002:1002::/home/cloudsdk:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/sh\n"+
		"azureuser:x:1000:1000:,,,:/home/azureuser:/bin/bash\n", p)
	assert.Equal(t, "root:x:0:\nadm:x:4:syslog,azureuser\nsudo:x:27:azureuser\ncloudsdk:x:1002:\nbob:x:1001:\nazureuser:x:1000:\n", g)
	assert.Equal(t, shadow+"azureuser:*:::::::\n", s)
	assert.Equal(t, gshadow+"azureuser:!::\n", gs)

	// Idempotent: a second run changes nothing.
	p2, g2, s2, gs2 := withAdminUser(p, g, s, gs, "azureuser")
	assert.Equal(t, []string{p, g, s, gs}, []string{p2, g2, s2, gs2})
}

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

func TestWriteFilesPermissions(t *testing.T) {
	for text, want := range map[string]os.FileMode{
		"permissions: '0640'": 0o640,
		"permissions: 0755":   0o755, // YAML 1.1 octal, as cloud-init reads it
		"permissions: 0o600":  0o600,
		"permissions: 420":    0o644, // a plain integer is taken as is
		"path: /x":            0o644, // default
	} {
		var wf writeFile
		require.NoError(t, yaml.Unmarshal([]byte(text), &wf))
		got, err := filePerms(wf.Permissions)
		require.NoError(t, err, text)
		assert.Equal(t, want, got, text)
	}
	var wf writeFile
	require.NoError(t, yaml.Unmarshal([]byte("permissions: 'rw'"), &wf))
	_, err := filePerms(wf.Permissions)
	assert.ErrorContains(t, err, `invalid permissions "rw"`)
}

func TestWriteFilesEncodings(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write([]byte("zipped"))
	require.NoError(t, w.Close())
	for _, tc := range []struct{ content, encoding, want string }{
		{"plain", "", "plain"},
		{"plain", "text/plain", "plain"},
		{base64.StdEncoding.EncodeToString([]byte("hello")), "b64", "hello"},
		{"aGVs\n  bG8=", "base64", "hello"},
		{base64.StdEncoding.EncodeToString(gz.Bytes()), "gz+b64", "zipped"},
	} {
		got, err := decodeContent(tc.content, tc.encoding)
		require.NoError(t, err, tc.encoding)
		assert.Equal(t, tc.want, string(got), tc.encoding)
	}
	_, err := decodeContent("x", "rot13")
	assert.ErrorContains(t, err, `unknown encoding "rot13"`)
}

func TestRuncmdLines(t *testing.T) {
	var cfg cloudConfig
	require.NoError(t, yaml.Unmarshal([]byte("runcmd:\n  - echo a && echo b\n  - [ls, -l, 'my dir']\n  - [echo, \"it's\"]\n"), &cfg))
	var lines []string
	for _, item := range cfg.Runcmd {
		lines = append(lines, runcmdLine(item))
	}
	assert.Equal(t, []string{"echo a && echo b", "ls -l 'my dir'", `echo 'it'"'"'s'`}, lines)
	assert.Equal(t, []string{"nfs-common", "jq", "curl"}, packageNames([]any{"nfs-common", []any{"jq", "1.6"}, "curl=7.81"}))
}

func TestEnvValueLastWins(t *testing.T) {
	env := []string{"AZEMU_HOST_APT_FAIL=1", "AZEMU_HOST_DPKG_LOCK_SECONDS=5", "AZEMU_HOST_APT_FAIL=0"}
	assert.False(t, aptFails(env))
	assert.Equal(t, 5, lockSeconds(env))
	assert.True(t, aptFails([]string{"AZEMU_HOST_APT_FAIL=1"}))
}
