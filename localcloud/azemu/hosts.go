package azemu

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/azlin-dev/azlin/localcloud/vmhost"
)

// The emulator's only contact with package vmhost. Without AZEMU_HOSTS=1,
// VMs are records only.

func hostsOn(env Env) bool { return env("AZEMU_HOSTS") == "1" }

// hostConfig is how a VM record becomes a host.
func (c *cmdCtx) hostConfig(vm map[string]any) (vmhost.Config, error) {
	bin, err := os.Executable()
	if err != nil {
		return vmhost.Config{}, err
	}
	e := emu(vm)
	env := []string{"AZEMU_VM_ID=" + str(vm, "id")}
	// A faults file inside the state dir is visible to the host's NFS mount
	// helper at /run/azemu/state; one elsewhere is not.
	if f := c.env("AZEMU_FAULTS"); f != "" {
		if abs, err := filepath.Abs(f); err == nil && strings.HasPrefix(abs, c.st.dir+"/") {
			env = append(env, "AZEMU_FAULTS=/run/azemu/state/"+strings.TrimPrefix(abs, c.st.dir+"/"))
		}
	}
	for _, k := range []string{"AZEMU_HOST_DPKG_LOCK_SECONDS", "AZEMU_HOST_APT_FAIL"} {
		if v := c.env(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return vmhost.Config{
		Name:         str(vm, "name"),
		DiskDir:      c.st.hostDisk(str(vm, "resourceGroup"), str(vm, "name")),
		IP:           str(e, "ip"),
		AdminUser:    str(vm, "osProfile", "adminUsername"),
		SSHPublicKey: str(e, "sshKey"),
		CustomData:   []byte(str(e, "customData")),
		EmulatorBin:  bin,
		StateDir:     c.st.dir,
		Env:          env,
		Image:        c.env("AZEMU_VM_IMAGE"), // empty: vmhost.DefaultImage()
	}, nil
}

func hostBoot(ctx context.Context, cfg vmhost.Config) error    { return vmhost.Boot(ctx, cfg) }
func hostRestart(ctx context.Context, cfg vmhost.Config) error { return vmhost.Restart(ctx, cfg) }
func hostStop(disk string) error                               { return vmhost.Stop(disk) }
func hostsDownAll(stateDir string) error                       { return vmhost.DownAll(stateDir) }
func hostRun(ctx context.Context, disk, script string) (string, string, int, error) {
	return vmhost.Run(ctx, disk, script)
}
func hostMountShare(shareDir, target string, ro bool) error {
	return vmhost.MountShare(shareDir, target, ro)
}

// hostsDestroy stops a host and removes its disk (a missing disk is fine).
func hostsDestroy(disk string) error {
	if _, err := os.Stat(disk); os.IsNotExist(err) {
		return nil
	}
	return vmhost.Destroy(disk)
}
