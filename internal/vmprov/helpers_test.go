package vmprov

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
)

// Real az error texts (az-shapes/storage-account-show-404*.json, with the
// resource type of a VM).
const (
	stderrVMNotFound = "ERROR: (ResourceNotFound) The Resource 'Microsoft.Compute/virtualMachines/%s' under resource group 'rg' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix\nCode: ResourceNotFound\nMessage: The Resource 'Microsoft.Compute/virtualMachines/%s' under resource group 'rg' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix\n"
	stderrRGNotFound = "ERROR: (ResourceGroupNotFound) Resource group 'nosuchrg' could not be found.\nCode: ResourceGroupNotFound\nMessage: Resource group 'nosuchrg' could not be found.\n"
)

// newTestManager returns a Manager whose az calls are answered by calls.
func newTestManager(t *testing.T, calls ...aztest.Call) (*Manager, *aztest.Fake) {
	t.Helper()
	fake := aztest.New(t, calls...)
	c := azcli.New(fake, azcli.Options{Retry: azcli.RetryPolicy{MaxAttempts: 1}})
	return NewManager(c), fake
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return string(b)
}
