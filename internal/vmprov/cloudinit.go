package vmprov

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// CloudConfig is the part of cloud-init's #cloud-config format azlin uses.
// It is built as a Go value and rendered with a YAML encoder, never by
// pasting strings, so no value can break the document.
type CloudConfig struct {
	PackageUpdate  bool        `yaml:"package_update"`
	PackageUpgrade bool        `yaml:"package_upgrade"`
	Packages       []string    `yaml:"packages,omitempty"`
	WriteFiles     []WriteFile `yaml:"write_files,omitempty"`
	// RunCmd entries are argv lists: cloud-init runs them without a shell,
	// so arguments need no quoting. Use {"bash", "-c", script} for a script.
	RunCmd [][]string `yaml:"runcmd,omitempty"`
}

// WriteFile is one entry of cloud-init's write_files.
type WriteFile struct {
	Path        string `yaml:"path"`
	Content     string `yaml:"content"`
	Owner       string `yaml:"owner,omitempty"`
	Permissions string `yaml:"permissions,omitempty"`
}

// Files cloud-init leaves on every azlin VM: ManagedMarker early (it says
// whose VM this is), DoneMarker as the last thing cloud-init does, so that
// its presence means cloud-init ran to the end.
const (
	ManagedMarker = "/etc/azlin/managed"
	DoneMarker    = "/var/lib/azlin/cloud-init.done"
)

// PlainCloudConfig is the cloud-init of a VM without a shared home: no
// package work (package_update false keeps first boot fast), the two marker
// files and nothing else.
func PlainCloudConfig(vm string) CloudConfig {
	return CloudConfig{
		WriteFiles: []WriteFile{{
			Path:        ManagedMarker,
			Content:     fmt.Sprintf("managed-by=azlin\nvm=%s\n", vm),
			Owner:       "root:root",
			Permissions: "0644",
		}},
		RunCmd: [][]string{
			{"mkdir", "-p", "/var/lib/azlin"},
			{"touch", DoneMarker},
		},
	}
}

// Render returns the #cloud-config document to pass as custom data.
func (c CloudConfig) Render() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("#cloud-config\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encoding cloud-init: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding cloud-init: %w", err)
	}
	return buf.Bytes(), nil
}
