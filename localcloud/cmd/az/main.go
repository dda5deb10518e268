// Command azemu is the local cloud's stand-in for the Azure CLI, installed as
// `az` (build/local-cloud/az) for tests and the demo. See package azemu.
//
// `az __azemu-down` stops every VM host under AZEMU_STATE_DIR.
package main

import (
	"os"

	"github.com/azlin-dev/azlin/localcloud/azemu"
	"github.com/azlin-dev/azlin/localcloud/vmhost"
)

func main() {
	// A VM host's PID 1 is this binary re-executed: hand over before anything else.
	if len(os.Args) > 1 && os.Args[1] == vmhost.InitArg {
		os.Exit(vmhost.MainInit(os.Args[2:]))
	}
	os.Exit(azemu.Main(os.Args[1:], os.Getenv, azemu.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
