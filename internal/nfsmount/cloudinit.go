package nfsmount

import (
	"fmt"
	"strings"

	"github.com/azlin-dev/azlin/internal/remote"
	"gopkg.in/yaml.v3"
)

// Where `azlin new --shared-home` leaves the attach script and its outcome on
// the VM. The provisioning code polls CloudInitStatusScript through
// run-command and reads the result with ParseCloudInitStatus.
const (
	CloudInitDir        = "/var/lib/azlin"
	CloudInitScriptFile = CloudInitDir + "/attach.sh"     // the attach script (0700, root)
	CloudInitRunnerFile = CloudInitDir + "/attach-run.sh" // what runcmd runs
	CloudInitLogFile    = CloudInitDir + "/attach.log"    // the attach script's whole output
	CloudInitResultFile = CloudInitDir + "/attach.result" // its last 3000 bytes, written when it ended
	cloudInitPending    = "##azlin-cloud-init## pending"  // printed while no result exists yet
	cloudInitResultTail = 3000                            // fits run-command's 4096-byte output
	cloudConfigHeader   = "#cloud-config\n"
)

// CloudConfigPart is a fragment of cloud-config user data. Parts are merged by
// CloudConfig; only the keys azlin uses exist.
type CloudConfigPart struct {
	Packages   []string    `yaml:"packages,omitempty"`
	WriteFiles []WriteFile `yaml:"write_files,omitempty"`
	RunCmd     []string    `yaml:"runcmd,omitempty"` // each runs through `sh -c`, in order, after users exist
}

// WriteFile is one cloud-init write_files entry.
type WriteFile struct {
	Path        string `yaml:"path"`
	Content     string `yaml:"content"`
	Owner       string `yaml:"owner,omitempty"`
	Permissions string `yaml:"permissions,omitempty"`
}

// CloudInitPart is the part of a new VM's cloud-config that attaches its home
// to the share at first boot, with the same script as `azlin storage attach`:
// it installs nfs-common (packages: runs before runcmd), writes the attach
// script and a runner, and runs the runner from runcmd, i.e. in cloud-init's
// final stage, after the admin user and its authorized_keys exist. The runner
// logs everything to CloudInitLogFile and then writes CloudInitResultFile
// through a rename, so a reader sees either no result or a whole one.
func CloudInitPart(p AttachParams) (CloudConfigPart, error) {
	script, err := AttachScript(p)
	if err != nil {
		return CloudConfigPart{}, err
	}
	runner := strings.Join([]string{
		"#!/bin/bash",
		"# azlin: runs the shared-home attach script at first boot and keeps its result.",
		"mkdir -p " + CloudInitDir,
		"bash " + CloudInitScriptFile + " >" + CloudInitLogFile + " 2>&1 </dev/null",
		fmt.Sprintf("tail -c %d %s >%s.tmp", cloudInitResultTail, CloudInitLogFile, CloudInitResultFile),
		"mv -f " + CloudInitResultFile + ".tmp " + CloudInitResultFile,
		"",
	}, "\n")
	return CloudConfigPart{
		Packages: []string{"nfs-common"},
		WriteFiles: []WriteFile{
			{Path: CloudInitScriptFile, Content: script, Owner: "root:root", Permissions: "0700"},
			{Path: CloudInitRunnerFile, Content: runner, Owner: "root:root", Permissions: "0700"},
		},
		RunCmd: []string{"bash " + CloudInitRunnerFile},
	}, nil
}

// CloudConfig merges parts, in order, into one cloud-config document with its
// "#cloud-config" header: packages are joined without duplicates, write_files
// and runcmd are concatenated. Give the VM's own part first and the shared-home
// part after it, so that the home is attached after the VM's other commands.
func CloudConfig(parts ...CloudConfigPart) (string, error) {
	var all CloudConfigPart
	seen := map[string]bool{}
	for _, p := range parts {
		for _, pkg := range p.Packages {
			if !seen[pkg] {
				seen[pkg] = true
				all.Packages = append(all.Packages, pkg)
			}
		}
		all.WriteFiles = append(all.WriteFiles, p.WriteFiles...)
		all.RunCmd = append(all.RunCmd, p.RunCmd...)
	}
	out, err := yaml.Marshal(all)
	if err != nil {
		return "", fmt.Errorf("cloud-config: %w", err)
	}
	return cloudConfigHeader + string(out), nil
}

// CloudInitStatusScript is a run-command script that prints the attach
// result of a VM made with --shared-home, or a pending line while cloud-init
// has not finished the attach.
func CloudInitStatusScript() string {
	return "if [ -f " + CloudInitResultFile + " ]; then cat " + CloudInitResultFile +
		"; else echo '" + cloudInitPending + "'; fi\n"
}

// ParseCloudInitStatus reads CloudInitStatusScript's output. done is false
// while the attach has not finished; when done, err is remote.ErrNoMarker if
// the attach script ended without a result (it was killed or crashed: see
// CloudInitLogFile), else res is the attach script's result.
func ParseCloudInitStatus(stdout string) (done bool, res remote.Result, err error) {
	res, err = remote.Parse(stdout)
	if err == nil {
		return true, res, nil
	}
	if strings.Contains(stdout, cloudInitPending) {
		return false, remote.Result{}, nil
	}
	return true, remote.Result{}, err
}
