package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/network"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/output"
	"github.com/azlin-dev/azlin/internal/storage"
)

// storageCreateOptions are `azlin storage create`'s argument and flags.
type storageCreateOptions struct {
	Name                                                string
	Tier, Size, Region, Redundancy, RootSquash, Network string
	VNet, VNetPrefix, Subnet, SubnetPrefix              string
	Layout                                              string
	PrivateDNSZoneID                                    string
	NoEncryptionInTransit                               bool
	IOPS, Throughput                                    int // PremiumV2; 0: Azure's recommendation for the size
	// The *Set fields tell that the flag was given: an existing storage
	// keeps its own settings for the flags that were not.
	TierSet, SizeSet, RedundancySet, RootSquashSet, NetworkSet, LayoutSet bool
}

// newStorageCreateCmd is `azlin storage create`; runF, when not nil,
// replaces the run (tests of flag parsing).
func newStorageCreateCmd(a *app, runF func(*storageCreateOptions) error) *cobra.Command {
	var o storageCreateOptions
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create shared NFS storage, reachable only from the azlin VNet",
		Long: joinLines(
			"Create shared NFS storage named NAME (3-63 lowercase letters, digits and single",
			"hyphens; it becomes the share's name). Azure's storage account name is derived",
			"from NAME and a hash of your subscription, resource group and NAME, so running",
			"the same create again finds the same account: it creates only what is missing",
			"and prints the same summary. A create that failed midway is finished by",
			"running it again. An existing storage is never changed: a different --tier,",
			"--size or other setting for it is an error.",
			"",
			"Tiers (--tier; the default is PremiumV2: at the default 100GB it costs less",
			"than Premium for the same IOPS and throughput, see the README's \"Choosing a tier\"):",
			"  Premium   Azure Files NFS 4.1, account kind FileStorage, Premium_LRS (or ZRS",
			"            with --redundancy ZRS), the provisioned v1 model: billed on --size",
			"            (100GB to 100TB), used or not; IOPS (3000 + 1 per GiB) and",
			"            throughput follow the size.",
			"  PremiumV2 Azure Files NFS 4.1 on the same SSDs, PremiumV2_LRS (or ZRS), the",
			"            provisioned v2 model Microsoft recommends for new shares: --size 32GB",
			"            to 256TB, and IOPS (--iops, 3000-102400) and throughput",
			"            (--throughput MiB/s, 100-10340) provisioned apart, by default Azure's",
			"            recommendation for the size (3000 + 1 per GiB IOPS, 100 + 0.1 per GiB",
			"            MiB/s). Billed by the hour on all three; every share's first 3000 IOPS",
			"            and 100 MiB/s are free. Mounted exactly as Premium.",
			"  Standard  Azure Blob NFS 3.0 (Azure Files has no NFS on HDD). Billed on the space",
			"            used; --size is a cap azlin records, not a quota Azure enforces. No",
			"            file locking across VMs and slow with many small files.",
			"Sizes take GB, GiB, TB or TiB; GB means GiB and TB means TiB (1TB = 1024GiB).",
			"",
			"Redundancy (--redundancy): Azure Files NFS has no geo-redundancy: no GRS or",
			"GZRS, no copy in another region. What exists is ZRS (Premium and PremiumV2):",
			"copies in three availability zones of the region, which survives a zone's",
			"outage; LRS (the default) keeps three copies in one datacenter. A copy in",
			"another region is yours to make (e.g. rsync to storage created there).",
			"",
			"Security:",
			"  Azure Files storage (Premium, PremiumV2) is encrypted in transit: the account",
			"  keeps secure transfer required ON, so Azure refuses every clear-text NFS",
			"  mount, and each VM mounts the share through Microsoft's AZNFS mount helper",
			"  (package aznfs from packages.microsoft.com, which azlin configures and",
			"  installs on the VM), which carries NFS inside TLS. --no-encryption-in-transit",
			"  is for VMs that cannot",
			"  reach packages.microsoft.com: secure transfer off and plain NFS, readable by",
			"  anyone who can see the VNet's traffic. Standard (Blob NFS 3.0) has no",
			"  encryption in transit at all; VMs still mount it through AZNFS (-t aznfs, as",
			"  Microsoft's Blob NFS article says) for its proxy address, which follows the",
			"  endpoint when its IP changes: not TLS. Data at rest is encrypted by Azure",
			"  either way.",
			"  NFS has no passwords, so the network keeps others out: the firewall's",
			"  default action is Deny and only the azlin VNet gets in. The VNet and subnet",
			"  (azlin-vnet 10.0.0.0/16, azlin-subnet 10.0.0.0/24 unless the flags below or",
			"  the config say otherwise) are created if missing.",
			"",
			"Network (--network):",
			"  private-endpoint (default)  a private endpoint in the subnet, the private DNS",
			"      zone privatelink.file.core.windows.net (blob for Standard) linked to the",
			"      VNet, and public network access disabled. Works from any region's VNet",
			"      via peering; costs about $7.30/month (shown in the estimate).",
			"      --private-dns-zone-id ID uses an existing zone instead (its full ARM id, in",
			"      any resource group or subscription), as landing zones require: azlin",
			"      creates no zone, links that one to the VNet if it is not linked yet, and",
			"      registers the endpoint in it. Azure links a VNet to one zone of a name",
			"      only, so a VNet already linked to the hub's zone needs this flag.",
			"  service-endpoint  the subnet's Microsoft.Storage service endpoint (added to the",
			"      endpoints it already has) and a firewall rule for the subnet. Free, but",
			"      only for a VNet in the storage's own region, and the account keeps a",
			"      public address (closed to everyone but the subnet).",
			"  No NSG rule is added: Azure's default rules already allow traffic inside a",
			"  VNet (private endpoint) and out to Azure Storage (service endpoint).",
			"",
			"Layout (--layout, kept in a tag; change it later with azlin storage layout set):",
			"  which paths under the home stay on each VM's own disk (VS Code server, caches,",
			"  container storage) and which VM-wide settings azlin writes. See azlin storage layout.",
		),
		Example: joinLines(
			"  azlin storage create shared-dev                 # PremiumV2, 100GB, Azure's IOPS/throughput for it",
			"  azlin storage create shared-dev --tier Premium --size 1TB --region westus2",
			"  azlin storage create fast-dev --tier PremiumV2 --size 64GB      # Azure's IOPS/throughput for 64 GiB",
			"  azlin storage create build-cache --tier PremiumV2 --size 256GB --iops 12000 --throughput 400",
			"  azlin storage create ml-data --tier Standard --size 5TB --network service-endpoint",
			"  azlin storage create shared-dev --dry-run      # print the az commands, change nothing",
			"  azlin storage create offline-dev --no-encryption-in-transit   # VMs without packages.microsoft.com",
			"  azlin storage create shared-dev --private-dns-zone-id \\",
			"    /subscriptions/HUB-SUB/resourceGroups/dns/providers/Microsoft.Network/privateDnsZones/privatelink.file.core.windows.net",
		),
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			fs := cmd.Flags()
			o.TierSet, o.SizeSet, o.RedundancySet = flagChanged(fs, "tier"), flagChanged(fs, "size"), flagChanged(fs, "redundancy")
			o.RootSquashSet, o.NetworkSet, o.LayoutSet = flagChanged(fs, "root-squash"), flagChanged(fs, "network"), flagChanged(fs, "layout")
			if flagChanged(fs, "iops") && o.IOPS == 0 || flagChanged(fs, "throughput") && o.Throughput == 0 {
				return clierr.Usagef("--iops and --throughput take a number; leave them out for Azure's recommendation for the size")
			}
			if runF != nil {
				return runF(&o)
			}
			return runStorageCreate(cmd.Context(), a, &o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Tier, "tier", string(nfs.DefaultTier), "Premium (Azure Files NFS 4.1, provisioned v1), PremiumV2 (Azure Files NFS 4.1, provisioned v2) or Standard (Blob NFS 3.0)")
	fl.StringVar(&o.Size, "size", "100GB", "size, e.g. 100GB, 1TB (GB = GiB, TB = TiB); Premium 100GB-100TB, PremiumV2 32GB-256TB")
	fl.IntVar(&o.IOPS, "iops", 0, "PremiumV2: provisioned IOPS, 3000-102400 (default: Azure's recommendation, 3000 + 1 per GiB)")
	fl.IntVar(&o.Throughput, "throughput", 0, "PremiumV2: provisioned throughput in MiB/s, 100-10340 (default: Azure's recommendation, 100 + 0.1 per GiB)")
	fl.StringVar(&o.Region, "region", "", "Azure region (default: config default_region, else the resource group's)")
	fl.StringVar(&o.Redundancy, "redundancy", "LRS", "LRS, or ZRS (Premium and PremiumV2 only); NFS has no geo-redundancy")
	fl.StringVar(&o.RootSquash, "root-squash", "NoRootSquash", "NoRootSquash, RootSquash or AllSquash")
	fl.StringVar(&o.Network, "network", "private-endpoint", "how the VNet reaches the storage: private-endpoint or service-endpoint")
	fl.StringVar(&o.VNet, "vnet", "", "virtual network to use or create (default: config vnet_name, azlin-vnet)")
	fl.StringVar(&o.VNetPrefix, "vnet-prefix", "", "address space of a VNet azlin creates (default: config vnet_prefix, 10.0.0.0/16)")
	fl.StringVar(&o.Subnet, "subnet", "", "subnet to use or create (default: config subnet_name, azlin-subnet)")
	fl.StringVar(&o.SubnetPrefix, "subnet-prefix", "", "address range of a subnet azlin creates (default: config subnet_prefix, 10.0.0.0/24)")
	fl.BoolVar(&o.NoEncryptionInTransit, "no-encryption-in-transit", false, "Premium, PremiumV2: plain NFS with secure transfer off, for VMs that cannot reach packages.microsoft.com (traffic is not encrypted)")
	fl.StringVar(&o.PrivateDNSZoneID, "private-dns-zone-id", "", "an existing private DNS zone's ARM id (privatelink.file/blob.core.windows.net, any group or subscription) to use instead of creating one")
	fl.StringVar(&o.Layout, "layout", layout.Default, "the home's layout: which paths stay per VM (developer, minimal, or ~/.azlin/layouts/NAME.toml; see azlin storage layout)")
	return cmd
}

// runStorageCreate checks every value before any az call, then creates the
// storage and prints it.
func runStorageCreate(ctx context.Context, a *app, f *storageCreateOptions) error {
	o, err := storageCreateRequest(a, f)
	if err != nil {
		return err
	}
	return createStorage(ctx, a, o)
}

// storageCreateRequest turns flags into the use case's options, checking
// every value before any az call. Flags the user did not set stay zero: an
// existing storage keeps its own settings; a new one takes the defaults.
func storageCreateRequest(a *app, f *storageCreateOptions) (storage.CreateOptions, error) {
	o := storage.CreateOptions{Name: f.Name}
	if err := storage.ValidateName(f.Name); err != nil {
		return o, err
	}
	var err error
	if f.TierSet {
		if o.Tier, err = nfs.ParseTier(f.Tier); err != nil {
			return o, err
		}
	}
	if f.SizeSet {
		if o.SizeGiB, err = storage.ParseSize(f.Size); err != nil {
			return o, err
		}
	}
	if f.RedundancySet {
		if o.Redundancy, err = storage.ParseRedundancy(f.Redundancy); err != nil {
			return o, err
		}
	}
	if f.RootSquashSet {
		if o.RootSquash, err = storage.ParseRootSquash(f.RootSquash); err != nil {
			return o, err
		}
	}
	if f.NetworkSet {
		if o.Network, err = storage.ParseNetworkMode(f.Network); err != nil {
			return o, err
		}
	}
	if f.LayoutSet {
		l, err := loadLayout(f.Layout)
		if err != nil {
			return o, clierr.Usagef("--layout: %v", err)
		}
		o.Layout = l.Name
	}
	o.IOPS, o.MiBps = f.IOPS, f.Throughput
	o.Region = f.Region
	o.NoEncryptionInTransit = f.NoEncryptionInTransit
	o.PrivateDNSZoneID = f.PrivateDNSZoneID
	if err := o.Validate(); err != nil {
		return o, err
	}
	cfg, err := a.Config()
	if err != nil {
		return o, err
	}
	// The flags override the config's network names; config.Set checks them.
	net := *cfg
	for key, v := range map[string]string{"vnet_name": f.VNet, "vnet_prefix": f.VNetPrefix, "subnet_name": f.Subnet, "subnet_prefix": f.SubnetPrefix} {
		if v == "" {
			continue
		}
		if err := net.Set(key, v); err != nil {
			return o, clierr.Usagef("--%s: %v", strings.ReplaceAll(strings.TrimSuffix(key, "_name"), "_", "-"), err)
		}
	}
	o.DefaultRegion = cfg.DefaultRegion
	o.Names = network.Names{VNet: net.VNetName, VNetPrefix: net.VNetPrefix, Subnet: net.SubnetName, SubnetPrefix: net.SubnetPrefix}
	if o.ResourceGroup, err = a.ResourceGroup(); err != nil {
		return o, err
	}
	return o, nil
}

func createStorage(ctx context.Context, a *app, o storage.CreateOptions) error {
	p := a.Printer()
	if o.Tier == nfs.Standard {
		p.Warnf("The Standard tier is Azure Blob NFS 3.0, not Azure Files: no file locking across VMs " +
			"(two VMs writing one file can corrupt it), no hard links (attach copies each name as a separate file) " +
			"and much slower with many small files. " +
			"It is billed on the space used. Use the default tier (PremiumV2) or --tier Premium for a shared home that behaves like a local disk.")
	}
	if o.NoEncryptionInTransit && o.Tier != nfs.Standard {
		p.Warnf("--no-encryption-in-transit: NFS traffic between the VMs and this share will not be encrypted: " +
			"anyone who can see the VNet's traffic can read and change the files in it. Leave the flag out " +
			"wherever the VMs can reach packages.microsoft.com.")
	}
	m, err := a.storageManager(ctx)
	if err != nil {
		return err
	}
	prog := p.StartProgress(fmt.Sprintf("Storage %s in resource group %s", o.Name, o.ResourceGroup))
	o.Progress = prog.Step
	s, err := m.Create(ctx, o)
	if err != nil {
		prog.Fail("")
		return err
	}
	if a.flags.dryRun {
		prog.Done("Dry run: the az commands above are the plan; nothing was changed")
	} else {
		prog.Done(fmt.Sprintf("Storage %s is ready", s.Name))
		a.storageNameChanged(o.ResourceGroup, s.Name, true)
	}
	if p.Document() {
		return p.JSON(s)
	}
	return printStorageSummary(p, s)
}

func printStorageSummary(p *output.Printer, s *storage.Storage) error {
	size := storage.FormatGiB(s.SizeGiB)
	if s.Tier == nfs.Standard {
		size += " (a cap azlin records; billed on the space used)"
	}
	w := &lineWriter{}
	w.kv("Storage", s.Name)
	w.kv("Account", s.Account)
	w.kv("Tier", fmt.Sprintf("%s, %s, %s", s.Tier, s.Protocol, s.Redundancy))
	w.kv("Size", size)
	if s.ProvisionedIOPS != 0 {
		w.kv("Performance", performance(s))
	}
	w.kv("Region", s.Region)
	w.kv("In transit", transitSummary(s))
	w.kv("Root squash", s.RootSquash)
	w.kv("Layout", s.Layout)
	w.kv("NFS Endpoint", s.Endpoint)
	w.kv("Network", networkSummary(s.Network))
	w.kv("Est. cost", costLine(s.Cost))
	w.line("")
	w.line("Next: azlin new --shared-home " + s.Name)
	_, err := fmt.Fprint(p.Out, w.String())
	return err
}

// performance is a PremiumV2 share's provisioned IOPS and throughput:
// "3100 IOPS (bursts to 10000), 110 MiB/s".
func performance(s *storage.Storage) string {
	out := fmt.Sprintf("%d IOPS", s.ProvisionedIOPS)
	if s.BurstIOPS > s.ProvisionedIOPS {
		out += fmt.Sprintf(" (bursts to %d)", s.BurstIOPS)
	}
	return out + fmt.Sprintf(", %d MiB/s", s.ProvisionedMiBps)
}

// transitSummary says whether NFS traffic to the storage is encrypted.
func transitSummary(s *storage.Storage) string {
	switch {
	case s.EncryptionInTransit:
		return "encrypted (TLS through Microsoft's AZNFS mount helper; secure transfer required)"
	case s.Tier == nfs.Standard:
		return "not encrypted (Blob NFS 3.0 has no encryption in transit; VMs mount it through Microsoft's AZNFS helper for its proxy address, which follows the endpoint's IP, not for TLS)"
	default:
		return "not encrypted (plain NFS, secure transfer off: made with --no-encryption-in-transit or by an azlin before it encrypted NFS)"
	}
}

// networkSummary is one line on how the storage is reached.
func networkSummary(n storage.NetworkView) string {
	var parts []string
	if len(n.PrivateEndpoints) > 0 {
		parts = append(parts, "private endpoint "+strings.Join(n.PrivateEndpoints, ", "))
	}
	if len(n.VNetRules) > 0 {
		parts = append(parts, "VNet rule "+strings.Join(n.VNetRules, ", "))
	}
	if n.Mode == storage.ServiceEndpoint && len(n.VNetRules) == 0 {
		parts = append(parts, "service endpoint + VNet rule")
	}
	parts = append(parts, "public network access "+n.PublicNetworkAccess, "firewall default "+n.DefaultAction)
	return strings.Join(parts, "; ")
}

// costLine is "$23.30/month (NFS share $16.00 + private endpoint $7.30)".
func costLine(c storage.CostView) string {
	var parts []string
	for _, it := range c.Items {
		if it.Monthly != "" {
			parts = append(parts, it.What+" "+it.Monthly)
		} else {
			parts = append(parts, it.What+" "+it.Basis)
		}
	}
	head := "not priced"
	if c.Priced {
		head = c.Monthly + "/month"
	}
	if len(parts) == 0 {
		return head
	}
	return head + " (" + strings.Join(parts, " + ") + ")"
}

// lineWriter builds "Key: value" blocks.
type lineWriter struct{ strings.Builder }

func (w *lineWriter) kv(k, v string) { fmt.Fprintf(w, "%s: %s\n", k, v) }
func (w *lineWriter) line(s string)  { w.WriteString(s + "\n") }
