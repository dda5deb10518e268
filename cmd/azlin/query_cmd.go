package main

import (
	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/output"
)

// queryFlagHelp is the help of the global --query flag.
const queryFlagHelp = "JMESPath query applied to the JSON document a command prints, as az's --query " +
	"(e.g. --query '[].name'); with -o table or tsv the result is printed as az prints it"

// noDocument are the commands that print no JSON document (a session,
// a deletion, a setting, help, a completion script): --query would have
// nothing to shape, so it is refused there (a usage error) rather than
// silently ignored.
var noDocument = map[string]bool{
	"azlin": true, "azlin storage": true, "azlin config": true, "azlin storage layout": true,
	"azlin ssh": true, "azlin delete": true, "azlin storage delete": true,
	"azlin config get": true, "azlin config set": true, "azlin config init": true,
	"azlin help": true, "azlin completion": true, "azlin completion bash": true, "azlin completion zsh": true,
	"azlin completion fish": true, "azlin completion powershell": true,
}

// setupQuery compiles --query for the printer, before the command runs and
// so before any az call: a bad expression, or a command without a
// document, is a usage error (exit 2), as az refuses a bad --query.
func (a *app) setupQuery(cmd *cobra.Command) error {
	if !flagChanged(cmd.Flags(), "query") {
		return nil
	}
	if path := cmd.CommandPath(); noDocument[path] {
		return clierr.Usagef("%s prints no JSON document, so --query has nothing to query (it applies to commands with -o json output)", path)
	}
	q, err := output.ParseQuery(a.flags.query)
	if err != nil {
		return err
	}
	a.printer.Query = q
	return nil
}
