// Command azlin gives developers Azure Linux VMs that share one home
// directory over Azure Files NFS. See README.md.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
