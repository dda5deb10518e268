package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/azlin-dev/azlin/internal/clierr"
)

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "azlin",
		Short: "Azure Linux VMs for developers, with one home directory shared over NFS",
		Long: joinLines(
			"azlin creates Azure Linux VMs for development and lets several of them share",
			"one home directory on Azure Files NFS: a file written in ~ on one VM is there on all.",
			"",
			"Start here:",
			"  azlin config init -g my-rg --region westus2      remember your resource group",
			"  azlin storage create dev-shared                  create shared NFS storage",
			"  azlin new --shared-home dev-shared --name w1     a VM whose ~ is on that storage",
			"",
			"azlin runs the Azure CLI (az) for every Azure operation; log in with `az login` first.",
			"",
			"As with az, --query takes a JMESPath expression that shapes the JSON document of a",
			"command's output, in every output format:",
			"  azlin storage list -o json --query '[].name'",
			"  azlin list -o tsv --query \"[?state=='running'].name\"",
			"",
			"Shell completion, VM and storage names included: azlin completion --help.",
		),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setupPrinter(); err != nil {
				return err
			}
			return a.setupQuery(cmd)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVarP(&a.flags.resourceGroup, "resource-group", "g", "", "Azure resource group (default: $AZLIN_RESOURCE_GROUP, then default_resource_group in the config)")
	pf.StringVar(&a.flags.subscription, "subscription", "", "Azure subscription name or id (default: az's current subscription)")
	pf.StringVarP(&a.flags.output, "output", "o", "table", "output format: table, json or tsv")
	pf.StringVar(&a.flags.query, "query", "", queryFlagHelp)
	pf.BoolVarP(&a.flags.yes, "yes", "y", false, "answer yes to confirmation prompts (required when not running interactively)")
	pf.BoolVar(&a.flags.dryRun, "dry-run", false, "print the az commands that would change Azure, and change nothing")
	pf.BoolVar(&a.flags.debug, "debug", false, "log every az call (arguments, exit code, duration) to stderr, secrets redacted")
	pf.StringVar(&a.flags.configPath, "config", "", "config file (default: $AZLIN_CONFIG_DIR/config.toml or ~/.azlin/config.toml)")

	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return clierr.Usagef("%s", err.Error())
	})
	root.CompletionOptions.HiddenDefaultCmd = false

	root.AddCommand(
		newVersionCmd(a),
		newConfigCmd(a),
		newStorageCmd(a),
		newNewCmd(a, nil),
		newListCmd(a),
		newSSHCmd(a, nil),
		newAllowSSHCmd(a, nil),
		newDeleteCmd(a, nil),
		newCostCmd(a, nil),
	)
	registerCompletions(a, root)
	// Every subcommand validates its positional args as usage errors.
	walk(root, func(c *cobra.Command) {
		if c.Args == nil {
			c.Args = usageArgs(cobra.NoArgs)
		}
	})
	return root
}

func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		walk(sub, f)
	}
}

// flagChanged tells whether the user set a flag explicitly.
func flagChanged(fs *pflag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	return f != nil && f.Changed
}
