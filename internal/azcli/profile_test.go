package azcli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCurrentSubscriptionReadsAzsProfile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvAzureConfigDir, dir)
	assert.Equal(t, "", CurrentSubscription(), "no profile: no hint")

	// az's shape (azure-cli-core _profile.py): a BOM, then the subscriptions
	// az knows, the current one isDefault.
	profile := "\xef\xbb\xbf" + `{"installationId": "x", "subscriptions": [
 {"id": "11111111-1111-1111-1111-111111111111", "name": "Other", "isDefault": false, "state": "Enabled"},
 {"id": "9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203", "name": "Contoso Dev", "isDefault": true, "state": "Enabled"}]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "azureProfile.json"), []byte(profile), 0o600))
	assert.Equal(t, "9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203", CurrentSubscription())

	require.NoError(t, os.WriteFile(filepath.Join(dir, "azureProfile.json"), []byte("{"), 0o600))
	assert.Equal(t, "", CurrentSubscription(), "unreadable: no hint")
}
