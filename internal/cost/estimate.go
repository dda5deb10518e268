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

// region finds a region's prices; Azure names are lower case without spaces,
// so "East US" finds "eastus".
func (t *Table) region(region string) (RegionPrices, string, bool) {
	name := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(region), " ", ""))
	rp, ok := t.Regions[name]
	return rp, name, ok
}

func (t *Table) unknownRegion(name string) Estimate {
	return t.notPriced("region %q is not in the price table (it has %s)", name, strings.Join(t.RegionNames(), ", "))
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
	rp, name, ok := t.region(region)
	if !ok {
		return t.unknownRegion(name)
	}
	price, ok := rp.PremiumFilesGiBMonth[red]
	if !ok {
		return t.notPriced("no Premium_%s file share price for region %s", red, name)
	}
	monthly, ok := price.times(big.NewRat(int64(provisionedGiB), 1))
	if !ok {
		return t.notPriced("%d GiB is too large to price", provisionedGiB)
	}
	return Estimate{
		Monthly: monthly, Currency: t.Currency, Priced: true,
		Basis: fmt.Sprintf("%d GiB provisioned x %s/GiB-month (Premium_%s, %s)", provisionedGiB, price.Format(t.Currency), red, name),
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
	rp, name, ok := t.region(region)
	if !ok {
		return all(t.unknownRegion(name))
	}
	m, ok := rp.PremiumV2Files[red]
	if !ok {
		return all(t.notPriced("no PremiumV2_%s (provisioned v2 SSD) file share price for region %s in the table; azlin cost prices --refresh --region %s fetches it", red, name, name))
	}
	meter := func(units int, price Price, unit, note string) Estimate {
		monthly, ok := price.times(big.NewRat(int64(units)*HoursPerMonth, 1))
		if !ok {
			return t.notPriced("%d %s is too large to price", units, unit)
		}
		return Estimate{Monthly: monthly, Currency: t.Currency, Priced: true,
			Basis: fmt.Sprintf("%d %s%s x %s/%s-hour x %d hours (PremiumV2_%s, %s)", units, unit, note, price.Format(t.Currency), unit, HoursPerMonth, red, name)}
	}
	billedIOPS, billedMiBps := max(iops-m.IncludedIOPS, 0), max(mibps-m.IncludedMiBps, 0)
	v := V2Estimate{
		Storage:    meter(gib, m.GiBHour, "GiB", " provisioned"),
		IOPS:       meter(billedIOPS, m.IOPSHour, "IOPS", fmt.Sprintf(" (%d provisioned, %d included)", iops, m.IncludedIOPS)),
		Throughput: meter(billedMiBps, m.MiBpsHour, "MiB/s", fmt.Sprintf(" (%d provisioned, %d included)", mibps, m.IncludedMiBps)),
	}
	v.Total = Estimate{Currency: t.Currency, Priced: true,
		Monthly: v.Storage.Monthly + v.IOPS.Monthly + v.Throughput.Monthly,
		Basis: fmt.Sprintf("%d GiB, %d IOPS, %d MiB/s provisioned: storage %s + IOPS %s + throughput %s (PremiumV2_%s, %s)",
			gib, iops, mibps, v.Storage.Monthly.Format(t.Currency), v.IOPS.Monthly.Format(t.Currency), v.Throughput.Monthly.Format(t.Currency), red, name)}
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
	rp, name, ok := t.region(region)
	if !ok {
		return t.unknownRegion(name)
	}
	if rp.BlobHotLRSGiBMonth == nil {
		return t.notPriced("no Blob hot LRS price for region %s", name)
	}
	price := *rp.BlobHotLRSGiBMonth
	monthly, ok := price.times(new(big.Rat).SetFloat64(usedGiB)) // SetFloat64 is exact
	if !ok {
		return t.notPriced("%v GiB is too large to price", usedGiB)
	}
	return Estimate{
		Monthly: monthly, Currency: t.Currency, Priced: true,
		Basis: fmt.Sprintf("%s GiB used x %s/GiB-month (Blob hot LRS, billed by used space, %s)", formatGiB(usedGiB), price.Format(t.Currency), name),
	}
}

// formatGiB shows a size with at most two decimals: "12.5", "1024".
func formatGiB(g float64) string {
	s := strconv.FormatFloat(g, 'f', 2, 64)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// VM estimates a Linux VM running all month (pay-as-you-go).
func (t *Table) VM(region, size string) Estimate {
	rp, name, ok := t.region(region)
	if !ok {
		return t.unknownRegion(name)
	}
	for s, price := range rp.VMHour {
		if strings.EqualFold(s, strings.TrimSpace(size)) {
			return t.hourly(price, fmt.Sprintf("%s Linux pay-as-you-go in %s", s, name))
		}
	}
	return t.notPriced("no price for VM size %q in region %s", size, name)
}

// PrivateEndpoint estimates one private endpoint for a month. Data processed
// through it is billed separately and not included.
func (t *Table) PrivateEndpoint(region string) Estimate {
	rp, name, ok := t.region(region)
	if !ok {
		return t.unknownRegion(name)
	}
	if rp.PrivateEndpointHour == nil {
		return t.notPriced("no private endpoint price for region %s", name)
	}
	return t.hourly(*rp.PrivateEndpointHour, "private endpoint in "+name+", data processed not included")
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
