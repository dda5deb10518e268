package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/vmprov"
)

// These tests check flag and argument parsing alone: each command is built
// with a run hook that only keeps the options it was given, so nothing runs
// and no az call may happen.

// flagCase is one command line and the options it must parse into.
type flagCase[O any] struct {
	name string
	args []string
	want O
}

// parsed runs the command newCmd builds with args and returns the options
// its run hook received.
func parsed[O any](t *testing.T, newCmd func(*app, func(*O) error) *cobra.Command, args []string) O {
	t.Helper()
	a := &app{newRunner: func() azcli.Runner { return aztest.New(t) }} // any az call fails the test
	var got *O
	cmd := newCmd(a, func(o *O) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	require.NoError(t, cmd.Execute(), "%v", args)
	require.NotNil(t, got, "%v: the run hook was not called", args)
	return *got
}

func checkFlags[O any](t *testing.T, newCmd func(*app, func(*O) error) *cobra.Command, cases []flagCase[O]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, parsed(t, newCmd, tc.args))
		})
	}
}

func TestNewFlags(t *testing.T) {
	defaults := newOptions{Image: vmprov.DefaultImage, Timeout: vmprov.DefaultWaitTimeout}
	checkFlags(t, newNewCmd, []flagCase[newOptions]{
		{"defaults", nil, defaults},
		{"every flag", []string{"--name", "w1", "--size", "Standard_D4s_v5", "--region", "westus2", "--image", "img:1",
			"--shared-home", "dev-shared", "--no-wait", "--timeout", "90s"},
			newOptions{Name: "w1", Size: "Standard_D4s_v5", Region: "westus2", Image: "img:1", SharedHome: "dev-shared",
				NoWait: true, Timeout: 90 * time.Second, ImageSet: true, SharedHomeSet: true}},
		{"empty values are given flags", []string{"--image=", "--shared-home="},
			newOptions{Timeout: vmprov.DefaultWaitTimeout, ImageSet: true, SharedHomeSet: true}},
	})
}

func TestStorageCreateFlags(t *testing.T) {
	defaults := storageCreateOptions{Name: "dev-shared", Tier: "PremiumV2", Size: "100GB", Redundancy: "LRS",
		RootSquash: "NoRootSquash", Network: "private-endpoint", Layout: layout.Default}
	every := storageCreateOptions{Name: "dev-shared", Tier: "Standard", Size: "1TB", Region: "westus2", Redundancy: "ZRS",
		RootSquash: "RootSquash", Network: "service-endpoint", VNet: "v", VNetPrefix: "10.1.0.0/16", Subnet: "s",
		SubnetPrefix: "10.1.0.0/24", Layout: "minimal",
		TierSet: true, SizeSet: true, RedundancySet: true, RootSquashSet: true, NetworkSet: true, LayoutSet: true}
	// A flag given with its default value still counts as given: an
	// existing storage with other settings is then an error, not kept.
	explicitDefault := defaults
	explicitDefault.TierSet = true
	checkFlags(t, newStorageCreateCmd, []flagCase[storageCreateOptions]{
		{"defaults", []string{"dev-shared"}, defaults},
		{"every flag", []string{"dev-shared", "--tier", "Standard", "--size", "1TB", "--region", "westus2",
			"--redundancy", "ZRS", "--root-squash", "RootSquash", "--network", "service-endpoint", "--vnet", "v",
			"--vnet-prefix", "10.1.0.0/16", "--subnet", "s", "--subnet-prefix", "10.1.0.0/24", "--layout", "minimal"}, every},
		{"flag before the name", []string{"--tier", "PremiumV2", "dev-shared"}, explicitDefault},
		{"PremiumV2 performance", []string{"dev-shared", "--iops", "5000", "--throughput", "200"},
			func() storageCreateOptions { o := defaults; o.IOPS, o.Throughput = 5000, 200; return o }()},
	})
}

func TestStorageAttachFlags(t *testing.T) {
	checkFlags(t, newStorageAttachCmd, []flagCase[storageAttachOptions]{
		{"no --vm", []string{"dev-shared"}, storageAttachOptions{Name: "dev-shared"}},
		{"one --vm", []string{"dev-shared", "--vm", "w1"}, storageAttachOptions{Name: "dev-shared", VMs: []string{"w1"}}},
		// Repeats are kept as given; the run drops duplicates.
		{"repeated --vm", []string{"--vm", "w1", "dev-shared", "--vm", "w2", "--vm", "w1"},
			storageAttachOptions{Name: "dev-shared", VMs: []string{"w1", "w2", "w1"}}},
		// --vm takes each value whole: a comma is part of the name (and
		// refused as one later), not a separator.
		{"no comma splitting", []string{"dev-shared", "--vm", "w1,w2"}, storageAttachOptions{Name: "dev-shared", VMs: []string{"w1,w2"}}},
	})
}

func TestStorageDetachFlags(t *testing.T) {
	checkFlags(t, newStorageDetachCmd, []flagCase[storageDetachOptions]{
		{"defaults", nil, storageDetachOptions{}},
		{"--vm", []string{"--vm", "w1"}, storageDetachOptions{VM: "w1"}},
		{"--force", []string{"--vm=w1", "--force"}, storageDetachOptions{VM: "w1", Force: true}},
	})
}

func TestStorageArgumentCommands(t *testing.T) {
	checkFlags(t, newStorageDeleteCmd, []flagCase[storageDeleteOptions]{
		{"name", []string{"dev-shared"}, storageDeleteOptions{Name: "dev-shared"}},
	})
	checkFlags(t, newStorageStatusCmd, []flagCase[storageStatusOptions]{
		{"name", []string{"dev-shared"}, storageStatusOptions{Name: "dev-shared"}},
	})
	checkFlags(t, newStorageCheckCmd, []flagCase[storageCheckOptions]{
		{"no --vm", []string{"dev-shared"}, storageCheckOptions{Name: "dev-shared"}},
		{"--vm", []string{"dev-shared", "--vm", "w1"}, storageCheckOptions{Name: "dev-shared", VM: "w1"}},
	})
	checkFlags(t, newLayoutShowCmd, []flagCase[layoutShowOptions]{
		{"storage", []string{"dev-shared"}, layoutShowOptions{Storage: "dev-shared"}},
	})
	checkFlags(t, newLayoutSetCmd, []flagCase[layoutSetOptions]{
		{"storage and layout", []string{"dev-shared", "minimal"}, layoutSetOptions{Storage: "dev-shared", Layout: "minimal"}},
	})
}

func TestSSHArgs(t *testing.T) {
	checkFlags(t, newSSHCmd, []flagCase[sshOptions]{
		{"login session", []string{"w1"}, sshOptions{VM: "w1", Command: []string{}}},
		{"command after --", []string{"w1", "--", "df", "-h"}, sshOptions{VM: "w1", Command: []string{"df", "-h"}}},
		// After -- everything is the remote command's, flags included.
		{"flags after -- are the command's", []string{"w1", "--", "ls", "--all", "-g"},
			sshOptions{VM: "w1", Command: []string{"ls", "--all", "-g"}}},
		{"one quoted pipeline", []string{"w1", "--", "df -h | grep home"}, sshOptions{VM: "w1", Command: []string{"df -h | grep home"}}},
	})
}

func TestDeleteArgs(t *testing.T) {
	checkFlags(t, newDeleteCmd, []flagCase[deleteOptions]{
		{"vm", []string{"w1"}, deleteOptions{VM: "w1"}},
	})
}

func TestCostFlags(t *testing.T) {
	checkFlags(t, newCostCmd, []flagCase[costOptions]{
		{"defaults", nil, costOptions{By: "all"}},
		{"--by", []string{"--by", "storage"}, costOptions{By: "storage"}},
		{"--actual", []string{"--actual", "--by=vm"}, costOptions{By: "vm", Actual: true}},
		// An unknown --by is refused by the run, with azlin's own message.
		{"--by is not checked while parsing", []string{"--by", "disk"}, costOptions{By: "disk"}},
	})
	checkFlags(t, newCostPricesCmd, []flagCase[costPricesOptions]{
		{"defaults", nil, costPricesOptions{}},
		{"--refresh with regions", []string{"--refresh", "--region", "westus2,eastus", "--region", "North Europe"},
			costPricesOptions{Refresh: true, Regions: []string{"westus2", "eastus", "North Europe"}}},
	})
}

func TestConfigArgs(t *testing.T) {
	checkFlags(t, newConfigSetCmd, []flagCase[configSetOptions]{
		{"key and value", []string{"default_region", "westus2"}, configSetOptions{Key: "default_region", Value: "westus2"}},
		{"empty value", []string{"default_region", ""}, configSetOptions{Key: "default_region"}},
	})
	checkFlags(t, newConfigGetCmd, []flagCase[configGetOptions]{
		{"key", []string{"default_region"}, configGetOptions{Key: "default_region"}},
	})
	checkFlags(t, newConfigInitCmd, []flagCase[configInitOptions]{
		{"defaults", nil, configInitOptions{}},
		{"--region", []string{"--region", "westus2"}, configInitOptions{Region: "westus2"}},
	})
}

// A command line that does not parse is a usage error (exit 2) with a hint
// at the command's help, before any az call.
func TestParseErrorsAreUsageErrors(t *testing.T) {
	t.Setenv("AZLIN_CONFIG_DIR", t.TempDir())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"new", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"new", "extra"}, `unknown command "extra" for "azlin new"`},
		{[]string{"new", "--timeout", "soon"}, `invalid argument "soon" for "--timeout"`},
		{[]string{"storage", "create"}, "accepts 1 arg(s), received 0"},
		{[]string{"storage", "attach", "a", "b", "--vm", "w1"}, "accepts 1 arg(s), received 2"},
		{[]string{"storage", "detach", "--vm"}, "flag needs an argument: --vm"},
		{[]string{"delete"}, "accepts 1 arg(s), received 0"},
		{[]string{"config", "set", "default_region"}, "accepts 2 arg(s), received 1"},
		{[]string{"cost", "--actual=maybe"}, `invalid argument "maybe" for "--actual"`},
	} {
		stdout, stderr, code := runWith(t, context.Background(), aztest.New(t), tc.args...)
		assert.Equal(t, 2, code, "%v: %s", tc.args, stderr)
		assert.Empty(t, stdout, "%v", tc.args)
		assert.Contains(t, stderr, tc.want, "%v", tc.args)
		assert.Contains(t, stderr, "--help' for usage.", "%v", tc.args)
	}
}
