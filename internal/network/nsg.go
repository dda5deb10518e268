package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/shell"
)

// SSH access: `az vm create --nsg NAME` with a missing NSG creates it with a
// rule default-allow-ssh open to source "*" (azure-cli vm/_validators.py
// _validate_vm_create_nsg), which opens port 22 to the internet and which
// "management ports closed" policies block. azlin therefore creates the NSG
// itself, with its own rule that allows SSH only from the callers' addresses,
// and creates VMs with --nsg-rule NONE.
const (
	// SSHRuleName is azlin's inbound rule for port 22.
	SSHRuleName = "azlin-ssh"
	// SSHRulePriority is below az's default-allow-ssh (1000), so the two never
	// collide when an older azlin left that rule behind.
	SSHRulePriority = "900"
	// DefaultPublicIPURL answers the caller's public address as plain text. It
	// is a third-party service; --ssh-from / ssh_from avoid it.
	DefaultPublicIPURL = "https://api.ipify.org"
	// EnvPublicIPURL overrides DefaultPublicIPURL.
	EnvPublicIPURL = "AZLIN_PUBLIC_IP_URL"
)

// DiscoverPublicIP asks url (an HTTPS "what is my IP" service answering the
// address as plain text) for the caller's public address, as a /32 prefix.
func DiscoverPublicIP(ctx context.Context, url string) (string, error) {
	if url == "" {
		url = DefaultPublicIPURL
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	fail := func(why string) error {
		return fmt.Errorf("finding your public address at %s: %s; give it with --ssh-from CIDR or azlin config set ssh_from CIDR", url, why)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fail(err.Error())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fail(err.Error())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256))
	if err != nil {
		return "", fail(err.Error())
	}
	if resp.StatusCode != http.StatusOK {
		return "", fail(resp.Status)
	}
	a, err := netip.ParseAddr(strings.TrimSpace(string(body)))
	if err != nil {
		return "", fail(fmt.Sprintf("the answer %q is not an address", strings.TrimSpace(string(body))))
	}
	return netip.PrefixFrom(a, a.BitLen()).String(), nil
}

// securityRule is what azlin reads of an NSG rule.
type securityRule struct {
	Name                  string   `json:"name"`
	Direction             string   `json:"direction"`
	Access                string   `json:"access"`
	DestinationPortRange  string   `json:"destinationPortRange"`
	DestinationPortRanges []string `json:"destinationPortRanges"`
	SourceAddressPrefix   string   `json:"sourceAddressPrefix"`
	SourceAddressPrefixes []string `json:"sourceAddressPrefixes"`
}

// sources is the rule's source list: ARM holds a single prefix in
// sourceAddressPrefix and several in sourceAddressPrefixes.
func (r securityRule) sources() []string {
	if len(r.SourceAddressPrefixes) > 0 {
		return r.SourceAddressPrefixes
	}
	if r.SourceAddressPrefix != "" {
		return []string{r.SourceAddressPrefix}
	}
	return nil
}

func (r securityRule) opensSSHToAll() bool {
	if !strings.EqualFold(r.Direction, "Inbound") || !strings.EqualFold(r.Access, "Allow") {
		return false
	}
	ports := append([]string{r.DestinationPortRange}, r.DestinationPortRanges...)
	if !slices.ContainsFunc(ports, func(p string) bool { return p == "22" || p == "*" }) {
		return false
	}
	return slices.ContainsFunc(r.sources(), anySource)
}

// anySource tells whether a rule's source lets in every internet address.
func anySource(s string) bool {
	return s == "*" || s == "0.0.0.0/0" || strings.EqualFold(s, "Internet") || strings.EqualFold(s, "Any")
}

// SSHAccess is what EnsureSSHFrom found and did.
type SSHAccess struct {
	Sources  []string // the azlin-ssh rule's sources now
	Changed  bool     // the NSG or the rule was created or updated
	OpenRule string   // a rule (e.g. default-allow-ssh) that opens SSH to everyone, if any
}

// EnsureSSHFrom makes sure NSG nsg in rg exists (created in location) and
// that its azlin-ssh rule allows cidr. `az network nsg rule update
// --source-address-prefixes` REPLACES the list, so the update names every
// source the rule has plus cidr: others' addresses are never dropped. One
// `az network nsg show` reads the NSG and its rules; nothing is written when
// cidr is already covered by a source of the rule.
func (m *Manager) EnsureSSHFrom(ctx context.Context, rg, location, nsg, cidr string) (SSHAccess, error) {
	out, err := m.readNSG(ctx, rg, nsg)
	var a SSHAccess
	switch {
	case errors.Is(err, azcli.ErrNotFound):
		if err := m.c.Mutate(ctx, nil, "network", "nsg", "create", "-g", rg, "-n", nsg, "-l", location); err != nil {
			return a, fmt.Errorf("creating network security group %s: %w", nsg, err)
		}
		a.Changed = true
	case err != nil:
		return a, fmt.Errorf("reading network security group %s: %w", nsg, err)
	}
	return m.allowIn(ctx, rg, nsg, cidr, out, a)
}

// AllowSSHFrom makes the azlin-ssh rule of the existing NSG nsg allow cidr
// too (created when the NSG has none), as EnsureSSHFrom does, but never
// creates the NSG: a VM behind a missing NSG is not one azlin made there.
func (m *Manager) AllowSSHFrom(ctx context.Context, rg, nsg, cidr string) (SSHAccess, error) {
	out, err := m.readNSG(ctx, rg, nsg)
	switch {
	case errors.Is(err, azcli.ErrNotFound):
		return SSHAccess{}, fmt.Errorf("there is no network security group %s in resource group %s, so azlin has no SSH rule to add %s to "+
			"(azlin new makes it with azlin's virtual network, config vnet_name): %w", nsg, rg, cidr, err)
	case err != nil:
		return SSHAccess{}, fmt.Errorf("reading network security group %s: %w", nsg, err)
	}
	return m.allowIn(ctx, rg, nsg, cidr, out, SSHAccess{})
}

// allowIn makes the azlin-ssh rule among out's rules allow cidr: it creates
// the rule, or adds cidr to its sources unless one covers it already.
func (m *Manager) allowIn(ctx context.Context, rg, nsg, cidr string, out nsgBody, a SSHAccess) (SSHAccess, error) {
	var mine *securityRule
	for i, r := range out.SecurityRules {
		if strings.EqualFold(r.Name, SSHRuleName) {
			mine = &out.SecurityRules[i]
		} else if a.OpenRule == "" && r.opensSSHToAll() {
			a.OpenRule = r.Name
		}
	}
	if mine == nil {
		if err := m.c.Mutate(ctx, nil, "network", "nsg", "rule", "create", "-g", rg, "--nsg-name", nsg, "-n", SSHRuleName,
			"--priority", SSHRulePriority, "--direction", "Inbound", "--access", "Allow", "--protocol", "Tcp",
			"--destination-port-ranges", "22", "--source-address-prefixes", cidr); err != nil {
			return a, fmt.Errorf("creating rule %s in network security group %s (SSH is not open to %s yet): %w", SSHRuleName, nsg, cidr, err)
		}
		a.Sources, a.Changed = []string{cidr}, true
		return a, nil
	}
	have := mine.sources()
	if Covers(have, cidr) {
		a.Sources = have
		return a, nil
	}
	merged := append(slices.Clone(have), cidr)
	args := append([]string{"network", "nsg", "rule", "update", "-g", rg, "--nsg-name", nsg, "-n", SSHRuleName,
		"--source-address-prefixes"}, merged...)
	if err := m.c.Mutate(ctx, nil, args...); err != nil {
		return a, fmt.Errorf("adding %s to rule %s of network security group %s (its sources now: %s): %w",
			cidr, SSHRuleName, nsg, listOrNone(have), err)
	}
	a.Sources, a.Changed = merged, true
	return a, nil
}

// SSHSources reads the sources of nsg's azlin-ssh rule (one az call): the
// addresses SSH is let in from. A missing rule (or NSG) is an error that
// errors.Is azcli.ErrNotFound.
func (m *Manager) SSHSources(ctx context.Context, rg, nsg string) ([]string, error) {
	var r securityRule
	if err := m.c.Read(ctx, &r, "network", "nsg", "rule", "show", "-g", rg, "--nsg-name", nsg, "-n", SSHRuleName); err != nil {
		return nil, err
	}
	return r.sources(), nil
}

type nsgBody struct {
	SecurityRules []securityRule `json:"securityRules"`
}

func (m *Manager) readNSG(ctx context.Context, rg, nsg string) (nsgBody, error) {
	var out nsgBody
	err := m.c.Read(ctx, &out, "network", "nsg", "show", "-g", rg, "-n", nsg)
	return out, err
}

// Covers tells whether one of sources (prefixes as ARM holds them) takes in
// every address of cidr.
func Covers(sources []string, cidr string) bool {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(sources, func(s string) bool {
		if anySource(s) {
			return true
		}
		q, err := netip.ParsePrefix(s)
		return err == nil && q.Bits() <= p.Bits() && q.Contains(p.Addr())
	})
}

// RemoveOpenRuleCommand is the az command that deletes rule from nsg, for
// the warning about an SSH rule open to everyone.
func RemoveOpenRuleCommand(rg, nsg, rule string) string {
	return "az " + shell.Join([]string{"network", "nsg", "rule", "delete", "-g", rg, "--nsg-name", nsg, "-n", rule})
}
