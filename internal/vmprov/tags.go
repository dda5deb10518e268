package vmprov

import (
	"context"
	"fmt"
)

// SetTag sets one tag on the VM, keeping its other tags. It patches the
// tags alone (`az tag update --operation Merge`): a VM write (`az vm update
// --set`) would PUT the whole VM, and Azure refuses that with
// AnotherOperationInProgress while another operation, such as a
// run-command that just ended, is still settling on the VM.
func (m *Manager) SetTag(ctx context.Context, vm VM, key, value string) error {
	if err := m.updateTags(ctx, vm, "Merge", key+"="+value); err != nil {
		return fmt.Errorf("tagging VM %s with %s=%s: %w", vm.Name, key, value, err)
	}
	return nil
}

// RemoveTag removes one tag from the VM, the same way (`az tag update
// --operation Delete`). It names the tag with the value the VM was read
// with: ARM's Delete removes a name/value pair.
func (m *Manager) RemoveTag(ctx context.Context, vm VM, key string) error {
	if err := m.updateTags(ctx, vm, "Delete", key+"="+vm.Tags[key]); err != nil {
		return fmt.Errorf("removing tag %s from VM %s: %w", key, vm.Name, err)
	}
	return nil
}

func (m *Manager) updateTags(ctx context.Context, vm VM, operation, tag string) error {
	if vm.ID == "" {
		return fmt.Errorf("VM %s was read without its resource ID", vm.Name)
	}
	return m.az.Mutate(ctx, nil, "tag", "update", "--resource-id", vm.ID, "--operation", operation, "--tags", tag)
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
