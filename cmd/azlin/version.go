package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/azlin-dev/azlin/internal/version"
)

type versionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print azlin's version, commit and Go version",
		RunE: func(cmd *cobra.Command, args []string) error {
			v := versionInfo{version.Version, version.Commit, runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH}
			p := a.Printer()
			if p.Document() {
				return p.JSON(v)
			}
			_, err := fmt.Fprintf(p.Out, "azlin %s (commit %s, %s, %s)\n", v.Version, v.Commit, v.GoVersion, v.Platform)
			return err
		},
	}
}
