package storage

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
)

// denied is az's answer when Azure Policy denies a request (the shape of
// internal/azcli/testdata/errors/policy-denied.json).
func denied(argv []string, resource, assignment string) aztest.Call {
	ids := `[{"policyAssignment":{"name":"` + assignment + `","id":"/subscriptions/` + testSub +
		`/providers/Microsoft.Authorization/policyAssignments/a1"},"policyDefinition":{"name":"d","id":"/providers/Microsoft.Authorization/policyDefinitions/d"}}]`
	return azErr(argv, 1, "RequestDisallowedByPolicy", "Resource '"+resource+"' was disallowed by policy. Policy identifiers: '"+ids+"'.")
}

func TestCreateDeniedByPolicySaysWhichAssignmentWhatAzlinAskedAndTheWayOut(t *testing.T) {
	t.Run("account", func(t *testing.T) {
		calls := append(freshPremiumCalls(t)[:5], denied(argvCreatePremPE, testAcct, "Secure transfer to storage accounts should be enabled"))
		_, err := newManager(t, aztest.New(t, calls...), nil).Create(context.Background(), createOpts(premium))
		var pe *PolicyError
		require.ErrorAs(t, err, &pe)
		assert.ErrorIs(t, err, azcli.ErrPolicyDenied)
		assert.Contains(t, err.Error(), `Azure Policy assignment "Secure transfer to storage accounts should be enabled" (/subscriptions/`+testSub+
			`/providers/Microsoft.Authorization/policyAssignments/a1)`)
		assert.Contains(t, err.Error(), "azlin asked for: a storage account with secure transfer off")
		assert.Contains(t, err.Error(), "exemption")
		var partial *PartialError
		assert.NotErrorAs(t, err, &partial, "the VNet existed; nothing was created")
	})
	t.Run("private DNS zone", func(t *testing.T) {
		calls := append(freshPremiumCalls(t)[:9], denied(argvZoneCreate, "privatelink.file.core.windows.net", "Deny-Private-DNS-Zones"))
		_, err := newManager(t, aztest.New(t, calls...), nil).Create(context.Background(), createOpts(premium))
		var pe *PolicyError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "Deny-Private-DNS-Zones", pe.Assignments[0].Name)
		assert.Contains(t, err.Error(), "To get past it: use the zone your landing zone keeps (often in a hub subscription) with --private-dns-zone-id /subscriptions/SUB/resourceGroups/GROUP/providers/Microsoft.Network/privateDnsZones/ZONE, or use --network service-endpoint, which needs no DNS zone.")
		assert.Contains(t, err.Error(), "What exists now: storage account "+testAcct)
	})
}
