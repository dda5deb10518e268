//go:build linux && localcloud

package vmhost

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azlin-dev/azlin/localcloud/testenv"
	"github.com/stretchr/testify/require"
)

// The test binary is its own emulator: Boot re-executes it as a host's init,
// and the host's mount.nfs helper runs it as `__azemu-nfs-mount`.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case InitArg:
			os.Exit(MainInit(os.Args[2:]))
		case "__azemu-nfs-mount":
			os.Exit(fakeNFSMount(os.Args[2:]))
		}
	}
	killHostsWithParent = true
	code := m.Run()
	if keyDir != "" {
		os.RemoveAll(keyDir)
	}
	os.Exit(code)
}

// fakeNFSMount stands in for localcloud/cmd/az's `__azemu-nfs-mount`: it maps
// ACCOUNT.file.core.windows.net:/ACCOUNT/SHARE to $AZEMU_STATE_DIR/shares/ACCOUNT/SHARE,
// refuses shares that do not exist as Azure would refuse a disallowed client,
// and records its argv so that tests can see what mount(8) passes.
func fakeNFSMount(args []string) int {
	state := os.Getenv("AZEMU_STATE_DIR")
	f, _ := os.OpenFile(filepath.Join(state, "nfs-mount-calls"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	fmt.Fprintf(f, "%s %s %s\n", os.Getenv("AZEMU_VM"), os.Getenv("AZEMU_NFS_FSTYPE"), strings.Join(args, " "))
	f.Close()
	var pos []string
	opts := ""
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "-o" && i+1 < len(args):
			opts = args[i+1]
			i++
		case strings.HasPrefix(args[i], "-"):
		default:
			pos = append(pos, args[i])
		}
	}
	if len(pos) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mount.nfs remotetarget dir [-o nfsoptions]")
		return 2
	}
	_, path, _ := strings.Cut(pos[0], ":")
	share := filepath.Join(state, "shares", path)
	if _, err := os.Stat(share); err != nil {
		fmt.Fprintf(os.Stderr, "mount.nfs: access denied by server while mounting %s\n", pos[0])
		return 32
	}
	if err := MountShare(share, pos[1], contains(strings.Split(opts, ","), "ro")); err != nil {
		fmt.Fprintf(os.Stderr, "mount.nfs: %v\n", err)
		return 32
	}
	return 0
}

var (
	keyOnce sync.Once
	keyDir  string
	ipSeq   atomic.Int32
)

// sshKey is a key pair made once for the whole test binary.
func sshKey(t testing.TB) (private, public string) {
	keyOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vmhost-key")
		if err == nil {
			err = exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, "id")).Run()
		}
		if err != nil {
			panic(err)
		}
		keyDir = dir
	})
	pub, err := os.ReadFile(filepath.Join(keyDir, "id.pub"))
	require.NoError(t, err)
	return filepath.Join(keyDir, "id"), string(pub)
}

// newConfig is a host config with a disk in a fresh state dir, torn down
// with DownAll when the test ends, pass or fail.
func newConfig(t testing.TB, name string) Config {
	t.Helper()
	bin, err := os.Executable()
	require.NoError(t, err)
	state := t.TempDir()
	t.Cleanup(func() { require.NoError(t, DownAll(state)) })
	_, pub := sshKey(t)
	image, err := testenv.VMImage()
	require.NoError(t, err)
	// A loopback /24 of this test process's own, so parallel packages do not collide.
	ip := fmt.Sprintf("127.%d.%d.%d", 100+os.Getpid()%100, (os.Getpid()/100)%250, 10+ipSeq.Add(1))
	return Config{
		Name:         name,
		DiskDir:      filepath.Join(state, "hosts", name),
		IP:           ip,
		AdminUser:    "azureuser",
		SSHPublicKey: pub,
		EmulatorBin:  bin,
		Image:        image,
		StateDir:     state,
		Env:          []string{"AZEMU_STATE_DIR=" + hostState, "AZEMU_VM=" + name},
	}
}

func boot(t testing.TB, cfg Config) {
	t.Helper()
	// A guard against a hung boot, not a timing assertion: real cloud-init's
	// early stages take far longer on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, Boot(ctx, cfg))
}

// run runs a script in the host and fails the test if it cannot be run.
func run(t testing.TB, cfg Config, script string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, errOut, code, err := Run(ctx, cfg.DiskDir, script)
	require.NoError(t, err)
	return out, errOut, code
}

// mustRun runs a script that must succeed and returns its stdout.
func mustRun(t testing.TB, cfg Config, script string) string {
	t.Helper()
	out, errOut, code := run(t, cfg, script)
	require.Equal(t, 0, code, "script %q failed: stdout=%q stderr=%q", script, out, errOut)
	return out
}

func sshRun(t testing.TB, cfg Config, command string) (string, error) {
	t.Helper()
	key, _ := sshKey(t)
	out, err := exec.Command("ssh", "-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5",
		cfg.AdminUser+"@"+cfg.IP, command).CombinedOutput()
	return string(out), err
}
