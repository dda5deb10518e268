package storage

import (
	"context"
	"fmt"
	"sort"

	"github.com/azlin-dev/azlin/internal/tags"
)

// SetLayout records the home's layout on the storage (the tags.Layout tag).
// `az storage account update --tags` replaces all tags, so the account's
// tags are read first and written back with the layout's. The caller
// validates the layout name. Unchanged: no write.
func (m *Manager) SetLayout(ctx context.Context, st *Storage, layout string) error {
	a, err := m.showAccount(ctx, st.ResourceGroup, st.Account)
	if err != nil {
		return err
	}
	if a == nil {
		return &NotFoundError{Name: st.Name, ResourceGroup: st.ResourceGroup}
	}
	if a.Tags[tags.Layout] == layout {
		return nil
	}
	var kept []string
	for k, v := range a.Tags {
		if k != tags.Layout {
			kept = append(kept, k+"="+v)
		}
	}
	sort.Strings(kept) // one argv for one state: tests and dry runs read the same
	kept = append(kept, tags.Layout+"="+layout)
	args := append([]string{"storage", "account", "update", "-g", st.ResourceGroup, "-n", st.Account, "--tags"}, kept...)
	if err := m.c.Mutate(ctx, nil, args...); err != nil {
		return fmt.Errorf("recording layout %s on storage %s (account %s): %w", layout, st.Name, st.Account, err)
	}
	st.Layout = layout
	return nil
}
