// Package network makes sure azlin's virtual network exists and gives Azure
// services a way into it: the subnet's service endpoints (read, merge,
// write) and private endpoints with their private DNS pieces.
//
// Every Ensure function is idempotent: it reads first and creates only what
// is missing. Under --dry-run the az client prints the creates instead of
// running them; the functions then return what would exist, built from the
// names given, so a caller can go on printing the rest of its plan.
package network

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/azlin-dev/azlin/internal/azcli"
)

// Names says which VNet and subnet azlin uses and, when it must create them,
// with which address ranges. Callers fill it from the config (whose defaults
// are azlin-vnet 10.0.0.0/16 and azlin-subnet 10.0.0.0/24).
type Names struct{ VNet, VNetPrefix, Subnet, SubnetPrefix string }

// Subnet is the azlin subnet as azlin needs to know it. Location is the
// VNet's region: private endpoints must be created there, and service
// endpoints serve storage accounts of that region only.
type Subnet struct {
	ID, ResourceGroup, VNet, Name, Location string
	ServiceEndpoints                        []string
}

// Manager creates and inspects network resources through az.
type Manager struct{ c *azcli.Client }

// NewManager returns a Manager that runs az through c.
func NewManager(c *azcli.Client) *Manager { return &Manager{c: c} }

// vnet is what azlin reads from `az network vnet show`.
type vnet struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Location string `json:"location"`
	Subnets  []struct {
		ID               string `json:"id"`
		Name             string `json:"name"`
		ServiceEndpoints []struct {
			Service string `json:"service"`
		} `json:"serviceEndpoints"`
	} `json:"subnets"`
}

func (n Names) check() error {
	if n.VNet == "" || n.VNetPrefix == "" || n.Subnet == "" || n.SubnetPrefix == "" {
		return fmt.Errorf("network names incomplete (vnet %q %q, subnet %q %q): set them with azlin config set", n.VNet, n.VNetPrefix, n.Subnet, n.SubnetPrefix)
	}
	return nil
}

// EnsureSubnet returns the azlin subnet, creating the VNet and/or subnet if
// missing. One `az network vnet show` answers the common case (VNet and
// subnet there): it carries the VNet's region and the subnet's service
// endpoints. A VNet azlin creates now is created in region. It also returns
// what it created, for the report of a job that fails later.
func (m *Manager) EnsureSubnet(ctx context.Context, rg, region string, n Names) (Subnet, []string, error) {
	if err := n.check(); err != nil {
		return Subnet{}, nil, err
	}
	var v vnet
	err := m.c.Read(ctx, &v, "network", "vnet", "show", "-g", rg, "-n", n.VNet)
	switch {
	case errors.Is(err, azcli.ErrResourceGroupNotFound):
		return Subnet{}, nil, fmt.Errorf("resource group %s does not exist (create it with: az group create -n %s -l %s): %w", rg, rg, region, err)
	case errors.Is(err, azcli.ErrNotFound):
		if err := m.c.Mutate(ctx, nil, "network", "vnet", "create", "-g", rg, "-n", n.VNet, "-l", region,
			"--address-prefixes", n.VNetPrefix, "--subnet-name", n.Subnet, "--subnet-prefixes", n.SubnetPrefix); err != nil {
			return Subnet{}, nil, fmt.Errorf("creating virtual network %s: %w", n.VNet, err)
		}
		created := []string{"virtual network " + n.VNet + " with subnet " + n.Subnet}
		s, err := m.subnet(ctx, rg, region, n, nil)
		return s, created, err
	case err != nil:
		return Subnet{}, nil, fmt.Errorf("reading virtual network %s: %w", n.VNet, err)
	}
	for _, s := range v.Subnets {
		if strings.EqualFold(s.Name, n.Subnet) {
			sub := Subnet{ID: s.ID, ResourceGroup: rg, VNet: v.Name, Name: s.Name, Location: v.Location}
			for _, e := range s.ServiceEndpoints {
				sub.ServiceEndpoints = append(sub.ServiceEndpoints, e.Service)
			}
			return sub, nil, nil
		}
	}
	if err := m.c.Mutate(ctx, nil, "network", "vnet", "subnet", "create", "-g", rg, "--vnet-name", n.VNet,
		"-n", n.Subnet, "--address-prefixes", n.SubnetPrefix); err != nil {
		return Subnet{}, nil, fmt.Errorf("creating subnet %s in virtual network %s: %w", n.Subnet, n.VNet, err)
	}
	created := []string{"subnet " + n.Subnet + " in virtual network " + n.VNet}
	s, err := m.subnet(ctx, rg, v.Location, n, nil)
	return s, created, err
}

// SubnetExists reads whether the VNet (and its subnet) exists now and
// returns the line EnsureSubnet would have returned for it, or nothing: for
// the report of a job stopped (Ctrl+C) while EnsureSubnet ran.
func (m *Manager) SubnetExists(ctx context.Context, rg string, n Names) ([]string, error) {
	var v vnet
	err := m.c.Read(ctx, &v, "network", "vnet", "show", "-g", rg, "-n", n.VNet)
	switch {
	case errors.Is(err, azcli.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading virtual network %s: %w", n.VNet, err)
	}
	for _, s := range v.Subnets {
		if strings.EqualFold(s.Name, n.Subnet) {
			return []string{"virtual network " + n.VNet + " with subnet " + n.Subnet}, nil
		}
	}
	return []string{"virtual network " + n.VNet}, nil
}

// subnet describes a subnet azlin has just created (or, in a dry run, would
// have): its ID follows ARM's fixed pattern, so no read is needed.
func (m *Manager) subnet(ctx context.Context, rg, location string, n Names, endpoints []string) (Subnet, error) {
	acct, err := m.c.EnsureLoggedIn(ctx)
	if err != nil {
		return Subnet{}, err
	}
	id := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/%s/subnets/%s", acct.ID, rg, n.VNet, n.Subnet)
	return Subnet{ID: id, ResourceGroup: rg, VNet: n.VNet, Name: n.Subnet, Location: location, ServiceEndpoints: endpoints}, nil
}

// HasServiceEndpoint tells whether the subnet already has service.
func (s Subnet) HasServiceEndpoint(service string) bool {
	return slices.ContainsFunc(s.ServiceEndpoints, func(e string) bool { return strings.EqualFold(e, service) })
}

// AddServiceEndpoint merges service (e.g. "Microsoft.Storage") into the
// subnet's service endpoints. `az network vnet subnet update
// --service-endpoints` REPLACES the list, so the update names every endpoint
// the subnet has plus the new one. s must be as EnsureSubnet just read it
// (that read is the "read" of read-merge-write; reading again would ask the
// same fact twice). Nothing is called when the endpoint is already there.
func (m *Manager) AddServiceEndpoint(ctx context.Context, s Subnet, service string) (Subnet, error) {
	if s.HasServiceEndpoint(service) {
		return s, nil
	}
	merged := append(slices.Clone(s.ServiceEndpoints), service)
	args := append([]string{"network", "vnet", "subnet", "update", "-g", s.ResourceGroup, "--vnet-name", s.VNet,
		"-n", s.Name, "--service-endpoints"}, merged...)
	if err := m.c.Mutate(ctx, nil, args...); err != nil {
		return s, fmt.Errorf("adding the %s service endpoint to subnet %s (its endpoints now: %s): %w",
			service, s.Name, listOrNone(s.ServiceEndpoints), err)
	}
	s.ServiceEndpoints = merged
	return s, nil
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

// SubnetByID reads the subnet with the given ARM ID (one `az network vnet
// subnet show`), e.g. the subnet a VM's network interface is in.
func (m *Manager) SubnetByID(ctx context.Context, id string) (Subnet, error) {
	rg, vnet, name, ok := ParseSubnetID(id)
	if !ok {
		return Subnet{}, fmt.Errorf("%q is not a subnet ID", id)
	}
	var out struct {
		ID               string `json:"id"`
		ServiceEndpoints []struct {
			Service   string   `json:"service"`
			Locations []string `json:"locations"`
		} `json:"serviceEndpoints"`
	}
	if err := m.c.Read(ctx, &out, "network", "vnet", "subnet", "show", "-g", rg, "--vnet-name", vnet, "-n", name); err != nil {
		return Subnet{}, fmt.Errorf("reading subnet %s/%s: %w", vnet, name, err)
	}
	s := Subnet{ID: id, ResourceGroup: rg, VNet: vnet, Name: name}
	for _, e := range out.ServiceEndpoints {
		s.ServiceEndpoints = append(s.ServiceEndpoints, e.Service)
	}
	return s, nil
}

// ParseSubnetID splits ".../resourceGroups/RG/providers/Microsoft.Network/
// virtualNetworks/VNET/subnets/NAME" into its names.
func ParseSubnetID(id string) (rg, vnet, subnet string, ok bool) {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	for i := 0; i+1 < len(parts); i++ {
		switch strings.ToLower(parts[i]) {
		case "resourcegroups":
			rg = parts[i+1]
		case "virtualnetworks":
			vnet = parts[i+1]
		case "subnets":
			subnet = parts[i+1]
		}
	}
	return rg, vnet, subnet, rg != "" && vnet != "" && subnet != ""
}

// GroupLocation is the resource group's region, where azlin puts new
// resources unless told otherwise (one `az group show`).
func GroupLocation(ctx context.Context, c *azcli.Client, rg string) (string, error) {
	var g struct {
		Location string `json:"location"`
	}
	if err := c.Read(ctx, &g, "group", "show", "-n", rg); err != nil {
		if errors.Is(err, azcli.ErrNotFound) {
			return "", fmt.Errorf("resource group %s does not exist (create it: az group create -n %s -l REGION): %w", rg, rg, err)
		}
		return "", err
	}
	return g.Location, nil
}
