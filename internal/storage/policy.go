package storage

import (
	"errors"
	"fmt"

	"github.com/azlin-dev/azlin/internal/azcli"
)

// policyAdvice says, for each az command storage create runs, what azlin
// asked Azure for and how a user can get past a policy that denies it.
// Company subscriptions commonly deny storage accounts without secure
// transfer or with shared keys or public network access, and the creation
// of private DNS zones (landing zones keep them central).
var policyAdvice = map[string]struct{ asked, avoid string }{
	"storage account create": {
		asked: "a storage account with secure transfer off (plain NFS cannot mount with it on), shared-key access off, " +
			"public blob access off, TLS 1.2 at least and its firewall closed (default action Deny)",
		avoid: "no azlin setting avoids a policy that requires secure transfer yet: ask the policy's owner for an exemption " +
			"for this resource group",
	},
	"storage account update": {
		asked: "to correct the account's settings to azlin's (as for storage account create)",
		avoid: "ask the policy's owner for an exemption for this resource group",
	},
	"network private-dns zone create": {
		asked: "a private DNS zone for the private endpoint",
		avoid: "use the zone your landing zone keeps (often in a hub subscription) with --private-dns-zone-id " +
			"/subscriptions/SUB/resourceGroups/GROUP/providers/Microsoft.Network/privateDnsZones/ZONE, " +
			"or use --network service-endpoint, which needs no DNS zone",
	},
	"network private-dns link vnet create": {
		asked: "to link the private DNS zone to the VNet",
		avoid: "ask the policy's owner for an exemption for the zone's resource group, or use --network service-endpoint, which needs no DNS zone",
	},
	"network private-endpoint create": {
		asked: "a private endpoint for the account in the azlin subnet",
		avoid: "use --network service-endpoint",
	},
	"network vnet create": {
		asked: "a virtual network for azlin",
		avoid: "create the VNet and subnet as the policy allows and name them with --vnet and --subnet",
	},
}

// PolicyError is a request Azure Policy denied: which assignments, what
// azlin asked for, and what avoids it.
type PolicyError struct {
	Assignments []azcli.PolicyAssignment
	Asked       string
	Avoid       string
	Err         error // az's error
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("%v\nAzure Policy in this subscription does not allow what azlin asked for: %s. To get past it: %s.",
		e.Err, e.Asked, e.Avoid)
}

func (e *PolicyError) Unwrap() error { return e.Err }

// explainPolicy turns a policy denial into a PolicyError; other errors pass.
func explainPolicy(err error) error {
	as := azcli.DeniedByPolicy(err)
	var azErr *azcli.Error
	if len(as) == 0 || !errors.As(err, &azErr) {
		return err
	}
	advice, ok := policyAdvice[azErr.Command()]
	if !ok {
		advice.asked, advice.avoid = "az "+azErr.Command(), "ask the policy's owner for an exemption for this resource group"
	}
	return &PolicyError{Assignments: as, Asked: advice.asked, Avoid: advice.avoid, Err: err}
}

// explainPolicyIn is explainPolicy inside a PartialError too.
func explainPolicyIn(err error) error {
	var pe *PartialError
	if errors.As(err, &pe) {
		return &PartialError{Done: pe.Done, Err: explainPolicy(pe.Err)}
	}
	return explainPolicy(err)
}
