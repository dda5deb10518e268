package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/azlin-dev/azlin/internal/azcli"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/nfs"
)

// An Azure Files share is resized in place with `az storage share-rm update`:
// --quota for the size, and for a PremiumV2 (provisioned v2) share
// --provisioned-iops and --provisioned-bandwidth-mibps. Azure lets each
// provisioned quantity grow at any time and shrink only 24 hours after its
// last increase (nfs.DecreaseWait; docs/azure-facts.md, resizing a share);
// it would let a share shrink below the space used (billing that space),
// which azlin refuses: a share must keep room for what its VMs write next.

// shrinkMarginPercent: a share may not shrink below its used space plus this
// share of it (design-choices: the resize margin). The tier's smallest size
// already gives a small share more room than any fixed margin would.
const shrinkMarginPercent = 10

// ResizeRequest is what to change; a zero field keeps what the share has.
type ResizeRequest struct {
	SizeGiB int
	IOPS    int // PremiumV2 only
	MiBps   int // PremiumV2 only
}

// Validate checks what can be checked before the share's tier is known:
// something is asked for, and the size is within some Azure Files tier's
// bounds (the storage's own tier is checked once it is read).
func (r ResizeRequest) Validate() error {
	if r.SizeGiB == 0 && r.IOPS == 0 && r.MiBps == 0 {
		return clierr.Usagef("give what to change: --size (e.g. --size 1TB), and for a PremiumV2 storage --iops or --throughput")
	}
	if r.SizeGiB != 0 {
		lo, hi := nfs.Premium.Provisioned(), nfs.PremiumV2.Provisioned()
		if r.SizeGiB < min(lo.MinGiB, hi.MinGiB) || r.SizeGiB > max(lo.MaxGiB, hi.MaxGiB) {
			return clierr.Usagef("invalid --size %s: Azure Files shares are %s to %s (Premium %s-%s, PremiumV2 %s-%s)", FormatGiB(r.SizeGiB),
				FormatGiB(min(lo.MinGiB, hi.MinGiB)), FormatGiB(max(lo.MaxGiB, hi.MaxGiB)),
				FormatGiB(lo.MinGiB), FormatGiB(lo.MaxGiB), FormatGiB(hi.MinGiB), FormatGiB(hi.MaxGiB))
		}
	}
	return CheckPerformance(nfs.PremiumV2, r.IOPS, r.MiBps)
}

// Provision is a share's provisioned quantities.
type Provision struct {
	SizeGiB int
	IOPS    int // 0 for provisioned v1
	MiBps   int // 0 for provisioned v1
}

// ResizePlan is what a resize changes, priced before and after.
type ResizePlan struct {
	Storage      *Storage
	From, To     Provision
	FromGiB      int
	ToGiB        int
	CostBefore   CostView
	CostAfter    CostView
	AlreadyThere bool // the share is provisioned so: nothing to do
	// Recommended is Azure's IOPS and throughput for the new size
	// (PremiumV2), for a resize that changes the size and keeps them.
	Recommended Provision
}

// Decreases names the quantities the plan decreases: "size", "IOPS", "throughput".
func (p *ResizePlan) Decreases() []string {
	var d []string
	if p.To.SizeGiB < p.From.SizeGiB {
		d = append(d, "size")
	}
	if p.To.IOPS < p.From.IOPS {
		d = append(d, "IOPS")
	}
	if p.To.MiBps < p.From.MiBps {
		d = append(d, "throughput")
	}
	return d
}

// Increases is Decreases' other half.
func (p *ResizePlan) Increases() []string {
	var d []string
	if p.To.SizeGiB > p.From.SizeGiB {
		d = append(d, "size")
	}
	if p.To.IOPS > p.From.IOPS {
		d = append(d, "IOPS")
	}
	if p.To.MiBps > p.From.MiBps {
		d = append(d, "throughput")
	}
	return d
}

// SmallestSize is the smallest size azlin lets a share of tier t shrink to,
// in GiB.
func SmallestSize(t nfs.Tier, usedBytes int64) int {
	need := usedBytes + usedBytes*shrinkMarginPercent/100
	return max(t.Provisioned().MinGiB, int((need+(1<<30)-1)>>30))
}

// PlanResize reads the storage (account list, then its share) and checks
// the request against the share's tier and use. Standard has no
// provisioned size.
func (m *Manager) PlanResize(ctx context.Context, rg, name string, r ResizeRequest) (*ResizePlan, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	s, a, err := m.lookup(ctx, rg, name, noVMs)
	if err != nil {
		return nil, err
	}
	if s.Tier == nfs.Standard {
		return nil, clierr.Usagef("storage %s is Standard (Blob NFS 3.0): it has no provisioned size to change; it grows with what is stored and is billed on the space used", name)
	}
	if err := CheckPerformance(s.Tier, r.IOPS, r.MiBps); err != nil {
		return nil, clierr.Usagef("storage %s: %v; nothing was changed", name, err)
	}
	if r.SizeGiB != 0 {
		if err := CheckSize(s.Tier, r.SizeGiB); err != nil {
			return nil, clierr.Usagef("storage %s: %v; nothing was changed", name, err)
		}
	}
	if _, err := m.fillUsage(ctx, s, a.ID, 1); err != nil {
		return nil, err
	}
	if s.shareMissing {
		return nil, errors.New(s.UsageNote)
	}
	from := Provision{SizeGiB: s.SizeGiB, IOPS: s.ProvisionedIOPS, MiBps: s.ProvisionedMiBps}
	to := from
	if r.SizeGiB != 0 {
		to.SizeGiB = r.SizeGiB
	}
	if r.IOPS != 0 {
		to.IOPS = r.IOPS
	}
	if r.MiBps != 0 {
		to.MiBps = r.MiBps
	}
	p := &ResizePlan{Storage: s, From: from, To: to, FromGiB: from.SizeGiB, ToGiB: to.SizeGiB, AlreadyThere: from == to}
	if s.Tier == nfs.PremiumV2 {
		p.Recommended = Provision{SizeGiB: to.SizeGiB, IOPS: nfs.RecommendedIOPS(to.SizeGiB), MiBps: nfs.RecommendedMiBps(to.SizeGiB)}
	}
	p.CostBefore = m.estimate(s, false)
	if to.SizeGiB < from.SizeGiB {
		if s.UsedBytes == nil {
			return nil, fmt.Errorf("storage %s: Azure reported no usage for the share, so azlin cannot tell how far it may shrink; nothing was changed", name)
		}
		if least := SmallestSize(s.Tier, *s.UsedBytes); to.SizeGiB < least {
			return nil, clierr.Usagef("storage %s holds %s: it may shrink to %s at the least (the used space plus %d%%, so its VMs can still write), not %s; nothing was changed",
				name, FormatBytes(*s.UsedBytes), FormatGiB(least), shrinkMarginPercent, FormatGiB(to.SizeGiB))
		}
	}
	after := *s
	after.SizeGiB, after.ProvisionedIOPS, after.ProvisionedMiBps = to.SizeGiB, to.IOPS, to.MiBps
	if to.IOPS != 0 {
		after.BurstIOPS = nfs.BurstIOPS(to.IOPS)
	}
	p.CostAfter = m.estimate(&after, false)
	return p, nil
}

// DecreaseRule is Azure's rule for decreases, worded for the tier.
func DecreaseRule(t nfs.Tier) string {
	wait := fmt.Sprintf("%.0f hours", nfs.DecreaseWait.Hours())
	if t == nfs.PremiumV2 {
		return "a PremiumV2 share's size, IOPS and throughput may each grow at any time, but shrink only " + wait + " after that quantity's last increase"
	}
	return "a Premium share may shrink only " + wait + " after its last increase"
}

// Resize sets the share's size, IOPS and throughput as planned. A decrease
// Azure refuses (too soon after an increase) is explained with Azure's
// rule; nothing changes then.
func (m *Manager) Resize(ctx context.Context, p *ResizePlan) error {
	if p.AlreadyThere {
		return nil
	}
	s := p.Storage
	args := []string{"storage", "share-rm", "update", "-g", s.ResourceGroup, "--storage-account", s.Account, "-n", s.Name}
	if p.To.SizeGiB != p.From.SizeGiB {
		args = append(args, "--quota", strconv.Itoa(p.To.SizeGiB))
	}
	if p.To.IOPS != p.From.IOPS {
		args = append(args, "--provisioned-iops", strconv.Itoa(p.To.IOPS))
	}
	if p.To.MiBps != p.From.MiBps {
		args = append(args, "--provisioned-bandwidth-mibps", strconv.Itoa(p.To.MiBps))
	}
	err := m.c.Mutate(ctx, nil, args...)
	var azErr *azcli.Error
	if errors.As(err, &azErr) && strings.HasSuffix(azErr.Code, "DowngradeNotAllowed") {
		when := ""
		if t := p.nextAllowed(); t != "" {
			when = " (the share says: not before " + t + ")"
		}
		return fmt.Errorf("Azure refused to decrease the %s of storage %s now: %s%s; it stays %s; run azlin storage resize %s %s again later: %w",
			strings.Join(p.Decreases(), " and "), s.Name, DecreaseRule(s.Tier), when, p.From.String(), s.Name, p.flags(), err)
	}
	if err != nil {
		return fmt.Errorf("resizing NFS share %s: it stays %s: %w", s.Name, p.From.String(), err)
	}
	return nil
}

// flags are the resize flags that ask for the plan's changes.
func (p *ResizePlan) flags() string {
	var f []string
	if p.To.SizeGiB != p.From.SizeGiB {
		f = append(f, "--size "+FormatGiB(p.To.SizeGiB))
	}
	if p.To.IOPS != p.From.IOPS {
		f = append(f, "--iops "+strconv.Itoa(p.To.IOPS))
	}
	if p.To.MiBps != p.From.MiBps {
		f = append(f, "--throughput "+strconv.Itoa(p.To.MiBps))
	}
	return strings.Join(f, " ")
}

// nextAllowed is the latest "next allowed decrease" time the share gave for
// the quantities the plan decreases ("" when it gave none).
func (p *ResizePlan) nextAllowed() string {
	n := p.Storage.nextDecrease
	latest := ""
	for _, q := range p.Decreases() {
		t := map[string]string{"size": n.size, "IOPS": n.iops, "throughput": n.mibps}[q]
		if t > latest {
			latest = t
		}
	}
	return latest
}

// nextDecrease is what a share says of its next allowed decreases (ARM's
// nextAllowed...DowngradeTime properties; empty when not given).
type nextDecrease struct{ size, iops, mibps string }

// String is "1TiB" or, with IOPS and throughput, "1TiB, 4024 IOPS, 203 MiB/s".
func (v Provision) String() string {
	if v.IOPS == 0 && v.MiBps == 0 {
		return FormatGiB(v.SizeGiB)
	}
	return fmt.Sprintf("%s, %d IOPS, %d MiB/s", FormatGiB(v.SizeGiB), v.IOPS, v.MiBps)
}
