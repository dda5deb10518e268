//go:build localcloud

package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// new --shared-home waits for cloud-init's attach over SSH: when the attach
// fails (the mount over the home is refused), new reports the attach's own
// error and the command that finishes the job, without a single
// run-command (each takes 20 s or more on Azure), and the VM keeps working
// with its local home.
func TestE2ENewSharedHomeFailedAttachIsReportedOverSSH(t *testing.T) {
	c := sharedCloud(t)
	azlinRun(t, c, "storage", "create", "sh1", "--layout", "minimal")
	setFaults(t, c, map[string]any{"name": "refuse", "args": []string{"__azemu-nfs-mount", "/home/azureuser"}, "exit": 32,
		"stderr": "mount.nfs: access denied by server while mounting sh1.file.core.windows.net:/sh1/sh1\n"})
	c.ResetLog()
	r := c.Azlin("new", "--shared-home", "sh1", "--name", "f1")
	assert.Equal(t, 1, r.Exit, r.Stderr)
	assert.Contains(t, r.Stderr, `mounting the shared home on VM f1 failed: step "mount-home" failed`)
	assert.Contains(t, r.Stderr, "access denied by server")
	assert.Contains(t, r.Stderr, "The VM works with its local home; to move it onto the share: azlin storage attach sh1 --vm f1 -g rg")
	assert.NotContains(t, commands(c), "vm run-command invoke")
	assert.NotContains(t, r.Stderr, "over SSH", "SSH got through: no fallback")
	setFaults(t, c)
	assert.Equal(t, "azureuser\nfstab lines: 0\nhome: local\n", systemState(t, c, "f1"))
	assert.Equal(t, "", vmTag(t, c, "f1"))

	// The command new named finishes the job.
	azlinRun(t, c, "storage", "attach", "sh1", "--vm", "f1")
	assert.Equal(t, "sh1", vmTag(t, c, "f1"))
}
