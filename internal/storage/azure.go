package storage

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/tags"
)

// account is what azlin reads from `az storage account show/list` (az's
// flattened field names, see az-shapes/storage-account-show.json).
type account struct {
	ID                     string            `json:"id"`
	Name                   string            `json:"name"`
	Kind                   string            `json:"kind"`
	Location               string            `json:"location"`
	ResourceGroup          string            `json:"resourceGroup"`
	CreationTime           string            `json:"creationTime"`
	ProvisioningState      string            `json:"provisioningState"`
	Tags                   map[string]string `json:"tags"`
	EnableHTTPSTrafficOnly *bool             `json:"enableHttpsTrafficOnly"`
	AllowBlobPublicAccess  *bool             `json:"allowBlobPublicAccess"`
	MinimumTLSVersion      *string           `json:"minimumTlsVersion"`
	PublicNetworkAccess    *string           `json:"publicNetworkAccess"`
	EnableNfsV3            *bool             `json:"enableNfsV3"`
	Sku                    struct {
		Name string `json:"name"`
		Tier string `json:"tier"`
	} `json:"sku"`
	NetworkRuleSet *struct {
		DefaultAction       string `json:"defaultAction"`
		VirtualNetworkRules []struct {
			VirtualNetworkResourceID string `json:"virtualNetworkResourceId"`
			State                    string `json:"state"`
		} `json:"virtualNetworkRules"`
	} `json:"networkRuleSet"`
	PrivateEndpointConnections []struct {
		PrivateEndpoint *struct {
			ID string `json:"id"`
		} `json:"privateEndpoint"`
		PrivateLinkServiceConnectionState *struct {
			Status string `json:"status"`
		} `json:"privateLinkServiceConnectionState"`
	} `json:"privateEndpointConnections"`
}

// storageName is the azlin storage this account holds, "" if it is not one.
func (a *account) storageName() string {
	if a.Tags[tags.Managed] != "true" {
		return ""
	}
	return a.Tags[tags.Storage]
}

// tier is read from the account itself (kind), not only from the tag: the
// kind decides what the account can serve.
func (a *account) tier() nfs.Tier {
	if strings.EqualFold(a.Kind, "FileStorage") {
		// The SKU tells the billing model: PremiumV2_LRS/ZRS is provisioned v2.
		if strings.HasPrefix(a.Sku.Name, nfs.PremiumV2.Provisioned().SKUPrefix+"_") {
			return nfs.PremiumV2
		}
		return nfs.Premium
	}
	if t, err := nfs.ParseTier(a.Tags[tags.Tier]); err == nil {
		return t
	}
	return nfs.Standard
}

// secureTransfer is the account's "secure transfer required" (Azure's
// default, on, when the property is unset).
func (a *account) secureTransfer() bool {
	return a.EnableHTTPSTrafficOnly == nil || *a.EnableHTTPSTrafficOnly
}

// encryptedInTransit: VMs mount the storage through AZNFS's TLS. That is the
// case for Azure Files (Premium) with secure transfer on, which Azure then
// enforces; Blob NFS has no encryption in transit (and needs secure transfer
// off).
func (a *account) encryptedInTransit() bool {
	return a.tier().AzureFiles() && a.secureTransfer()
}

// DefaultLayout is the layout of a storage without a layout tag: package
// layout's Default (a test in cmd/azlin checks that they agree).
const DefaultLayout = "developer"

// layout is the home's layout name from the tag, else DefaultLayout.
func (a *account) layout() string {
	if l := a.Tags[tags.Layout]; l != "" {
		return l
	}
	return DefaultLayout
}

// redundancy is LRS or ZRS, from the SKU's suffix.
func (a *account) redundancy() string {
	if strings.HasSuffix(a.Sku.Name, "_ZRS") {
		return "ZRS"
	}
	return "LRS"
}

func (a *account) taggedSizeGiB() int {
	n, _ := strconv.Atoi(a.Tags[tags.SizeGiB])
	return n
}

// networkMode: a private endpoint connection or the tag's word; otherwise
// VNet rules mean service endpoint.
func (a *account) networkMode() NetworkMode {
	if m, err := ParseNetworkMode(a.Tags[tags.Network]); err == nil {
		return m
	}
	if len(a.PrivateEndpointConnections) > 0 {
		return PrivateEndpoint
	}
	return ServiceEndpoint
}

func (a *account) defaultAction() string {
	if a.NetworkRuleSet == nil {
		return ""
	}
	return a.NetworkRuleSet.DefaultAction
}

func (a *account) hasVNetRule(subnetID string) bool {
	if a.NetworkRuleSet == nil {
		return false
	}
	for _, r := range a.NetworkRuleSet.VirtualNetworkRules {
		if strings.EqualFold(r.VirtualNetworkResourceID, subnetID) {
			return true
		}
	}
	return false
}

// created is azlin's creation tag, else the account's creationTime.
func (a *account) created() string {
	if t, err := time.Parse(time.RFC3339, a.Tags[tags.Created]); err == nil {
		return t.UTC().Format(time.RFC3339)
	}
	if t, err := time.Parse(time.RFC3339Nano, a.CreationTime); err == nil {
		return t.UTC().Format(time.RFC3339)
	}
	return a.CreationTime
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// share is what azlin reads from `az storage share-rm show --expand stats`.
type share struct {
	Name            string `json:"name"`
	ShareQuota      int    `json:"shareQuota"`
	RootSquash      string `json:"rootSquash"`
	EnabledProtocol string `json:"enabledProtocols"`
	ShareUsageBytes *int64 `json:"shareUsageBytes"`
	// Provisioned v2 shares only (null on the others).
	ProvisionedIops           *int   `json:"provisionedIops"`
	ProvisionedBandwidthMibps *int   `json:"provisionedBandwidthMibps"`
	IncludedBurstIops         *int   `json:"includedBurstIops"`
	NextAllowedQuotaDowngrade string `json:"nextAllowedQuotaDowngradeTime"`
	NextAllowedIopsDowngrade  string `json:"nextAllowedProvisionedIopsDowngradeTime"`
	NextAllowedMibpsDowngrade string `json:"nextAllowedProvisionedBandwidthDowngradeTime"`
}

// container is what azlin reads from `az storage container-rm show`.
type container struct {
	Name       string `json:"name"`
	RootSquash string `json:"rootSquash"`
}

// metrics is the part of `az monitor metrics list` azlin reads: one
// capacity metric's hourly averages (null between Azure's daily refreshes).
type metrics struct {
	Value []struct {
		Timeseries []struct {
			Data []struct {
				Average   *float64 `json:"average"`
				TimeStamp string   `json:"timeStamp"`
			} `json:"data"`
		} `json:"timeseries"`
	} `json:"value"`
}

// points are the samples Azure has, oldest first.
func (m metrics) points() ([]UsagePoint, error) {
	out := []UsagePoint{}
	for _, v := range m.Value {
		for _, ts := range v.Timeseries {
			for _, d := range ts.Data {
				if d.Average == nil {
					continue
				}
				t, err := time.Parse(time.RFC3339, d.TimeStamp)
				if err != nil {
					return nil, fmt.Errorf("az monitor metrics list printed a time azlin cannot read: %q", d.TimeStamp)
				}
				out = append(out, UsagePoint{Time: t.UTC(), UsedBytes: int64(*d.Average)})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// GroupVM is what storage views need of a VM: its name and tags (which
// storage is its home). `az vm list` and `az vm list -d` both give them.
type GroupVM struct {
	Name string            `json:"name"`
	Tags map[string]string `json:"tags"`
}

// VMReader gives the group's VMs to ListWith, for a caller that reads them
// anyway (azlin cost reads `az vm list -d`): one az call for one fact.
type VMReader func(ctx context.Context) ([]GroupVM, error)
