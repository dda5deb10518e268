package cost

import (
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file is `azlin cost`'s report: what each azlin VM and storage costs by
// the price table, with a total that is exactly the sum of its lines. It takes
// the resources as values (the commands read Azure); it never calls az.

// VMInput is one VM as the report needs it.
type VMInput struct {
	Name       string
	Region     string
	Size       string
	PowerState string // az's words ("VM running"); "" when unknown
	// LastChange is when the VM's last operation (start, stop, update, ...)
	// completed: the time on its instance view's ProvisioningState status.
	// Zero when az did not say.
	LastChange time.Time
	// The OS disk as az shows it (storageProfile.osDisk); SKU "" when az
	// did not say. Billed whatever the VM's state.
	OSDisk    string // its name
	OSDiskSKU string // "Premium_LRS", ...
	OSDiskGiB int
	// PublicIP is the VM's public address, "" when it has none. az vm
	// create makes a Standard static IP, billed while it exists.
	PublicIP string
}

// StorageInput is one azlin storage as the report needs it.
type StorageInput struct {
	Name           string
	Region         string
	Tier           string // "Premium"/"PremiumV2" (Azure Files, billed provisioned) or "Standard" (Blob, billed used)
	Redundancy     string // "LRS"/"ZRS" or the SKU name "Premium_LRS"
	ProvisionedGiB int
	// ProvisionedIOPS and ProvisionedMiBps are a PremiumV2 (provisioned v2)
	// share's; zero for the other tiers.
	ProvisionedIOPS, ProvisionedMiBps int
	UsedBytes                         *int64   // nil when Azure did not report the usage
	UsageNote                         string   // why UsedBytes is nil
	PrivateEndpoints                  []string // names of its private endpoints
}

// Line kinds.
const (
	KindVM              = "vm"
	KindStorage         = "storage"
	KindPrivateEndpoint = "private-endpoint"
	KindOSDisk          = "os-disk"
	KindPublicIP        = "public-ip"
)

// Line is one priced (or not priced) thing in the report.
type Line struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Detail string `json:"detail"` // "Standard_D2s_v5", "Premium_LRS, 1024 GiB provisioned"
	Region string `json:"region"`
	State  string `json:"state,omitempty"` // VMs: "running", "deallocated", ...
	// Hours is the VM's billed hours this month, as far as az tells (VMs only).
	Hours *Hours `json:"hoursThisMonth,omitempty"`
	// Priced is false when the table has no price: Monthly is then nil and
	// Basis says why. Never a silent zero.
	Priced bool `json:"priced"`
	// Monthly is the cost per month if things stay as they are now, rounded
	// to the cent once, here, so that the lines add up to the total as shown.
	Monthly *Amount `json:"monthly"`
	// Hourly is the exact list price per hour for things billed by the hour.
	Hourly *Exact `json:"hourly,omitempty"`
	Basis  string `json:"basis"`

	of string // the storage a storage or private-endpoint line belongs to
}

// Hours is what az lets azlin know about a VM's billed hours this month.
type Hours struct {
	Known bool `json:"known"`
	// Hours is whole hours, rounded down. Exact says whether it is the
	// number (the VM has been in its state since before the month began) or
	// a lower bound (az only tells when the VM's last operation completed).
	Hours int    `json:"hours"`
	Exact bool   `json:"exact"`
	Since string `json:"since,omitempty"` // RFC 3339: the start of what is counted
	Note  string `json:"note"`
}

// String is "412", ">= 37" or "unknown".
func (h *Hours) String() string {
	switch {
	case h == nil || !h.Known:
		return "unknown"
	case h.Exact:
		return strconv.Itoa(h.Hours)
	}
	return ">= " + strconv.Itoa(h.Hours)
}

// Amount is Money rounded to whole cents. Its JSON is an exact decimal
// number with two decimals: 163.84.
type Amount Money

// Money is the amount as Money (a whole number of cents, in micro-units).
func (a Amount) Money() Money { return Money(a) }

// MarshalJSON writes the amount as a decimal number, exactly.
func (a Amount) MarshalJSON() ([]byte, error) {
	c := Money(a).Cents()
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return []byte(fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)), nil
}

func roundToCents(m Money) Amount { return Amount(m.Cents() * microPerCent) }

// Exact is Money shown with all its digits (0.096, not 0.10): an hourly
// list price, which is smaller than a cent's precision can show.
type Exact Money

// String is the exact decimal with at least two decimals: "0.096".
func (e Exact) String() string { return Price(int64(e) * (nanoPerUnit / microPerUnit)).String() }

// Format is the exact amount with its currency: "$0.096", "0.115 EUR".
func (e Exact) Format(currency string) string {
	return Price(int64(e) * (nanoPerUnit / microPerUnit)).Format(currency)
}

// MarshalJSON writes the exact decimal as a JSON number.
func (e Exact) MarshalJSON() ([]byte, error) { return []byte(e.String()), nil }

// PriceInfo says which price table the report used.
type PriceInfo struct {
	Source    string `json:"source"`
	Date      string `json:"date"`
	FromCache bool   `json:"fromCache"`
	AgeDays   int    `json:"ageDays"`
}

// Total sums the lines.
type Total struct {
	// Monthly is exactly the sum of the priced lines' Monthly.
	Monthly   Amount `json:"monthly"`
	Lines     int    `json:"lines"`
	NotPriced int    `json:"notPriced"`
}

// Report is `azlin cost`'s result; its JSON is the `-o json` schema.
type Report struct {
	ResourceGroup string    `json:"resourceGroup"`
	Currency      string    `json:"currency"`
	AsOf          time.Time `json:"asOf"`
	Prices        PriceInfo `json:"prices"`
	Lines         []Line    `json:"lines"`
	Total         Total     `json:"total"`
	// Notes say what the report cannot know.
	Notes []string `json:"notes"`
	// Actual is the billed cost from Azure (--actual only).
	Actual *Billed `json:"actual,omitempty"`
	// UnusedStorage is the storage no VM has used for a while (when any).
	UnusedStorage *UnusedStorage `json:"unusedStorage,omitempty"`
}

// UnusedStorage is storage no VM has used for UnusedFor or more, what its
// lines (the storage and its private endpoints) cost, and the command that
// cleans it up.
type UnusedStorage struct {
	Storages  []string `json:"storages"`
	UnusedFor string   `json:"unusedFor"` // "14d"
	// Monthly is exactly the sum of those lines' Monthly, as the total is.
	Monthly   Amount `json:"monthly"`
	NotPriced int    `json:"notPriced"`
	Command   string `json:"command"`
}

// AddUnusedStorage records that the storages named have had no VM for
// unusedFor, with their cost from the report's lines and a note that names
// command.
func (r *Report) AddUnusedStorage(names []string, unusedFor, command string) {
	if len(names) == 0 {
		return
	}
	u := &UnusedStorage{Storages: names, UnusedFor: unusedFor, Command: command}
	for _, l := range r.Lines {
		if l.of == "" || !slices.Contains(names, l.of) {
			continue
		}
		if !l.Priced {
			u.NotPriced++
			continue
		}
		u.Monthly += *l.Monthly
	}
	r.UnusedStorage = u
	cost := u.Monthly.Money().Format(r.Currency) + "/month"
	if u.NotPriced > 0 {
		cost += fmt.Sprintf(" and %d line(s) not priced", u.NotPriced)
	}
	r.Notes = append(r.Notes, fmt.Sprintf("Unused storage (no VM for %s or more): %s, costing %s. Review and delete it with: %s",
		unusedFor, strings.Join(names, ", "), cost, command))
}

// NewReport prices vms and storages with t at the moment now. age describes
// t (from Load).
func NewReport(t *Table, age Age, rg string, vms []VMInput, storages []StorageInput, now time.Time) *Report {
	r := &Report{
		ResourceGroup: rg, Currency: t.Currency, AsOf: now.UTC(),
		Prices: PriceInfo{Source: t.Source, Date: t.Date, FromCache: age.FromCache, AgeDays: age.Days},
		Lines:  []Line{}, Notes: []string{},
	}
	vms = append([]VMInput(nil), vms...)
	sort.Slice(vms, func(i, j int) bool { return vms[i].Name < vms[j].Name })
	for _, v := range vms {
		r.Lines = append(r.Lines, t.vmLine(v, now))
		r.Lines = append(r.Lines, t.vmExtras(v)...)
	}
	storages = append([]StorageInput(nil), storages...)
	sort.Slice(storages, func(i, j int) bool { return storages[i].Name < storages[j].Name })
	for _, s := range storages {
		r.Lines = append(r.Lines, t.storageLines(s)...)
	}
	for _, l := range r.Lines {
		r.Total.Lines++
		if !l.Priced {
			r.Total.NotPriced++
			continue
		}
		r.Total.Monthly += *l.Monthly
	}
	if len(vms) > 0 {
		r.Notes = append(r.Notes, "VMs: the monthly cost is the compute price for a whole month (730 hours) if the VM stays in its "+
			"state; a deallocated VM costs nothing for compute. Its OS disk and public IP are lines of their own: billed whatever the VM's state.")
	}
	if r.Total.NotPriced > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d of %d lines are not priced and not in the total: see their basis.",
			r.Total.NotPriced, r.Total.Lines))
	}
	return r
}

// set fills a line's amounts from an estimate.
func (l *Line) set(e Estimate) {
	if !e.Priced {
		l.Basis = "not priced: " + e.Reason
		return
	}
	m := roundToCents(e.Monthly)
	l.Priced, l.Monthly, l.Basis = true, &m, e.Basis
	if e.Hourly != 0 {
		h := Exact(e.Hourly)
		l.Hourly = &h
	}
}

// billedStates are the power states Azure bills compute for: a stopped but
// not deallocated VM keeps its hardware and is billed. "starting" is billed
// here too: it is about to run.
var billedStates = map[string]bool{"running": true, "starting": true, "stopping": true, "stopped": true}

// powerWord is "running" for "VM running", "" when unknown.
func powerWord(powerState string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(powerState), "VM ")))
}

func (t *Table) vmLine(v VMInput, now time.Time) Line {
	state := powerWord(v.PowerState)
	l := Line{Kind: KindVM, Name: v.Name, Detail: v.Size, Region: v.Region, State: state}
	if l.State == "" {
		l.State = "unknown"
	}
	h := runningHours(state, v.LastChange, now)
	l.Hours = &h
	switch {
	case state == "deallocated" || state == "deallocating":
		zero := Amount(0)
		l.Priced, l.Monthly = true, &zero
		l.Basis = "deallocated: no compute charge while it stays so"
		if e := t.VM(v.Region, v.Size); e.Priced {
			h := Exact(e.Hourly)
			l.Hourly = &h
			l.Basis += fmt.Sprintf(" (%s/hour when running)", h.Format(t.Currency))
		}
	default:
		l.set(t.VM(v.Region, v.Size))
		if l.Priced && !billedStates[state] {
			l.Basis += "; power state unknown, priced as running"
		}
	}
	return l
}

// vmExtras are the VM's OS disk and public IP lines.
func (t *Table) vmExtras(v VMInput) []Line {
	var lines []Line
	if v.OSDisk != "" || v.OSDiskSKU != "" {
		name := v.OSDisk
		if name == "" {
			name = v.Name + " OS disk"
		}
		l := Line{Kind: KindOSDisk, Name: name, Region: v.Region, Detail: fmt.Sprintf("%s, %d GiB, OS disk of %s", v.OSDiskSKU, v.OSDiskGiB, v.Name)}
		if v.OSDiskSKU == "" || v.OSDiskGiB <= 0 {
			l.Detail = "OS disk of " + v.Name
			l.Basis = "not priced: az did not tell the disk's type and size"
		} else {
			l.set(t.Disk(v.Region, v.OSDiskSKU, v.OSDiskGiB))
		}
		lines = append(lines, l)
	}
	if v.PublicIP != "" {
		l := Line{Kind: KindPublicIP, Name: v.Name + " public IP", Region: v.Region, Detail: "Standard static IPv4 of " + v.Name}
		l.set(t.PublicIP(v.Region))
		lines = append(lines, l)
	}
	return lines
}

// runningHours works out a VM's billed hours this month (UTC) from its power
// state now and when its last operation completed. Azure keeps no power
// history that az shows, so: a VM whose last operation is older than the
// month has been in its state all month (exact); a newer one has been in it
// at least since then (a lower bound: it may have run before, too).
func runningHours(state string, lastChange, now time.Time) Hours {
	now = now.UTC()
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	billed := billedStates[state]
	switch {
	case state == "" || (!billed && state != "deallocated" && state != "deallocating"):
		return Hours{Note: "power state unknown"}
	case lastChange.IsZero():
		return Hours{Note: "az did not give the time of the VM's last power change"}
	case lastChange.Before(monthStart):
		h := Hours{Known: true, Exact: true, Since: monthStart.Format(time.RFC3339)}
		if billed {
			h.Hours = int(now.Sub(monthStart) / time.Hour)
			h.Note = "in this state since before the month began"
		} else {
			h.Note = "deallocated since before the month began"
		}
		return h
	case billed:
		return Hours{Known: true, Hours: int(max(now.Sub(lastChange), 0) / time.Hour), Since: lastChange.UTC().Format(time.RFC3339),
			Note: "at least: " + state + " since its last operation at " + lastChange.UTC().Format(time.RFC3339) + "; az does not tell the hours before"}
	}
	return Hours{Known: true, Since: lastChange.UTC().Format(time.RFC3339),
		Note: "at least 0: deallocated since " + lastChange.UTC().Format(time.RFC3339) + "; az does not tell the hours before"}
}

func (t *Table) storageLines(s StorageInput) []Line {
	l := Line{Kind: KindStorage, Name: s.Name, Region: s.Region, of: s.Name}
	switch strings.ToLower(s.Tier) {
	case "premium":
		sku := "Premium_" + strings.TrimPrefix(strings.ToUpper(s.Redundancy), "PREMIUM_")
		l.Detail = fmt.Sprintf("%s file share, %d GiB provisioned", sku, s.ProvisionedGiB)
		l.set(t.PremiumFiles(s.Region, s.Redundancy, s.ProvisionedGiB))
	case "premiumv2":
		sku := "PremiumV2_" + strings.TrimPrefix(strings.ToUpper(s.Redundancy), "PREMIUMV2_")
		l.Detail = fmt.Sprintf("%s file share, %d GiB, %d IOPS, %d MiB/s provisioned", sku, s.ProvisionedGiB, s.ProvisionedIOPS, s.ProvisionedMiBps)
		l.set(t.PremiumV2Files(s.Region, s.Redundancy, s.ProvisionedGiB, s.ProvisionedIOPS, s.ProvisionedMiBps).Total)
	case "standard":
		if s.UsedBytes == nil {
			l.Detail = "Standard blob (NFS 3.0), used space unknown"
			why := s.UsageNote
			if why == "" {
				why = "Azure did not report it"
			}
			l.Basis = "not priced: billed by used space, which is unknown (" + why + ")"
			break
		}
		used := new(big.Rat).SetFrac64(*s.UsedBytes, 1<<30)
		gib, _ := used.Float64()
		l.Detail = "Standard blob (NFS 3.0), " + formatGiB(gib) + " GiB used"
		l.set(t.StandardBlob(s.Region, gib))
	default:
		l.Detail = "tier " + s.Tier
		l.Basis = fmt.Sprintf("not priced: unknown tier %q", s.Tier)
	}
	lines := []Line{l}
	for _, pe := range s.PrivateEndpoints {
		pl := Line{Kind: KindPrivateEndpoint, Name: pe, Detail: "private endpoint of " + s.Name, Region: s.Region, of: s.Name}
		pl.set(t.PrivateEndpoint(s.Region))
		lines = append(lines, pl)
	}
	return lines
}

// Billed is what Azure billed the resource group, read from its usage data.
type Billed struct {
	// Available is false when Azure would not tell (Reason says why).
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"`
	From      string `json:"from"` // YYYY-MM-DD
	To        string `json:"to"`
	Currency  string `json:"currency,omitempty"`
	// Total is exactly the sum of Resources' Cost.
	Total     *Amount          `json:"total,omitempty"`
	Resources []BilledResource `json:"resources,omitempty"`
}

// BilledResource is the billed cost of one Azure resource.
type BilledResource struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	Cost Amount `json:"cost"`
}

// UsageRow is one row of Azure's usage data, as az prints it.
type UsageRow struct {
	ResourceID string
	Name       string
	Currency   string
	Cost       string // a decimal, as az prints it ("0.0123" or 1.5e-05)
}

// NewBilled sums usage rows by resource (ids compared without case, as ARM
// compares them; the first spelling is kept). Each resource's cost is rounded to
// the cent once; the total is the sum of those, so it adds up as shown.
func NewBilled(from, to time.Time, rows []UsageRow) (*Billed, error) {
	b := &Billed{Available: true, From: from.Format(dateLayout), To: to.Format(dateLayout), Resources: []BilledResource{}}
	sums := map[string]Money{}
	names, ids := map[string]string{}, map[string]string{}
	var order []string
	for _, r := range rows {
		if r.Currency != "" {
			if b.Currency != "" && b.Currency != r.Currency {
				return nil, fmt.Errorf("usage data mixes currencies %s and %s", b.Currency, r.Currency)
			}
			b.Currency = r.Currency
		}
		m, err := ParseMoney(r.Cost)
		if err != nil {
			return nil, fmt.Errorf("usage row of %s: %w", r.ResourceID, err)
		}
		key := strings.ToLower(r.ResourceID)
		if _, ok := sums[key]; !ok {
			order = append(order, key)
			names[key], ids[key] = r.Name, r.ResourceID
		}
		sums[key] += m
	}
	sort.Strings(order)
	var total Amount
	for _, k := range order {
		a := roundToCents(sums[k])
		b.Resources = append(b.Resources, BilledResource{Name: names[k], ID: ids[k], Cost: a})
		total += a
	}
	b.Total = &total
	return b, nil
}

// ParseMoney reads a decimal amount ("12.345678", "1.5E-05", or a JSON
// number) into Money, rounding half away from zero to a micro-unit.
func ParseMoney(s string) (Money, error) {
	s = strings.TrimSpace(s)
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("amount %q is not a decimal number", s)
	}
	neg := r.Sign() < 0
	r.Abs(r)
	n := roundHalfUp(r.Mul(r, big.NewRat(microPerUnit, 1)))
	if !n.IsInt64() {
		return 0, fmt.Errorf("amount %q is too large", s)
	}
	if neg {
		return Money(-n.Int64()), nil
	}
	return Money(n.Int64()), nil
}
