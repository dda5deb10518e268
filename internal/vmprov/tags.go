package vmprov

import (
	"context"
	"fmt"
)

// SetTag sets one tag on the VM, keeping its other tags
// (`az vm update --set tags.KEY=VALUE`).
func (m *Manager) SetTag(ctx context.Context, rg, vm, key, value string) error {
	if err := m.az.Mutate(ctx, nil, "vm", "update", "-g", rg, "-n", vm, "--set", "tags."+key+"="+value); err != nil {
		return fmt.Errorf("tagging VM %s with %s=%s: %w", vm, key, value, err)
	}
	return nil
}

// RemoveTag removes one tag from the VM (`az vm update --remove tags.KEY`).
func (m *Manager) RemoveTag(ctx context.Context, rg, vm, key string) error {
	if err := m.az.Mutate(ctx, nil, "vm", "update", "-g", rg, "-n", vm, "--remove", "tags."+key); err != nil {
		return fmt.Errorf("removing tag %s from VM %s: %w", key, vm, err)
	}
	return nil
}

// SubnetID is the ARM ID of the subnet the VM's first network interface is
// in (one `az network nic show`).
func (m *Manager) SubnetID(ctx context.Context, v VM) (string, error) {
	if len(v.NICs) == 0 {
		return "", fmt.Errorf("VM %s has no network interface", v.Name)
	}
	var nic struct {
		IPConfigurations []struct {
			Subnet struct {
				ID string `json:"id"`
			} `json:"subnet"`
		} `json:"ipConfigurations"`
	}
	if err := m.az.Read(ctx, &nic, "network", "nic", "show", "-g", v.ResourceGroup, "-n", v.NICs[0]); err != nil {
		return "", fmt.Errorf("reading the network interface of VM %s: %w", v.Name, err)
	}
	if len(nic.IPConfigurations) == 0 || nic.IPConfigurations[0].Subnet.ID == "" {
		return "", fmt.Errorf("the network interface %s of VM %s is in no subnet", v.NICs[0], v.Name)
	}
	return nic.IPConfigurations[0].Subnet.ID, nil
}
