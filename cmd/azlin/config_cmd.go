package main

import (
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
	cmd.AddCommand(newConfigShowCmd(a), newConfigGetCmd(a), newConfigSetCmd(a), newConfigInitCmd(a))
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

func newConfigGetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "get KEY",
		Short:   "Print one setting",
		Example: "  azlin config get default_resource_group",
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.Config()
			if err != nil {
				return err
			}
			v, err := cfg.Get(args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.Printer().Out, v)
			return err
		},
	}
}

func newConfigSetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "set KEY VALUE",
		Short:   "Change one setting",
		Long:    "Change one setting and save the file. Keys: " + strings.Join(config.Keys(), ", "),
		Example: "  azlin config set default_resource_group my-rg\n  azlin config set default_region westus2",
		Args:    usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.Config()
			if err != nil {
				return err
			}
			if err := cfg.Set(args[0], args[1]); err != nil {
				return err
			}
			path, err := a.ConfigPath()
			if err != nil {
				return err
			}
			if err := config.Save(path, cfg); err != nil {
				return err
			}
			a.Printer().Successf("%s = %s (saved to %s)", args[0], args[1], path)
			return nil
		},
	}
}

func newConfigInitCmd(a *app) *cobra.Command {
	var region string
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
		},
	}
	cmd.Flags().StringVar(&region, "region", "", "default Azure region, e.g. westus2")
	return cmd
}
