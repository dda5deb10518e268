package azemu

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// AZNFS, Microsoft's mount helper (`mount -t aznfs`, package aznfs): for
// Azure Files NFS 4.1 it tunnels the mount through a local stunnel with TLS
// unless the option notls is given; all mounts of one endpoint on a client
// must agree, as they share one connection. For Blob NFS 3.0 (vers=3) it
// mounts a local proxy address that iptables DNAT maps to the endpoint's
// IP, so the mount survives the endpoint's IP changing; there is no TLS for
// Blob NFS, and secure transfer must still be off. Sources:
// learn.microsoft.com/azure/storage/files/encryption-in-transit-for-nfs-shares,
// learn.microsoft.com/azure/storage/blobs/network-file-system-protocol-support-how-to,
// github.com/Azure/AZNFS-mount (README, lib/common.sh, src/mountscript.sh,
// src/nfsv3mountscript.sh, src/nfsv4mountscript.sh).

// tlsTunnelAddr is where aznfs's stunnel listens; a TLS mount's source is
// 127.0.0.1:/account/share and its options carry port= and addr=127.0.0.1.
const tlsTunnelAddr = "127.0.0.1"

// tlsFirstPort is the first port aznfs gives an endpoint's stunnel (20049-21049).
const tlsFirstPort = 20049

// nfsMountsRecord lists, inside a host, what a real VM's mount table shows
// for each emulated NFS mount, by mount ID, one line each:
// "ID TARGET ENDPOINT tls|proxy|plain FSTYPE SOURCE OPTIONS". The host's findmnt
// and mount stand-ins (vmhost/fakes) show the NFS view from it; a line whose
// mount ID and target are no longer in /proc/self/mountinfo is a mount that
// is gone (IDs are reused, so the last line for an ID wins).
const nfsMountsRecord = "/run/azemu/nfs-mounts"

// aznfs prints to stdout, errors in red (its common.sh eecho), and exits 1.
const (
	aznfsRed    = "\x1b[2;31m"
	aznfsNormal = "\x1b[0m"
)

func aznfsSay(w io.Writer, color string, lines ...string) {
	for _, l := range lines {
		fmt.Fprintf(w, "%s%s%s\n", color, l, aznfsNormal)
	}
}

// aznfsMain is the mount.aznfs stand-in's part in the emulator.
func aznfsMain(st *store, argv []string, env Env, stdio IO) int {
	fail := func(lines ...string) int {
		aznfsSay(stdio.Stdout, aznfsRed, lines...)
		return 1
	}
	pos, opts := parseMountArgs(argv)
	if len(pos) != 2 { // mount(8) always passes both
		return fail("azemu: mount.aznfs needs SOURCE and DIR", "Mount failed!")
	}
	src, dir := pos[0], pos[1]
	m := &nfsMount{st: st, env: env, src: src, opts: opts}
	vers := aznfsVersion(m)
	var prefix string
	switch vers {
	case "":
		return fail("Missing version in mount options. Example: 'vers=3'.", "Mount failed!")
	case "4.1":
		prefix = "file"
	case "3":
		prefix = "blob"
	default:
		return fail(fmt.Sprintf("NFS version is not supported by mount helper: %s!", vers))
	}
	// mountscript.sh get_host_from_share, get_dir_from_share.
	host, path, _ := strings.Cut(src, ":")
	acct, service, _ := strings.Cut(host, ".")
	if host == "" || path == "" || vers == "3" && !contains(strings.Split(service, "."), "blob") {
		return fail("Bad share name: "+src+".",
			fmt.Sprintf("Share to be mounted must be of the form '<endpoint fqdn>:/account/container', where most common endpoint fqdn is 'account.%s.core.windows.net', but can have one of the other supported forms", prefix),
			"Mount failed!")
	}
	if parts := strings.Split(strings.TrimPrefix(path, "/"), "/"); len(parts) < 2 || parts[0] == "" || parts[1] == "" || vers == "3" && len(parts) > 2 {
		return fail("Bad share name: "+src+".",
			fmt.Sprintf("Share to be mounted must be of the form 'account.%s.core.windows.net:/account/container' for vers=%s", prefix, vers),
			"Mount failed!")
	}
	// Only the account's own names resolve in the local cloud.
	if ok, err := accountExists(st, env, acct); err != nil {
		return fail(err.Error())
	} else if !ok || service != prefix+".core.windows.net" {
		return fail(fmt.Sprintf("Failed to resolve the IP address for %s!", host))
	}
	endpoint := strings.ToLower(host)
	live, err := liveNFSMounts()
	if err != nil {
		return fail(err.Error())
	}
	if vers == "4.1" {
		m.tls = !m.has("notls")
		if m.tls {
			// nfsv4mountscript.sh check_if_notls_mount_exists: any nfs4 mount
			// of the endpoint that does not go through 127.0.0.1.
			for _, r := range live {
				if r.endpoint == endpoint && !r.tls && r.fstype == "nfs4" {
					return fail("Mount failed!",
						fmt.Sprintf("Mount to the same endpoint %s exists that is using clear text (no TLS). Cannot mount with TLS to the same endpoint as they use the same connection.", host),
						fmt.Sprintf("Try unmounting the share on %s and run the mount command again.", host))
				}
			}
		} else {
			// A TLS mount of the endpoint holds its stunnel (aznfs's mountmap).
			// The emulated watchdog cleans up at once, so clean has nothing
			// stale to clear, only a live TLS mount to refuse.
			for _, r := range live {
				if r.endpoint == endpoint && r.tls {
					if m.has("clean") {
						return fail(fmt.Sprintf("There is a share mounted on %s using TLS. Cannot unmount the share without TLS.", host))
					}
					return fail("Mount failed!",
						fmt.Sprintf("Mount to the same endpoint %s exists that is using TLS. Cannot mount without TLS to the same endpoint as they use the same connection.", host),
						fmt.Sprintf("If there are no mount using TLS on %s, try mounting again with clean option. Otherwise, try unmounting the shares on %s and run the mount command again.", host, host))
				}
			}
		}
	}
	if vers == "3" {
		// nfsv3mountscript.sh: one proxy address per endpoint name, from its
		// mount map or the first free one; Blob NFS's fixed port 2048 (no
		// portmapper call) and retrans=6 unless given.
		proxy, err := aznfsProxyFor(st, env, endpoint)
		if err != nil {
			return fail(err.Error(), "Mount failed!")
		}
		m.proxy = proxy
		for _, o := range []string{"retrans=6", "port=2048", "mountport=2048"} {
			if k, _, _ := strings.Cut(o, "="); m.opt(k) == "" {
				m.opts = append(m.opts, o)
			}
		}
	}
	m.opts = aznfsInnerOptions(m.opts, m.tls, tunnelPort(live, endpoint))
	if err := m.mount(dir); err != nil {
		aznfsSay(stdio.Stdout, aznfsNormal, err.Error())
		return fail("Mount failed!")
	}
	return 0
}

// aznfsMountMap is AZNFS's record of its Blob NFS proxy addresses inside
// the host, one line "FQDN PROXY-IP ENDPOINT-IP" each (lib/common.sh
// MOUNTMAPv3).
const aznfsMountMap = "/opt/microsoft/aznfs/data/mountmap"

// aznfsProxyFor is the proxy address for a Blob endpoint: the one its
// mount map holds for the name, else the first free address from
// 10.161.100.100 on (nfsv3mountscript.sh search_free_local_ip_with_prefix:
// prefix 10.161, third and fourth octets from 100), recorded with the
// endpoint's IP. The emulated watchdog never clears an entry, so a name
// keeps its address, as it does while mounts of it exist.
func aznfsProxyFor(st *store, env Env, fqdn string) (string, error) {
	data, err := os.ReadFile(aznfsMountMap)
	if err != nil && !os.IsNotExist(err) {
		return "", err
	}
	used := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		if f[0] == fqdn {
			return f[1], nil
		}
		used[f[1]] = true
	}
	proxy := ""
	for third := 100; third < 255 && proxy == ""; third++ {
		for fourth := 100; fourth < 255; fourth++ {
			if ip := fmt.Sprintf("10.161.%d.%d", third, fourth); !used[ip] {
				proxy = ip
				break
			}
		}
	}
	if proxy == "" {
		return "", fmt.Errorf("Could not find a free local IP to use for aznfs using DEFAULT_AZNFS_IP_PREFIXES=10.161 192.168 172.16!")
	}
	ip, err := endpointIP(st, env, fqdn)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(aznfsMountMap), 0o755); err != nil {
		return "", err
	}
	f, err := os.OpenFile(aznfsMountMap, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s %s %s\n", fqdn, proxy, ip)
	return proxy, err
}

// endpointIP is what the endpoint's name resolves to: a private
// endpoint's address for it, else (a public endpoint, which the emulator
// does not give an address) a stable stand-in from 20.150.0.0/16, a range
// Azure Storage uses.
func endpointIP(st *store, env Env, fqdn string) (string, error) {
	unlock, err := st.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	pes, err := st.listAllGroups("providers/" + peType)
	if err != nil {
		return "", err
	}
	for _, pe := range pes {
		for _, d := range list(pe, "customDnsConfigs") {
			dm := d.(map[string]any)
			if ips := list(dm, "ipAddresses"); strings.EqualFold(str(dm, "fqdn"), fqdn) && len(ips) > 0 {
				return fmt.Sprint(ips[0]), nil
			}
		}
	}
	h := fnv.New32a()
	h.Write([]byte(fqdn))
	sum := h.Sum32()
	return fmt.Sprintf("20.150.%d.%d", sum>>8&0xff, sum&0xff%254+1), nil
}

// aznfsVersion is "3", "4.1", another version, or "" when vers= is missing
// (mountscript.sh get_version_from_mount_options).
func aznfsVersion(m *nfsMount) string {
	if !strings.Contains(strings.Join(m.opts, ","), "vers=") {
		return ""
	}
	v := m.opt("vers")
	if v == "" {
		v = m.opt("nfsvers")
	}
	if mv := m.opt("minorversion"); mv != "" {
		v += "." + mv
	}
	return v
}

// aznfsInnerOptions are the options aznfs passes to mount.nfs: without its
// own (notls, clean, tls=), and for TLS the tunnel's port.
func aznfsInnerOptions(opts []string, tls bool, port int) []string {
	var out []string
	for _, o := range opts {
		if o == "notls" || o == "clean" || strings.HasPrefix(o, "tls=") {
			continue
		}
		out = append(out, o)
	}
	if tls {
		out = append(out, "port="+strconv.Itoa(port))
	}
	return out
}

func accountExists(st *store, env Env, name string) (bool, error) {
	unlock, err := st.lock()
	if err != nil {
		return false, err
	}
	defer unlock()
	a, err := (&cmdCtx{st: st, env: env}).findAccount(name)
	return a != nil, err
}

// nfsMountRecord is one line of nfsMountsRecord.
type nfsMountRecord struct {
	id, target, endpoint    string
	tls                     bool
	fstype, source, options string
}

// tunnelPort is the endpoint's stunnel port: the one its TLS mounts use, or
// the first free one.
func tunnelPort(live []nfsMountRecord, endpoint string) int {
	used := map[int]bool{}
	for _, r := range live {
		if !r.tls {
			continue
		}
		p, _ := strconv.Atoi(optValue(strings.Split(r.options, ","), "port"))
		if r.endpoint == endpoint {
			return p
		}
		used[p] = true
	}
	p := tlsFirstPort
	for used[p] {
		p++
	}
	return p
}

func optValue(opts []string, key string) string {
	for _, o := range opts {
		if k, v, ok := strings.Cut(o, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// recordNFSMount notes what a real VM's mount table would show for the
// mount just made on dir: nfs4 (or nfs for v3), the source mount.nfs got,
// and the NFS options (the kernel's own defaults are not listed).
func recordNFSMount(m *nfsMount, dir string) error {
	id, err := mountID(dir)
	if err != nil {
		return err
	}
	host, _, _ := strings.Cut(m.src, ":")
	fstype, vers := "nfs4", "vers=4.1"
	if v := m.opt("vers") + m.opt("nfsvers"); v == "3" {
		fstype, vers = "nfs", "vers=3"
	}
	opts := []string{vers}
	for _, o := range m.opts {
		k, _, _ := strings.Cut(o, "=")
		switch k {
		case "vers", "nfsvers", "minorversion", "defaults", "rw", "ro", "auto", "noauto", "nofail", "_netdev", "user", "users":
			continue
		}
		opts = append(opts, o)
	}
	transport := "plain"
	switch {
	case m.tls:
		transport = "tls"
		opts = append(opts, "addr="+tlsTunnelAddr)
	case m.proxy != "":
		transport = "proxy"
		opts = append(opts, "addr="+m.proxy)
	}
	f, err := os.OpenFile(nfsMountsRecord, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s %s %s %s %s %s %s\n", id, dir, strings.ToLower(host), transport, fstype, m.server(), strings.Join(opts, ","))
	return err
}

// mountID is the ID of the topmost mount on dir in this mount namespace.
func mountID(dir string) (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	id := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) > 4 && fs[4] == dir {
			id = fs[0]
		}
	}
	if id == "" {
		return "", fmt.Errorf("mount.nfs: %s is not mounted after the mount", dir)
	}
	return id, sc.Err()
}

// liveNFSMounts are the records of the mounts that still exist.
func liveNFSMounts() ([]nfsMountRecord, error) {
	data, err := os.ReadFile(nfsMountsRecord)
	if os.IsNotExist(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	mounted := map[string]bool{} // "ID TARGET"
	for _, l := range strings.Split(string(info), "\n") {
		if fs := strings.Fields(l); len(fs) > 4 {
			mounted[fs[0]+" "+fs[4]] = true
		}
	}
	last := map[string]nfsMountRecord{}
	var order []string
	for _, l := range strings.Split(string(data), "\n") {
		fs := strings.Fields(l)
		if len(fs) != 7 || !mounted[fs[0]+" "+fs[1]] {
			continue
		}
		if _, seen := last[fs[0]]; !seen {
			order = append(order, fs[0])
		}
		last[fs[0]] = nfsMountRecord{id: fs[0], target: fs[1], endpoint: fs[2], tls: fs[3] == "tls", fstype: fs[4], source: fs[5], options: fs[6]}
	}
	var out []nfsMountRecord
	for _, id := range order {
		out = append(out, last[id])
	}
	return out, nil
}
