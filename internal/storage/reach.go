package storage

import (
	"context"
	"fmt"
	"slices"

	"github.com/azlin-dev/azlin/internal/network"
)

// AllowSubnet lets VMs in subnet s mount the storage when it is reached
// through service endpoints: the subnet gets the Microsoft.Storage endpoint
// (merged with the ones it has) and the account a virtual-network rule for
// it. Nothing is called for what is already in place.
func (m *Manager) AllowSubnet(ctx context.Context, st *Storage, s network.Subnet) error {
	s, err := m.net.AddServiceEndpoint(ctx, s, "Microsoft.Storage")
	if err != nil {
		return err
	}
	if slices.Contains(st.Network.VNetRules, subnetLabel(s.ID)) {
		return nil
	}
	return m.addVNetRule(ctx, st.ResourceGroup, st.Account, s)
}

func (m *Manager) addVNetRule(ctx context.Context, rg, account string, s network.Subnet) error {
	if err := m.c.Mutate(ctx, nil, "storage", "account", "network-rule", "add", "-g", rg, "--account-name", account,
		"--vnet-name", s.VNet, "--subnet", s.Name); err != nil {
		return fmt.Errorf("allowing subnet %s on storage account %s: %w", s.Name, account, err)
	}
	return nil
}

// PrivateEndpointSubnetID is the ID of the subnet holding the storage's
// private endpoint (one `az network private-endpoint show`): VMs in that
// subnet's VNet reach the storage.
func (m *Manager) PrivateEndpointSubnetID(ctx context.Context, st *Storage) (string, error) {
	var pe struct {
		Subnet struct {
			ID string `json:"id"`
		} `json:"subnet"`
	}
	name := privateEndpointName(st.Account)
	if err := m.c.Read(ctx, &pe, "network", "private-endpoint", "show", "-g", st.ResourceGroup, "-n", name); err != nil {
		return "", fmt.Errorf("reading private endpoint %s of storage %s (azlin storage create %s -g %s re-creates it): %w",
			name, st.Name, st.Name, st.ResourceGroup, err)
	}
	return pe.Subnet.ID, nil
}
