package config

import (
	"fmt"
	"os"

	"github.com/azlin-dev/azlin/internal/clierr"
)

// Where a resolved resource group came from, as ResolveResourceGroup reports
// it. The strings are written for messages like "using resource group X
// (from AZLIN_RESOURCE_GROUP)".
const (
	SourceFlag   = "--resource-group"
	SourceEnv    = EnvResourceGroup
	SourceConfig = "config default_resource_group"
)

// ResolveResourceGroup picks the resource group: the -g flag, then
// $AZLIN_RESOURCE_GROUP, then the config's default_resource_group. Empty
// values count as not given. The winner is validated, and the error names
// where the bad value came from. c may be nil.
func ResolveResourceGroup(flag string, c *Config) (name string, source string, err error) {
	switch {
	case flag != "":
		name, source = flag, SourceFlag
	case os.Getenv(EnvResourceGroup) != "":
		name, source = os.Getenv(EnvResourceGroup), SourceEnv
	case c != nil && c.DefaultResourceGroup != "":
		name, source = c.DefaultResourceGroup, SourceConfig
	default:
		return "", "", clierr.Usagef("no resource group given: pass -g NAME, export %s=NAME, or run: azlin config set default_resource_group NAME", EnvResourceGroup)
	}
	if err := validRG(name); err != nil {
		return "", "", clierr.Usagef("invalid resource group name %q (from %s): %v", name, source, err)
	}
	return name, source, nil
}

// ResolveRegion picks the region as RegionFrom does, with the config's
// default_region (c may be nil).
func ResolveRegion(flag string, c *Config, groupLocation func() (string, error)) (string, error) {
	defaultRegion := ""
	if c != nil {
		defaultRegion = c.DefaultRegion
	}
	return RegionFrom(flag, defaultRegion, groupLocation)
}

// RegionFrom picks the region: the --region flag, then the configured default
// region, else the resource group's own location, asked of groupLocation only
// when neither is set (it costs an az call).
func RegionFrom(flag, defaultRegion string, groupLocation func() (string, error)) (string, error) {
	if flag != "" {
		if err := validRegion(flag); err != nil {
			return "", clierr.Usagef("invalid --region: %v", err)
		}
		return flag, nil
	}
	if defaultRegion != "" {
		return defaultRegion, nil
	}
	if groupLocation == nil {
		return "", clierr.Usagef("no region given: pass --region REGION or run: azlin config set default_region REGION")
	}
	loc, err := groupLocation()
	if err != nil {
		return "", fmt.Errorf("no --region or default_region given, and the resource group's region could not be read: %w", err)
	}
	if loc == "" {
		return "", fmt.Errorf("no --region or default_region given, and the resource group reports no region: pass --region REGION")
	}
	return loc, nil
}
