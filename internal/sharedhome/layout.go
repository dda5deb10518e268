package sharedhome

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/storage"
	"github.com/azlin-dev/azlin/internal/vmscript"
)

// LayoutRequest applies a layout to the VMs whose home is a storage.
type LayoutRequest struct {
	ResourceGroup string
	Storage       string
	Layout        layout.Resolved
	// Progress hears what happens on each VM; nil is fine.
	Progress func(vm, step string)
}

// ApplyLayout records the layout on the storage (its tag), then applies it
// on every VM attached to it (the VMs tagged with the storage), concurrently:
// the scripts take the share's lock in turn. A VM that is not running is
// reported, not started; attach applies the storage's layout when it runs.
func (m *Manager) ApplyLayout(ctx context.Context, req LayoutRequest) (*storage.Storage, []Result, error) {
	progress := req.Progress
	if progress == nil {
		progress = func(string, string) {}
	}
	st, err := m.Storage.Find(ctx, req.ResourceGroup, req.Storage)
	if err != nil {
		return nil, nil, err
	}
	progress("", "recording layout "+req.Layout.Name+" on storage "+st.Name+" (tag azlin-layout)")
	if err := m.Storage.SetLayout(ctx, st, req.Layout.Name); err != nil {
		return st, nil, err
	}
	script, err := vmscript.LayoutScript(vmscript.LayoutParams{Tier: st.Tier, Layout: req.Layout, Timestamp: m.Timestamp})
	if err != nil {
		return st, nil, err
	}
	results := make([]Result, len(st.ConnectedVMs))
	w, wctx := errgroup.WithContext(ctx)
	w.SetLimit(m.limit())
	for i, name := range st.ConnectedVMs {
		results[i].VM = name
		w.Go(func() error {
			vm, err := m.VMs.Show(wctx, st.ResourceGroup, name, true)
			if err != nil {
				results[i].Err = err
				return nil
			}
			if !vm.Running() {
				results[i].Err = fmt.Errorf("VM %s is %s; start it (az vm start -g %s -n %s) and apply the layout again: azlin storage layout set %s %s -g %s",
					name, vm.State(), st.ResourceGroup, name, st.Name, req.Layout.Name, st.ResourceGroup)
				return nil
			}
			progress(name, "applying layout "+req.Layout.Name)
			out, _, _, err := m.VMs.RunScript(wctx, st.ResourceGroup, name, script)
			results[i].Info = out.Info
			if err != nil {
				results[i].Err = fmt.Errorf("%w\nNo file was deleted. Re-run when the cause is fixed: azlin storage layout set %s %s -g %s",
					err, st.Name, req.Layout.Name, st.ResourceGroup)
			}
			return nil
		})
	}
	_ = w.Wait()
	return st, results, nil
}
