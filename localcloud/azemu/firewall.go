package azemu

import (
	"fmt"
	"hash/fnv"
	"os/exec"
	"strings"

	"github.com/azlin-dev/azlin/localcloud/vmhost"
)

// The NSG firewall: hosts share the machine's network namespace, each sshd on
// its own loopback address, so the emulator keeps one nftables table per
// state dir that drops TCP 22 to the address of every VM whose NSGs deny the
// caller. A dropped SYN is what an NSG does on Azure: the client hears
// nothing and its connect times out ("Connection timed out"), it is not
// refused. Packets marked vmhost.ProbeMark (the host's own boot and stop
// probes) pass. The table exists only while some VM is denied; `az
// __azemu-down` deletes it, also after a crash.

// firewallTable names the state dir's table ("ip azemu_<hash>").
func firewallTable(stateDir string) string {
	h := fnv.New32a()
	h.Write([]byte(stateDir))
	return fmt.Sprintf("azemu_%08x", h.Sum32())
}

// firewallSet replaces the table's rules, in one nft transaction, so that
// exactly the denied addresses are dropped; with none, the table goes.
func firewallSet(stateDir string, denied []string) error {
	t := "ip " + firewallTable(stateDir)
	script := "table " + t + "\ndelete table " + t + "\n"
	if len(denied) > 0 {
		script += fmt.Sprintf(`table %s {
	chain nsg_inbound {
		type filter hook input priority filter; policy accept;
		meta mark 0x%x accept
		ip daddr { %s } tcp dport 22 drop
	}
}
`, t, vmhost.ProbeMark, strings.Join(denied, ", "))
	}
	return nft(script, len(denied) > 0)
}

// firewallClear deletes the state dir's table, if any.
func firewallClear(stateDir string) error { return firewallSet(stateDir, nil) }

// nft runs an nft script. Without nft installed, a table can only be needed
// (required) when something must be dropped.
func nft(script string, required bool) error {
	path, err := exec.LookPath("nft")
	if err != nil {
		if !required {
			return nil
		}
		return cliError("azemu: an NSG denies SSH to a VM host, and keeping that needs nftables (nft); install it (scripts/deps.sh)")
	}
	cmd := exec.Command(path, "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return cliError("azemu: nft: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
