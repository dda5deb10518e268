package azcli_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
)

var allClasses = map[string]error{
	"ErrAzNotInstalled":        azcli.ErrAzNotInstalled,
	"ErrNotLoggedIn":           azcli.ErrNotLoggedIn,
	"ErrNotFound":              azcli.ErrNotFound,
	"ErrResourceGroupNotFound": azcli.ErrResourceGroupNotFound,
	"ErrAlreadyExists":         azcli.ErrAlreadyExists,
	"ErrAuthorization":         azcli.ErrAuthorization,
	"ErrQuotaExceeded":         azcli.ErrQuotaExceeded,
	"ErrThrottled":             azcli.ErrThrottled,
	"ErrConflict":              azcli.ErrConflict,
	"ErrInvalidArgument":       azcli.ErrInvalidArgument,
	"ErrServer":                azcli.ErrServer,
	"ErrPolicyDenied":          azcli.ErrPolicyDenied,
}

// noRetry keeps one az call per fixture entry.
var noRetry = azcli.RetryPolicy{MaxAttempts: 1}

// fixtureCalls reads the calls of a fixture file, to drive a test with them.
func fixtureCalls(t *testing.T, path string) []aztest.Call {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var f struct{ Calls []aztest.Call }
	require.NoError(t, json.Unmarshal(data, &f))
	require.NotEmpty(t, f.Calls, path)
	return f.Calls
}

// runFixtureCall replays one error sample through a Client and returns its error.
func runFixtureCall(t *testing.T, c aztest.Call) error {
	t.Helper()
	client := azcli.New(aztest.New(t, c), azcli.Options{Retry: noRetry})
	return client.Read(context.Background(), nil, c.Argv...)
}

// TestErrorClassesFromAzSamples: every sample of az's stderr in
// testdata/errors/<class>.json is classified as that class and no other.
func TestErrorClassesFromAzSamples(t *testing.T) {
	files := map[string]string{ // file -> class name in allClasses ("" = no class)
		"not-logged-in":            "ErrNotLoggedIn",
		"not-found":                "ErrNotFound",
		"resource-group-not-found": "ErrResourceGroupNotFound",
		"already-exists":           "ErrAlreadyExists",
		"authorization":            "ErrAuthorization",
		"quota-exceeded":           "ErrQuotaExceeded",
		"throttled":                "ErrThrottled",
		"conflict":                 "ErrConflict",
		"invalid-argument":         "ErrInvalidArgument",
		"server":                   "ErrServer",
		"policy-denied":            "ErrPolicyDenied",
		"generic":                  "",
	}
	found, err := filepath.Glob("testdata/errors/*.json")
	require.NoError(t, err)
	assert.Len(t, found, len(files), "every sample file has an expected class here")

	for file, className := range files {
		for _, c := range fixtureCalls(t, filepath.Join("testdata/errors", file+".json")) {
			t.Run(file+"/"+strings.Join(c.Argv, "_"), func(t *testing.T) {
				assert.NotEmpty(t, c.Source, "each sample names where its shape comes from")
				err := runFixtureCall(t, c)
				var azErr *azcli.Error
				require.ErrorAs(t, err, &azErr)
				assert.Equal(t, c.Exit, azErr.ExitCode)

				for name, class := range allClasses {
					want := name == className ||
						(className == "ErrResourceGroupNotFound" && name == "ErrNotFound")
					assert.Equal(t, want, errors.Is(err, class), "errors.Is(err, %s) for stderr %q", name, c.Stderr)
				}
				if className == "" {
					assert.Nil(t, azErr.Unwrap())
				}

				if className == "ErrPolicyDenied" {
					return // its message is rewritten (TestPolicyDenialNamesItsAssignments)
				}
				// The message is az's first error line, without WARNING lines or "ERROR: ".
				first := strings.TrimPrefix(strings.SplitN(azcli.Redact(c.Stderr[strings.Index(c.Stderr, "ERROR: "):]), "\n", 2)[0], "ERROR: ")
				assert.Contains(t, err.Error(), "failed: "+first)
				assert.True(t, strings.HasPrefix(err.Error(), "az "+c.Argv[0]+" "), err.Error())
				assert.NotContains(t, azErr.Message, "WARNING")
			})
		}
	}
}

func TestErrorReadsLikeAzAndCarriesTheARMCode(t *testing.T) {
	c := fixtureCalls(t, "testdata/errors/not-found.json")[0]
	err := runFixtureCall(t, c)
	var azErr *azcli.Error
	require.ErrorAs(t, err, &azErr)
	assert.Equal(t, "az storage account show failed: (ResourceNotFound) The Resource 'Microsoft.Storage/storageAccounts/acct' "+
		"under resource group 'rg' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", err.Error())
	assert.Equal(t, "ResourceNotFound", azErr.Code)
	assert.Equal(t, 3, azErr.ExitCode)
	assert.Equal(t, []string{"storage", "account", "show", "-g", "rg", "-n", "acct", "--output", "json", "--only-show-errors"}, azErr.Args)
	assert.True(t, strings.HasPrefix(azErr.Message, "ERROR: (ResourceNotFound)"), azErr.Message)
	assert.False(t, errors.Is(err, azcli.ErrResourceGroupNotFound), "a missing account is not a missing group")
}

func TestErrorDropsWarningLinesBeforeTheError(t *testing.T) {
	c := fixtureCalls(t, "testdata/errors/already-exists.json")[0]
	require.Contains(t, c.Stderr, "WARNING: The public access", "the sample has a WARNING line first")
	err := runFixtureCall(t, c)
	var azErr *azcli.Error
	require.ErrorAs(t, err, &azErr)
	assert.Equal(t, "StorageAccountAlreadyTaken", azErr.Code)
	assert.Equal(t, "az storage account create failed: (StorageAccountAlreadyTaken) The storage account named acct is already taken.", err.Error())
	assert.Equal(t, "ERROR: (StorageAccountAlreadyTaken) The storage account named acct is already taken.\n"+
		"Code: StorageAccountAlreadyTaken\nMessage: The storage account named acct is already taken.", azErr.Message)
	assert.False(t, errors.Is(err, azcli.ErrConflict), "a taken name is not a retryable conflict")
}

func TestErrorHidesSecretsAzEchoes(t *testing.T) {
	calls := fixtureCalls(t, "testdata/errors/invalid-argument.json")
	c := calls[len(calls)-1]
	require.Contains(t, c.Stderr, "c2VjcmV0a2V5MTIzNA==", "the sample echoes the key")
	err := runFixtureCall(t, c)
	var azErr *azcli.Error
	require.ErrorAs(t, err, &azErr)
	assert.NotContains(t, err.Error(), "c2VjcmV0a2V5MTIzNA")
	assert.NotContains(t, azErr.Message, "c2VjcmV0a2V5MTIzNA")
	assert.NotContains(t, strings.Join(azErr.Args, " "), "c2VjcmV0a2V5MTIzNA")
	assert.Equal(t, "az storage account keys list failed: unrecognized arguments: --account-key REDACTED", err.Error())
}

func TestExitCodesClassifyWhenAzPrintsNoCode(t *testing.T) {
	for _, tc := range []struct {
		exit  int
		class error
	}{
		{3, azcli.ErrNotFound},        // az's exit code for a missing resource
		{2, azcli.ErrInvalidArgument}, // argparse
	} {
		err := runFixtureCall(t, aztest.Call{Argv: []string{"storage", "share-rm", "show"}, Exit: tc.exit, Stderr: "ERROR: something\n"})
		assert.ErrorIs(t, err, tc.class, "exit %d", tc.exit)
	}
	err := runFixtureCall(t, aztest.Call{Argv: []string{"storage", "share-rm", "show"}, Exit: 1})
	var azErr *azcli.Error
	require.ErrorAs(t, err, &azErr)
	assert.Nil(t, azErr.Unwrap())
	assert.Equal(t, "az storage share-rm show failed: exit code 1", err.Error())
}

// A policy denial names the assignments that denied it (name and id), in
// place of ARM's JSON list, and says what was denied.
func TestPolicyDenialNamesItsAssignments(t *testing.T) {
	calls := fixtureCalls(t, "testdata/errors/policy-denied.json")
	err := runFixtureCall(t, calls[0])
	require.ErrorIs(t, err, azcli.ErrPolicyDenied)
	assert.Equal(t, "az storage account create failed: (RequestDisallowedByPolicy) Resource 'acct' was disallowed by policy. "+
		`Azure Policy assignment "Secure transfer to storage accounts should be enabled" `+
		"(/subscriptions/9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203/providers/Microsoft.Authorization/policyAssignments/secure-transfer).", err.Error())
	assert.Equal(t, []azcli.PolicyAssignment{{Name: "Secure transfer to storage accounts should be enabled",
		ID: "/subscriptions/9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203/providers/Microsoft.Authorization/policyAssignments/secure-transfer"}},
		azcli.DeniedByPolicy(err))

	err = runFixtureCall(t, calls[1])
	assert.Equal(t, "Deny-Private-DNS-Zones", azcli.DeniedByPolicy(err)[0].Name)
	assert.Contains(t, err.Error(), "/managementGroups/contoso-corp/providers/Microsoft.Authorization/policyAssignments/Deny-Private-DNS-Zones")

	assert.Nil(t, azcli.DeniedByPolicy(runFixtureCall(t, fixtureCalls(t, "testdata/errors/authorization.json")[0])))
}
