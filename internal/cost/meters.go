package cost

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// This file is the one list of Retail Prices API meters azlin prices with:
// what to ask the API for, how to know the row, and where its price goes in
// RegionPrices. A fetch of a region asks for every meter here and nothing
// else, and `azlin cost prices` lists them in this order, so adding a meter
// is adding an entry (and its RegionPrices field).

// Meter names as the Retail Prices API spells them (filter values are case-sensitive).
const (
	premiumFilesProduct = "Premium Files"
	// Provisioned v2 SSD: skuName "SSD LRS"/"SSD ZRS", meters "<sku> Provisioned
	// Storage", "<sku> Provisioned IOPS", "<sku> Provisioned Throughput MiBPS".
	premiumV2Product = "Azure Files Provisioned v2"
	// An account with hierarchical namespace (required for NFS 3.0, which
	// azlin's Standard tier uses) is billed under this product, not the flat
	// "General Block Blob v2".
	blobProduct          = "General Block Blob v2 Hierarchical Namespace"
	blobMeter            = "Hot LRS Data Stored"
	privateLinkProduct   = "Virtual Network Private Link"
	privateEndpointMeter = "Standard Private Endpoint"
	publicIPProduct      = "IP Addresses"
	publicIPMeter        = "Standard IPv4 Static Public IP"
)

// Units as the API writes them.
var (
	unitsGiBMonth = []string{"1 GiB/Month", "1 GB/Month"} // both spellings appear for storage capacity
	unitsHour     = []string{"1 Hour"}
	unitsMonth    = []string{"1/Month"}
	unitsGB       = []string{"1 GB", "1 GiB"}
)

// meter is one price azlin keeps for a region.
type meter struct {
	Item, Unit string // how `azlin cost prices` lists it

	// What identifies the API's row; empty fields match anything.
	Service  string // serviceName (the query is grouped by it)
	Product  string // productName
	Sku      string // skuName
	Meter    string // meterName, exactly
	MeterHas string // meterName contains (when the exact name varies)
	ArmSku   string // armSkuName (VM sizes)
	Units    []string
	Linux    bool // VMs: only the Linux pay-as-you-go row
	// Global: the API lists the price once for all regions (armRegionName
	// "Global"); a row for the region itself wins if it ever has one.
	Global bool

	get func(RegionPrices) (Price, bool)
	set func(*RegionPrices, Price)

	// fill, when set, reads the meter's rows itself instead of get/set: a
	// price made of several rows (provisioned v2's three meters and their
	// included amounts). list then says how `azlin cost prices` shows it.
	fill func(items []retailItem, rp *RegionPrices)
	list func(rp RegionPrices) []PriceRow
}

// meters lists every meter a region needs; sizes are the VM sizes to price.
func meters(sizes []string) []meter {
	var ms []meter
	for _, red := range []string{"LRS", "ZRS"} {
		ms = append(ms, meter{Item: "Premium file share " + red + " (provisioned v1)", Unit: "GiB-month provisioned",
			Service: "Storage", Product: premiumFilesProduct, Sku: "Premium " + red, MeterHas: "Provisioned", Units: unitsGiBMonth,
			get: inMap(func(rp *RegionPrices) *map[string]Price { return &rp.PremiumFilesGiBMonth }, red),
			set: toMap(func(rp *RegionPrices) *map[string]Price { return &rp.PremiumFilesGiBMonth }, red)})
	}
	for _, red := range []string{"LRS", "ZRS"} {
		ms = append(ms, meter{Service: "Storage", Product: premiumV2Product, Sku: "SSD " + red,
			fill: func(items []retailItem, rp *RegionPrices) {
				if m, ok := v2Meters(items, red); ok {
					if rp.PremiumV2Files == nil {
						rp.PremiumV2Files = map[string]V2Meters{}
					}
					rp.PremiumV2Files[red] = m
				}
			},
			list: func(rp RegionPrices) []PriceRow {
				m, ok := rp.PremiumV2Files[red]
				if !ok {
					return nil
				}
				what := "PremiumV2 file share " + red + " (provisioned v2)"
				return []PriceRow{
					{Item: what + " storage", Price: m.GiBHour, Unit: "GiB-hour provisioned"},
					{Item: what + " IOPS", Price: m.IOPSHour, Unit: fmt.Sprintf("IOPS-hour above the first %d", m.IncludedIOPS)},
					{Item: what + " throughput", Price: m.MiBpsHour, Unit: fmt.Sprintf("MiB/s-hour above the first %d", m.IncludedMiBps)},
				}
			}})
	}
	ms = append(ms, meter{Item: "Standard blob hot LRS (NFS 3.0)", Unit: "GiB-month used",
		Service: "Storage", Product: blobProduct, Sku: "Hot LRS", Meter: blobMeter, Units: unitsGiBMonth,
		get: inPtr(func(rp *RegionPrices) **Price { return &rp.BlobHotLRSGiBMonth }),
		set: toPtr(func(rp *RegionPrices) **Price { return &rp.BlobHotLRSGiBMonth })})
	for _, size := range sizes {
		ms = append(ms, meter{Item: "VM " + size + " (Linux)", Unit: "hour",
			Service: "Virtual Machines", ArmSku: size, Units: unitsHour, Linux: true,
			get: inMap(func(rp *RegionPrices) *map[string]Price { return &rp.VMHour }, size),
			set: toMap(func(rp *RegionPrices) *map[string]Price { return &rp.VMHour }, size)})
	}
	ms = append(ms, meter{Item: "Private endpoint", Unit: "hour",
		Service: "Virtual Network", Product: privateLinkProduct, Meter: privateEndpointMeter, Units: unitsHour, Global: true,
		get: inPtr(func(rp *RegionPrices) **Price { return &rp.PrivateEndpointHour }),
		set: toPtr(func(rp *RegionPrices) **Price { return &rp.PrivateEndpointHour })})
	for _, dir := range []string{"Ingress", "Egress"} {
		key := strings.ToLower(dir)
		ms = append(ms, meter{Item: "Private endpoint data processed, " + key + " (not in totals)", Unit: "GB",
			Service: "Virtual Network", Product: privateLinkProduct, Meter: "Standard Data Processed - " + dir, Units: unitsGB, Global: true,
			get: inMap(func(rp *RegionPrices) *map[string]Price { return &rp.PrivateEndpointDataGB }, key),
			set: toMap(func(rp *RegionPrices) *map[string]Price { return &rp.PrivateEndpointDataGB }, key)})
	}
	ms = append(ms, meter{Item: "Public IP, Standard static IPv4", Unit: "hour",
		Service: "Virtual Network", Product: publicIPProduct, Meter: publicIPMeter, Units: unitsHour,
		get: inPtr(func(rp *RegionPrices) **Price { return &rp.PublicIPHour }),
		set: toPtr(func(rp *RegionPrices) **Price { return &rp.PublicIPHour })})
	for _, d := range diskTypes {
		for _, tier := range d.tiers {
			sku := d.prefix + tier.name + " LRS"
			ms = append(ms, meter{Item: "Managed disk " + sku + " (" + d.words + ", " + fmt.Sprint(tier.gib) + " GiB)", Unit: "month",
				Service: "Storage", Product: d.product, Meter: sku + " Disk", Units: unitsMonth, // the meter name is the tier's alone
				get: inMap(func(rp *RegionPrices) *map[string]Price { return &rp.ManagedDiskMonth }, sku),
				set: toMap(func(rp *RegionPrices) *map[string]Price { return &rp.ManagedDiskMonth }, sku)})
		}
	}
	return ms
}

// diskType is a managed disk SKU azlin may find as a VM's OS disk; Azure
// bills it by the tier its size rounds up to.
type diskType struct {
	sku, prefix, product, words string
	tiers                       []diskTier
}

type diskTier struct {
	name string
	gib  int
}

var diskTypes = []diskType{
	{sku: "Premium_LRS", prefix: "P", product: "Premium SSD Managed Disks", words: "Premium SSD",
		tiers: []diskTier{{"1", 4}, {"2", 8}, {"3", 16}, {"4", 32}, {"6", 64}, {"10", 128}, {"15", 256}, {"20", 512}, {"30", 1024}}},
	{sku: "StandardSSD_LRS", prefix: "E", product: "Standard SSD Managed Disks", words: "Standard SSD",
		tiers: []diskTier{{"1", 4}, {"2", 8}, {"3", 16}, {"4", 32}, {"6", 64}, {"10", 128}, {"15", 256}, {"20", 512}, {"30", 1024}}},
	{sku: "Standard_LRS", prefix: "S", product: "Standard HDD Managed Disks", words: "Standard HDD",
		tiers: []diskTier{{"4", 32}, {"6", 64}, {"10", 128}, {"15", 256}, {"20", 512}, {"30", 1024}}},
}

// diskTierOf is the API's skuName a disk of that SKU and size is billed as
// ("P4 LRS" for a 30 GiB Premium_LRS disk), with the type's words.
func diskTierOf(sku string, sizeGiB int) (tier, words string, ok bool) {
	for _, d := range diskTypes {
		if !strings.EqualFold(d.sku, sku) {
			continue
		}
		for _, t := range d.tiers {
			if sizeGiB <= t.gib {
				return d.prefix + t.name + " LRS", d.words, true
			}
		}
		return "", d.words, false
	}
	return "", "", false
}

func inMap(field func(*RegionPrices) *map[string]Price, key string) func(RegionPrices) (Price, bool) {
	return func(rp RegionPrices) (Price, bool) {
		p, ok := (*field(&rp))[key]
		return p, ok
	}
}

func toMap(field func(*RegionPrices) *map[string]Price, key string) func(*RegionPrices, Price) {
	return func(rp *RegionPrices, p Price) {
		m := field(rp)
		if *m == nil {
			*m = map[string]Price{}
		}
		(*m)[key] = p
	}
}

func inPtr(field func(*RegionPrices) **Price) func(RegionPrices) (Price, bool) {
	return func(rp RegionPrices) (Price, bool) {
		if p := *field(&rp); p != nil {
			return *p, true
		}
		return 0, false
	}
}

func toPtr(field func(*RegionPrices) **Price) func(*RegionPrices, Price) {
	return func(rp *RegionPrices, p Price) { *field(rp) = &p }
}

// PriceRow is one price of the table as `azlin cost prices` lists it.
type PriceRow struct {
	Region, Item string
	Price        Price
	Unit         string
}

// Rows lists the table's prices, region by region, in the meters' order.
func (t *Table) Rows() []PriceRow {
	var rows []PriceRow
	ms := meters(t.VMSizes())
	for _, name := range t.RegionNames() {
		rp := t.Regions[name]
		for _, m := range ms {
			if m.list != nil {
				for _, r := range m.list(rp) {
					r.Region = name
					rows = append(rows, r)
				}
				continue
			}
			if p, ok := m.get(rp); ok {
				rows = append(rows, PriceRow{Region: name, Item: m.Item, Price: p, Unit: m.Unit})
			}
		}
	}
	return rows
}

// overlay returns base with every price that over has replacing base's
// (maps merged key by key), and over's source and fetch time. By
// reflection, so a new RegionPrices field needs nothing here.
func overlay(base, over RegionPrices) RegionPrices {
	out := cloneRegion(base)
	ov, dst := reflect.ValueOf(over), reflect.ValueOf(&out).Elem()
	for i := range ov.NumField() {
		f, d := ov.Field(i), dst.Field(i)
		switch f.Kind() {
		case reflect.Map:
			if f.Len() == 0 {
				continue
			}
			if d.IsNil() {
				d.Set(reflect.MakeMap(f.Type()))
			}
			it := f.MapRange()
			for it.Next() {
				d.SetMapIndex(it.Key(), it.Value())
			}
		case reflect.Pointer:
			if !f.IsNil() {
				d.Set(f)
			}
		default:
			if !f.IsZero() {
				d.Set(f)
			}
		}
	}
	return out
}

// cloneRegion copies rp's maps, so changing the copy leaves rp alone.
func cloneRegion(rp RegionPrices) RegionPrices {
	v := reflect.ValueOf(&rp).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Map && !f.IsNil() {
			m := reflect.MakeMapWithSize(f.Type(), f.Len())
			it := f.MapRange()
			for it.Next() {
				m.SetMapIndex(it.Key(), it.Value())
			}
			f.Set(m)
		}
	}
	return rp
}

// hasPrices reports whether rp holds any price at all.
func (rp RegionPrices) hasPrices() bool {
	v := reflect.ValueOf(rp)
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.Map:
			if f.Len() > 0 {
				return true
			}
		case reflect.Pointer:
			if !f.IsNil() {
				return true
			}
		}
	}
	return false
}

// queries are the $filter expressions that fetch ms for region: one per
// service, each asking for exactly the meters of that service (grouped by
// product, so the URL stays short).
func queries(region string, ms []meter) []string {
	type group struct {
		products []string            // in the meters' order; "" for meters without a product
		rests    map[string][]string // product -> the other conditions of each meter
		global   bool
	}
	var services []string
	groups := map[string]*group{}
	for _, m := range ms {
		g := groups[m.Service]
		if g == nil {
			g = &group{rests: map[string][]string{}}
			groups[m.Service] = g
			services = append(services, m.Service)
		}
		g.global = g.global || m.Global
		var parts []string
		for _, f := range []struct{ field, value string }{{"skuName", m.Sku}, {"meterName", m.Meter}, {"armSkuName", m.ArmSku}} {
			if f.value != "" {
				parts = append(parts, f.field+" eq "+quote(f.value))
			}
		}
		rest := strings.Join(parts, " and ")
		if len(parts) > 1 {
			rest = "(" + rest + ")"
		}
		if !slices.Contains(g.products, m.Product) {
			g.products = append(g.products, m.Product)
		}
		if !slices.Contains(g.rests[m.Product], rest) {
			g.rests[m.Product] = append(g.rests[m.Product], rest)
		}
	}
	out := make([]string, 0, len(services))
	for _, s := range services {
		g := groups[s]
		var clauses []string
		for _, p := range g.products {
			rests := slices.DeleteFunc(slices.Clone(g.rests[p]), func(r string) bool { return r == "" })
			switch {
			case p == "":
				clauses = append(clauses, rests...)
			case len(rests) < len(g.rests[p]) || len(rests) == 0: // a meter asks for the whole product
				clauses = append(clauses, "productName eq "+quote(p))
			case len(rests) == 1:
				clauses = append(clauses, "(productName eq "+quote(p)+" and "+rests[0]+")")
			default:
				clauses = append(clauses, "(productName eq "+quote(p)+" and ("+strings.Join(rests, " or ")+"))")
			}
		}
		where := "armRegionName eq " + quote(region)
		if g.global {
			where = "(" + where + " or armRegionName eq 'Global')"
		}
		out = append(out, "serviceName eq "+quote(s)+" and "+where+" and priceType eq 'Consumption' and ("+
			strings.Join(clauses, " or ")+")")
	}
	return out
}

// matches tells whether the API's row is this meter's, in region.
func (m meter) matches(it retailItem, region string, global bool) bool {
	if global {
		if !strings.EqualFold(it.ArmRegionName, "global") && it.ArmRegionName != "" {
			return false
		}
	} else if it.ArmRegionName != region {
		return false
	}
	switch {
	case it.ServiceName != "" && it.ServiceName != m.Service,
		m.Product != "" && it.ProductName != m.Product,
		m.Sku != "" && it.SkuName != m.Sku,
		m.Meter != "" && it.MeterName != m.Meter,
		m.MeterHas != "" && !strings.Contains(it.MeterName, m.MeterHas),
		m.ArmSku != "" && !strings.EqualFold(it.ArmSkuName, m.ArmSku),
		!slices.Contains(m.Units, it.UnitOfMeasure),
		m.Linux && !linuxOnDemand(it):
		return false
	}
	return true
}

// regionFromItems picks, from the rows the API returned, the prices of ms
// for one region.
func regionFromItems(region string, items []retailItem, ms []meter) RegionPrices {
	rp := RegionPrices{}
	var here []retailItem // the rows of the region itself, for the meters that read their rows
	for _, it := range items {
		if it.ArmRegionName == region {
			here = append(here, it)
		}
	}
	for _, m := range ms {
		if m.fill != nil {
			m.fill(here, &rp)
			continue
		}
		p, ok := pick(items, func(it retailItem) bool { return m.matches(it, region, false) })
		if !ok && m.Global {
			p, ok = pick(items, func(it retailItem) bool { return m.matches(it, region, true) })
		}
		if ok {
			m.set(&rp, p)
		}
	}
	return rp
}
