package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/config"
	"github.com/azlin-dev/azlin/internal/cost"
	"github.com/azlin-dev/azlin/internal/network"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/tags"
)

// Manager creates, reads and deletes azlin storage through az.
type Manager struct {
	c      *azcli.Client
	net    *network.Manager
	prices *cost.Table

	// Now stamps the creation tag; tests fix it.
	Now func() time.Time
	// Concurrency bounds the az calls list and status run at once.
	Concurrency int
}

// DefaultConcurrency is the az client's own bound: 50 storages are read in
// one round of az calls (azcli.DefaultMaxProcs says why that many).
const DefaultConcurrency = azcli.DefaultMaxProcs

// NewManager returns a Manager using c for az and prices for estimates.
func NewManager(c *azcli.Client, prices *cost.Table) *Manager {
	return &Manager{c: c, net: network.NewManager(c), prices: prices, Now: time.Now, Concurrency: DefaultConcurrency}
}

// CreateOptions are create's inputs. Zero values mean "not given": a new
// storage takes the default, an existing one keeps what it has.
type CreateOptions struct {
	Name          string
	ResourceGroup string
	Tier          nfs.Tier // default nfs.DefaultTier
	SizeGiB       int      // default DefaultSizeGiB
	// IOPS and MiBps are a PremiumV2 share's provisioned IOPS and
	// throughput (MiB/s); 0: Azure's recommendation for the size.
	IOPS, MiBps   int
	Redundancy    string      // LRS (default) or ZRS; ZRS is Azure Files (Premium, PremiumV2) only
	RootSquash    string      // NoRootSquash (default), RootSquash, AllSquash
	Network       NetworkMode // default PrivateEndpoint
	Region        string      // --region; else DefaultRegion, else the group's location
	DefaultRegion string      // the user's configured default region; "" = none
	Layout        string      // the home's layout, kept in a tag; "" = DefaultLayout, no tag
	// NoEncryptionInTransit: a Premium storage with secure transfer off, for
	// VMs that cannot reach Microsoft's package repository (plain NFS).
	NoEncryptionInTransit bool
	// PrivateDNSZoneID is an existing private DNS zone's ARM id (any group
	// or subscription) that the private endpoint uses instead of a zone
	// azlin would create: landing zones keep these zones central and deny
	// creating them.
	PrivateDNSZoneID string
	Names            network.Names
	// Progress hears each step as it starts; nil is fine.
	Progress func(step string)
}

// Validate checks everything that needs no az call; its errors are usage
// errors (exit 2).
func (o CreateOptions) Validate() error {
	if err := ValidateName(o.Name); err != nil {
		return err
	}
	// Without --tier the size is checked as a new storage's would be: the
	// default tier's. (An existing storage of another tier is named with
	// its --tier.)
	t := o.Tier
	if t == "" {
		t = nfs.DefaultTier
	}
	if o.SizeGiB != 0 {
		if err := CheckSize(t, o.SizeGiB); err != nil {
			return err
		}
	}
	if err := CheckPerformance(t, o.IOPS, o.MiBps); err != nil {
		return err
	}
	if o.Redundancy == "ZRS" && o.Tier == nfs.Standard {
		return clierr.Usagef("--redundancy ZRS is for the Azure Files tiers (Premium, PremiumV2); the Standard tier (Blob NFS 3.0) is LRS")
	}
	if o.Region != "" {
		if _, err := config.RegionFrom(o.Region, "", nil); err != nil {
			return err
		}
	}
	if o.PrivateDNSZoneID != "" {
		if _, err := o.privateDNSZone(); err != nil {
			return err
		}
	}
	return nil
}

// privateDNSZone checks --private-dns-zone-id: a private DNS zone's id whose
// name is the tier's privatelink zone (without --tier, Premium's, as for
// --size), and only with a private endpoint.
func (o CreateOptions) privateDNSZone() (*network.DNSZoneID, error) {
	if o.Network == ServiceEndpoint {
		return nil, clierr.Usagef("--private-dns-zone-id is for --network private-endpoint; a service endpoint needs no DNS zone")
	}
	z, ok := network.ParseDNSZoneID(o.PrivateDNSZoneID)
	if !ok {
		return nil, clierr.Usagef("--private-dns-zone-id %q is not a private DNS zone's id: want "+
			"/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.Network/privateDnsZones/NAME "+
			"(az network private-dns zone show -g GROUP -n NAME --query id -o tsv prints it)", o.PrivateDNSZoneID)
	}
	t := o.Tier
	if t == "" {
		t = nfs.DefaultTier
	}
	if want := network.PrivateDNSZone(groupID(t)); z.Name != want {
		return nil, clierr.Usagef("--private-dns-zone-id names zone %s, but %s storage (%s) resolves through zone %s",
			z.Name, t, t.ShareWord(), want)
	}
	return &z, nil
}

// plan is the storage create converges to: options with defaults or the
// existing account's values filled in.
type plan struct {
	name, rg, account, accountID string
	subscription                 string
	tier                         nfs.Tier
	sizeGiB                      int
	iops, mibps                  int // PremiumV2's provisioned IOPS and MiB/s; 0 for the other tiers
	redundancy, rootSquash       string
	network                      NetworkMode
	region, created              string
	layout                       string             // DefaultLayout when not asked for
	layoutTag                    bool               // the layout was asked for: tag it
	tls                          bool               // encrypted in transit: secure transfer on, mounts through AZNFS
	dnsZone                      *network.DNSZoneID // an existing zone to use; nil: azlin's own
}

// PartialError is a create that failed after changing something: Done
// lists what exists now; re-running the same create finishes the job.
type PartialError struct {
	Done []string
	Err  error
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%v\n%s", e.Err, e.WhatExistsNow())
}
func (e *PartialError) Unwrap() error { return e.Err }

// WhatExistsNow is the report that an interrupted command prints (Ctrl+C).
func (e *PartialError) WhatExistsNow() string {
	return fmt.Sprintf("What exists now: %s. Nothing is rolled back: run the same command again to finish.", strings.Join(e.Done, "; "))
}

// ConflictError is an existing storage that differs from what create asked for.
type ConflictError struct {
	Name       string
	Mismatches []string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("storage %s already exists with different settings: %s. Create never changes an existing storage; "+
		"to keep it, re-run without those flags (azlin storage status %s shows its settings); to change them, delete it first "+
		"(azlin storage delete %s, which destroys its data) or use another name",
		e.Name, strings.Join(e.Mismatches, "; "), e.Name, e.Name)
}

// NameTakenError is an account name Azure gives to someone else (another
// resource group or subscription: account names are global).
type NameTakenError struct {
	Name, Account, Message string
	Err                    error // az's error, when create itself was refused
}

func (e *NameTakenError) Error() string {
	return fmt.Sprintf("the storage account name %s (derived from %q) is taken elsewhere in Azure (%s). "+
		"No storage account was created. Choose another storage name, e.g. azlin storage create %s-2",
		e.Account, e.Name, strings.TrimSuffix(e.Message, "."), e.Name)
}

func (e *NameTakenError) Unwrap() error { return e.Err }

// Create makes the storage, or converges an existing one: it reads what
// exists and creates only what is missing, so a re-run after any failure
// finishes the job, and a re-run after success changes nothing and returns
// the same summary.
//
// A request Azure Policy denies comes back as a *PolicyError (inside a
// *PartialError when something was created before it).
func (m *Manager) Create(ctx context.Context, o CreateOptions) (*Storage, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	st, err := m.create(ctx, o)
	return st, explainPolicyIn(err)
}

func (m *Manager) create(ctx context.Context, o CreateOptions) (*Storage, error) {
	var stepMu sync.Mutex // steps run at once; Progress hears one at a time
	say := func(s string) {
		if o.Progress != nil {
			stepMu.Lock()
			defer stepMu.Unlock()
			o.Progress(s)
		}
	}
	login, err := m.c.EnsureLoggedIn(ctx)
	if err != nil {
		return nil, err
	}
	p := plan{name: o.Name, rg: o.ResourceGroup, account: AccountName(login.ID, o.ResourceGroup, o.Name), subscription: login.ID}
	p.accountID = fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/%s", login.ID, p.rg, p.account)

	say("Looking for storage account " + p.account)
	existing, err := m.showAccount(ctx, p.rg, p.account)
	if err != nil {
		return nil, err
	}
	shareExists := false
	if existing != nil {
		if shareExists, err = m.fillFromExisting(ctx, &p, o, existing); err != nil {
			return nil, err
		}
	} else if err := m.fillNew(ctx, &p, o); err != nil {
		return nil, err
	}
	if o.PrivateDNSZoneID != "" {
		if p.network != PrivateEndpoint {
			return nil, fmt.Errorf("storage %s is reached through a %s, which uses no DNS zone: re-run without --private-dns-zone-id", p.name, p.network)
		}
		if p.dnsZone, err = o.privateDNSZone(); err != nil {
			return nil, err
		}
	}

	// The steps run as soon as what they need exists (docs/design-choices.md,
	// "What runs at once"): the VNet beside the account and its share; once
	// both exist, the private endpoint beside the DNS zone and its link; the
	// endpoint's zone group once the endpoint and the zone exist. Network
	// pieces wait for the share: a share Azure refuses (a missing role, a
	// policy) leaves no endpoint billed for a storage nobody can use, and the
	// wait costs nothing, the link's minute being the longest road anyway.
	const (
		slotExisting = iota
		slotVNet
		slotAccount
		slotShare
		slotEndpoint
		slotZone
		slotLink
		slotZoneGroup
		slots
	)
	made := make([][]string, slots) // each step writes its own slot: what exists, in a fixed order
	// A step stopped by Ctrl+C may have left its resource made or not: the
	// report reads which (recheck), it does not guess.
	recheck := make([]func(context.Context) ([]string, error), slots)
	stopped := make([]bool, slots)
	in := func(slot int, fn func() error) func() error {
		return func() error {
			err := fn()
			stopped[slot] = err != nil && ctx.Err() != nil
			return err
		}
	}
	if existing != nil {
		made[slotExisting] = []string{"storage account " + p.account}
	}
	run := steps{sequential: m.c.DryRun()}
	fresh := existing == nil
	var subnet network.Subnet

	recheck[slotVNet] = func(ctx context.Context) ([]string, error) { return m.net.SubnetExists(ctx, p.rg, o.Names) }
	vnet := run.add(in(slotVNet, func() error {
		say(fmt.Sprintf("Virtual network %s, subnet %s", o.Names.VNet, o.Names.Subnet))
		s, created, err := m.net.EnsureSubnet(ctx, p.rg, p.region, o.Names)
		made[slotVNet] = created
		if err != nil {
			return err
		}
		if p.network == ServiceEndpoint && s.Location != "" && !strings.EqualFold(s.Location, p.region) {
			return fmt.Errorf("virtual network %s is in %s but the storage is in %s: a service endpoint reaches storage "+
				"in its own region only. Use --region %s, or the default --network private-endpoint", s.VNet, s.Location, p.region, s.Location)
		}
		subnet = s
		return nil
	}))
	var accountNeeds []*step
	if p.network == ServiceEndpoint {
		// The VNet's region decides whether a service endpoint can work:
		// no account is made before it is known.
		accountNeeds = append(accountNeeds, vnet)
	}
	recheck[slotAccount] = func(ctx context.Context) ([]string, error) {
		if !fresh {
			return nil, nil // listed already; the step was correcting its settings
		}
		if a, err := m.showAccount(ctx, p.rg, p.account); err != nil || a == nil {
			return nil, err
		}
		return []string{"storage account " + p.account}, nil
	}
	account := run.add(in(slotAccount, func() error {
		if fresh {
			say("Creating storage account " + p.account)
			if err := m.c.Mutate(ctx, nil, m.createAccountArgs(p)...); err != nil {
				if errors.Is(err, azcli.ErrAlreadyExists) {
					return &NameTakenError{Name: p.name, Account: p.account, Message: "Azure says: " + err.Error(), Err: err}
				}
				return fmt.Errorf("creating storage account %s: %w", p.account, err)
			}
			made[slotAccount] = []string{"storage account " + p.account}
		} else if fix := accountFixes(existing, p); len(fix) > 0 {
			say("Correcting settings of storage account " + p.account)
			args := append([]string{"storage", "account", "update", "-g", p.rg, "-n", p.account}, fix...)
			if err := m.c.Mutate(ctx, nil, args...); err != nil {
				return fmt.Errorf("correcting settings of storage account %s: %w", p.account, err)
			}
		}
		return nil
	}), accountNeeds...)
	recheck[slotShare] = func(ctx context.Context) ([]string, error) {
		if ok, err := m.shareExists(ctx, p); err != nil || !ok {
			return nil, err
		}
		return []string{p.tier.ShareWord() + " " + p.name}, nil
	}
	share := run.add(in(slotShare, func() error {
		if err := m.ensureShare(ctx, p, shareExists, say); err != nil {
			return err
		}
		made[slotShare] = []string{p.tier.ShareWord() + " " + p.name}
		return nil
	}), account)

	switch p.network {
	case PrivateEndpoint:
		// Read once vnet has set subnet.
		endpoint := func() network.PrivateEndpoint {
			return network.PrivateEndpoint{Name: privateEndpointName(p.account), Subnet: subnet, ResourceID: p.accountID,
				GroupID: groupID(p.tier), Zone: p.dnsZone, Subscription: p.subscription}
		}
		for slot, part := range map[int]network.Part{slotEndpoint: network.Endpoint, slotZone: network.Zone,
			slotLink: network.ZoneLink, slotZoneGroup: network.ZoneGroup} {
			recheck[slot] = func(ctx context.Context) ([]string, error) { return m.net.Exists(ctx, endpoint(), part) }
		}
		var endpointCreated, zoneCreated bool
		pe := run.add(in(slotEndpoint, func() (err error) {
			say("Private endpoint " + privateEndpointName(p.account))
			endpointCreated, made[slotEndpoint], err = m.net.EnsureEndpoint(ctx, endpoint(), fresh)
			return err
		}), vnet, share)
		// The zone is read beside the share (the read needs nothing of
		// the VNet's); it is made once the share exists.
		var zoneMissing bool
		zoneRead := run.add(func() (err error) {
			// The subnet's group; the VNet step may be reading the rest.
			e := network.PrivateEndpoint{Subnet: network.Subnet{ResourceGroup: p.rg}, GroupID: groupID(p.tier), Zone: p.dnsZone}
			zoneMissing, err = m.net.ZoneMissing(ctx, e)
			return err
		}, account)
		zone := run.add(in(slotZone, func() (err error) {
			if !zoneMissing {
				return nil
			}
			made[slotZone], err = m.net.CreateZone(ctx, endpoint())
			zoneCreated = err == nil
			return err
		}), zoneRead, vnet, share)
		run.add(in(slotLink, func() (err error) {
			say("Private DNS zone " + network.PrivateDNSZone(groupID(p.tier)) + ", linked to " + o.Names.VNet)
			made[slotLink], err = m.net.EnsureZoneLink(ctx, endpoint(), zoneCreated)
			return err
		}), zone)
		run.add(in(slotZoneGroup, func() (err error) {
			made[slotZoneGroup], err = m.net.EnsureZoneGroup(ctx, endpoint(), endpointCreated)
			return err
		}), pe, zone)
	case ServiceEndpoint:
		se := run.add(func() (err error) {
			say("Service endpoint Microsoft.Storage on subnet " + subnet.Name)
			subnet, err = m.net.AddServiceEndpoint(ctx, subnet, "Microsoft.Storage")
			return err
		}, vnet, share)
		run.add(func() error {
			if !fresh && existing.hasVNetRule(subnet.ID) {
				return nil
			}
			say("Firewall rule for subnet " + subnet.Name)
			return m.addVNetRule(ctx, p.rg, p.account, subnet)
		}, se)
	}
	err = run.wait()
	if err == nil {
		return m.summary(p), nil
	}
	if ctx.Err() != nil {
		m.recheckStopped(ctx, made, recheck, stopped)
	}
	done := slices.Concat(made...)
	if len(done) == 0 {
		return nil, err
	}
	return nil, &PartialError{Done: done, Err: err}
}

// recheckTimeout bounds the reads that tell, after Ctrl+C, what the steps
// that were stopped midway left behind.
const recheckTimeout = 30 * time.Second

// recheckStopped fills the slots of the steps Ctrl+C stopped with what
// exists now, read at once with a context of its own (the command's is
// cancelled). A read that fails leaves a line saying the piece may exist.
func (m *Manager) recheckStopped(ctx context.Context, made [][]string, recheck []func(context.Context) ([]string, error), stopped []bool) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recheckTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for slot, r := range recheck {
		if !stopped[slot] || r == nil {
			continue
		}
		wg.Go(func() {
			lines, err := r(rctx)
			if err != nil {
				lines = []string{fmt.Sprintf("perhaps more: a step was stopped midway and reading what it left failed (%v)", err)}
			}
			made[slot] = lines
		})
	}
	wg.Wait()
}

// shareExists reads whether the storage's share (Premium) or container
// (Standard) exists.
func (m *Manager) shareExists(ctx context.Context, p plan) (bool, error) {
	kind := "share-rm"
	if p.tier == nfs.Standard {
		kind = "container-rm"
	}
	err := m.c.Read(ctx, nil, "storage", kind, "show", "-g", p.rg, "--storage-account", p.account, "-n", p.name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, azcli.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("reading %s %s: %w", p.tier.ShareWord(), p.name, err)
}

// privateEndpointName is the storage's private endpoint, named after its account.
func privateEndpointName(account string) string { return account + "-pe" }

func (m *Manager) showAccount(ctx context.Context, rg, name string) (*account, error) {
	var a account
	err := m.c.Read(ctx, &a, "storage", "account", "show", "-g", rg, "-n", name)
	switch {
	case errors.Is(err, azcli.ErrResourceGroupNotFound):
		return nil, fmt.Errorf("resource group %s does not exist: create it with az group create -n %s -l REGION, or pass another -g: %w", rg, rg, err)
	case errors.Is(err, azcli.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading storage account %s: %w", name, err)
	}
	return &a, nil
}

// fillNew settles a new storage's plan: defaults, region, and a name Azure
// will give us.
func (m *Manager) fillNew(ctx context.Context, p *plan, o CreateOptions) error {
	p.tier, p.sizeGiB, p.redundancy, p.rootSquash, p.network = o.Tier, o.SizeGiB, o.Redundancy, o.RootSquash, o.Network
	if p.tier == "" {
		p.tier = nfs.DefaultTier
	}
	if p.sizeGiB == 0 {
		p.sizeGiB = DefaultSizeGiB
	}
	if err := CheckSize(p.tier, p.sizeGiB); err != nil {
		return err
	}
	if p.tier.Provisioned().SeparatePerformance {
		// Azure's recommendation for the size unless asked otherwise: the
		// values Azure itself would pick, written out so the plan, the
		// estimate and the share agree.
		p.iops, p.mibps = o.IOPS, o.MiBps
		if p.iops == 0 {
			p.iops = nfs.RecommendedIOPS(p.sizeGiB)
		}
		if p.mibps == 0 {
			p.mibps = nfs.RecommendedMiBps(p.sizeGiB)
		}
	}
	if p.redundancy == "" {
		p.redundancy = "LRS"
	}
	if p.rootSquash == "" {
		p.rootSquash = "NoRootSquash"
	}
	if p.network == "" {
		p.network = PrivateEndpoint
	}
	p.tls = p.tier.AzureFiles() && !o.NoEncryptionInTransit
	p.created = m.Now().UTC().Format(time.RFC3339)
	p.layout, p.layoutTag = o.Layout, o.Layout != ""
	if p.layout == "" {
		p.layout = DefaultLayout
	}

	var avail struct {
		NameAvailable bool   `json:"nameAvailable"`
		Reason        string `json:"reason"`
		Message       string `json:"message"`
	}
	if err := m.c.Read(ctx, &avail, "storage", "account", "check-name", "-n", p.account); err != nil {
		return fmt.Errorf("checking that the storage account name %s is free: %w", p.account, err)
	}
	if !avail.NameAvailable {
		return &NameTakenError{Name: p.name, Account: p.account, Message: avail.Message}
	}

	region, err := config.RegionFrom(o.Region, o.DefaultRegion, func() (string, error) {
		return network.GroupLocation(ctx, m.c, p.rg)
	})
	p.region = region
	return err
}

// fillFromExisting settles the plan for a storage that exists, refusing any
// flag that asks for something different. It reads the share (Premium) or
// container (Standard) once and reports whether it exists.
func (m *Manager) fillFromExisting(ctx context.Context, p *plan, o CreateOptions, a *account) (bool, error) {
	if a.storageName() != o.Name {
		return false, fmt.Errorf("storage account %s in resource group %s exists but is not azlin storage %q (tags %s=%q, %s=%q); "+
			"azlin leaves it alone: choose another storage name", a.Name, p.rg, o.Name, tags.Managed, a.Tags[tags.Managed], tags.Storage, a.Tags[tags.Storage])
	}
	p.tier, p.redundancy, p.network, p.region, p.created = a.tier(), a.redundancy(), a.networkMode(), a.Location, a.created()
	p.sizeGiB, p.rootSquash, p.layout = a.taggedSizeGiB(), o.RootSquash, a.layout()
	// An existing storage keeps its mode: one made before encryption in
	// transit (secure transfer off) stays plain NFS, as its VMs mount it.
	p.tls = a.encryptedInTransit()

	var got share
	kind := "share-rm"
	if p.tier == nfs.Standard {
		kind = "container-rm"
	}
	err := m.c.Read(ctx, &got, "storage", kind, "show", "-g", p.rg, "--storage-account", p.account, "-n", p.name)
	exists := err == nil
	if err != nil && !errors.Is(err, azcli.ErrNotFound) {
		return false, fmt.Errorf("reading %s %s: %w", p.tier.ShareWord(), p.name, err)
	}
	if exists {
		if p.tier.AzureFiles() {
			p.sizeGiB = got.ShareQuota
		}
		p.iops, p.mibps = intOr0(got.ProvisionedIops), intOr0(got.ProvisionedBandwidthMibps)
		p.rootSquash = got.RootSquash
	}
	if p.sizeGiB == 0 {
		p.sizeGiB = DefaultSizeGiB
	}
	if !exists && p.tier.Provisioned().SeparatePerformance {
		// An unfinished create: the share is made as a new one would be.
		p.iops, p.mibps = o.IOPS, o.MiBps
		if p.iops == 0 {
			p.iops = nfs.RecommendedIOPS(p.sizeGiB)
		}
		if p.mibps == 0 {
			p.mibps = nfs.RecommendedMiBps(p.sizeGiB)
		}
	}
	if p.rootSquash == "" {
		p.rootSquash = "NoRootSquash"
	}

	var diff []string
	if o.NoEncryptionInTransit && p.tls {
		diff = append(diff, "encryption in transit is on, not off (--no-encryption-in-transit)")
	}
	if o.Tier != "" && o.Tier != p.tier {
		diff = append(diff, fmt.Sprintf("tier is %s, not %s", p.tier, o.Tier))
	}
	if o.SizeGiB != 0 && o.SizeGiB != p.sizeGiB {
		diff = append(diff, fmt.Sprintf("size is %s, not %s (resizing is not part of create)", FormatGiB(p.sizeGiB), FormatGiB(o.SizeGiB)))
	}
	if o.IOPS != 0 && exists && o.IOPS != p.iops {
		diff = append(diff, fmt.Sprintf("IOPS are %d, not %d (change them with: azlin storage resize %s --iops %d)", p.iops, o.IOPS, o.Name, o.IOPS))
	}
	if o.MiBps != 0 && exists && o.MiBps != p.mibps {
		diff = append(diff, fmt.Sprintf("throughput is %d MiB/s, not %d (change it with: azlin storage resize %s --throughput %d)", p.mibps, o.MiBps, o.Name, o.MiBps))
	}
	if o.Redundancy != "" && o.Redundancy != p.redundancy {
		diff = append(diff, fmt.Sprintf("redundancy is %s, not %s", p.redundancy, o.Redundancy))
	}
	if o.RootSquash != "" && o.RootSquash != p.rootSquash {
		diff = append(diff, fmt.Sprintf("root squash is %s, not %s", p.rootSquash, o.RootSquash))
	}
	if o.Network != "" && o.Network != p.network {
		diff = append(diff, fmt.Sprintf("network access is %s, not %s", p.network, o.Network))
	}
	if o.Layout != "" && o.Layout != p.layout {
		diff = append(diff, fmt.Sprintf("layout is %s, not %s (change it with: azlin storage layout set %s %s)", p.layout, o.Layout, o.Name, o.Layout))
	}
	if o.Region != "" && !strings.EqualFold(o.Region, p.region) {
		diff = append(diff, fmt.Sprintf("region is %s, not %s", p.region, o.Region))
	}
	if len(diff) > 0 {
		return false, &ConflictError{Name: o.Name, Mismatches: diff}
	}
	return exists, nil
}

// createAccountArgs is the one `az storage account create` line per tier.
func (m *Manager) createAccountArgs(p plan) []string {
	args := []string{"storage", "account", "create", "-g", p.rg, "-n", p.account, "-l", p.region}
	if p.tier.AzureFiles() {
		args = append(args, "--kind", p.tier.Provisioned().Kind, "--sku", p.tier.AccountSKU(p.redundancy))
	} else {
		args = append(args, "--kind", "StorageV2", "--sku", "Standard_LRS",
			"--enable-hierarchical-namespace", "true", "--enable-nfs-v3", "true")
	}
	// NFS has no user authentication: only the network keeps others out.
	// Secure transfer stays on for a storage encrypted in transit: Azure then
	// refuses every clear-text NFS mount. Plain NFS (Blob NFS, or Premium
	// with --no-encryption-in-transit) needs it off
	// (docs/azure-facts.md#secure-transfer-and-encryption-in-transit).
	// NFS uses no account keys either, so keys are switched off: nothing can
	// use them, and company policies that forbid shared keys are met.
	args = append(args, "--https-only", strconv.FormatBool(p.tls), "--allow-blob-public-access", "false", "--allow-shared-key-access", "false",
		"--min-tls-version", "TLS1_2", "--default-action", "Deny")
	if p.network == PrivateEndpoint {
		args = append(args, "--public-network-access", "Disabled")
	}
	args = append(args, "--tags",
		tags.Managed+"=true",
		tags.Storage+"="+p.name,
		tags.Tier+"="+string(p.tier),
		tags.SizeGiB+"="+strconv.Itoa(p.sizeGiB),
		tags.Network+"="+string(p.network),
		tags.Created+"="+p.created)
	if p.layoutTag {
		args = append(args, tags.Layout+"="+p.layout)
	}
	return args
}

// accountFixes lists `az storage account update` flags for settings of an
// existing account that are not what azlin sets; nothing that is right is
// touched.
func accountFixes(a *account, p plan) []string {
	var fix []string
	if a.encryptedInTransit() != p.tls {
		fix = append(fix, "--https-only", strconv.FormatBool(p.tls))
	}
	if a.AllowBlobPublicAccess == nil || *a.AllowBlobPublicAccess {
		fix = append(fix, "--allow-blob-public-access", "false")
	}
	if str(a.MinimumTLSVersion) != "TLS1_2" {
		fix = append(fix, "--min-tls-version", "TLS1_2")
	}
	if a.defaultAction() != "Deny" {
		fix = append(fix, "--default-action", "Deny")
	}
	if p.network == PrivateEndpoint && str(a.PublicNetworkAccess) != "Disabled" {
		fix = append(fix, "--public-network-access", "Disabled")
	}
	return fix
}

// ensureShare makes the NFS share (Premium) or Blob container (Standard)
// unless it exists.
func (m *Manager) ensureShare(ctx context.Context, p plan, exists bool, step func(string)) error {
	if exists {
		return nil
	}
	var args []string
	if p.tier.AzureFiles() {
		what := FormatGiB(p.sizeGiB)
		if p.iops != 0 {
			what += fmt.Sprintf(", %d IOPS, %d MiB/s", p.iops, p.mibps)
		}
		step(fmt.Sprintf("Creating NFS share %s (%s, %s)", p.name, what, p.rootSquash))
		args = []string{"storage", "share-rm", "create", "-g", p.rg, "--storage-account", p.account, "-n", p.name,
			"--enabled-protocols", "NFS", "--quota", strconv.Itoa(p.sizeGiB), "--root-squash", p.rootSquash}
		if p.iops != 0 {
			args = append(args, "--provisioned-iops", strconv.Itoa(p.iops), "--provisioned-bandwidth-mibps", strconv.Itoa(p.mibps))
		}
	} else {
		step(fmt.Sprintf("Creating Blob container %s (%s)", p.name, p.rootSquash))
		args = []string{"storage", "container-rm", "create", "-g", p.rg, "--storage-account", p.account, "-n", p.name,
			"--root-squash", p.rootSquash}
	}
	if err := m.c.Mutate(ctx, nil, args...); err != nil {
		return fmt.Errorf("creating %s %s in storage account %s: %w", p.tier.ShareWord(), p.name, p.account, err)
	}
	return nil
}

func intOr0(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
