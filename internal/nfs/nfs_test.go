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
	assert.Equal(t, "nfs", s.FSType())
	assert.Equal(t, "vers=4,minorversion=1,sec=sys,nconnect=4,hard,noresvport,rsize=1048576,wsize=1048576,actimeo=30,retry=0",
		strings.Join(MountOptions(Premium), ","))
	assert.Equal(t, "sec=sys,vers=3,nolock,proto=tcp,hard,retry=0", strings.Join(MountOptions(Standard), ","))
	assert.NotContains(t, MountOptions(Premium), "vers=3", "NFS v3 against Azure Files fails: Protocol not supported")
}

func TestFstabLineIsOneMarkedLine(t *testing.T) {
	line := FstabLine(Target{Account: "devshared01", Share: "home", Tier: Premium}, "/home/azureuser")
	assert.Equal(t, "devshared01.file.core.windows.net:/devshared01/home /home/azureuser nfs "+
		"vers=4,minorversion=1,sec=sys,nconnect=4,hard,noresvport,rsize=1048576,wsize=1048576,actimeo=30,retry=0,"+
		"_netdev,nofail,x-azlin.managed 0 0", line)
	assert.NotContains(t, line, "\n")
	fields := strings.Fields(line)
	require.Len(t, fields, 6)
	assert.Contains(t, strings.Split(fields[3], ","), FstabMarker)
	// MountOptions must not be changed by FstabLine's append.
	assert.NotContains(t, MountOptions(Premium), "_netdev")
}
