package nfs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSourceAndMountOptionsPerTier(t *testing.T) {
	p := Target{Account: "devshared01", Share: "home", Tier: Premium}
	s := Target{Account: "devshared02", Share: "homes", Tier: Standard}
	assert.Equal(t, "devshared01.file.core.windows.net:/devshared01/home", p.Source())
	assert.Equal(t, "devshared02.blob.core.windows.net:/devshared02/homes", s.Source())
	assert.Equal(t, "nfs", p.FSType())
	assert.Equal(t, "aznfs", s.FSType(), "Blob NFS mounts through AZNFS, as Microsoft's Blob NFS mount article says")
	assert.Equal(t, "vers=4,minorversion=1,sec=sys,nconnect=4,hard,noresvport,rsize=1048576,wsize=1048576,actimeo=30",
		strings.Join(MountOptions(Premium), ","))
	assert.Equal(t, "sec=sys,vers=3,nolock,proto=tcp,hard", strings.Join(MountOptions(Standard), ","))
	// A script's mount is one bounded attempt.
	assert.Equal(t, "sec=sys,vers=3,nolock,proto=tcp,hard,retry=0", strings.Join(ScriptMountOptions(Standard), ","))
	assert.NotContains(t, MountOptions(Premium), "vers=3", "NFS v3 against Azure Files fails: Protocol not supported")
}

func TestFstabLineIsOneMarkedLine(t *testing.T) {
	line := FstabLine(Target{Account: "devshared01", Share: "home", Tier: Premium}, "/home/azureuser")
	assert.Equal(t, "devshared01.file.core.windows.net:/devshared01/home /home/azureuser nfs "+
		"vers=4,minorversion=1,sec=sys,nconnect=4,hard,noresvport,rsize=1048576,wsize=1048576,actimeo=30,"+
		"_netdev,nofail,x-systemd.mount-timeout=3min,x-azlin.managed 0 0", line)
	// At boot mount.nfs keeps its own retries: no retry=0 there.
	assert.NotContains(t, line, "retry=0")
	assert.NotContains(t, line, "\n")
	fields := strings.Fields(line)
	require.Len(t, fields, 6)
	assert.Contains(t, strings.Split(fields[3], ","), FstabMarker)
	// MountOptions must not be changed by the appends.
	assert.NotContains(t, MountOptions(Premium), "_netdev")
	assert.NotContains(t, MountOptions(Premium), "retry=0")
}

// A TLS target mounts through AZNFS (-t aznfs, in the script and in fstab),
// with the same options, and shows up in the mount table from 127.0.0.1.
func TestTLSTargetMountsThroughAznfs(t *testing.T) {
	tg := Target{Account: "devshared01", Share: "home", Tier: Premium, TLS: true}
	require.NoError(t, tg.Validate())
	assert.Equal(t, "aznfs", tg.FSType())
	assert.Equal(t, "devshared01.file.core.windows.net:/devshared01/home", tg.Source(), "the export mount.aznfs takes is the same")
	assert.Equal(t, "127.0.0.1:/devshared01/home", tg.TLSSource())
	line := FstabLine(tg, "/home/azureuser")
	assert.Equal(t, "aznfs", strings.Fields(line)[2])
	assert.Equal(t, strings.Fields(FstabLine(Target{Account: "devshared01", Share: "home", Tier: Premium}, "/home/azureuser"))[3],
		strings.Fields(line)[3], "the same options as a plain mount")
	assert.ErrorContains(t, Target{Account: "devshared02", Share: "homes", Tier: Standard, TLS: true}.Validate(), "Azure Files (Premium, PremiumV2) shares only")
}

// Standard (Blob NFS 3.0) mounts with -t aznfs and the Blob NFS article's
// options, in the script and in fstab, as "Mount Blob Storage by using the
// NFS 3.0 protocol" gives both: AZNFS's proxy address follows the
// endpoint's IP. It is not TLS: a Standard target cannot ask for it.
func TestStandardTargetMountsThroughAznfsWithoutTLS(t *testing.T) {
	tg := Target{Account: "devshared02", Share: "homes", Tier: Standard}
	require.NoError(t, tg.Validate())
	assert.Equal(t, "aznfs", tg.FSType())
	assert.True(t, AznfsProxy(Standard))
	assert.False(t, AznfsProxy(Premium), "Azure Files' endpoint is reached through TLS (or plain), not AZNFS's proxy")
	assert.Equal(t, "devshared02.blob.core.windows.net:/devshared02/homes", tg.Source(), "mount.aznfs takes the endpoint's name")
	assert.Equal(t, "devshared02.blob.core.windows.net:/devshared02/homes /home/azureuser aznfs "+
		"sec=sys,vers=3,nolock,proto=tcp,hard,_netdev,nofail,x-systemd.mount-timeout=3min,x-azlin.managed 0 0",
		FstabLine(tg, "/home/azureuser"))
	assert.NotContains(t, ScriptMountOptions(Standard), "notls", "notls is an Azure Files option; Blob NFS has no TLS to turn off")
	assert.Error(t, Target{Account: "devshared02", Share: "homes", Tier: Standard, TLS: true}.Validate())
	// Premium without TLS stays plain NFS.
	assert.Equal(t, "nfs", Target{Account: "devshared01", Share: "home", Tier: Premium}.FSType())
}
