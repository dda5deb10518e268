package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/azlin-dev/azlin/internal/azcli"
)

// ConnectedError refuses a delete while VMs use the storage.
type ConnectedError struct {
	Name, ResourceGroup string
	VMs                 []string
}

func (e *ConnectedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "storage %s is in use by %d VM(s): %s. Nothing was deleted. Detach them first:",
		e.Name, len(e.VMs), strings.Join(e.VMs, ", "))
	for _, v := range e.VMs {
		fmt.Fprintf(&b, "\n  azlin storage detach --vm %s -g %s", v, e.ResourceGroup)
	}
	return b.String()
}

// DeletePlan is what Delete will remove, for the user to confirm.
type DeletePlan struct {
	Storage *Storage
	// PrivateEndpoints are deleted with their DNS zone groups; the DNS zone,
	// its VNet link and the VNet stay (other storages and VMs share them).
	PrivateEndpoints []string
}

// PlanDelete reads the storage and refuses (a *ConnectedError) while any VM
// carries its tag; --yes never skips this. An unknown name is a *NotFoundError.
func (m *Manager) PlanDelete(ctx context.Context, rg, name string) (*DeletePlan, error) {
	s, a, err := m.status(ctx, rg, name, false)
	if err != nil {
		return nil, err
	}
	if len(s.ConnectedVMs) > 0 {
		return nil, &ConnectedError{Name: name, ResourceGroup: rg, VMs: s.ConnectedVMs}
	}
	p := &DeletePlan{Storage: s, PrivateEndpoints: a.privateEndpoints()}
	if len(p.PrivateEndpoints) == 0 && s.Network.Mode == PrivateEndpoint {
		// A create stopped before the endpoint connected may still have left it.
		p.PrivateEndpoints = []string{privateEndpointName(s.Account)}
	}
	return p, nil
}

// Delete removes what create made for the storage: its private endpoints
// (with their DNS zone groups), then the account with its share or
// container. Anything already gone is skipped, so a failed delete can be
// re-run.
func (m *Manager) Delete(ctx context.Context, p *DeletePlan, progress func(string)) error {
	step := func(s string) {
		if progress != nil {
			progress(s)
		}
	}
	s := p.Storage
	for _, pe := range p.PrivateEndpoints {
		step("Deleting private endpoint " + pe)
		if err := m.net.DeletePrivateEndpoint(ctx, s.ResourceGroup, pe); err != nil {
			return fmt.Errorf("%w (storage account %s still exists; re-run azlin storage delete %s -g %s)", err, s.Account, s.Name, s.ResourceGroup)
		}
	}
	step("Deleting storage account " + s.Account)
	err := m.c.Mutate(ctx, nil, "storage", "account", "delete", "-g", s.ResourceGroup, "-n", s.Account, "--yes")
	if err != nil && !errors.Is(err, azcli.ErrNotFound) {
		return fmt.Errorf("deleting storage account %s: %w (re-run azlin storage delete %s -g %s)", s.Account, err, s.Name, s.ResourceGroup)
	}
	return nil
}
