package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/namecache"
	"github.com/azlin-dev/azlin/internal/output"
	"github.com/azlin-dev/azlin/internal/storage"
)

// homeMount is where every connected VM mounts its storage (the requirements
// allow no other mount point).
const homeMount = "/home/azureuser"

func newStorageListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the azlin storage in the resource group, with size, usage and VMs",
		Long: joinLines(
			"List every azlin storage in the resource group (found by its azlin-storage tag):",
			"tier, size, space used (measured by Azure), region and the number of VMs whose",
			"home directory is on it (VMs tagged azlin-storage=NAME). A storage 90% full or",
			"more says NEARLY FULL in the USED column (nearlyFull in JSON).",
			"",
			"With -o json: an array of objects with the same facts plus the account name,",
			"NFS endpoint, network access and estimated monthly cost.",
		),
		Example: "  azlin storage list\n  azlin storage list -g my-rg -o json\n  azlin storage list -o json --query '[].name'",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			rg, err := a.ResourceGroup()
			if err != nil {
				return err
			}
			m, err := a.storageManager(cmd.Context())
			if err != nil {
				return err
			}
			list, err := m.List(cmd.Context(), rg)
			if err != nil {
				return err
			}
			names := make([]string, 0, len(list))
			for _, s := range list {
				names = append(names, s.Name)
			}
			a.rememberNames(rg, namecache.Storages, names)
			return printStorageList(a.Printer(), rg, list)
		},
	}
}

func printStorageList(p *output.Printer, rg string, list []*storage.Storage) error {
	if list == nil {
		list = []*storage.Storage{}
	}
	if p.Document() {
		return p.JSON(list)
	}
	if len(list) == 0 {
		p.Infof("No azlin storage in resource group '%s' yet. Create one with: azlin storage create NAME -g %s", rg, rg)
		return nil
	}
	t := output.Table{Headers: []string{"NAME", "TIER", "SIZE", "USED", "REGION", "VMS"}}
	for _, s := range list {
		t.Rows = append(t.Rows, []string{s.Name, string(s.Tier), storage.FormatGiB(s.SizeGiB), usedCell(s), s.Region, strconv.Itoa(len(s.ConnectedVMs))})
	}
	if p.Format == output.FormatTable && p.OutIsTTY {
		// The heading is for people; piped output stays rows only.
		if _, err := fmt.Fprintf(p.Out, "Storage Accounts in '%s':\n", rg); err != nil {
			return err
		}
	}
	return p.Table(t)
}

func used(s *storage.Storage) string {
	if s.UsedBytes == nil {
		return "-"
	}
	return storage.FormatBytes(*s.UsedBytes)
}

// usedCell is list's USED column: the bytes, marked when nearly full.
func usedCell(s *storage.Storage) string {
	if s.NearlyFull {
		return fmt.Sprintf("%s (%d%%, NEARLY FULL)", used(s), s.Utilization())
	}
	return used(s)
}

// storageStatusOptions are `azlin storage status`'s argument.
type storageStatusOptions struct {
	Name string
}

// newStorageStatusCmd is `azlin storage status`; runF, when not nil,
// replaces the run (tests of flag parsing).
func newStorageStatusCmd(a *app, runF func(*storageStatusOptions) error) *cobra.Command {
	var o storageStatusOptions
	return &cobra.Command{
		Use:   "status NAME",
		Short: "Show one storage: size and usage, cost, connected VMs, NFS endpoint, network",
		Long: joinLines(
			"Show everything about one storage: its account, tier and protocol, size and the",
			"space used, region, creation date, estimated monthly cost, the VMs whose home",
			"directory is on it (VMs tagged azlin-storage=NAME), the NFS endpoint VMs mount,",
			"and how the network reaches it (private endpoint, VNet rules, public access).",
			"Trend is the used space's change over the last 7 days of Azure's daily capacity",
			"values and, for a growing Premium share, when it is full at that rate",
			"(azlin storage usage NAME draws them). NEARLY FULL marks 90% or more.",
			"Redundancy is LRS or ZRS: Azure Files NFS has no geo-redundancy. A storage no",
			"VM uses says since when (azlin storage cleanup deletes long-unused ones).",
			"With -o json the same facts as one object (trend, nearlyFull, unused).",
		),
		Example: "  azlin storage status shared-dev\n  azlin storage status shared-dev -o json",
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if runF != nil {
				return runF(&o)
			}
			return runStorageStatus(cmd.Context(), a, &o)
		},
	}
}

// runStorageStatus prints everything about one storage.
func runStorageStatus(ctx context.Context, a *app, o *storageStatusOptions) error {
	if err := storage.ValidateName(o.Name); err != nil {
		return err
	}
	rg, err := a.ResourceGroup()
	if err != nil {
		return err
	}
	m, err := a.storageManager(ctx)
	if err != nil {
		return err
	}
	s, err := m.Status(ctx, rg, o.Name)
	if err != nil {
		return err
	}
	p := a.Printer()
	if p.Document() {
		return p.JSON(s)
	}
	_, err = fmt.Fprint(p.Out, statusText(s))
	return err
}

// statusText is the requirements' status layout, with the corrections of
// docs/design-choices.md (names, the NFS endpoint) and docs/azure-facts.md (network access).
func statusText(s *storage.Storage) string {
	w := &lineWriter{}
	w.kv("Storage", s.Name)
	w.kv("Account", s.Account)
	w.kv("Tier", fmt.Sprintf("%s, %s, %s", s.Tier, s.Protocol, s.Redundancy))
	w.kv("Redundancy", storage.RedundancyText(s.Redundancy))
	size := storage.FormatGiB(s.SizeGiB)
	if u := s.Utilization(); u >= 0 {
		size += fmt.Sprintf(" (%s used, %d%% utilization)", used(s), u)
	} else {
		size += " (usage unknown: " + s.UsageNote + ")"
	}
	if s.NearlyFull {
		size += " NEARLY FULL"
	}
	w.kv("Size", size)
	if s.ProvisionedIOPS != 0 {
		w.kv("Performance", performance(s))
	}
	if s.Trend != nil {
		w.kv("Trend", s.Trend.Text)
	}
	w.kv("Region", s.Region)
	w.kv("In transit", transitSummary(s))
	w.kv("Created", createdDate(s.Created))
	w.kv("Cost", costLine(s.Cost))
	w.line("")
	if len(s.ConnectedVMs) == 0 {
		unused := ""
		if s.Unused != nil {
			unused = ", unused " + s.Unused.Text()
		}
		w.line("Connected VMs: none" + unused + " (attach one: azlin new --shared-home " + s.Name + ")")
	} else {
		w.line("Connected VMs:")
		for _, v := range s.ConnectedVMs {
			w.line("  - " + v + " - mounted at " + homeMount)
		}
	}
	w.line("")
	w.kv("NFS Endpoint", s.Endpoint)
	w.line("")
	w.line("Network:")
	w.line("  Public network access: " + s.Network.PublicNetworkAccess)
	w.line("  Firewall default action: " + s.Network.DefaultAction)
	w.line("  Private endpoints: " + listOrNone(s.Network.PrivateEndpoints))
	w.line("  VNet rules: " + listOrNone(s.Network.VNetRules))
	return w.String()
}

func createdDate(rfc3339 string) string {
	if t, err := time.Parse(time.RFC3339, rfc3339); err == nil {
		return t.Format("2006-01-02")
	}
	return rfc3339
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}
