package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/tags"
)

// A storage no VM uses is unused since its last VM left it: a detach, or
// the delete of its last VM, records the time in the tags.UnusedSince tag on
// the account, and a VM attaching again removes the tag. A storage with no
// VM and no such tag was never used as far as azlin knows (or was made by an
// older azlin): it is unused since the account was created. The tag is
// changed with `az tag update`, which patches the tags alone; a write of the
// account (`storage account update --tags`) would replace them all.

// DefaultUnusedFor is how long a storage must have had no VM before
// `azlin storage cleanup` offers it, and before `azlin cost` mentions it.
const DefaultUnusedFor = 14 * 24 * time.Hour

// Unused says since when no VM uses a storage (nil on a storage in use).
type Unused struct {
	// Since is RFC 3339, UTC; "" when Azure gave no time azlin can read.
	Since string `json:"since"`
	// SinceCreated: there is no record of a VM leaving it, so Since is the
	// account's creation time.
	SinceCreated bool `json:"sinceCreated"`
}

// For is how long the storage has been unused at now; false when unknown.
func (u *Unused) For(now time.Time) (time.Duration, bool) {
	if u == nil || u.Since == "" {
		return 0, false
	}
	t, err := time.Parse(time.RFC3339, u.Since)
	if err != nil {
		return 0, false
	}
	return max(now.Sub(t), 0), true
}

// Text is "since 2026-11-20 14:03 UTC" or "since created 2026-11-01 09:00 UTC".
func (u *Unused) Text() string {
	when := "an unknown time"
	if t, err := time.Parse(time.RFC3339, u.Since); err == nil {
		when = t.UTC().Format("2006-01-02 15:04 UTC")
	}
	if u.SinceCreated {
		return "since created " + when
	}
	return "since " + when
}

// unused is the account's Unused when vms is empty: the tag, else the
// account's creationTime (azlin's own creation tag when Azure gave none).
func (a *account) unused(vms []string) *Unused {
	if len(vms) > 0 {
		return nil
	}
	if t, err := time.Parse(time.RFC3339, a.Tags[tags.UnusedSince]); err == nil {
		return &Unused{Since: t.UTC().Format(time.RFC3339)}
	}
	u := &Unused{SinceCreated: true}
	if t, err := time.Parse(time.RFC3339Nano, a.CreationTime); err == nil {
		u.Since = t.UTC().Format(time.RFC3339)
	} else if t, err := time.Parse(time.RFC3339, a.Tags[tags.Created]); err == nil {
		u.Since = t.UTC().Format(time.RFC3339)
	}
	return u
}

// ParseUnusedFor reads --unused-for: whole days ("14d") or a Go duration
// ("36h", "90m"); 0 means any storage without a VM.
func ParseUnusedFor(s string) (time.Duration, error) {
	bad := func() error {
		return clierr.Usagef("invalid --unused-for %q: give days (14d) or a duration such as 36h or 90m, 0 or more", s)
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > 100000 {
			return 0, bad()
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, bad()
	}
	return d, nil
}

// FormatUnusedFor is d as --unused-for takes it: "14d" for whole days.
func FormatUnusedFor(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
}

// UnusedFor lists the storages of the group that have had no VM for at
// least least, in name order, with their usage and monthly cost (list's
// reads, the usage of those storages only). A storage whose unused time is
// unknown is not listed.
func (m *Manager) UnusedFor(ctx context.Context, rg string, least time.Duration) ([]*Storage, error) {
	now := m.Now()
	return m.listWhere(ctx, rg, nil, func(s *Storage) bool {
		d, ok := s.Unused.For(now)
		return ok && d >= least
	})
}

// NoteVMLeft records, once VM vm's home has left storage name (its tag
// removed, or the VM deleted), when the storage was left without VMs: it
// reads the group again and, if no VM but vm uses the storage (vm is not
// counted: a read may still show what just changed, and a dry run changed
// nothing), tags it with the time. A storage that is gone, or still has
// other VMs, is left alone.
func (m *Manager) NoteVMLeft(ctx context.Context, rg, name, vm string) error {
	s, _, err := m.lookup(ctx, rg, name, nil)
	var nf *NotFoundError
	switch {
	case errors.As(err, &nf):
		return nil
	case err != nil:
		return err
	case slices.ContainsFunc(s.ConnectedVMs, func(v string) bool { return v != vm }):
		return nil
	}
	since := m.Now().UTC().Format(time.RFC3339)
	if err := m.c.Mutate(ctx, nil, "tag", "update", "--resource-id", s.accountID, "--operation", "Merge",
		"--tags", tags.UnusedSince+"="+since); err != nil {
		return fmt.Errorf("recording on storage %s that no VM uses it since %s (tag %s): %w", name, since, tags.UnusedSince, err)
	}
	s.Unused = &Unused{Since: since}
	return nil
}

// NoteVMArrived removes the unused record from a storage a VM's home is now
// on (st as read before the attach); none: no call.
func (m *Manager) NoteVMArrived(ctx context.Context, st *Storage) error {
	if st.unusedTag == "" {
		return nil
	}
	// ARM's Delete removes a name/value pair: the value as it was read.
	if err := m.c.Mutate(ctx, nil, "tag", "update", "--resource-id", st.accountID, "--operation", "Delete",
		"--tags", tags.UnusedSince+"="+st.unusedTag); err != nil {
		return fmt.Errorf("removing the unused record (tag %s) from storage %s: %w", tags.UnusedSince, st.Name, err)
	}
	st.unusedTag, st.Unused = "", nil
	return nil
}
