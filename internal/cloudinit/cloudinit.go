// Package cloudinit is the one description of the #cloud-config documents
// azlin sends as a VM's custom data. Documents are built as Go values and
// rendered with a YAML encoder, never by pasting strings, so no value can
// break the document. Several parts (the VM's own, the shared home's) are
// merged into one document.
package cloudinit

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Header must be the document's very first line: only then does cloud-init
// read custom data as cloud-config.
const Header = "#cloud-config\n"

// Config is the part of cloud-init's #cloud-config format azlin uses.
type Config struct {
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
	// Encoding of Content: "" (plain) or "gz+b64" (gzip, then base64), which
	// cloud-init decodes before writing the file. Azure caps custom data at
	// 64 KiB, so big files go compressed.
	Encoding string `yaml:"encoding,omitempty"`
}

// Merge joins parts in order: packages without duplicates, write_files and
// runcmd concatenated, package_update/upgrade if any part asks for them.
func Merge(parts ...Config) Config {
	var all Config
	seen := map[string]bool{}
	for _, p := range parts {
		all.PackageUpdate = all.PackageUpdate || p.PackageUpdate
		all.PackageUpgrade = all.PackageUpgrade || p.PackageUpgrade
		for _, pkg := range p.Packages {
			if !seen[pkg] {
				seen[pkg] = true
				all.Packages = append(all.Packages, pkg)
			}
		}
		all.WriteFiles = append(all.WriteFiles, p.WriteFiles...)
		all.RunCmd = append(all.RunCmd, p.RunCmd...)
	}
	return all
}

// Render returns the #cloud-config document to pass as custom data.
func (c Config) Render() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(Header)
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
