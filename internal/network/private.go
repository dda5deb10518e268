package network

import (
	"context"
	"errors"
	"fmt"

	"github.com/azlin-dev/azlin/internal/azcli"
)

// PrivateEndpoint is a private endpoint azlin makes for an Azure resource
// (a storage account's "file" or "blob" sub-resource) in the azlin subnet.
type PrivateEndpoint struct {
	Name       string // the endpoint's name, in the subnet's resource group
	Subnet     Subnet
	ResourceID string // what it connects to, e.g. a storage account's ID
	GroupID    string // the sub-resource: "file", "blob"
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

// EnsurePrivateEndpoint makes the private endpoint, the private DNS zone,
// the zone's link to the VNet and the endpoint's DNS zone group exist,
// creating only what is missing, and returns what it created (or, in a dry
// run, would create), one line each. known tells that the endpoint cannot
// exist yet (its target was created a moment ago), which saves reading it
// and its zone group. The zone and link are shared: they are always read.
func (m *Manager) EnsurePrivateEndpoint(ctx context.Context, pe PrivateEndpoint, knownMissing bool) ([]string, error) {
	rg, zone := pe.Subnet.ResourceGroup, PrivateDNSZone(pe.GroupID)
	var created []string

	peMissing := knownMissing
	if !knownMissing {
		var err error
		if peMissing, err = m.missing(ctx, "private endpoint "+pe.Name,
			"network", "private-endpoint", "show", "-g", rg, "-n", pe.Name); err != nil {
			return created, err
		}
	}
	if peMissing {
		if err := m.c.Mutate(ctx, nil, "network", "private-endpoint", "create", "-g", rg, "-n", pe.Name,
			"-l", pe.Subnet.Location, "--vnet-name", pe.Subnet.VNet, "--subnet", pe.Subnet.Name,
			"--private-connection-resource-id", pe.ResourceID, "--group-id", pe.GroupID,
			"--connection-name", pe.Name+"-conn"); err != nil {
			return created, fmt.Errorf("creating private endpoint %s: %w", pe.Name, err)
		}
		created = append(created, "private endpoint "+pe.Name)
	}

	zoneMissing, err := m.missing(ctx, "private DNS zone "+zone, "network", "private-dns", "zone", "show", "-g", rg, "-n", zone)
	if err != nil {
		return created, err
	}
	if zoneMissing {
		if err := m.c.Mutate(ctx, nil, "network", "private-dns", "zone", "create", "-g", rg, "-n", zone); err != nil {
			return created, fmt.Errorf("creating private DNS zone %s: %w", zone, err)
		}
		created = append(created, "private DNS zone "+zone)
	}

	link := LinkName(pe.Subnet.VNet)
	linkMissing := zoneMissing // a zone created just now has no links
	if !zoneMissing {
		if linkMissing, err = m.missing(ctx, "DNS link "+link,
			"network", "private-dns", "link", "vnet", "show", "-g", rg, "-z", zone, "-n", link); err != nil {
			return created, err
		}
	}
	if linkMissing {
		if err := m.c.Mutate(ctx, nil, "network", "private-dns", "link", "vnet", "create", "-g", rg, "-z", zone,
			// NxDomainRedirect: names of other storage accounts that the zone
			// lacks still resolve through public DNS; with the default policy
			// the link would answer NXDOMAIN for every one of them in this VNet.
			"-n", link, "-v", pe.Subnet.VNet, "-e", "false", "--resolution-policy", "NxDomainRedirect"); err != nil {
			return created, fmt.Errorf("linking private DNS zone %s to virtual network %s: %w", zone, pe.Subnet.VNet, err)
		}
		created = append(created, "DNS link "+link+" to "+pe.Subnet.VNet)
	}

	groupMissing := peMissing
	if !peMissing {
		if groupMissing, err = m.missing(ctx, "DNS zone group of "+pe.Name,
			"network", "private-endpoint", "dns-zone-group", "show", "-g", rg, "--endpoint-name", pe.Name, "-n", ZoneGroupName); err != nil {
			return created, err
		}
	}
	if groupMissing {
		if err := m.c.Mutate(ctx, nil, "network", "private-endpoint", "dns-zone-group", "create", "-g", rg,
			"--endpoint-name", pe.Name, "-n", ZoneGroupName, "--private-dns-zone", zone, "--zone-name", pe.GroupID); err != nil {
			return created, fmt.Errorf("registering private endpoint %s in DNS zone %s: %w", pe.Name, zone, err)
		}
		created = append(created, "DNS zone group for "+pe.Name)
	}
	return created, nil
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
