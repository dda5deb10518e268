package vmhost

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// A host runs the image's own cloud-init. At first boot the host's init hands
// it the VM's create arguments the way Azure does, as a NoCloud seed (Azure's
// own datasource needs its wire server and IMDS, which a host has not):
//
//	/var/lib/cloud/seed/nocloud/meta-data   instance-id, local-hostname (the
//	                                        VM's name), public-keys (--ssh-key-values)
//	/var/lib/cloud/seed/nocloud/user-data   --custom-data, as given
//	/etc/cloud/cloud.cfg.d/90-azemu.cfg     what an Azure image's settings and
//	                                        datasource decide: the admin user is
//	                                        the default user, and what a host
//	                                        without systemd, disks or a NIC skips
const (
	seedDir        = "/var/lib/cloud/seed/nocloud"
	cloudCfgDropIn = "/etc/cloud/cloud.cfg.d/90-azemu.cfg"
)

// writeSeed writes the seed and the drop-in, and the machine id systemd would
// make at first boot. It runs inside the host, after pivot_root.
func writeSeed(cfg Config) error {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return err
	}
	if err := os.WriteFile("/etc/machine-id", []byte(hex.EncodeToString(id)+"\n"), 0o444); err != nil {
		return err
	}
	meta, err := yaml.Marshal(map[string]any{
		// Azure's instance id is the VM's vmId, a UUID: one per VM, stable
		// across reboots (cloud-init runs per-instance modules once per id).
		"instance-id":    uuidString(id),
		"local-hostname": cfg.Name,
		"public-keys":    []string{strings.TrimSpace(cfg.SSHPublicKey)},
	})
	if err != nil {
		return err
	}
	dropIn, err := yaml.Marshal(cloudCfg(cfg.AdminUser))
	if err != nil {
		return err
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{filepath.Join(seedDir, "meta-data"), meta, 0o600},
		{filepath.Join(seedDir, "user-data"), cfg.CustomData, 0o600},
		{cloudCfgDropIn, append([]byte(dropInHeader), dropIn...), 0o644},
	} {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

func uuidString(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

const dropInHeader = `# Written by azemu at this VM host's first boot: what an Azure image's
# settings and its datasource decide. Module lists are Debian's, without the
# modules that cannot work in a host (each is named with the reason).
`

// cloudCfg is the drop-in's content.
func cloudCfg(admin string) map[string]any {
	return map[string]any{
		// The seed vmhost writes; no probing of EC2, Azure, ... metadata services.
		"datasource_list": []string{"NoCloud"},
		// A host shares the machine's network namespace: it has no NIC of its
		// own for cloud-init to configure (and no netplan, networkd or ifupdown).
		"network": map[string]any{"config": "disabled"},
		// The VM's name resolves in the host (sudo looks it up).
		"manage_etc_hosts": true,
		// No ssh_pwauth: the image's sshd_config.d refuses passwords already,
		// as Azure's images do, so set-passwords leaves sshd alone (it would
		// restart it while `az vm create` returns).
		// RSA keys take seconds to make on a busy machine; ssh clients use ed25519.
		"ssh_genkeytypes": []string{"ed25519", "ecdsa"},
		"system_info": map[string]any{
			"default_user": map[string]any{
				"name":        admin,
				"uid":         adminUID,
				"groups":      []string{"adm", "sudo"},
				"sudo":        []string{"ALL=(ALL) NOPASSWD:ALL"},
				"shell":       "/bin/bash",
				"lock_passwd": true,
			},
		},
		"cloud_init_modules":   cloudInitModules,
		"cloud_config_modules": cloudConfigModules,
		"cloud_final_modules":  cloudFinalModules,
	}
}

// Debian 13's module lists (its /etc/cloud/cloud.cfg), without:
//
//	growpart, resizefs  the host's root is an overlay on the machine's disk,
//	                    not a partition of its own to grow
//	disk_setup, mounts  a host has no block devices (no resource disk, no
//	                    swap); its fstab's NFS lines are mounted by the boot
//	locale              the image has no locales package to generate one; C.UTF-8 is built in
//	grub-dpkg           no boot loader: a host is not booted by a kernel of its own
//	install-hotplug     needs udev and systemd units to react to NIC hot-plug
var (
	cloudInitModules = []string{"seed_random", "bootcmd", "write-files", "set_hostname", "update_hostname",
		"update_etc_hosts", "ca-certs", "rsyslog", "users-groups", "ssh"}
	cloudConfigModules = []string{"snap", "ssh-import-id", "keyboard", "set-passwords", "apt-pipelining",
		"apt-configure", "ntp", "timezone", "disable-ec2-metadata", "runcmd", "byobu"}
	cloudFinalModules = []string{"package-update-upgrade-install", "fan", "landscape", "lxd",
		"write-files-deferred", "puppet", "chef", "mcollective", "salt-minion", "reset_rmc",
		"scripts-vendor", "scripts-per-once", "scripts-per-boot", "scripts-per-instance", "scripts-user",
		"ssh-authkey-fingerprints", "keys-to-console", "phone-home", "final-message", "power-state-change"}
)

// cloudInitEnv is what systemd gives cloud-init's services: no HOME.
var cloudInitEnv = []string{"PATH=" + hostPATH, "LANG=C.UTF-8"}

// lateStagesScript runs the config and final stages one after the other,
// as cloud-config.service and cloud-final.service do.
const lateStagesScript = "cloud-init modules --mode config; cloud-init modules --mode final"
