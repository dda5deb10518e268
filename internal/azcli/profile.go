package azcli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
)

// EnvAzureConfigDir is where az keeps its login and settings (default
// ~/.azure); azlin reads it only for CurrentSubscription.
const EnvAzureConfigDir = "AZURE_CONFIG_DIR"

// CurrentSubscription is the id of az's current subscription (the one
// `az account set` chose) as az's azureProfile.json records it, without
// starting az; "" when it cannot be read. It is a hint to key caches by
// (another subscription may hold a VM of the same group and name), never
// a fact a command acts on: that is `az account show`'s.
func CurrentSubscription() string {
	dir := os.Getenv(EnvAzureConfigDir)
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".azure")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "azureProfile.json"))
	if err != nil {
		return ""
	}
	var p struct {
		Subscriptions []struct {
			ID        string `json:"id"`
			IsDefault bool   `json:"isDefault"`
		} `json:"subscriptions"`
	}
	// az writes the file with a UTF-8 byte order mark.
	if json.Unmarshal(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")), &p) != nil {
		return ""
	}
	for _, s := range p.Subscriptions {
		if s.IsDefault {
			return s.ID
		}
	}
	return ""
}
