package azemu

import (
	"fmt"
	"strings"

	"github.com/azlin-dev/azlin/localcloud/azrules"
)

// nfsMountExit is mount.nfs's exit code for a failed mount.
const nfsMountExit = 32

// nfsMountMain is `az __azemu-nfs-mount SRC DIR [-o OPTS]`: what a host's
// mount.nfs helper runs, inside the host, with AZEMU_STATE_DIR=/run/azemu/state
// and AZEMU_VM set. It enforces what Azure enforces for NFS clients, then
// bind-mounts the share's folder through vmhost.MountShare.
func nfsMountMain(argv []string, env Env, stdio IO) int {
	st, err := openStore(env("AZEMU_STATE_DIR"))
	if err != nil {
		return fail(stdio, err)
	}
	if f, err := matchFault(st, env("AZEMU_FAULTS"), argv, false, ""); err != nil {
		return fail(stdio, err)
	} else if f != nil {
		return f.apply(stdio)
	}
	if env("AZEMU_NFS_FSTYPE") == "aznfs" {
		return aznfsMain(st, argv, env, stdio)
	}
	pos, opts := parseMountArgs(argv)
	if len(pos) != 2 {
		fmt.Fprintf(stdio.Stderr, "usage: mount.nfs remotetarget dir [-rvVwfnsh] [-o nfsoptions]\n")
		return nfsMountExit
	}
	m := &nfsMount{st: st, env: env, src: pos[0], opts: opts}
	if err := m.mount(pos[1]); err != nil {
		fmt.Fprintln(stdio.Stderr, err.Error())
		return nfsMountExit
	}
	return 0
}

// parseMountArgs splits `SRC DIR [-o OPTS] [flags]` as mount(8) passes it to
// a mount helper into positional arguments and options.
func parseMountArgs(argv []string) (pos, opts []string) {
	for i := 1; i < len(argv); i++ {
		switch a := argv[i]; {
		case a == "-o" && i+1 < len(argv):
			opts = append(opts, strings.Split(argv[i+1], ",")...)
			i++
		case strings.HasPrefix(a, "-o"):
			opts = append(opts, strings.Split(a[2:], ",")...)
		case strings.HasPrefix(a, "-"):
			// -v, -n, -s, -f, -r, -w: flags mount(8) may pass
			if a == "-r" {
				opts = append(opts, "ro")
			}
		default:
			pos = append(pos, a)
		}
	}
	return pos, opts
}

// mount checks Azure's rules, bind-mounts the share on dir and records what
// findmnt shows for it on a real VM (aznfs.go).
func (m *nfsMount) mount(dir string) error {
	shareDir, err := m.check()
	if err != nil {
		return err
	}
	mount := func() error { return hostMountShare(shareDir, dir, m.has("ro")) }
	if strings.Contains(m.src, ".blob.") && azrules.On(m.env, ruleBlobNFSNoLinks) {
		mount = func() error { return hostMountBlob(m.src, shareDir, dir, m.has("ro"), m.has("nolock")) }
	}
	if err := mount(); err != nil {
		return mountError(fmt.Sprintf("mount.nfs: %v", err))
	}
	return recordNFSMount(m, dir)
}

type nfsMount struct {
	st   *store
	env  Env
	src  string
	opts []string
	// tls: the mount goes through aznfs's TLS tunnel, so mount.nfs sees
	// 127.0.0.1 as the server (aznfs.go).
	tls bool
	// proxy: a Blob NFS mount through aznfs goes to its local proxy
	// address, which mount.nfs sees as the server (aznfs.go).
	proxy string
}

// server is the source mount.nfs is given: the share, or for a TLS mount
// the local end of aznfs's tunnel, or for a Blob NFS mount through aznfs its
// proxy address.
func (m *nfsMount) server() string {
	_, path, _ := strings.Cut(m.src, ":")
	switch {
	case m.tls:
		return tlsTunnelAddr + ":" + path
	case m.proxy != "":
		return m.proxy + ":" + path
	}
	return m.src
}

func (m *nfsMount) has(opt string) bool { return contains(m.opts, opt) }

func (m *nfsMount) opt(key string) string {
	for _, o := range m.opts {
		if k, v, ok := strings.Cut(o, "="); ok && k == key {
			return v
		}
	}
	return ""
}

type mountError string

func (e mountError) Error() string { return string(e) }

// check applies Azure's rules and returns the share's folder.
func (m *nfsMount) check() (string, error) {
	host, path, ok := strings.Cut(m.src, ":")
	if !ok {
		return "", mountError(fmt.Sprintf("mount.nfs: remote share not in 'host:dir' format"))
	}
	acctName, service, _ := strings.Cut(host, ".")
	if service != "file.core.windows.net" && service != "blob.core.windows.net" {
		return "", mountError(fmt.Sprintf("mount.nfs: Failed to resolve server %s: Name or service not known", host))
	}
	unlock, err := m.st.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	c := &cmdCtx{st: m.st, env: m.env}
	a, err := c.findAccount(acctName)
	if err != nil {
		return "", err
	}
	if a == nil {
		return "", mountError(fmt.Sprintf("mount.nfs: Failed to resolve server %s: Name or service not known", host))
	}
	files := service == "file.core.windows.net"
	vers := m.opt("vers")
	if vers == "" {
		vers = m.opt("nfsvers")
	}
	noSuch := mountError(fmt.Sprintf("mount.nfs: mounting %s failed, reason given by server: No such file or directory", m.server()))
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) != 2 || !strings.EqualFold(parts[0], str(a, "name")) {
		return "", noSuch
	}
	var dir string
	if files {
		if !(vers == "4.1" || vers == "4" && m.opt("minorversion") == "1") {
			return "", mountError("mount.nfs: Protocol not supported")
		}
		s, err := m.st.get(shareID(a, parts[1]))
		if err != nil {
			return "", err
		}
		if s == nil || str(s, "enabledProtocols") != "NFS" {
			return "", noSuch
		}
		dir = m.st.shareDir(str(a, "name"), str(s, "name"))
	} else {
		if vers != "3" || get(a, "enableNfsV3") != true {
			return "", mountError("mount.nfs: Protocol not supported")
		}
		ct, err := m.st.get(containerID(a, parts[1]))
		if err != nil {
			return "", err
		}
		if ct == nil {
			return "", noSuch
		}
		dir = m.st.containerDir(str(a, "name"), str(ct, "name"))
	}
	denied := mountError(fmt.Sprintf("mount.nfs: access denied by server while mounting %s", m.server()))
	// Secure transfer required: Azure Files takes only TLS (aznfs) mounts;
	// Blob NFS 3.0 needs it off (no TLS there). Sources:
	// learn.microsoft.com/azure/storage/files/encryption-in-transit-for-nfs-shares,
	// .../files/files-troubleshoot-linux-nfs, .../blobs/network-file-system-protocol-support.
	if get(a, "enableHttpsTrafficOnly") != false && !(files && m.tls) {
		return "", denied
	}
	subnetID, err := m.vmSubnet(c)
	if err != nil {
		return "", err
	}
	group := "file"
	if !files {
		group = "blob"
	}
	if subnetID == "" || !m.allowed(c, a, subnetID, group) {
		return "", denied
	}
	return dir, nil
}

// vmSubnet is the subnet of the VM this helper runs in.
func (m *nfsMount) vmSubnet(c *cmdCtx) (string, error) {
	var vm map[string]any
	var err error
	if id := m.env("AZEMU_VM_ID"); id != "" {
		vm, err = m.st.get(id)
	} else if name := m.env("AZEMU_VM"); name != "" {
		var vms []map[string]any
		vms, err = m.st.listAllGroups("providers/" + vmType)
		for _, v := range vms {
			if strings.EqualFold(str(v, "name"), name) {
				vm = v
			}
		}
	}
	if err != nil || vm == nil {
		return "", err
	}
	for _, n := range list(vm, "networkProfile", "networkInterfaces") {
		nic, err := m.st.get(str(n.(map[string]any), "id"))
		if err != nil {
			return "", err
		}
		for _, cfg := range list(nic, "ipConfigurations") {
			if id := str(cfg.(map[string]any), "subnet", "id"); id != "" {
				return id, nil
			}
		}
	}
	return "", nil
}

// allowed: a virtual-network rule for the subnet (which has the
// Microsoft.Storage endpoint), or a private endpoint for the account in the
// subnet's VNet with the privatelink zone linked to that VNet.
func (m *nfsMount) allowed(c *cmdCtx, a map[string]any, subnetID, group string) bool {
	for _, r := range list(a, "networkRuleSet", "virtualNetworkRules") {
		if strings.EqualFold(str(r.(map[string]any), "virtualNetworkResourceId"), subnetID) {
			if s, _ := m.st.get(subnetID); s != nil && hasServiceEndpoint(s, "Microsoft.Storage") {
				return true
			}
		}
	}
	vnetID := strings.ToLower(subnetID[:strings.Index(strings.ToLower(subnetID), "/subnets/")])
	pes, _ := m.st.listAllGroups("providers/" + peType)
	for _, pe := range pes {
		peSubnet := strings.ToLower(str(pe, "subnet", "id"))
		if !strings.HasPrefix(peSubnet, vnetID+"/subnets/") {
			continue
		}
		for _, conn := range list(pe, "privateLinkServiceConnections") {
			cm := conn.(map[string]any)
			if strings.EqualFold(str(cm, "privateLinkServiceId"), str(a, "id")) && containsAny(list(cm, "groupIds"), group) &&
				m.registeredInLinkedZone(str(pe, "id"), "privatelink."+group+".core.windows.net", vnetID) {
				return true
			}
		}
	}
	return false
}

func containsAny(list []any, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// registeredInLinkedZone reports whether the endpoint's DNS zone group put
// its A record in a private DNS zone of that name (in any group) that is
// linked to the VNet: only then does the account's name resolve to the
// endpoint inside the VNet (Azure: "Azure Private Endpoint DNS
// configuration": the zone group registers the record; the zone answers
// only in VNets linked to it).
func (m *nfsMount) registeredInLinkedZone(peID, zone, vnetID string) bool {
	groups, _ := m.st.list(peID + "/privateDnsZoneGroups")
	for _, g := range groups {
		for _, cfg := range list(g, "privateDnsZoneConfigs") {
			z, _ := m.st.get(str(cfg.(map[string]any), "privateDnsZoneId"))
			if z == nil || !strings.EqualFold(str(z, "name"), zone) {
				continue
			}
			links, _ := m.st.list(str(z, "id") + "/virtualNetworkLinks")
			for _, l := range links {
				if strings.EqualFold(str(l, "virtualNetwork", "id"), vnetID) {
					return true
				}
			}
		}
	}
	return false
}
