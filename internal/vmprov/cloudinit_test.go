package vmprov

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/azlin-dev/azlin/internal/testjson"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.Equal(t, string(want), string(got), "golden file %s (go test -update rewrites it)", path)
}

func TestPlainCloudConfigGolden(t *testing.T) {
	doc, err := PlainCloudConfig("dev-1").Render()
	require.NoError(t, err)
	golden(t, "cloud-init-plain.golden", doc)

	// cloud-init only reads custom data as cloud-config when this is the
	// very first line.
	first, _, _ := strings.Cut(string(doc), "\n")
	assert.Equal(t, "#cloud-config", first)

	// It is valid YAML, and what cloud-init reads back is what we meant.
	var back map[string]any
	require.NoError(t, yaml.Unmarshal(doc, &back))
	assert.Equal(t, false, back["package_update"])
	files := testjson.List(t, back, "write_files")
	require.Len(t, files, 1)
	f := testjson.Obj(t, files, 0)
	assert.Equal(t, ManagedMarker, f["path"])
	assert.Equal(t, "managed-by=azlin\nvm=dev-1\n", f["content"])
	assert.Equal(t, "0644", f["permissions"], "permissions must stay a string, not become octal/decimal 644")
	assert.Equal(t, []any{[]any{"mkdir", "-p", "/var/lib/azlin"}, []any{"touch", DoneMarker}}, back["runcmd"])
	_, hasPackages := back["packages"]
	assert.False(t, hasPackages, "a plain VM installs no packages")
}

func TestCloudConfigValuesCannotBreakTheDocument(t *testing.T) {
	nasty := "a: b\n- c\n#cloud-config\n'\"\\"
	c := CloudConfig{
		Packages:   []string{nasty},
		WriteFiles: []WriteFile{{Path: "/tmp/x", Content: nasty}},
		RunCmd:     [][]string{{"echo", nasty}},
	}
	doc, err := c.Render()
	require.NoError(t, err)
	var back CloudConfig
	require.NoError(t, yaml.Unmarshal(doc, &back))
	assert.Equal(t, c, back)
}
