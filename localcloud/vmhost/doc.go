// Package vmhost boots the local cloud's VM hosts (see
// docs/local-cloud.md#vm-hosts): process trees in their own mount, UTS,
// IPC and PID namespaces that look like a small Linux VM to whoever uses them:
// own hostname, own root file system, azureuser with sudo, sshd on a loopback
// address, cloud-init at first boot, stand-ins for the package tools, and an
// NFS mount helper that hands `mount -t nfs` to the emulator. Root and Linux
// only.
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
//     /run/azemu/nfs-mounts as "ID TARGET ENDPOINT tls|plain FSTYPE SOURCE
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
//     outside /etc, /home, /root, /var, /usr, /opt, /srv, /run, /proc, /sys
//     and /dev (Boot refuses it there).
//
// # Faults, read from Config.Env at Boot
//
//	AZEMU_HOST_DPKG_LOCK_SECONDS=N  the first boot holds /var/lib/dpkg/lock-frontend and
//	                                /var/lib/dpkg/lock for N seconds (unattended-upgrades):
//	                                apt-get install fails at once with apt's "Could not get
//	                                lock" (exit 100) unless given -o DPkg::Lock::Timeout=N
//	AZEMU_HOST_APT_FAIL=1           apt-get install (and cloud-init's packages) fail as when
//	                                the archive is unreachable (exit 100)
//
// # Inside a host
//
// The host's / is DISKDIR/rootfs, pivoted into: overlays of the machine's
// /etc, /home, /root, /var, /usr, /opt and /srv whose upper layers are on the
// disk; the machine's /bin, /sbin, /lib* symlinks; anything else written
// (e.g. /mnt/x, /data) lands in DISKDIR/rootfs. A tmpfs /run and /tmp (so
// /tmp is empty after every boot), a fresh /proc, a small /dev of its own,
// /sys bound from the machine. The emulator binary is at /run/azemu/az, the
// state dir at /run/azemu/state, the host's disk at /run/azemu/disk.
//
// First boot (no DISKDIR/provisioned): hostname in /etc/hostname and /etc/hosts,
// the admin user as uid/gid 1000 (a base-image user holding 1000 moves to a
// free id, in the host's /etc only; its files are not chowned), groups adm and
// sudo, /etc/sudoers.d/90-cloud-init-users (NOPASSWD), home 0750 with skeleton
// files, ~/.ssh 0700, authorized_keys 0600, a fresh ed25519 host key and an
// sshd_config (no passwords, no PAM, StrictModes). Then cloud-init's init
// stage (write_files) before sshd starts and its final stage (packages, deferred
// write_files, runcmd, a "#!" user-data script) after: Boot may return while
// runcmd still runs, as `az vm create` does; `cloud-init status --wait` in the
// host waits for it and prints "status: done" (exit 0) or "status: error"
// (exit 1). Output in /var/log/cloud-init-output.log.
//
// Every boot: the nfs/nfs4 lines of /etc/fstab are mounted through mount(8)
// (and so the helper); a failing line with nofail is logged to host.log and
// skipped, one without fails Boot with an error naming the line (real
// systemd would hang or drop to emergency mode). Then sshd -D on IP:22.
//
// Stand-ins, written into the host's own /usr at every boot: apt-get and apt
// (update, install, remove, purge, upgrade, list), dpkg and dpkg-query (-s, -l,
// -W [-f], --configure -a, --print-architecture), cloud-init (status
// [--wait] [--long]), and systemctl (daemon-reload succeeds, anything else
// fails as without systemd). They keep the record /var/lib/azemu/packages.
// nfs-common, once recorded, brings /usr/sbin/mount.nfs and mount.nfs4: a
// host has no NFS helper until nfs-common is installed, as on a real image
// (`mount -t nfs4` then fails with "unknown filesystem type 'nfs4'").
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
//	rootfs/         the host's / (mount points, and what is written outside the overlays)
//	upper/T work/T  overlay upper and work dirs for each overlaid tree T
package vmhost
