package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/config"
	"github.com/azlin-dev/azlin/internal/output"
)

func newConfigCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show and change azlin's settings (~/.azlin/config.toml)",
		Long: joinLines(
			"azlin keeps its settings in a TOML file: $AZLIN_CONFIG_DIR/config.toml, or",
			"~/.azlin/config.toml (--config names another file). The file is written",
			"atomically with mode 0600.",
			"",
			"Keys: "+strings.Join(config.Keys(), ", "),
			"",
			"The resource group is taken from -g, then $AZLIN_RESOURCE_GROUP, then",
			"default_resource_group. The region from --region, then default_region, then",
			"the resource group's location.",
		),
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newConfigShowCmd(a), newConfigGetCmd(a, nil), newConfigSetCmd(a, nil), newConfigInitCmd(a, nil))
	return cmd
}

func newConfigShowCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Print every setting and where the file is",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.Config()
			if err != nil {
				return err
			}
			path, err := a.ConfigPath()
			if err != nil {
				return err
			}
			p := a.Printer()
			if _, statErr := os.Stat(path); errors.Is(statErr, fs.ErrNotExist) {
				p.Infof("No config file at %s yet; showing defaults. Create it with: azlin config init", path)
			} else {
				p.Infof("Config file: %s", path)
			}
			values := map[string]string{}
			t := output.Table{Headers: []string{"KEY", "VALUE"}}
			for _, k := range config.Keys() {
				v, err := cfg.Get(k)
				if err != nil {
					return err
				}
				values[k] = v
				t.Rows = append(t.Rows, []string{k, v})
			}
			return p.Render(t, values)
		},
	}
}

// configGetOptions are `azlin config get`'s argument.
type configGetOptions struct {
	Key string
}

// newConfigGetCmd is `azlin config get`; runF, when not nil, replaces the
// run (tests of flag parsing).
func newConfigGetCmd(a *app, runF func(*configGetOptions) error) *cobra.Command {
	var o configGetOptions
	return &cobra.Command{
		Use:     "get KEY",
		Short:   "Print one setting",
		Example: "  azlin config get default_resource_group",
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Key = args[0]
			if runF != nil {
				return runF(&o)
			}
			return runConfigGet(cmd.Context(), a, &o)
		},
	}
}

// runConfigGet prints one setting.
func runConfigGet(ctx context.Context, a *app, o *configGetOptions) error {
	cfg, err := a.Config()
	if err != nil {
		return err
	}
	v, err := cfg.Get(o.Key)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(a.Printer().Out, v)
	return err
}

// configSetOptions are `azlin config set`'s arguments.
type configSetOptions struct {
	Key, Value string
}

// newConfigSetCmd is `azlin config set`; runF, when not nil, replaces the
// run (tests of flag parsing).
func newConfigSetCmd(a *app, runF func(*configSetOptions) error) *cobra.Command {
	var o configSetOptions
	return &cobra.Command{
		Use:     "set KEY VALUE",
		Short:   "Change one setting",
		Long:    "Change one setting and save the file.\n\nKeys:\n" + configKeysHelp(),
		Example: "  azlin config set default_resource_group my-rg\n  azlin config set default_region westus2",
		Args:    usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Key, o.Value = args[0], args[1]
			if runF != nil {
				return runF(&o)
			}
			return runConfigSet(cmd.Context(), a, &o)
		},
	}
}

// runConfigSet changes one setting and saves the file.
func runConfigSet(ctx context.Context, a *app, o *configSetOptions) error {
	cfg, err := a.Config()
	if err != nil {
		return err
	}
	if err := cfg.Set(o.Key, o.Value); err != nil {
		return err
	}
	path, err := a.ConfigPath()
	if err != nil {
		return err
	}
	if err := config.Save(path, cfg); err != nil {
		return err
	}
	a.Printer().Successf("%s = %s (saved to %s)", o.Key, o.Value, path)
	return nil
}

// configInitOptions are `azlin config init`'s own flag (-g is global).
type configInitOptions struct {
	Region string
}

// newConfigInitCmd is `azlin config init`; runF, when not nil, replaces the
// run (tests of flag parsing).
func newConfigInitCmd(a *app, runF func(*configInitOptions) error) *cobra.Command {
	var o configInitOptions
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the config file, with your resource group and region",
		Long: joinLines(
			"Create the config file with azlin's defaults. -g sets default_resource_group",
			"and --region sets default_region. An existing file is kept: only the values",
			"you pass are changed in it.",
		),
		Example: "  azlin config init -g my-rg --region westus2",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(&o)
			}
			return runConfigInit(cmd.Context(), a, &o)
		},
	}
	cmd.Flags().StringVar(&o.Region, "region", "", "default Azure region, e.g. westus2")
	return cmd
}

// runConfigInit writes the config file with the values given.
func runConfigInit(ctx context.Context, a *app, o *configInitOptions) error {
	region := o.Region
	cfg, err := a.Config()
	if err != nil {
		return err
	}
	if a.flags.resourceGroup != "" {
		if err := cfg.Set("default_resource_group", a.flags.resourceGroup); err != nil {
			return err
		}
	}
	if region != "" {
		if err := cfg.Set("default_region", region); err != nil {
			return err
		}
	}
	path, err := a.ConfigPath()
	if err != nil {
		return err
	}
	if err := config.Save(path, cfg); err != nil {
		return err
	}
	a.Printer().Successf("Config written to %s", path)
	if cfg.DefaultResourceGroup == "" {
		a.Printer().Infof("Next: azlin config set default_resource_group NAME (or pass -g NAME to each command)")
	}
	return nil
}

// configKeysHelp lists every setting with what it means, one per line, for
// `azlin config set --help`.
func configKeysHelp() string {
	width := 0
	for _, k := range config.Keys() {
		width = max(width, len(k))
	}
	var b strings.Builder
	for _, k := range config.Keys() {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, k, config.Describe(k))
	}
	return strings.TrimRight(b.String(), "\n")
}
