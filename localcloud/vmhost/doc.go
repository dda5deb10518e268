// Package vmhost boots the local cloud's VM hosts (see
// docs/local-cloud.md#vm-hosts): process trees in their own mount, UTS,
// IPC and PID namespaces that look like a small Linux VM to whoever uses them:
// own hostname, a root file system of its own from the VM image (Debian 13),
// the image's sshd on a loopback address, the image's real cloud-init at
// first boot (azureuser with sudo, the SSH key, the custom data), stand-ins
// for the package tools, and an NFS mount helper that hands `mount -t nfs` to
// the emulator. Root and Linux only.
//
// # What localcloud/cmd/az must do
//
// Boot re-executes Config.EmulatorBin as `EmulatorBin __vmhost-init DISKDIR`
// in new namespaces; that process is the host's PID 1. So main must begin,
// before flags, config and logging, with:
//
//	if len(os.Args) > 1 && os.Args[1] == vmhost.InitArg {
//		os.Exit(vmhost.MainInit(os.Args[2:]))
//	}
//
// and further:
//
//  1. Implement `az __azemu-nfs-mount SOURCE DIR -o OPTIONS` (a hidden command).
//     The host's /usr/sbin/mount.nfs and mount.nfs4 run it as
//     `/run/azemu/az __azemu-nfs-mount "$@"`, INSIDE the host (its mount
//     namespace and root), with mount(8)'s arguments: for
//     `mount -t nfs4 -o vers=4,minorversion=1,sec=sys SRC DIR` the argv after
//     the command is `SRC DIR -o rw,vers=4,minorversion=1,sec=sys` (mount adds
//     "rw"; fstab options such as nofail and _netdev are passed through as
//     well). Its environment: everything in the VM's env file (see below) plus
//     AZEMU_NFS_FSTYPE=nfs, nfs4 or aznfs (which helper mount(8) picked; the
//     aznfs package brings /usr/sbin/mount.aznfs). Paths: the state dir is at
//     /run/azemu/state. After checking Azure's rules it calls
//     MountShare(shareDirInsideHost, DIR, readOnly) and exits 0; on refusal it
//     prints mount.nfs's message (e.g. "mount.nfs: access denied by server
//     while mounting SRC") to stderr and exits 32, as mount.nfs does (aznfs:
//     its own messages on stdout, exit 1). Each mount it makes it may note in
//     /run/azemu/nfs-mounts as "ID TARGET ENDPOINT tls|proxy|plain FSTYPE SOURCE
//     OPTIONS", which the host's findmnt, mount and df stand-ins show instead
//     of the bind mount's backing disk.
//
//  2. Pass Config.Env for the VM: the host's env file gets, in this order
//     (later wins), AZEMU_STATE_DIR=/run/azemu/state, AZEMU_VM=<Name>,
//     AZEMU_HOST_IP=<IP>, then Config.Env. It is captured at Boot.
//
//  3. Call DownAll(stateDir) from its tests' t.Cleanup and signal handlers:
//     hosts are daemons and outlive the az process that booted them. Keep each
//     DiskDir under StateDir (DownAll finds hosts by that), and the state dir
//     outside the VM image (Boot refuses it there).
//
//  4. Pass Config.Image, the VM image: a root file system built by
//     scripts/rootfs.sh vm (empty: DefaultImage, the one it built last). The
//     emulator takes it from AZEMU_VM_IMAGE.
//
// # Faults, read from Config.Env at Boot
//
//	AZEMU_HOST_DPKG_LOCK_SECONDS=N  the first boot holds /var/lib/dpkg/lock-frontend and
//	                                /var/lib/dpkg/lock (flock and fcntl) for N seconds
//	                                (unattended-upgrades): apt-get install fails at once with
//	                                apt's "Could not get lock" (exit 100) unless given
//	                                -o DPkg::Lock::Timeout=N; cloud-init's packages wait for it
//	AZEMU_HOST_APT_FAIL=1           apt-get install (and so cloud-init's packages) fail as when
//	                                the archive is unreachable (exit 100)
//
// # Inside a host
//
// The host's / is an overlay mounted on DISKDIR/rootfs and pivoted into: its
// lower layer is Config.Image (read-only, shared by every host: the kernel
// never writes to a lower layer), its upper layer DISKDIR/upper, so all the
// host writes stays on its disk. A tmpfs /run and /tmp (so /tmp is empty
// after every boot), a fresh /proc, a small /dev of its own, /sys bound from
// the machine. The emulator binary is at /run/azemu/az (built on the
// machine, linked against its glibc: it runs in the image as long as the
// image's glibc, 2.41 in Debian 13, is not older), the state dir at
// /run/azemu/state, the host's disk at /run/azemu/disk.
//
// First boot (no DISKDIR/provisioned): a machine id, and cloud-init's NoCloud
// seed (see cloudinit.go): meta-data (instance id, the VM's name, its SSH
// key), user-data (Config.CustomData) and a cloud.cfg.d drop-in making
// Config.AdminUser the default user (uid 1000, adm and sudo, sudo NOPASSWD)
// and leaving out the modules a host cannot run. Every boot then runs the
// image's cloud-init: `cloud-init init --local` and `cloud-init init` (users,
// host keys, write_files) before sshd, `modules --mode config` and `--mode
// final` (packages, runcmd, user scripts) in the background after it, so Boot
// may return while runcmd still runs, as `az vm create` does; cloud-init's
// per-instance modules act at the first boot only. `cloud-init status
// --wait` in the host waits for the final stage. Output in the host's log and
// /var/log/cloud-init-output.log, cloud-init's own log in
// /var/log/cloud-init.log.
//
// Every boot: the nfs/nfs4 lines of /etc/fstab are mounted through mount(8)
// (and so the helper); a failing line with nofail is logged to host.log and
// skipped, one without fails Boot with an error naming the line (real
// systemd would hang or drop to emergency mode). Then the image's sshd -D on
// IP:22 (its stock sshd_config; restarted by the init if it exits).
//
// Stand-ins, written into the host's own /usr (its upper layer) at every
// boot: apt-get and apt (update, install, remove, purge, upgrade, list), apt-cache
// (pkgnames: the archive's names as the image's build saw them, which
// cloud-init's packages module checks), dpkg and dpkg-query (-s, -l, -W [-f],
// --configure -a, --print-architecture), systemctl (daemon-reload succeeds,
// anything else fails as without systemd) and service (ssh reload/restart
// send SIGHUP to the host's sshd). They keep the record
// /var/lib/azemu/packages. nfs-common, once recorded, brings
// /usr/sbin/mount.nfs and mount.nfs4: a host has no NFS helper until
// nfs-common is installed, as on a real image (`mount -t nfs4` then fails
// with "unknown filesystem type 'nfs4'").
//
// NFS mounts are bind mounts: mountpoint(1), findmnt -T/-n -o TARGET and
// busy-unmount ("target is busy") behave as with NFS, but findmnt's FSTYPE and
// SOURCE, /proc/mounts and df show the backing file system (e.g. ext4 and
// /dev/vda[/path/in/state]), not nfs4 and the server path. The kernel here has
// no NFS, so no NFS protocol behaviour (caching, locking, latency) is emulated.
//
// # Disk layout (Config.DiskDir)
//
//	config.json     the Config the host was last booted with
//	host.pid        machine PID of the host's init
//	host.log        init and sshd log, appended at every boot
//	boot-error      why the last boot failed (absent when it did not)
//	provisioned     marker: first boot done
//	lock            serialises Boot/Stop/Destroy across processes
//	rootfs/         mount point of the host's / (the overlay)
//	upper/ work/    the overlay's upper and work dirs: upper/ holds all the host wrote
package vmhost
