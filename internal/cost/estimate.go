package cost

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Estimate is what one resource costs by the table. When Priced is false the
// amounts are zero and mean nothing: Reason says why there is no price.
type Estimate struct {
	Monthly  Money
	Hourly   Money // set for resources billed by the hour (VMs, private endpoints)
	Currency string
	Priced   bool
	Reason   string // why not priced
	Basis    string // how the amount was reached, e.g. "1024 GiB provisioned x $0.16/GiB-month"
}

// String is "$163.84/month" or "not priced: <reason>".
func (e Estimate) String() string {
	if !e.Priced {
		return "not priced: " + e.Reason
	}
	return e.Monthly.Format(e.Currency) + "/month"
}

func (t *Table) notPriced(format string, args ...any) Estimate {
	return Estimate{Currency: t.Currency, Reason: fmt.Sprintf(format, args...)}
}

// PremiumFiles estimates an Azure Files premium (provisioned v1) share: billed
// on the provisioned size, used or not. redundancy is "LRS" or "ZRS" (the SKU
// names "Premium_LRS"/"Premium_ZRS" are accepted too).
func (t *Table) PremiumFiles(region, redundancy string, provisionedGiB int) Estimate {
	red := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(redundancy)), "PREMIUM_")
	if red != "LRS" && red != "ZRS" {
		return t.notPriced("redundancy %q: premium file shares are LRS or ZRS", redundancy)
	}
	if provisionedGiB <= 0 {
		return t.notPriced("provisioned size %d GiB is not positive", provisionedGiB)
	}
	rp, name, ok, why := t.lookup(region, func(rp RegionPrices) bool { _, ok := rp.PremiumFilesGiBMonth[red]; return ok })
	if !ok {
		return t.notPriced("no Premium_%s file share price for %s: %s", red, name, why)
	}
	price := rp.PremiumFilesGiBMonth[red]
	monthly, ok := price.times(big.NewRat(int64(provisionedGiB), 1))
	if !ok {
		return t.notPriced("%d GiB is too large to price", provisionedGiB)
	}
	return Estimate{
		Monthly: monthly, Currency: t.Currency, Priced: true,
		Basis: fmt.Sprintf("%d GiB provisioned x %s/GiB-month (Premium_%s, %s; %s)", provisionedGiB, price.Format(t.Currency), red, name, t.sourceOf(rp)),
	}
}

// V2Estimate is a provisioned v2 share's cost, meter by meter; Total is
// their sum (not priced when any part is not).
type V2Estimate struct {
	Storage, IOPS, Throughput, Total Estimate
}

// PremiumV2Files estimates an Azure Files provisioned v2 SSD share: billed
// by the hour on the provisioned storage, IOPS and throughput, the latter two
// above what every share gets included. Monthly = hourly x HoursPerMonth.
func (t *Table) PremiumV2Files(region, redundancy string, gib, iops, mibps int) V2Estimate {
	red := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(redundancy)), "PREMIUMV2_")
	all := func(e Estimate) V2Estimate { return V2Estimate{Storage: e, IOPS: e, Throughput: e, Total: e} }
	if red != "LRS" && red != "ZRS" {
		return all(t.notPriced("redundancy %q: provisioned v2 SSD file shares are LRS or ZRS", redundancy))
	}
	if gib <= 0 || iops <= 0 || mibps <= 0 {
		return all(t.notPriced("provisioned %d GiB, %d IOPS, %d MiB/s: each must be positive", gib, iops, mibps))
	}
	rp, name, ok, why := t.lookup(region, func(rp RegionPrices) bool { _, ok := rp.PremiumV2Files[red]; return ok })
	if !ok {
		return all(t.notPriced("no PremiumV2_%s (provisioned v2 SSD) file share price for %s: %s", red, name, why))
	}
	m := rp.PremiumV2Files[red]
	meter := func(units int, price Price, unit, note string) Estimate {
		monthly, ok := price.times(big.NewRat(int64(units)*HoursPerMonth, 1))
		if !ok {
			return t.notPriced("%d %s is too large to price", units, unit)
		}
		return Estimate{Monthly: monthly, Currency: t.Currency, Priced: true,
			Basis: fmt.Sprintf("%d %s%s x %s/%s-hour x %d hours (PremiumV2_%s, %s; %s)", units, unit, note, price.Format(t.Currency), unit, HoursPerMonth, red, name, t.sourceOf(rp))}
	}
	billedIOPS, billedMiBps := max(iops-m.IncludedIOPS, 0), max(mibps-m.IncludedMiBps, 0)
	v := V2Estimate{
		Storage:    meter(gib, m.GiBHour, "GiB", " provisioned"),
		IOPS:       meter(billedIOPS, m.IOPSHour, "IOPS", fmt.Sprintf(" (%d provisioned, %d included)", iops, m.IncludedIOPS)),
		Throughput: meter(billedMiBps, m.MiBpsHour, "MiB/s", fmt.Sprintf(" (%d provisioned, %d included)", mibps, m.IncludedMiBps)),
	}
	v.Total = Estimate{Currency: t.Currency, Priced: true,
		Monthly: v.Storage.Monthly + v.IOPS.Monthly + v.Throughput.Monthly,
		Basis: fmt.Sprintf("%d GiB, %d IOPS, %d MiB/s provisioned: storage %s + IOPS %s + throughput %s (PremiumV2_%s, %s; %s)",
			gib, iops, mibps, v.Storage.Monthly.Format(t.Currency), v.IOPS.Monthly.Format(t.Currency), v.Throughput.Monthly.Format(t.Currency), red, name, t.sourceOf(rp))}
	for _, e := range []Estimate{v.Storage, v.IOPS, v.Throughput} {
		if !e.Priced {
			v.Total = e
		}
	}
	return v
}

// StandardBlob estimates Blob storage standard hot LRS (azlin's Standard
// tier): billed on the space used, at the table's first-tier list price.
func (t *Table) StandardBlob(region string, usedGiB float64) Estimate {
	if math.IsNaN(usedGiB) || math.IsInf(usedGiB, 0) || usedGiB < 0 {
		return t.notPriced("used size %v GiB is not a size", usedGiB)
	}
	rp, name, ok, why := t.lookup(region, func(rp RegionPrices) bool { return rp.BlobHotLRSGiBMonth != nil })
	if !ok {
		return t.notPriced("no Blob hot LRS price for %s: %s", name, why)
	}
	price := *rp.BlobHotLRSGiBMonth
	monthly, ok := price.times(new(big.Rat).SetFloat64(usedGiB)) // SetFloat64 is exact
	if !ok {
		return t.notPriced("%v GiB is too large to price", usedGiB)
	}
	return Estimate{
		Monthly: monthly, Currency: t.Currency, Priced: true,
		Basis: fmt.Sprintf("%s GiB used x %s/GiB-month (Blob hot LRS, billed by used space, %s; %s)", formatGiB(usedGiB), price.Format(t.Currency), name, t.sourceOf(rp)),
	}
}

// formatGiB shows a size with at most two decimals: "12.5", "1024".
func formatGiB(g float64) string {
	s := strconv.FormatFloat(g, 'f', 2, 64)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// vmPrice finds a size's hourly price, whatever the case of its name.
func vmPrice(rp RegionPrices, size string) (string, Price, bool) {
	for s, price := range rp.VMHour {
		if strings.EqualFold(s, strings.TrimSpace(size)) {
			return s, price, true
		}
	}
	return "", 0, false
}

// VM estimates a Linux VM's compute running all month (pay-as-you-go).
func (t *Table) VM(region, size string) Estimate {
	rp, name, ok, why := t.lookup(region, func(rp RegionPrices) bool { _, _, ok := vmPrice(rp, size); return ok }, size)
	if !ok {
		return t.notPriced("no price for VM size %q in %s: %s", size, name, why)
	}
	s, price, _ := vmPrice(rp, size)
	return t.hourly(price, fmt.Sprintf("%s Linux pay-as-you-go in %s; %s", s, name, t.sourceOf(rp)))
}

// OSDiskGiB is the size of the OS disk azlin's VMs get: the Ubuntu image's
// own (azlin passes no --os-disk-size-gb; az-shapes/vm-show.json: 30).
const OSDiskGiB = 30

// OSDiskSKU is the OS disk type a VM of size gets from `az vm create`
// without --storage-sku: Azure picks Premium_LRS for sizes with premium
// storage (an "s" among the size's feature letters, or a DS/GS family);
// for the others the type is Azure's choice and "" here.
func OSDiskSKU(size string) string {
	name := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(size)), "standard_")
	name, _, _ = strings.Cut(name, "_") // "d2s" of "d2s_v5"
	family := strings.TrimRightFunc(name, func(r rune) bool { return r < '0' || r > '9' })
	i := strings.IndexFunc(family, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 {
		return ""
	}
	letters, features := family[:i], name[len(family):]
	if strings.Contains(features, "s") || strings.HasSuffix(letters, "s") {
		return "Premium_LRS"
	}
	return ""
}

// Disk estimates a managed disk for a month: billed by the tier its size
// rounds up to, VM running or not.
func (t *Table) Disk(region, sku string, sizeGiB int) Estimate {
	if sizeGiB <= 0 {
		return t.notPriced("disk size %d GiB is not positive", sizeGiB)
	}
	tier, words, ok := diskTierOf(sku, sizeGiB)
	if !ok {
		if words != "" {
			return t.notPriced("a %d GiB %s disk is larger than the tiers azlin prices", sizeGiB, sku)
		}
		return t.notPriced("disk type %q is not one azlin prices", sku)
	}
	rp, name, ok, why := t.lookup(region, func(rp RegionPrices) bool { _, ok := rp.ManagedDiskMonth[tier]; return ok })
	if !ok {
		return t.notPriced("no %s disk price for %s: %s", tier, name, why)
	}
	price := rp.ManagedDiskMonth[tier]
	monthly, _ := price.times(big.NewRat(1, 1))
	return Estimate{
		Monthly: monthly, Currency: t.Currency, Priced: true,
		Basis: fmt.Sprintf("%d GiB %s (%s), billed as tier %s at %s/month (%s; %s)", sizeGiB, sku, words, tier, price.Format(t.Currency), name, t.sourceOf(rp)),
	}
}

// PublicIP estimates a Standard static IPv4 public IP for a month: what az
// vm create makes, billed while it exists, also when the VM is deallocated.
func (t *Table) PublicIP(region string) Estimate {
	rp, name, ok, why := t.lookup(region, func(rp RegionPrices) bool { return rp.PublicIPHour != nil })
	if !ok {
		return t.notPriced("no Standard public IP price for %s: %s", name, why)
	}
	return t.hourly(*rp.PublicIPHour, "Standard static public IPv4 in "+name+", billed even when the VM is deallocated; "+t.sourceOf(rp))
}

// NewVM is what a VM as azlin creates it costs: compute, its OS disk (the
// image's size, the type az picks) and its Standard public IP.
type NewVM struct {
	Compute, OSDisk, PublicIP Estimate
	// Monthly sums the three when all are priced; Priced says whether they were.
	Monthly Money
	Priced  bool
}

// NewVM estimates a VM of size in region as `azlin new` creates it.
func (t *Table) NewVM(region, size string) NewVM {
	v := NewVM{Compute: t.VM(region, size), PublicIP: t.PublicIP(region)}
	if sku := OSDiskSKU(size); sku != "" {
		v.OSDisk = t.Disk(region, sku, OSDiskGiB)
	} else {
		v.OSDisk = t.notPriced("%s has no premium storage, so Azure picks the OS disk type; see it with: az vm show -d", size)
	}
	v.Priced = v.Compute.Priced && v.OSDisk.Priced && v.PublicIP.Priced
	if v.Priced {
		v.Monthly = v.Compute.Monthly + v.OSDisk.Monthly + v.PublicIP.Monthly
	}
	return v
}

// PrivateEndpoint estimates one private endpoint for a month. Data processed
// through it is billed per GB on top: the basis names that price, the
// amount leaves it out (it depends on the traffic).
func (t *Table) PrivateEndpoint(region string) Estimate {
	rp, name, ok, why := t.lookup(region, func(rp RegionPrices) bool { return rp.PrivateEndpointHour != nil })
	if !ok {
		return t.notPriced("no private endpoint price for %s: %s", name, why)
	}
	return t.hourly(*rp.PrivateEndpointHour, "private endpoint in "+name+"; "+t.sourceOf(rp)+"; "+t.dataProcessed(rp))
}

// dataProcessed names the private endpoint's per-GB price, not in the total.
func (t *Table) dataProcessed(rp RegionPrices) string {
	in, okIn := rp.PrivateEndpointDataGB["ingress"]
	out, okOut := rp.PrivateEndpointDataGB["egress"]
	switch {
	case okIn && okOut && in == out:
		return fmt.Sprintf("plus data processed at %s/GB in or out (Standard Data Processed), not included", in.Format(t.Currency))
	case okIn && okOut:
		return fmt.Sprintf("plus data processed at %s/GB in and %s/GB out (Standard Data Processed), not included", in.Format(t.Currency), out.Format(t.Currency))
	}
	return "plus data processed per GB (Standard Data Processed, not in the price table), not included"
}

// hourly prices something billed per hour for HoursPerMonth hours.
func (t *Table) hourly(price Price, what string) Estimate {
	hourly, _ := price.times(big.NewRat(1, 1))
	monthly, ok := price.times(big.NewRat(HoursPerMonth, 1))
	if !ok {
		return t.notPriced("%s: price too large", what)
	}
	return Estimate{
		Monthly: monthly, Hourly: hourly, Currency: t.Currency, Priced: true,
		Basis: fmt.Sprintf("%s/hour x %d hours/month, Azure's monthly convention (%s)", price.Format(t.Currency), HoursPerMonth, what),
	}
}
