package cloudinit

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestRenderStartsWithHeaderAndRoundTrips(t *testing.T) {
	nasty := "a: b\n- c\n#cloud-config\n'\"\\"
	c := Config{
		Packages:   []string{nasty},
		WriteFiles: []WriteFile{{Path: "/tmp/x", Content: nasty, Permissions: "0600"}},
		RunCmd:     [][]string{{"echo", nasty}},
	}
	doc, err := c.Render()
	require.NoError(t, err)
	first, _, _ := strings.Cut(string(doc), "\n")
	assert.Equal(t, "#cloud-config", first)
	var back Config
	require.NoError(t, yaml.Unmarshal(doc, &back))
	assert.Equal(t, c, back)
	assert.Contains(t, string(doc), `permissions: "0600"`, "permissions stay a string, not an octal number")
}

func TestMergeKeepsOrderAndDedupesPackages(t *testing.T) {
	vm := Config{Packages: []string{"git"}, WriteFiles: []WriteFile{{Path: "/a"}}, RunCmd: [][]string{{"one"}}}
	home := Config{Packages: []string{"nfs-common", "git"}, WriteFiles: []WriteFile{{Path: "/b"}}, RunCmd: [][]string{{"two"}}}
	m := Merge(vm, home)
	assert.Equal(t, []string{"git", "nfs-common"}, m.Packages)
	assert.Equal(t, []WriteFile{{Path: "/a"}, {Path: "/b"}}, m.WriteFiles)
	assert.Equal(t, [][]string{{"one"}, {"two"}}, m.RunCmd)
	assert.False(t, m.PackageUpdate)
	assert.True(t, Merge(vm, Config{PackageUpdate: true}).PackageUpdate)
}
