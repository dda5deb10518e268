package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// A storage without a layout tag has the layout package's default.
func TestStorageDefaultLayoutIsTheLayoutDefault(t *testing.T) {
	assert.Equal(t, layout.Default, storage.DefaultLayout)
}

// cloudInitAttachScript is the attach script in a cloud-config document,
// decoded as cloud-init decodes it (it is sent gzip+base64).
func cloudInitAttachScript(t *testing.T, doc []byte) string {
	t.Helper()
	var cc struct {
		WriteFiles []struct{ Path, Content, Encoding string } `yaml:"write_files"`
	}
	require.NoError(t, yaml.Unmarshal(doc, &cc))
	for _, f := range cc.WriteFiles {
		if f.Path != vmscript.CloudInitScriptFile {
			continue
		}
		require.Equal(t, "gz+b64", f.Encoding)
		raw, err := base64.StdEncoding.DecodeString(f.Content)
		require.NoError(t, err)
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		require.NoError(t, err)
		out, err := io.ReadAll(zr)
		require.NoError(t, err)
		return string(out)
	}
	t.Fatalf("no %s in the cloud-config", vmscript.CloudInitScriptFile)
	return ""
}
