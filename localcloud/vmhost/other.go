//go:build !linux

package vmhost

import "context"

// VM hosts need Linux namespaces; elsewhere every operation fails.

func Boot(ctx context.Context, cfg Config) error    { return errNotLinux }
func Stop(diskDir string) error                     { return nil }
func Restart(ctx context.Context, cfg Config) error { return errNotLinux }
func Destroy(diskDir string) error                  { return errNotLinux }
func Running(diskDir string) bool                   { return false }
func DownAll(stateDir string) error                 { return nil }
func MainInit(args []string) int                    { return 1 }
func MountShare(shareDir, target string, readOnly bool) error {
	return errNotLinux
}
func Run(ctx context.Context, diskDir, script string) (stdout, stderr string, exitCode int, err error) {
	return "", "", -1, errNotLinux
}
