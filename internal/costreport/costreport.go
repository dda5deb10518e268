// Package costreport is the use case behind `azlin cost`: it reads the
// resource group's VMs, storage and (when asked) what Azure billed, the
// independent reads at once, and prices what it found with package cost.
// It never prints.
package costreport

import (
	"context"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/billing"
	"github.com/azlin-dev/azlin/internal/cost"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/vmprov"
)

// Request says what the report covers.
type Request struct {
	ResourceGroup string
	VMs, Storage  bool // which lines to price
	Actual        bool // also read what Azure billed this month
	Prices        *cost.Table
	PricesAge     cost.Age
	Now           time.Time
}

// Build reads Azure and prices what it found.
func Build(ctx context.Context, c *azcli.Client, req Request) (*cost.Report, error) {
	// The subscription's id is needed only by the reads after the VM list
	// and by the bill: the login check runs beside the first reads.
	c.StartLoginCheck(ctx)
	rg := req.ResourceGroup
	var (
		vms      []cost.VMInput
		storages []cost.StorageInput
		billed   *cost.Billed
		mu       sync.Mutex
		notes    []string
	)
	note := func(s string) { mu.Lock(); notes = append(notes, s); mu.Unlock() }
	g, gctx := errgroup.WithContext(ctx)
	// The VM list (`az vm list -d`) also tells which storage is each VM's
	// home: when both are reported, the storage views take it from there.
	var vmsOf storage.VMReader
	if req.VMs {
		listed := make(chan []vmprov.VM, 1) // closed unsent when the read fails, after listErr is set
		var listErr error
		vmsOf = func(ctx context.Context) ([]storage.GroupVM, error) {
			select {
			case list, ok := <-listed:
				if !ok {
					return nil, listErr
				}
				out := make([]storage.GroupVM, len(list))
				for i, v := range list {
					out[i] = storage.GroupVM{Name: v.Name, Tags: v.Tags}
				}
				return out, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		g.Go(func() error {
			list, err := vmprov.NewManager(c).List(gctx, rg)
			if err != nil {
				listErr = err
				close(listed)
				return err
			}
			listed <- list
			names := make([]string, len(list))
			for i, v := range list {
				names[i] = v.Name
			}
			account, err := c.EnsureLoggedIn(gctx) // remembered: no second az call
			if err != nil {
				return err
			}
			// Only the instance view says when a VM's power last changed.
			changes, err := billing.LastChanges(gctx, c, account.ID, rg, names)
			if err != nil {
				if gctx.Err() != nil {
					return err
				}
				note("Hours this month are unknown: " + err.Error())
			}
			for _, v := range list {
				vms = append(vms, cost.VMInput{Name: v.Name, Region: v.Region, Size: v.Size, PowerState: v.PowerState, LastChange: changes[v.Name],
					OSDisk: v.OSDisk, OSDiskSKU: v.OSDiskSKU, OSDiskGiB: v.OSDiskGiB, PublicIP: v.PublicIP})
			}
			return nil
		})
	}
	var unused []string
	if req.Storage {
		g.Go(func() error {
			list, err := storage.NewManager(c, req.Prices).ListWith(gctx, rg, vmsOf)
			if err != nil {
				return err
			}
			for _, s := range list {
				storages = append(storages, storageInput(s))
				if d, ok := s.Unused.For(req.Now); ok && d >= storage.DefaultUnusedFor {
					unused = append(unused, s.Name)
				}
			}
			return nil
		})
	}
	if req.Actual {
		g.Go(func() error {
			now := req.Now
			from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
			account, err := c.EnsureLoggedIn(gctx)
			if err != nil {
				return err
			}
			b, err := billing.Billed(gctx, c, account.ID, rg, from, now.UTC())
			billed = b
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	r := cost.NewReport(req.Prices, req.PricesAge, rg, vms, storages, req.Now)
	r.Notes = append(r.Notes, notes...)
	r.AddUnusedStorage(unused, storage.FormatUnusedFor(storage.DefaultUnusedFor), "azlin storage cleanup -g "+rg)
	r.Actual = billed
	return r, nil
}

// storageInput is what the report needs of a storage view.
func storageInput(s *storage.Storage) cost.StorageInput {
	in := cost.StorageInput{Name: s.Name, Region: s.Region, Tier: string(s.Tier), Redundancy: s.Redundancy,
		ProvisionedGiB: s.SizeGiB, ProvisionedIOPS: s.ProvisionedIOPS, ProvisionedMiBps: s.ProvisionedMiBps,
		UsedBytes: s.UsedBytes, UsageNote: s.UsageNote}
	for _, pe := range s.Network.PrivateEndpoints {
		name, _, _ := strings.Cut(pe, " (") // "acct-pe (Approved)"
		in.PrivateEndpoints = append(in.PrivateEndpoints, name)
	}
	return in
}
