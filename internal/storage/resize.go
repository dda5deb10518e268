package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/azlin-dev/azlin/internal/azcli"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/nfs"
)

// A Premium share is resized in place with `az storage share-rm update
// --quota`. Azure lets a provisioned v1 share grow at any time and shrink
// only 24 hours after its last increase (docs/azure-facts.md, resizing a
// share); it would let it shrink below the space used (billing that space),
// which azlin refuses: a share must keep room for what its VMs write next.

// shrinkMarginPercent: a share may not shrink below its used space plus this
// share of it (design-choices: the resize margin). Premium's 100 GiB floor
// already gives a small share more room than any fixed margin would.
const shrinkMarginPercent = 10

// quotaDowngradeNotAllowed is Azure's error code for a decrease too soon.
const quotaDowngradeNotAllowed = "ContainerQuotaDowngradeNotAllowed"

// ResizePlan is what a resize changes, priced before and after.
type ResizePlan struct {
	Storage      *Storage
	FromGiB      int
	ToGiB        int
	CostBefore   CostView
	CostAfter    CostView
	AlreadyThere bool // the share has that size: nothing to do
}

// SmallestSize is the smallest size azlin lets a share shrink to, in GiB.
func SmallestSize(usedBytes int64) int {
	need := usedBytes + usedBytes*shrinkMarginPercent/100
	return max(premiumMinGiB, int((need+(1<<30)-1)>>30))
}

// PlanResize reads the storage (account list, then its share) and checks
// the new size against the share's use. Standard has no provisioned size.
func (m *Manager) PlanResize(ctx context.Context, rg, name string, sizeGiB int) (*ResizePlan, error) {
	if err := CheckSize(nfs.Premium, sizeGiB); err != nil {
		return nil, err
	}
	s, a, err := m.lookup(ctx, rg, name, noVMs)
	if err != nil {
		return nil, err
	}
	if s.Tier == nfs.Standard {
		return nil, clierr.Usagef("storage %s is Standard (Blob NFS 3.0): it has no provisioned size to change; it grows with what is stored and is billed on the space used", name)
	}
	if _, err := m.fillUsage(ctx, s, a.ID, 1); err != nil {
		return nil, err
	}
	if s.shareMissing {
		return nil, errors.New(s.UsageNote)
	}
	p := &ResizePlan{Storage: s, FromGiB: s.SizeGiB, ToGiB: sizeGiB, AlreadyThere: s.SizeGiB == sizeGiB}
	p.CostBefore = m.estimate(s, false)
	if sizeGiB < s.SizeGiB {
		if s.UsedBytes == nil {
			return nil, fmt.Errorf("storage %s: Azure reported no usage for the share, so azlin cannot tell how far it may shrink; nothing was changed", name)
		}
		if least := SmallestSize(*s.UsedBytes); sizeGiB < least {
			return nil, clierr.Usagef("storage %s holds %s: it may shrink to %s at the least (the used space plus %d%%, so its VMs can still write), not %s; nothing was changed",
				name, FormatBytes(*s.UsedBytes), FormatGiB(least), shrinkMarginPercent, FormatGiB(sizeGiB))
		}
	}
	after := *s
	after.SizeGiB = sizeGiB
	p.CostAfter = m.estimate(&after, false)
	return p, nil
}

// Resize sets the share's size. A decrease Azure refuses (within 24 hours
// of the last increase) is explained; nothing changes then.
func (m *Manager) Resize(ctx context.Context, p *ResizePlan) error {
	if p.AlreadyThere {
		return nil
	}
	s := p.Storage
	err := m.c.Mutate(ctx, nil, "storage", "share-rm", "update", "-g", s.ResourceGroup, "--storage-account", s.Account,
		"-n", s.Name, "--quota", strconv.Itoa(p.ToGiB))
	var azErr *azcli.Error
	if errors.As(err, &azErr) && azErr.Code == quotaDowngradeNotAllowed {
		return fmt.Errorf("Azure refused to shrink storage %s now: a Premium share may shrink only 24 hours after its last increase; "+
			"it stays %s; run azlin storage resize %s --size %s again later: %w", s.Name, FormatGiB(p.FromGiB), s.Name, FormatGiB(p.ToGiB), err)
	}
	if err != nil {
		return fmt.Errorf("resizing NFS share %s: it stays %s: %w", s.Name, FormatGiB(p.FromGiB), err)
	}
	return nil
}
