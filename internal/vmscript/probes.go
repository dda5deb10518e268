package vmscript

import (
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/azlin-dev/azlin/internal/nfs"
)

var (
	//go:embed sh/probes.sh
	probesSh string
	//go:embed sh/check.sh
	checkSh string
)

// Probe is one result of the share self-test.
type Probe struct {
	Name    string `json:"name"`
	Status  string `json:"status"` // ok, fail, skip, or unknown (not reported: the output was cut or the script stopped)
	Detail  string `json:"detail,omitempty"`
	Tests   string `json:"tests"`
	Meaning string `json:"meaning,omitempty"` // what a failure means, when it failed
}

// OK tells whether the probe did not fail (ok or skipped).
func (p Probe) OK() bool { return p.Status == "ok" || p.Status == "skip" }

// probeFacts are the probes in the order they are shown: what each tests,
// and what its failure means for the tools people run in a shared home.
var probeFacts = []struct{ name, tests, meaning string }{
	{"owner", "a file made by azureuser belongs to uid/gid 1000",
		"files show another owner: NFSv4 idmapping is on (nfs4_disable_idmapping) or uid 1000 differs between VMs; ssh, git (safe.directory) and sudo refuse such files"},
	{"flock", "flock(2) locks exclude each other",
		"flock locks do not exclude: tools that guard files with flock (caches, package managers, editors) can corrupt them when two run at once"},
	{"fcntl", "POSIX (fcntl) byte-range locks exclude each other",
		"POSIX locks do not work: SQLite (WAL or not), git's index and other lock users are not safe in the home (Blob NFS 3.0 has no locks at all)"},
	{"mkfifo", "a named pipe can be made and passes data",
		"named pipes cannot be made in the home: tools that put them there fail (on NFS a FIFO only ever connects processes of one VM)"},
	{"unix_socket", "a Unix socket can be bound and connected",
		"Unix sockets cannot be bound in the home: ssh ControlPath, gpg-agent and VS Code sockets there fail (on NFS a socket only ever connects processes of one VM)"},
	{"hard_link", "a hard link can be made",
		"hard links fail: pnpm's store, git clone --local and backup tools fail or copy (Azure Files allows 178 links per file)"},
	{"rename", "renaming over an existing file replaces it",
		"rename over a file does not replace it: editors and tools that save through a temp file and a rename can lose work"},
	{"tls", "the home is mounted through AZNFS's local TLS tunnel (encrypted in transit)",
		"the home is mounted in clear text although the storage is encrypted in transit: the mount predates it or was made by hand; re-run azlin storage attach for this VM"},
	{"aznfs", "the home is mounted through AZNFS's proxy address, which follows the Blob endpoint's IP (not encryption: Blob NFS has none)",
		"the home is a plain NFS mount of the Blob endpoint: it stays on the endpoint's IP of mount time and hangs if Azure moves the endpoint; re-run azlin storage attach for this VM (it remounts when the home is not in use) or reboot it"},
	{"peer", "a file written on this VM is read on another VM with the same shared home",
		"a file written on one VM is not seen on another: they are not on the same share, or attribute caching (actimeo) delays it"},
}

// Probes reads the self-test's results from a script's info (probe_NAME
// keys). The local probes are always listed, as unknown when missing; the
// tls, aznfs (Standard) and peer probes only when they ran (the self-test of
// azlin storage check runs them, attach does not).
func Probes(info map[string]string) []Probe {
	var out []Probe
	for _, f := range probeFacts {
		v, ok := info["probe_"+f.name]
		if !ok && (f.name == "peer" || f.name == "tls" || f.name == "aznfs") {
			continue
		}
		p := Probe{Name: f.name, Tests: f.tests}
		status, detail, _ := strings.Cut(v, ": ")
		switch {
		case !ok:
			p.Status, p.Detail = "unknown", "not reported"
		case status == "ok" || status == "fail" || status == "skip":
			p.Status, p.Detail = status, detail
		default:
			p.Status, p.Detail = "unknown", v
		}
		if p.Status == "fail" || p.Status == "unknown" {
			p.Meaning = f.meaning
		}
		out = append(out, p)
	}
	return out
}

// PeerMode is the part a VM plays in the write-then-read probe.
type PeerMode string

const (
	PeerNone  PeerMode = ""      // the local probes only
	PeerWrite PeerMode = "write" // the local probes, then write the token file
	PeerRead  PeerMode = "read"  // only read (and remove) the token file
)

// CheckParams describes one run of the share self-test on a VM.
type CheckParams struct {
	Tier     nfs.Tier // the storage's tier: Standard (Blob NFS) has no hard links, so that probe is skipped
	User     string   // "azureuser"
	UID, GID int      // 1000, 1000
	Home     string   // "/home/" + User
	Peer     PeerMode
	Token    string // 8-64 lowercase hex digits; names the token file (needed with a Peer mode)
	// TLS: the storage is encrypted in transit, so the home must be mounted
	// through AZNFS's TLS tunnel (the tls probe); else the probe is skipped.
	TLS bool
}

// AznfsMountMap is AZNFS's record of its Blob NFS proxy addresses, one line
// "FQDN PROXY-IP ENDPOINT-IP" each (AZNFS-mount lib/common.sh MOUNTMAPv3).
const AznfsMountMap = "/opt/microsoft/aznfs/data/mountmap"

var tokenRe = regexp.MustCompile(`^[0-9a-f]{8,64}$`)

// CheckScript returns the self-test script (sh/probes.sh, sh/check.sh) for a
// VM whose home is the share. Info it reports: probe_<name> for each probe
// (read with Probes), peer_written, aznfs_proxy (Standard: "IP (FQDN ->
// ENDPOINT-IP)" from AZNFS's mount map).
func CheckScript(p CheckParams) (string, error) {
	a := AttachParams{User: p.User, UID: p.UID, GID: p.GID, Home: p.Home}.withDefaults()
	if err := validateUser(a.User, a.UID, a.GID, a.Home); err != nil {
		return "", fmt.Errorf("check script: %w", err)
	}
	switch {
	case !p.Tier.AzureFiles() && p.Tier != nfs.Standard:
		return "", fmt.Errorf("check script: unknown tier %q", p.Tier)
	case p.Peer != PeerNone && p.Peer != PeerWrite && p.Peer != PeerRead:
		return "", fmt.Errorf("check script: unknown peer mode %q", p.Peer)
	case p.Peer != PeerNone && !tokenRe.MatchString(p.Token):
		return "", fmt.Errorf("check script: token %q must be 8-64 lowercase hex digits", p.Token)
	case p.Peer == PeerNone && p.Token != "":
		return "", fmt.Errorf("check script: a token needs a peer mode")
	}
	h := header{}
	h.set("USER_NAME", a.User)
	h.set("USER_UID", strconv.Itoa(a.UID))
	h.set("USER_GID", strconv.Itoa(a.GID))
	h.set("HOME_DIR", a.Home)
	h.set("HARD_LINKS", boolFlag(nfs.HardLinks(p.Tier)))
	h.set("PEER_MODE", string(p.Peer))
	h.set("PEER_TOKEN", p.Token)
	h.set("TLS_EXPECTED", boolFlag(p.TLS))
	// Standard: the aznfs probe (Blob NFS through AZNFS's proxy address).
	h.set("PROXY_EXPECTED", boolFlag(nfs.AznfsProxy(p.Tier)))
	h.set("AZNFS_MOUNTMAP", AznfsMountMap)
	return assemble("self-test of the shared home "+a.Home, h, probesSh+"\n"+checkSh), nil
}
