// Package version holds build information, set by the Makefile through -ldflags.
package version

var (
	Version = "dev"
	Commit  = "unknown"
)
