package vmprov

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/azlin-dev/azlin/internal/clierr"
)

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"a", "dev-1", "0", "a-b-c", strings.Repeat("a", 64)} {
		assert.NoError(t, ValidateName(ok), ok)
	}
	for _, bad := range []struct{ name, says string }{
		{"", "empty"},
		{strings.Repeat("a", 65), "65 characters"},
		{"Dev", `contains 'D'`},
		{"dev_1", `contains '_'`},
		{"dev.1", `contains '.'`},
		{"a b", `contains ' '`},
		{"a;rm", `contains ';'`},
		{"-dev", "hyphen"},
		{"dev-", "hyphen"},
	} {
		err := ValidateName(bad.name)
		if assert.Error(t, err, bad.name) {
			assert.True(t, clierr.IsUsage(err), "%q must be a usage error (exit 2)", bad.name)
			assert.Contains(t, err.Error(), bad.says)
		}
	}
}

func TestValidateSize(t *testing.T) {
	assert.NoError(t, ValidateSize("Standard_D2s_v5"))
	for _, bad := range []string{"", "Standard D2", "2cores", "x;y"} {
		err := ValidateSize(bad)
		assert.True(t, clierr.IsUsage(err), "%q", bad)
	}
}

func TestResourcesFor(t *testing.T) {
	// The NIC name is az's own convention ({vm}VMNic); the others azlin sets.
	assert.Equal(t, Resources{NIC: "devVMNic", OSDisk: "dev_OsDisk", PublicIP: "devPublicIP"}, ResourcesFor("dev"))
	assert.Equal(t, "azlin-vnet-nsg", NSGFor("azlin-vnet"))
}
