package azemu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An NFS mount through a private endpoint needs the account's name to
// resolve to the endpoint inside the VNet: the endpoint's DNS zone group
// must have put its record in a privatelink zone linked to that VNet (Azure
// docs, "Azure Private Endpoint DNS configuration"). A linked zone of the
// right name that the endpoint is not registered in is not enough.
func TestMountNeedsTheEndpointRegisteredInALinkedZone(t *testing.T) {
	st, err := openStore(t.TempDir())
	require.NoError(t, err)
	const zone = "privatelink.file.core.windows.net"
	vnetID := resID("rg", vnetType, "v")
	peID := resID("rg", peType, "pe")
	put := func(id string, rec map[string]any) { rec["id"] = id; require.NoError(t, st.put(id, rec)) }
	for _, g := range []string{"rg", "hub"} {
		put(resID(g, dnsZoneType, zone), map[string]any{"name": zone, "resourceGroup": g})
	}
	link := func(g string) {
		put(resID(g, dnsZoneType, zone)+"/virtualNetworkLinks/l", map[string]any{"name": "l", "virtualNetwork": map[string]any{"id": vnetID}})
	}
	register := func(g string) {
		put(peID+"/privateDnsZoneGroups/default", map[string]any{"name": "default",
			"privateDnsZoneConfigs": []any{map[string]any{"name": "file", "privateDnsZoneId": resID(g, dnsZoneType, zone)}}})
	}
	m := &nfsMount{st: st}
	assert.False(t, m.registeredInLinkedZone(peID, zone, vnetID), "no zone group")
	link("hub")
	register("rg")
	assert.False(t, m.registeredInLinkedZone(peID, zone, vnetID), "registered in a zone the VNet is not linked to")
	register("hub")
	assert.True(t, m.registeredInLinkedZone(peID, zone, vnetID), "registered in the linked hub zone")
	assert.False(t, m.registeredInLinkedZone(peID, "privatelink.blob.core.windows.net", vnetID), "another service's zone")
}
