package network

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/azlin-dev/azlin/internal/azcli"
)

// PrivateEndpoint is a private endpoint azlin makes for an Azure resource
// (a storage account's "file" or "blob" sub-resource) in the azlin subnet.
type PrivateEndpoint struct {
	Name       string // the endpoint's name, in the subnet's resource group
	Subnet     Subnet
	ResourceID string // what it connects to, e.g. a storage account's ID
	GroupID    string // the sub-resource: "file", "blob"
	// Zone, when set, is an existing private DNS zone (a landing zone's
	// central one, perhaps in another subscription): azlin creates no zone
	// and uses this one. Unset: azlin's own zone in the subnet's group.
	Zone *DNSZoneID
	// Subscription is the one az works in; a Zone in another gets --subscription.
	Subscription string
}

// DNSZoneID is a private DNS zone's ARM id, split.
type DNSZoneID struct {
	ID, Subscription, ResourceGroup, Name string
}

// ParseDNSZoneID reads a private DNS zone's ARM id,
// /subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/privateDnsZones/NAME
// (ARM compares the fixed segments ignoring case).
func ParseDNSZoneID(id string) (DNSZoneID, bool) {
	p := strings.Split(id, "/")
	if len(p) != 9 || p[0] != "" || !strings.EqualFold(p[1], "subscriptions") || !strings.EqualFold(p[3], "resourceGroups") ||
		!strings.EqualFold(p[5], "providers") || !strings.EqualFold(p[6], "Microsoft.Network") || !strings.EqualFold(p[7], "privateDnsZones") {
		return DNSZoneID{}, false
	}
	for _, v := range []string{p[2], p[4], p[8]} {
		if v == "" {
			return DNSZoneID{}, false
		}
	}
	return DNSZoneID{ID: id, Subscription: p[2], ResourceGroup: p[4], Name: strings.ToLower(p[8])}, true
}

// ZoneGroupName is the name azlin gives each endpoint's DNS zone group.
const ZoneGroupName = "default"

// PrivateDNSZone is the private DNS zone that resolves a service's public
// name to its private endpoint's address for sub-resource groupID: clients
// keep mounting <acct>.file.core.windows.net, which the zone answers inside
// the VNet.
func PrivateDNSZone(groupID string) string { return "privatelink." + groupID + ".core.windows.net" }

// LinkName is the name of the link between a private DNS zone and vnet. One
// link per VNet and zone, shared by every endpoint of that zone.
func LinkName(vnet string) string { return vnet + "-link" }

// sharedLinkName is the link's name in a zone azlin does not own: a hub's
// zone is linked to many spokes' VNets, which may all be called azlin-vnet,
// so the name carries a hash of the VNet's id.
func sharedLinkName(vnet, vnetID string) string {
	h := sha256.Sum256([]byte(strings.ToLower(vnetID)))
	return fmt.Sprintf("%s-%x-link", vnet, h[:4])
}

// vnetID is the id of the VNet a subnet id names.
func vnetID(subnetID string) string {
	if i := strings.LastIndex(strings.ToLower(subnetID), "/subnets/"); i >= 0 {
		return subnetID[:i]
	}
	return subnetID
}

// A private endpoint comes with three DNS pieces: the private DNS zone, the
// zone's link to the VNet and the endpoint's DNS zone group. Each Ensure
// below makes one piece exist, creating it only when missing (the zone: read
// with ZoneMissing, made with CreateZone), and returns
// what it created (or, in a dry run, would create), one line each. They are
// separate so that a caller can run the independent ones at once: the
// endpoint beside the zone and its link; the zone group needs both the
// endpoint and the zone.

// EnsureEndpoint makes the private endpoint exist. knownMissing tells that it
// cannot exist yet (its target was created a moment ago), which saves
// reading it. It also reports whether it created the endpoint now (then
// its zone group cannot exist either).
func (m *Manager) EnsureEndpoint(ctx context.Context, pe PrivateEndpoint, knownMissing bool) (bool, []string, error) {
	missing := knownMissing
	if !knownMissing {
		var err error
		if missing, err = m.missing(ctx, "private endpoint "+pe.Name,
			"network", "private-endpoint", "show", "-g", pe.Subnet.ResourceGroup, "-n", pe.Name); err != nil {
			return false, nil, err
		}
	}
	if !missing {
		return false, nil, nil
	}
	if err := m.c.Mutate(ctx, nil, "network", "private-endpoint", "create", "-g", pe.Subnet.ResourceGroup, "-n", pe.Name,
		"-l", pe.Subnet.Location, "--vnet-name", pe.Subnet.VNet, "--subnet", pe.Subnet.Name,
		"--private-connection-resource-id", pe.ResourceID, "--group-id", pe.GroupID,
		"--connection-name", pe.Name+"-conn"); err != nil {
		return false, nil, fmt.Errorf("creating private endpoint %s: %w", pe.Name, err)
	}
	return true, []string{"private endpoint " + pe.Name}, nil
}

// ZoneMissing reads whether azlin's private DNS zone is missing from the
// subnet's group (a pe.Zone of the user's is never azlin's to make: false).
func (m *Manager) ZoneMissing(ctx context.Context, pe PrivateEndpoint) (bool, error) {
	if pe.Zone != nil {
		return false, nil
	}
	zone := PrivateDNSZone(pe.GroupID)
	return m.missing(ctx, "private DNS zone "+zone, "network", "private-dns", "zone", "show", "-g", pe.Subnet.ResourceGroup, "-n", zone)
}

// CreateZone makes azlin's private DNS zone in the subnet's group, which
// ZoneMissing found missing (it has no links yet).
func (m *Manager) CreateZone(ctx context.Context, pe PrivateEndpoint) ([]string, error) {
	zone := PrivateDNSZone(pe.GroupID)
	if err := m.c.Mutate(ctx, nil, "network", "private-dns", "zone", "create", "-g", pe.Subnet.ResourceGroup, "-n", zone); err != nil {
		return nil, fmt.Errorf("creating private DNS zone %s: %w", zone, err)
	}
	return []string{"private DNS zone " + zone}, nil
}

// EnsureZoneLink links the zone (azlin's, or pe.Zone) to the VNet unless it
// is linked already; zoneCreated (by CreateZone just now) saves the read.
func (m *Manager) EnsureZoneLink(ctx context.Context, pe PrivateEndpoint, zoneCreated bool) ([]string, error) {
	if pe.Zone != nil {
		return m.ensureSharedZoneLink(ctx, pe, nil)
	}
	rg, zone := pe.Subnet.ResourceGroup, PrivateDNSZone(pe.GroupID)
	link := LinkName(pe.Subnet.VNet)
	if !zoneCreated {
		missing, err := m.missing(ctx, "DNS link "+link,
			"network", "private-dns", "link", "vnet", "show", "-g", rg, "-z", zone, "-n", link)
		if err != nil || !missing {
			return nil, err
		}
	}
	return m.createLink(ctx, pe, nil, link, []string{"-g", rg, "-z", zone, "-n", link, "-v", pe.Subnet.VNet})
}

// EnsureZoneGroup registers the endpoint in the zone (its DNS zone group)
// unless it is registered; endpointCreated (by EnsureEndpoint just now)
// saves the read. The zone must exist.
func (m *Manager) EnsureZoneGroup(ctx context.Context, pe PrivateEndpoint, endpointCreated bool) ([]string, error) {
	rg, zone := pe.Subnet.ResourceGroup, PrivateDNSZone(pe.GroupID)
	if !endpointCreated {
		missing, err := m.missing(ctx, "DNS zone group of "+pe.Name,
			"network", "private-endpoint", "dns-zone-group", "show", "-g", rg, "--endpoint-name", pe.Name, "-n", ZoneGroupName)
		if err != nil || !missing {
			return nil, err
		}
	}
	zoneRef := zone // a name: the zone in the endpoint's group
	if pe.Zone != nil {
		zoneRef = pe.Zone.ID
	}
	if err := m.c.Mutate(ctx, nil, "network", "private-endpoint", "dns-zone-group", "create", "-g", rg,
		"--endpoint-name", pe.Name, "-n", ZoneGroupName, "--private-dns-zone", zoneRef, "--zone-name", pe.GroupID); err != nil {
		return nil, fmt.Errorf("registering private endpoint %s in DNS zone %s: %w", pe.Name, zone, err)
	}
	return []string{"DNS zone group for " + pe.Name}, nil
}

// ensureSharedZoneLink links an existing zone (pe.Zone) to the VNet unless
// it is linked already. The zone may be in another group or subscription,
// so the VNet is named by its full id.
func (m *Manager) ensureSharedZoneLink(ctx context.Context, pe PrivateEndpoint, created []string) ([]string, error) {
	z, vnet := pe.Zone, vnetID(pe.Subnet.ID)
	link := sharedLinkName(pe.Subnet.VNet, vnet)
	where := []string{"-g", z.ResourceGroup, "-z", z.Name, "-n", link}
	if !strings.EqualFold(z.Subscription, pe.Subscription) {
		where = append(where, "--subscription", z.Subscription)
	}
	linkMissing, err := m.missing(ctx, "the link of private DNS zone "+z.ID+" to virtual network "+pe.Subnet.VNet,
		append([]string{"network", "private-dns", "link", "vnet", "show"}, where...)...)
	if err != nil || !linkMissing {
		return created, err
	}
	return m.createLink(ctx, pe, created, link, append(where, "-v", vnet))
}

// createLink links a zone to the VNet; where names the zone, the link and
// the VNet.
func (m *Manager) createLink(ctx context.Context, pe PrivateEndpoint, created []string, link string, where []string) ([]string, error) {
	zone := PrivateDNSZone(pe.GroupID)
	args := append([]string{"network", "private-dns", "link", "vnet", "create"}, where...)
	// NxDomainRedirect: names of other storage accounts that the zone
	// lacks still resolve through public DNS; with the default policy
	// the link would answer NXDOMAIN for every one of them in this VNet.
	args = append(args, "-e", "false", "--resolution-policy", "NxDomainRedirect")
	if err := m.c.Mutate(ctx, nil, args...); err != nil {
		if strings.Contains(err.Error(), "cannot be linked to multiple zones with overlapping namespaces") {
			// Azure: a VNet links to one zone of a name only.
			return created, fmt.Errorf("virtual network %s is already linked to another private DNS zone named %s, and Azure links a "+
				"virtual network to only one zone of a name: pass that zone's id with --private-dns-zone-id "+
				"(az network private-dns zone list --query \"[?name=='%s'].id\" finds it if you can read it): %w", pe.Subnet.VNet, zone, zone, err)
		}
		return created, fmt.Errorf("linking private DNS zone %s to virtual network %s: %w", zone, pe.Subnet.VNet, err)
	}
	return append(created, "DNS link "+link+" to "+pe.Subnet.VNet), nil
}

// DeletePrivateEndpoint removes an endpoint and its DNS zone group (which
// removes its DNS record). The zone and its VNet link stay: other endpoints
// share them. Parts already gone are fine, so a delete can be re-run.
func (m *Manager) DeletePrivateEndpoint(ctx context.Context, rg, name string) error {
	err := m.c.Mutate(ctx, nil, "network", "private-endpoint", "dns-zone-group", "delete", "-g", rg,
		"--endpoint-name", name, "-n", ZoneGroupName)
	if err != nil && !errors.Is(err, azcli.ErrNotFound) {
		return fmt.Errorf("deleting the DNS zone group of private endpoint %s: %w", name, err)
	}
	err = m.c.Mutate(ctx, nil, "network", "private-endpoint", "delete", "-g", rg, "-n", name)
	if err != nil && !errors.Is(err, azcli.ErrNotFound) {
		return fmt.Errorf("deleting private endpoint %s: %w", name, err)
	}
	return nil
}

// missing reads one resource and reports whether it does not exist.
func (m *Manager) missing(ctx context.Context, what string, args ...string) (bool, error) {
	err := m.c.Read(ctx, nil, args...)
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, azcli.ErrNotFound):
		return true, nil
	default:
		return false, fmt.Errorf("reading %s: %w", what, err)
	}
}

// Part names one piece of a private endpoint, for Exists.
type Part int

// The pieces EnsureEndpoint, CreateZone, EnsureZoneLink and EnsureZoneGroup make.
const (
	Endpoint Part = iota
	Zone
	ZoneLink
	ZoneGroup
)

// Exists reads whether one piece exists now and returns the line its Ensure
// would have returned for it, or nothing: for the report of a job stopped
// (Ctrl+C) while that piece was being made, which must say what exists, not
// guess.
func (m *Manager) Exists(ctx context.Context, pe PrivateEndpoint, part Part) ([]string, error) {
	rg, zone := pe.Subnet.ResourceGroup, PrivateDNSZone(pe.GroupID)
	var what string
	var args []string
	switch part {
	case Endpoint:
		what, args = "private endpoint "+pe.Name, []string{"network", "private-endpoint", "show", "-g", rg, "-n", pe.Name}
	case Zone:
		if pe.Zone != nil {
			return nil, nil
		}
		what, args = "private DNS zone "+zone, []string{"network", "private-dns", "zone", "show", "-g", rg, "-n", zone}
	case ZoneLink:
		link, where := LinkName(pe.Subnet.VNet), []string{"-g", rg, "-z", zone}
		if pe.Zone != nil {
			link, where = sharedLinkName(pe.Subnet.VNet, vnetID(pe.Subnet.ID)), []string{"-g", pe.Zone.ResourceGroup, "-z", pe.Zone.Name}
			if !strings.EqualFold(pe.Zone.Subscription, pe.Subscription) {
				where = append(where, "--subscription", pe.Zone.Subscription)
			}
		}
		what, args = "DNS link "+link+" to "+pe.Subnet.VNet, append(append([]string{"network", "private-dns", "link", "vnet", "show"}, where...), "-n", link)
	case ZoneGroup:
		what, args = "DNS zone group for "+pe.Name, []string{"network", "private-endpoint", "dns-zone-group", "show", "-g", rg, "--endpoint-name", pe.Name, "-n", ZoneGroupName}
	}
	missing, err := m.missing(ctx, what, args...)
	if err != nil || missing {
		return nil, err
	}
	return []string{what}, nil
}
