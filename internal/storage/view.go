package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/cost"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/tags"
)

// Storage is everything azlin shows about one storage: create's summary,
// a list row, status. Its JSON form is the documented `-o json` schema.
type Storage struct {
	Name          string   `json:"name"`
	Account       string   `json:"account"`
	ResourceGroup string   `json:"resourceGroup"`
	Tier          nfs.Tier `json:"tier"`
	Protocol      string   `json:"protocol"`
	// EncryptionInTransit: the VMs mount the share through TLS (AZNFS).
	EncryptionInTransit bool   `json:"encryptionInTransit"`
	Redundancy          string `json:"redundancy"`
	SizeGiB             int    `json:"sizeGiB"`
	// ProvisionedIOPS, ProvisionedMiBps and BurstIOPS are a PremiumV2
	// (provisioned v2) share's, as Azure reports them; absent for the
	// other tiers, whose performance follows from the size.
	ProvisionedIOPS  int `json:"provisionedIops,omitempty"`
	ProvisionedMiBps int `json:"provisionedBandwidthMibps,omitempty"`
	BurstIOPS        int `json:"includedBurstIops,omitempty"`
	// UsedBytes is nil when the usage is unknown (UsageNote says why).
	UsedBytes *int64 `json:"usedBytes"`
	UsageNote string `json:"usageNote,omitempty"`
	// NearlyFull: NearlyFullPercent or more of the size is used.
	NearlyFull bool `json:"nearlyFull"`
	// Trend is the last days' change of the used space (status only).
	Trend        *Trend      `json:"trend,omitempty"`
	Region       string      `json:"region"`
	Created      string      `json:"created"`
	Endpoint     string      `json:"endpoint"`
	RootSquash   string      `json:"rootSquash,omitempty"`
	Layout       string      `json:"layout"` // the home's layout (package layout)
	Network      NetworkView `json:"network"`
	ConnectedVMs []string    `json:"connectedVMs"`
	// Unused is set when no VM uses the storage: since when (unused.go).
	Unused *Unused  `json:"unused,omitempty"`
	Cost   CostView `json:"cost"`

	shareMissing bool         // the Azure Files share was not found (an unfinished create)
	accountID    string       // the account's ARM id, for az tag update
	unusedTag    string       // the tags.UnusedSince tag's value as read ("" when absent)
	nextDecrease nextDecrease // when Azure next lets each quantity decrease, as the share says
}

// NetworkView is how the storage is reached.
type NetworkView struct {
	Mode                NetworkMode `json:"mode"`
	PublicNetworkAccess string      `json:"publicNetworkAccess"`
	DefaultAction       string      `json:"defaultAction"`
	PrivateEndpoints    []string    `json:"privateEndpoints"` // "name (Approved)"
	VNetRules           []string    `json:"vnetRules"`        // "vnet/subnet"
}

// CostView is the monthly estimate from the cost package's price table.
type CostView struct {
	Monthly string     `json:"monthly"` // "$171.14"; "" when any part is not priced
	Priced  bool       `json:"priced"`
	Items   []CostItem `json:"items"`

	total cost.Money // Monthly's amount, when Priced
}

// MonthlyAmount is Monthly as an amount, rounded to the cent as shown;
// false when not priced.
func (v CostView) MonthlyAmount() (cost.Money, bool) { return v.total.Rounded(), v.Priced }

// CostItem is one priced part.
type CostItem struct {
	What    string `json:"what"`
	Monthly string `json:"monthly"` // "" when not priced
	Basis   string `json:"basis"`   // how it was reached, or why there is no price
}

// Utilization is used/size in whole percent, -1 when the usage is unknown.
func (s *Storage) Utilization() int {
	if s.UsedBytes == nil || s.SizeGiB == 0 {
		return -1
	}
	return int((*s.UsedBytes*100 + int64(s.SizeGiB)<<30/2) / (int64(s.SizeGiB) << 30))
}

// endpoint is the NFS source a VM mounts; package nfs owns its format.
func endpoint(acct, name string, t nfs.Tier) string {
	return nfs.Target{Account: acct, Share: name, Tier: t}.Source()
}

// summary is create's result: the plan as it now exists in Azure.
func (m *Manager) summary(p plan) *Storage {
	s := &Storage{
		Name: p.name, Account: p.account, ResourceGroup: p.rg, Tier: p.tier, Protocol: p.tier.Protocol(),
		EncryptionInTransit: p.tls, Redundancy: p.redundancy, SizeGiB: p.sizeGiB, Region: p.region, Created: p.created,
		ProvisionedIOPS: p.iops, ProvisionedMiBps: p.mibps,
		Endpoint: endpoint(p.account, p.name, p.tier), RootSquash: p.rootSquash, Layout: p.layout,
		Network: NetworkView{Mode: p.network, DefaultAction: "Deny", PrivateEndpoints: []string{}, VNetRules: []string{}},
		// A new share has nothing in it; the summary must read the same on every run, so usage is left out.
		UsageNote: "see azlin storage status " + p.name, ConnectedVMs: []string{},
	}
	if p.network == PrivateEndpoint {
		s.Network.PublicNetworkAccess = "Disabled"
		s.Network.PrivateEndpoints = []string{privateEndpointName(p.account)}
	} else {
		s.Network.PublicNetworkAccess = "Enabled (firewall: only the VNet rule)"
	}
	if p.iops != 0 {
		s.BurstIOPS = nfs.BurstIOPS(p.iops)
	}
	s.Cost = m.estimate(s, true)
	return s
}

// estimate prices the storage. Premium is billed on its provisioned size.
// Standard is billed on used space: at create time (atCreate) it shows the
// cost of a full storage, later the cost of what is used.
func (m *Manager) estimate(s *Storage, atCreate bool) CostView {
	var items []CostItem
	var total cost.Money
	priced := true
	add := func(what string, e cost.Estimate) {
		it := CostItem{What: what, Basis: e.Basis}
		if e.Priced {
			it.Monthly = e.Monthly.String()
			total += e.Monthly
		} else {
			it.Basis, priced = "not priced: "+e.Reason, false
		}
		items = append(items, it)
	}
	switch {
	case s.Tier == nfs.PremiumV2:
		v := m.prices.PremiumV2Files(s.Region, s.Redundancy, s.SizeGiB, s.ProvisionedIOPS, s.ProvisionedMiBps)
		if !v.Storage.Priced && !v.IOPS.Priced && !v.Throughput.Priced {
			add("NFS share", v.Total) // one reason for all three (no meters for the region)
			break
		}
		add("NFS share storage", v.Storage)
		add("NFS share IOPS", v.IOPS)
		add("NFS share throughput", v.Throughput)
	case s.Tier.AzureFiles():
		add("NFS share", m.prices.PremiumFiles(s.Region, s.Redundancy, s.SizeGiB))
	default:
		switch {
		case atCreate:
			add("Blob storage when full", m.prices.StandardBlob(s.Region, float64(s.SizeGiB)))
		case s.UsedBytes != nil:
			add("Blob storage used", m.prices.StandardBlob(s.Region, float64(*s.UsedBytes)/(1<<30)))
		default:
			items = append(items, CostItem{What: "Blob storage used", Basis: "not priced: usage unknown"})
			priced = false
		}
	}
	if len(s.Network.PrivateEndpoints) > 0 {
		for range s.Network.PrivateEndpoints {
			add("private endpoint", m.prices.PrivateEndpoint(s.Region))
		}
	}
	v := CostView{Priced: priced, Items: items}
	if priced {
		v.Monthly, v.total = total.String(), total
	}
	return v
}

// NotFoundError is a storage name the resource group does not have.
type NotFoundError struct {
	Name, ResourceGroup string
	Existing            []string
}

func (e *NotFoundError) Error() string {
	have := "it has none"
	if len(e.Existing) > 0 {
		have = "it has: " + strings.Join(e.Existing, ", ")
	}
	return fmt.Sprintf("no storage named %s in resource group %s (%s). Create it with: azlin storage create %s -g %s",
		e.Name, e.ResourceGroup, have, e.Name, e.ResourceGroup)
}

// snapshot is what one round of reads tells about a resource group: its
// azlin accounts and which VMs use which storage.
type snapshot struct {
	accounts     []account
	vmsByStorage map[string][]string
}

// readGroup runs `az storage account list` and `az vm list` (or vmsOf, when
// given) at once: one call each serves every storage in the group.
func (m *Manager) readGroup(ctx context.Context, rg string, vmsOf VMReader) (*snapshot, error) {
	var accounts []account
	var vms []GroupVM
	// Both calls run to the end even if one fails: they are two, and the
	// first error is reported either way.
	var g errgroup.Group
	g.Go(func() error {
		if err := m.c.Read(ctx, &accounts, "storage", "account", "list", "-g", rg); err != nil {
			return groupErr(rg, "listing storage accounts", err)
		}
		return nil
	})
	g.Go(func() (err error) {
		if vmsOf != nil {
			vms, err = vmsOf(ctx)
			return err
		}
		if err := m.c.Read(ctx, &vms, "vm", "list", "-g", rg); err != nil {
			return groupErr(rg, "listing VMs", err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	snap := &snapshot{vmsByStorage: map[string][]string{}}
	for _, a := range accounts {
		if a.storageName() != "" {
			snap.accounts = append(snap.accounts, a)
		}
	}
	sort.Slice(snap.accounts, func(i, j int) bool { return snap.accounts[i].storageName() < snap.accounts[j].storageName() })
	for _, v := range vms {
		if s := v.Tags[tags.Storage]; s != "" {
			snap.vmsByStorage[s] = append(snap.vmsByStorage[s], v.Name)
		}
	}
	for _, names := range snap.vmsByStorage {
		slices.Sort(names)
	}
	return snap, nil
}

func groupErr(rg, what string, err error) error {
	if errors.Is(err, azcli.ErrResourceGroupNotFound) {
		return fmt.Errorf("resource group %s does not exist (az group list shows yours; pass -g NAME): %w", rg, err)
	}
	return fmt.Errorf("%s in resource group %s: %w", what, rg, err)
}

func (s *snapshot) names() []string {
	var out []string
	for _, a := range s.accounts {
		out = append(out, a.storageName())
	}
	return out
}

// find picks the account of storage name; with several (an account copied
// by hand), the one whose name azlin would derive is not knowable here, so
// the oldest wins and the order is stable.
func (s *snapshot) find(name string) *account {
	for i := range s.accounts {
		if s.accounts[i].storageName() == name {
			return &s.accounts[i]
		}
	}
	return nil
}

// view turns an account into a Storage without usage.
func (m *Manager) view(a *account, vms []string) *Storage {
	t := a.tier()
	s := &Storage{
		Name: a.storageName(), Account: a.Name, ResourceGroup: a.ResourceGroup, Tier: t, Protocol: t.Protocol(),
		EncryptionInTransit: a.encryptedInTransit(), Redundancy: a.redundancy(), SizeGiB: a.taggedSizeGiB(), Region: a.Location, Created: a.created(),
		Endpoint: endpoint(a.Name, a.storageName(), t), ConnectedVMs: vms, Layout: a.layout(),
		Unused: a.unused(vms), accountID: a.ID, unusedTag: a.Tags[tags.UnusedSince],
	}
	if s.ConnectedVMs == nil {
		s.ConnectedVMs = []string{}
	}
	s.Network = NetworkView{Mode: a.networkMode(), PublicNetworkAccess: str(a.PublicNetworkAccess), DefaultAction: a.defaultAction(),
		PrivateEndpoints: []string{}, VNetRules: []string{}}
	if s.Network.PublicNetworkAccess == "" {
		s.Network.PublicNetworkAccess = "Enabled" // Azure's default when the property is unset
	}
	for _, c := range a.PrivateEndpointConnections {
		if c.PrivateEndpoint == nil {
			continue
		}
		pe := lastSegment(c.PrivateEndpoint.ID)
		if c.PrivateLinkServiceConnectionState != nil && c.PrivateLinkServiceConnectionState.Status != "" {
			pe += " (" + c.PrivateLinkServiceConnectionState.Status + ")"
		}
		s.Network.PrivateEndpoints = append(s.Network.PrivateEndpoints, pe)
	}
	if a.NetworkRuleSet != nil {
		for _, r := range a.NetworkRuleSet.VirtualNetworkRules {
			s.Network.VNetRules = append(s.Network.VNetRules, subnetLabel(r.VirtualNetworkResourceID))
		}
	}
	return s
}

// privateEndpoints are the names of the account's endpoints.
func (a *account) privateEndpoints() []string {
	var out []string
	for _, c := range a.PrivateEndpointConnections {
		if c.PrivateEndpoint != nil {
			out = append(out, lastSegment(c.PrivateEndpoint.ID))
		}
	}
	return out
}

func lastSegment(id string) string { return id[strings.LastIndex(id, "/")+1:] }

// subnetLabel shows ".../virtualNetworks/v/subnets/s" as "v/s".
func subnetLabel(id string) string {
	parts := strings.Split(id, "/")
	for i := 0; i+3 < len(parts); i++ {
		if strings.EqualFold(parts[i], "virtualNetworks") && strings.EqualFold(parts[i+2], "subnets") {
			return parts[i+1] + "/" + parts[i+3]
		}
	}
	return id
}

// fillUsage reads the size and usage: for Premium one `share-rm show
// --expand stats` gives the quota and the bytes used; for Standard the
// account's UsedCapacity metric over the last days gives the bytes (its size
// is the tag's cap), and the series, returned, serves a trend. A missing
// share (an unfinished create) is not an error here: the view says so.
func (m *Manager) fillUsage(ctx context.Context, s *Storage, accountID string, days int) ([]UsagePoint, error) {
	defer func() { s.NearlyFull = s.Utilization() >= NearlyFullPercent }()
	if s.Tier.AzureFiles() {
		var sh share
		err := m.c.Read(ctx, &sh, "storage", "share-rm", "show", "-g", s.ResourceGroup, "--storage-account", s.Account,
			"-n", s.Name, "--expand", "stats")
		switch {
		case errors.Is(err, azcli.ErrNotFound):
			s.shareMissing = true
			s.UsageNote = fmt.Sprintf("NFS share %s is missing: finish with azlin storage create %s -g %s", s.Name, s.Name, s.ResourceGroup)
		case err != nil:
			return nil, fmt.Errorf("reading NFS share %s: %w", s.Name, err)
		default:
			s.SizeGiB, s.RootSquash, s.UsedBytes = sh.ShareQuota, sh.RootSquash, sh.ShareUsageBytes
			s.ProvisionedIOPS, s.ProvisionedMiBps, s.BurstIOPS = intOr0(sh.ProvisionedIops), intOr0(sh.ProvisionedBandwidthMibps), intOr0(sh.IncludedBurstIops)
			s.nextDecrease = nextDecrease{size: sh.NextAllowedQuotaDowngrade, iops: sh.NextAllowedIopsDowngrade, mibps: sh.NextAllowedMibpsDowngrade}
			if s.UsedBytes == nil {
				s.UsageNote = "Azure reported no usage for the share"
			}
		}
		return nil, nil
	}
	points, err := m.readSeries(ctx, s, accountID, days)
	if err != nil {
		return nil, err
	}
	if len(points) == 0 {
		// Capacity metrics are refreshed daily: a new account has no
		// value for up to 24 hours (hours between refreshes are null).
		s.UsageNote = "not reported yet (Azure refreshes capacity daily)"
	} else {
		last := points[len(points)-1].UsedBytes
		s.UsedBytes = &last
	}
	return points, nil
}

// List shows every azlin storage in the resource group. Two calls read the
// group (at once); then one usage call per storage, run concurrently up to
// Concurrency at a time, so the time hardly grows with the number of storages.
func (m *Manager) List(ctx context.Context, rg string) ([]*Storage, error) {
	return m.ListWith(ctx, rg, nil)
}

// ListWith is List with the group's VMs from vms (nil: List's own read).
func (m *Manager) ListWith(ctx context.Context, rg string, vms VMReader) ([]*Storage, error) {
	return m.listWhere(ctx, rg, vms, nil)
}

// listWhere is ListWith of the storages keep accepts (nil: all): the
// usage, and so the cost, is read for those only.
func (m *Manager) listWhere(ctx context.Context, rg string, vms VMReader, keep func(*Storage) bool) ([]*Storage, error) {
	snap, err := m.readGroup(ctx, rg, vms)
	if err != nil {
		return nil, err
	}
	out := make([]*Storage, 0, len(snap.accounts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, m.Concurrency))
	for i := range snap.accounts {
		a := &snap.accounts[i]
		s := m.view(a, snap.vmsByStorage[a.storageName()])
		if keep != nil && !keep(s) {
			continue
		}
		out = append(out, s)
		g.Go(func() error {
			if _, err := m.fillUsage(gctx, s, a.ID, 1); err != nil {
				return err
			}
			s.Cost = m.estimate(s, false)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// Status shows one storage: a round reading the group, then its usage.
// An unknown name is a *NotFoundError that lists the names there are.
func (m *Manager) Status(ctx context.Context, rg, name string) (*Storage, error) {
	s, _, err := m.status(ctx, rg, name, true)
	return s, err
}

// status reads one storage; withTrend adds the last days' trend: for
// Standard from the same metric call that gives the usage (over trendDays
// instead of one day), for Premium from the share's series, read at the
// same time as the share.
func (m *Manager) status(ctx context.Context, rg, name string, withTrend bool) (*Storage, *account, error) {
	s, a, err := m.lookup(ctx, rg, name, nil)
	if err != nil {
		return nil, nil, err
	}
	days := 1
	if withTrend {
		days = trendDays
	}
	var points []UsagePoint
	var g errgroup.Group
	g.Go(func() error {
		p, err := m.fillUsage(ctx, s, a.ID, days)
		if s.Tier == nfs.Standard {
			points = p // Premium's series is read beside it
		}
		return err
	})
	if withTrend && s.Tier.AzureFiles() {
		g.Go(func() (err error) {
			points, err = m.readSeries(ctx, s, a.ID, days)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	if withTrend {
		t := TrendOf(points, s.provisionedBytes())
		s.Trend = &t
	}
	s.Cost = m.estimate(s, false)
	return s, a, nil
}

// lookup is the one way a command finds a storage by name: a round reading
// the group (its VMs from vmsOf; nil: az vm list), then the storage's
// account and its view, or a *NotFoundError that lists the names there are.
func (m *Manager) lookup(ctx context.Context, rg, name string, vmsOf VMReader) (*Storage, *account, error) {
	snap, err := m.readGroup(ctx, rg, vmsOf)
	if err != nil {
		return nil, nil, err
	}
	a := snap.find(name)
	if a == nil {
		return nil, nil, &NotFoundError{Name: name, ResourceGroup: rg, Existing: snap.names()}
	}
	return m.view(a, snap.vmsByStorage[name]), a, nil
}

// FindWithUsage is Find plus the storage's size and usage (one more read,
// after the group's): what adding a VM needs, to warn of a nearly full share.
func (m *Manager) FindWithUsage(ctx context.Context, rg, name string) (*Storage, error) {
	s, a, err := m.lookup(ctx, rg, name, nil)
	if err != nil {
		return nil, err
	}
	if _, err := m.fillUsage(ctx, s, a.ID, 1); err != nil {
		return nil, err
	}
	return s, nil
}

// Find returns one storage as the group's round of reads shows it (account,
// tier, network, connected VMs), without reading its usage: what attaching
// or detaching a VM needs to know.
func (m *Manager) Find(ctx context.Context, rg, name string) (*Storage, error) {
	s, _, err := m.lookup(ctx, rg, name, nil)
	return s, err
}
