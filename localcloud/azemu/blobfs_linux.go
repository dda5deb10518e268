package azemu

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// A Blob NFS 3.0 mount in a host is a small FUSE file system served by the
// emulator itself (go-fuse's loopback node, so reads, writes, ownership,
// modes, renames and symlinks pass through to the container's folder
// unchanged), with what Blob NFS does not have taken out ("Known issues
// with NFS 3.0 protocol support for Azure Blob Storage", learn.microsoft.com
// storage/blobs/network-file-system-protocol-known-issues):
//
//   - hard links: LINK fails, and the client reports "Operation not
//     supported" (RFC 1813's NFS3ERR_NOTSUPP for a server without them);
//   - byte-range locks: Blob NFS has no Network Lock Manager, and "mount
//     commands must include the -o nolock parameter". With nolock the Linux
//     client keeps locks local to the VM (nfs(5): they exclude only other
//     processes on the same client), so they succeed: the kernel's own
//     locking does that here too. Without nolock the client asks a lock
//     manager that is not there, and fcntl/flock fail with ENOLCK ("No
//     locks available").
//
// A bind mount cannot refuse one system call, so the emulator serves the
// mount; the server process lives in the host and ends with the mount.

// blobNode is a loopback node without hard links, and without byte-range
// locks when refuseLocks (a mount without nolock).
type blobNode struct {
	*fs.LoopbackNode
	refuseLocks bool
}

func (n *blobNode) WrapChild(ctx context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	return &blobNode{LoopbackNode: ops.(*fs.LoopbackNode), refuseLocks: n.refuseLocks}
}

func (n *blobNode) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EOPNOTSUPP
}

// The lock calls reach the server only when the mount forwards locks
// (EnableLocks, i.e. without nolock); then they fail as without NLM.
func (n *blobNode) Getlk(ctx context.Context, f fs.FileHandle, owner uint64, lk *fuse.FileLock, flags uint32, out *fuse.FileLock) syscall.Errno {
	return syscall.ENOLCK
}

func (n *blobNode) Setlk(ctx context.Context, f fs.FileHandle, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return syscall.ENOLCK
}

func (n *blobNode) Setlkw(ctx context.Context, f fs.FileHandle, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return syscall.ENOLCK
}

// BlobFSCommand is the hidden entry point of the server process:
// `az __azemu-blobfs SOURCE FOLDER DIR [ro] [nolock]`. It mounts, says "ok"
// (or why not) on fd 3, and serves until DIR is unmounted.
const BlobFSCommand = "__azemu-blobfs"

func blobFSMain(argv []string, stdio IO) int {
	ready := os.NewFile(3, "ready")
	if len(argv) < 4 {
		fmt.Fprintln(stdio.Stderr, "usage: az "+BlobFSCommand+" SOURCE FOLDER DIR [ro] [nolock]")
		return 2
	}
	src, folder, dir, flags := argv[1], argv[2], argv[3], argv[4:]
	root, err := fs.NewLoopbackRoot(folder)
	if err != nil {
		fmt.Fprintln(ready, err)
		return 1
	}
	loop := root.(*fs.LoopbackNode)
	node := &blobNode{LoopbackNode: loop, refuseLocks: !contains(flags, "nolock")}
	loop.RootData.RootNode = node
	timeout := time.Second
	opts := &fs.Options{
		EntryTimeout: &timeout, AttrTimeout: &timeout,
		MountOptions: fuse.MountOptions{
			AllowOther: true, DirectMountStrict: true, FsName: src, Name: "azemu-blobnfs",
			EnableLocks: node.refuseLocks,
			// The kernel checks modes and owners, as an NFS client with
			// sec=sys does; the server runs as root.
			Options: []string{"default_permissions"},
		},
	}
	if contains(flags, "ro") {
		opts.MountOptions.Options = append(opts.MountOptions.Options, "ro")
	}
	server, err := fs.Mount(dir, node, opts)
	if err != nil {
		fmt.Fprintln(ready, err)
		return 1
	}
	fmt.Fprintln(ready, "ok")
	ready.Close()
	server.Wait()
	return 0
}

// hostMountBlob starts the server for a Blob NFS mount of folder on dir and
// waits until the mount is there.
func hostMountBlob(src, folder, dir string, ro, nolock bool) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	args := []string{BlobFSCommand, src, folder, dir}
	if ro {
		args = append(args, "ro")
	}
	if nolock {
		args = append(args, "nolock")
	}
	// The server must not keep what the caller's shell had open (a
	// script's lock file, run-command's output pipe): those would stay held
	// for as long as the mount.
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, fd := range fds {
			if n, err := strconv.Atoi(fd.Name()); err == nil && n > 2 {
				syscall.CloseOnExec(n)
			}
		}
	}
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.ExtraFiles = []*os.File{w}
	// Its own session: the server outlives the mount command and the
	// script that ran it, as a mount outlives mount(8).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return err
	}
	w.Close()
	var buf [512]byte
	n, _ := r.Read(buf[:])
	msg := strings.TrimSpace(string(buf[:n]))
	if msg != "ok" {
		cmd.Wait()
		return fmt.Errorf("serving %s on %s: %s", src, dir, orDefault(msg, "the server exited"))
	}
	return cmd.Process.Release()
}
