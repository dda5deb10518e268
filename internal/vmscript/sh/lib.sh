# shellcheck shell=bash
# ---- azlin script library: shared by every script run on a VM ----
# Data rules kept by every function below: user files are moved, never
# deleted; nothing is removed under a path that is or may be a mount; the only
# deletions are `rmdir` of empty directories and `rm -f` of single files this
# script created itself (probe files, temp files, the share lock's owner file)
# or azlin owns (break-glass files; layout symlinks and setting files in
# sh/layout.sh, whose azlin_move_tree also removes a tree after its checked
# copy on the other file system: a move, as mv does).
#
# Loading the library only defines functions; a script's body calls
# azlin_start first. A function that gives back a value prints it or, when
# it may fail (die) or changes the script's state, sets the variable its
# caller names (VAR in its comment).

# azlin_start: what every script does before its first step: the library's
# settings and state, the failure traps, a known working folder and umask,
# and the check of the home's path.
azlin_start() {
  FSTAB=/etc/fstab
  LOCK_FILE=/run/lock/azlin-nfsmount.lock # the name older azlin scripts lock too
  SHARE_LOCK_WAIT=600 # seconds to wait for another VM's attach on the same share
  SHARE_LOCK_STALE=2 # minutes without a heartbeat after which another VM's share lock is stale
  DYING=0
  HEARTBEAT_PID=
  SHARE_LOCK_DIR=
  azlin_breakglass_init
  azlin_layout_init
  cd /
  umask 022
  trap 'die "command failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
  trap 'die "interrupted by a signal"' INT TERM HUP
  # The home's folder must be a real path, as the kernel names mount points
  # (azlin_mounted compares names): no symlink above the home. Only the parent
  # is resolved, never the home itself, which may be a share that hangs.
  # Nothing has changed yet, so there is nothing to roll back.
  local parent
  parent=$(realpath -e -- "${HOME_DIR%/*}" 2>/dev/null || true)
  if [ "$parent" != "${HOME_DIR%/*}" ]; then
    azlin_fail "${HOME_DIR%/*} is ${parent:-missing}, not a real folder; azlin needs a home whose path has no symlinks"
  fi
}

# azlin_rollback NOTE: replaced by each script: it undoes what that script
# did and sets NOTE to what it undid, for the failure message.
azlin_rollback() { :; }

# die rolls back, then prints the one failure marker. In a subshell (command
# substitution, pipeline) it only exits: the main shell sees the failure and
# rolls back with the real state.
die() {
  if [ "$BASHPID" != "$$" ]; then exit 1; fi
  local reason note=
  reason=$(printf '%s' "$*" | tr '\n\r\t' '   ')
  trap - ERR INT TERM HUP
  set +e
  if [ "${DYING:-0}" = 0 ]; then
    DYING=1
    azlin_rollback note
  fi
  azlin_fail "$reason${note:+ -- $note}"
}

# azlin_slurp VAR FILE: VAR = FILE's content without its trailing newlines,
# as $(cat FILE) gives, but read by the shell itself: starting processes is
# most of these scripts' cost on a small VM. Empty when FILE is unreadable.
azlin_slurp() {
  local -n azlin_slurp_out=$1
  azlin_slurp_out=
  if [ -r "$2" ]; then IFS= read -r -d '' azlin_slurp_out <"$2" || true; fi
  while [[ $azlin_slurp_out == *$'\n' ]]; do azlin_slurp_out=${azlin_slurp_out%$'\n'}; done
}

# The lock that keeps two azlin operations on one VM apart.
azlin_lock() {
  [ -d "${LOCK_FILE%/*}" ] || mkdir -p "${LOCK_FILE%/*}"
  exec 9>>"$LOCK_FILE"
  if ! flock -w 300 9; then
    die "another azlin attach/detach is still running on this VM after 300 s (lock $LOCK_FILE)"
  fi
}

# azlin_holders PATH...: prints "PID(COMM)" for every process whose cwd, root,
# executable or an open file is one of PATHs or lies under it. A /proc scan, so
# it needs neither psmisc nor lsof. Only processes in this mount namespace
# count: in another one (a container) the same path names another file.
azlin_holders() {
  local me=$$ sub=$BASHPID mine holder comm
  mine=$(readlink /proc/self/ns/mnt 2>/dev/null || true)
  {
    find /proc/[0-9]*/cwd /proc/[0-9]*/root /proc/[0-9]*/exe /proc/[0-9]*/fd \
      -maxdepth 1 -type l -printf '%p\t%l\n' 2>/dev/null || true
  } | TARGETS=$(printf '%s\n' "$@") awk -F'\t' -v me="$me" -v sub_="$sub" '
    BEGIN { n = split(ENVIRON["TARGETS"], t, "\n") }
    {
      split($1, p, "/"); pid = p[3]
      if (pid == me || pid == sub_ || seen[pid]) next
      for (i = 1; i <= n; i++) {
        if (t[i] == "") continue
        if ($2 == t[i] || index($2, t[i] "/") == 1) { seen[pid] = 1; print pid; break }
      }
    }' | while read -r holder; do
      comm='?'
      [ "$(readlink /proc/"$holder"/ns/mnt 2>/dev/null || true)" = "$mine" ] || continue
      read -r comm 2>/dev/null </proc/"$holder"/comm || true
      [ "$holder" = "$PPID" ] || printf '%s(%s) ' "$holder" "$comm"
    done
}

# azlin_installed PKG: whether dpkg reports PKG installed.
azlin_installed() {
  local status
  status=$(dpkg -s "$1" 2>/dev/null || true)
  case $status in *"Status: install ok installed"*) return 0 ;; esac
  return 1
}

# The NFS client the mount needs: nfs-common for plain NFS, Microsoft's aznfs
# (which brings nfs-common) for a TLS mount and for Blob NFS (its proxy
# address follows the endpoint's IP; no TLS there). aznfs comes from Microsoft's
# package repository, configured first; AZNFS_NONINTERACTIVE_INSTALL=1 keeps
# its install from asking (whiptail) whether it may update itself, and says
# yes, as Microsoft's unattended install does.
azlin_ensure_nfs_client() {
  if [ "$NFS_TYPE" = aznfs ]; then
    azlin_installed aznfs && return 0
    azlin_microsoft_repo
    AZNFS_NONINTERACTIVE_INSTALL=1 azlin_ensure_package aznfs
  else
    azlin_ensure_package nfs-common
  fi
}

# azlin_microsoft_repo: Microsoft's package repository for this distribution
# and release, configured as its packages-microsoft-prod package does (the
# same list file and key file), unless a source for it exists already. The
# key is azlin's copy (MS_KEY, base64), so nothing is downloaded to trust it.
azlin_microsoft_repo() {
  local list=/etc/apt/sources.list.d/microsoft-prod.list key=/usr/share/keyrings/microsoft-prod.gpg url codename
  # shellcheck source=/dev/null # the VM's own release file
  url=$(. /etc/os-release && printf 'https://packages.microsoft.com/%s/%s/prod' "$ID" "$VERSION_ID")
  # shellcheck source=/dev/null
  codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || die "cannot tell this distribution's release codename from /etc/os-release, for Microsoft's package repository"
  if grep -rqsF -- "$url" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return 0
  fi
  mkdir -p "${key%/*}"
  printf '%s' "$MS_KEY" | base64 -d >"$key.azlin-new" || die "could not write Microsoft's package signing key"
  chmod 0644 "$key.azlin-new"
  mv -f "$key.azlin-new" "$key"
  printf 'deb [arch=%s signed-by=%s] %s %s main\n' "$(dpkg --print-architecture)" "$key" "$url" "$codename" >"$list.azlin-new"
  mv -f "$list.azlin-new" "$list"
}

# azlin_ensure_package PKG: installs PKG when missing, waiting (bounded by
# APT_WAIT) for the apt/dpkg locks that unattended upgrades hold after a VM
# boots.
azlin_ensure_package() {
  local pkg=$1
  if azlin_installed "$pkg"; then
    return 0
  fi
  local deadline=$((SECONDS + APT_WAIT)) holders out updated=0 said=0 lock_wait=0
  # The apt/dpkg lock files unattended-upgrades holds after boot.
  local apt_locks=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock)
  while :; do
    # The first try fails at once on a held lock (to say who holds it); the
    # next ones let apt wait for the lock itself, up to 10 s per try.
    if out=$(DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=$lock_wait install -y -q "$pkg" 2>&1); then
      break
    fi
    case $out in
      *"Could not get lock"* | *"Unable to acquire"* | *"Unable to lock"*)
        # Who holds it (unattended-upgrades, usually), for the message.
        holders=$(azlin_holders "${apt_locks[@]}")
        holders=${holders:-apt/dpkg lock}
        lock_wait=10
        ;;
      *)
        holders=
        if [ "$updated" = 0 ]; then
          # Package lists may be missing or stale on a fresh VM: update them
          # once, when nobody else (apt-daily, cloud-init) is updating them.
          holders=$(azlin_holders "${apt_locks[@]}")
          if [ -z "$holders" ]; then
            if ! out=$(DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=10 update -q 2>&1); then
              case $out in
                *"Could not get lock"* | *"Unable to acquire"* | *"Unable to lock"*) holders="apt lists lock" ;;
              esac
            fi
            if [ -z "$holders" ]; then
              updated=1 # done, or failed otherwise: the next install says how
              continue
            fi
          fi
        fi
        if [ -z "$holders" ]; then
          die "apt-get install $pkg failed: $(printf '%s\n' "$out" | tail -n 3)"
        fi
        ;;
    esac
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "apt/dpkg is still locked after ${APT_WAIT} s (held by ${holders:-unknown}); $pkg is not installed; run the command again when package updates have finished"
    fi
    if [ "$said" = 0 ]; then
      echo "waiting for the apt/dpkg lock (held by $holders) ..."
      said=1
    fi
    # Short, jittered polls: several VMs attaching at once take turns quickly
    # without knocking in step.
    sleep "0.$((RANDOM % 8 + 2))"
  done
  if ! azlin_installed "$pkg"; then
    die "apt-get installed $pkg but dpkg does not report it installed"
  fi
}

azlin_check_mount_helper() {
  local helper=mount.$NFS_TYPE pkg=nfs-common
  [ "$NFS_TYPE" = aznfs ] && pkg=aznfs
  if [ ! -x "/sbin/$helper" ] && [ ! -x "/usr/sbin/$helper" ]; then
    die "$pkg is installed but $helper is missing"
  fi
}

# azlin_is_share_source SRC: whether SRC, a mount's source in the mount
# table, is this share: NFS_SOURCE, or for an aznfs mount an IPv4 address
# with the share's path: AZNFS's local TLS tunnel (127.0.0.1:/account/share)
# or its Blob NFS proxy address (10.161.x.y:/account/container).
azlin_is_share_source() {
  [ "$1" = "$NFS_SOURCE" ] && return 0
  [ "$NFS_TYPE" = aznfs ] && [[ ${1%%:/*} =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] && [ "${1#*:/}" = "${NFS_SOURCE#*:/}" ]
}

# azlin_check_user: uid/gid must be the same on every VM that shares a home,
# because NFS (AUTH_SYS) identifies owners by number.
azlin_check_user() {
  local pw uid gid
  pw=$(getent passwd "$USER_NAME") || die "user $USER_NAME does not exist on this VM"
  IFS=: read -r _ _ uid gid _ <<<"$pw"
  if [ "$uid" != "$USER_UID" ] || [ "$gid" != "$USER_GID" ]; then
    die "user $USER_NAME has uid/gid $uid/$gid, but a shared home needs $USER_UID/$USER_GID on every VM (uid $USER_UID is: $(getent passwd "$USER_UID" | cut -d: -f1))"
  fi
}

# ---- NFS 4.1 identities: numeric uids/gids ----
# Azure Files NFS speaks AUTH_SYS with numeric ids; with idmapping on, the
# client sends and expects user@domain names, and files show up as nobody.
# The kernel's nfs module has a switch for it. It is set now (if the module is
# loaded) and in modprobe.d (for when it loads: at this mount, or at boot).
# A missing parameter file means the module is not loaded yet (modprobe.d
# then applies); a read-only one (a container's /sys) is reported, not fatal.
azlin_nfs_idmap() {
  local param=/sys/module/nfs/parameters/nfs4_disable_idmapping modprobe=/etc/modprobe.d/azlin-nfs.conf
  local want='options nfs nfs4_disable_idmapping=1' cur now line have=
  if [ -r "$modprobe" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in '#'* | '') ;; *) have+=${have:+$'\n'}$line ;; esac
    done <"$modprobe"
  fi
  if [ "$have" != "$want" ]; then
    [ -d "${modprobe%/*}" ] || mkdir -p "${modprobe%/*}"
    printf '%s\n' '# azlin: Azure Files NFS 4.1 needs numeric uids/gids (no NFSv4 idmapping)' "$want" >"$modprobe.azlin-new"
    mv -f "$modprobe.azlin-new" "$modprobe"
  fi
  if [ ! -e "$param" ]; then
    azlin_info idmapping "nfs module not loaded; $modprobe disables idmapping when it loads"
    return 0
  fi
  azlin_slurp cur "$param"
  if [ "$cur" = Y ]; then
    azlin_info idmapping "disabled"
  elif { printf 'Y\n' >"$param"; } 2>/dev/null && azlin_slurp now "$param" && [ "$now" = Y ]; then
    azlin_info idmapping "disabled (was ${cur:-unknown})"
  else
    azlin_info idmapping "could not write $param (read-only, now ${cur:-unreadable}); $modprobe applies when the nfs module next loads"
  fi
}

# azlin_mount DIR: mounts the share at DIR, one attempt bounded by
# MOUNT_TIMEOUT seconds (see vmscript.MountOptions).
azlin_mount() {
  local out
  if ! out=$(timeout -k 5 "$MOUNT_TIMEOUT" mount -t "$NFS_TYPE" -o "$MOUNT_OPTS" "$NFS_SOURCE" "$1" 2>&1); then
    die "mounting $NFS_SOURCE at $1 failed: ${out:-timed out after $MOUNT_TIMEOUT s}"
  fi
  if ! azlin_mounted "$1"; then
    die "mount reported success but $1 is not a mount point"
  fi
}

# azlin_mounted DIR: is DIR a mount point? What mountpoint(1) tells, read
# from /proc/self/mountinfo by the shell (no process; asked often). The
# kernel escapes blanks and backslashes there; azlin's paths hold none.
azlin_mounted() {
  local _id _parent _dev _root mp _rest
  while read -r _id _parent _dev _root mp _rest; do
    if [ "$mp" = "$1" ]; then return 0; fi
  done </proc/self/mountinfo
  return 1
}

# azlin_unmount DIR: a plain unmount; returns non-zero when busy.
azlin_unmount() {
  umount "$1" 2>/dev/null
}

# azlin_dir_entries DIR ARRAY: ARRAY = the names in DIR, dotfiles included
# (the shell's own glob, with its options as they were after).
azlin_dir_entries() {
  local -n azlin_entries_out=$2
  local dot=0 null=0
  if shopt -q dotglob; then dot=1; fi
  if shopt -q nullglob; then null=1; fi
  shopt -s dotglob nullglob
  azlin_entries_out=("$1"/*)
  if [ "$dot" = 0 ]; then shopt -u dotglob; fi
  if [ "$null" = 0 ]; then shopt -u nullglob; fi
  azlin_entries_out=("${azlin_entries_out[@]##*/}")
}

# (find stops at the first entry: the folder may be a big cache.)
azlin_is_empty_dir() {
  [ -d "$1" ] && [ ! -L "$1" ] && [ -z "$(find "$1" -mindepth 1 -maxdepth 1 -print -quit 2>/dev/null)" ]
}

# azlin_free_name BASE: BASE if nothing has that name, else BASE-TS, BASE-TS-2...
azlin_free_name() {
  local name=$1 n=1
  if [ ! -e "$name" ] && [ ! -L "$name" ]; then
    printf '%s' "$name"
    return 0
  fi
  name="$1-$TS"
  while [ -e "$name" ] || [ -L "$name" ]; do
    n=$((n + 1))
    name="$1-$TS-$n"
  done
  printf '%s' "$name"
}

# azlin_tree_listing DIR: one line per entry under DIR (path, type, mode, uid,
# gid, size of files, symlink target), sorted; two trees with equal listings
# hold the same names, kinds, owners, modes and sizes. The share's .snapshot
# and azlin's own lock are not part of a home.
azlin_tree_listing() {
  (cd "$1" && find . -mindepth 1 \( -path ./.snapshot -o -path ./.azlin-lock \) -prune -o \
    -printf '%P\t%y\t%m\t%U\t%G\t%s\t%l\n') |
    awk -F'\t' -v OFS='\t' '$2 == "d" { $6 = "-" } { print }' | LC_ALL=C sort
}

# azlin_copy_tree SRC DST COUNT: copies every entry of SRC (dotfiles
# included) into the existing directory DST with cp -a (modes, ownership,
# timestamps, symlinks, hard links, xattrs where the target keeps them), then
# checks that both trees list the same. COUNT = how many entries it copied,
# at every depth. With HARD_LINKS=0 (a Blob NFS target, which has no hard
# links: ln fails with "Operation not supported") each name of a file with
# several becomes a file of its own (--no-preserve=links).
# shellcheck disable=SC2034 # a nameref: it sets the variable its caller names
azlin_copy_tree() {
  local -n azlin_copied_out=$3
  local src=$1 dst=$2 entries=() a b cp_opts=(-a)
  if [ "${HARD_LINKS:-1}" = 0 ]; then cp_opts+=(--no-preserve=links); fi
  mapfile -d '' entries < <(find "$src" -mindepth 1 -maxdepth 1 ! -name .snapshot ! -name .azlin-lock -print0)
  if [ "${#entries[@]}" -gt 0 ]; then
    local out
    if ! out=$(cp "${cp_opts[@]}" -- "${entries[@]}" "$dst"/ 2>&1); then
      die "copying $src to $dst failed: $(printf '%s\n' "$out" | tail -n 3)"
    fi
  fi
  a=$(azlin_tree_listing "$src")
  b=$(azlin_tree_listing "$dst")
  if [ "$a" != "$b" ]; then
    die "the copy of $src in $dst differs from the original (files changed during the copy?): $(diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -n 4)"
  fi
  azlin_copied_out=$(printf '%s' "$a" | grep -c '' || true)
}

# azlin_report_hard_links DIR: before a copy that cannot keep hard links,
# reports hard_links (how many files under DIR have more than one name) and
# hard_link_examples (up to 3 of those names, relative to DIR), so the user
# learns that the copies no longer share their content.
azlin_report_hard_links() {
  local names=() n ex=''
  mapfile -d '' names < <(find "$1" -mindepth 1 \( -path "$1/.snapshot" -o -path "$1/.azlin-lock" \) -prune -o \
    -type f -links +1 -printf '%P\0' | LC_ALL=C sort -z)
  [ "${#names[@]}" -gt 0 ] || return 0
  azlin_info hard_links "${#names[@]}"
  for n in "${names[@]:0:3}"; do
    n=${n//[[:cntrl:]]/?}
    ex+="${ex:+, }${n:0:80}"
  done
  azlin_info hard_link_examples "$ex"
}

# ---- fstab: exactly one line carrying FSTAB_MARKER in its options ----

# azlin_fstab_filter LINE: prints fstab with every azlin line replaced by LINE
# (at the first azlin line's place, or appended), or removed when LINE is
# empty. Every other line is printed byte for byte.
azlin_fstab_filter() {
  NEWLINE=$1 MARK=$FSTAB_MARKER awk '
    function ours(   n, o, i) {
      if ($0 ~ /^[ \t]*#/ || NF < 4) return 0
      n = split($4, o, ",")
      for (i = 1; i <= n; i++) if (o[i] == ENVIRON["MARK"]) return 1
      return 0
    }
    ours() { if (ENVIRON["NEWLINE"] != "" && !done) { print ENVIRON["NEWLINE"]; done = 1 } next }
    { print }
    END { if (ENVIRON["NEWLINE"] != "" && !done) print ENVIRON["NEWLINE"] }' "$FSTAB"
}

azlin_fstab_count() {
  MARK=$FSTAB_MARKER awk '
    $0 !~ /^[ \t]*#/ && NF >= 4 { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == ENVIRON["MARK"]) c++ }
    END { print c + 0 }' "$FSTAB"
}

# azlin_fstab_source: the source field of azlin's fstab line, if any.
azlin_fstab_source() {
  MARK=$FSTAB_MARKER awk '
    $0 !~ /^[ \t]*#/ && NF >= 4 { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == ENVIRON["MARK"]) { print $1; exit } }' "$FSTAB"
}

# azlin_fstab_foreign DIR: line numbers of fstab entries for DIR not made by azlin.
azlin_fstab_foreign() {
  DIR=$1 MARK=$FSTAB_MARKER awk '
    $0 ~ /^[ \t]*#/ || NF < 2 { next }
    $2 == ENVIRON["DIR"] { n = split($4, o, ","); m = 0; for (i = 1; i <= n; i++) if (o[i] == ENVIRON["MARK"]) m = 1; if (!m) printf "%d ", NR }' "$FSTAB"
}

# azlin_fstab_write LINE CHANGED: writes the filtered fstab through a temp
# file and a rename (never a half-written fstab), keeping the previous one at
# $FSTAB.azlin-prev for rollback; CHANGED = 1 from the moment fstab is being
# replaced (so that a rollback restores it). No change, no write.
# shellcheck disable=SC2034 # a nameref: it sets the variable its caller names
azlin_fstab_write() {
  local -n azlin_fstab_changed_out=$2
  local tmp="$FSTAB.azlin-new"
  azlin_fstab_filter "$1" >"$tmp"
  if cmp -s "$tmp" "$FSTAB"; then
    rm -f "$tmp"
    return 0
  fi
  chmod --reference="$FSTAB" "$tmp"
  chown --reference="$FSTAB" "$tmp"
  cp -p "$FSTAB" "$FSTAB.azlin-prev"
  azlin_fstab_changed_out=1
  sync "$tmp" 2>/dev/null || true
  mv -f "$tmp" "$FSTAB"
}

azlin_fstab_restore() {
  if cp -p "$FSTAB.azlin-prev" "$FSTAB.azlin-new" && mv -f "$FSTAB.azlin-new" "$FSTAB"; then
    return 0
  fi
  return 1
}

# ---- the share lock: one VM at a time seeds the share and merges keys ----
# mkdir is atomic on NFS 3 and 4 alike (Blob NFS has no byte-range locks), so
# the lock is a directory in the share root. Its owner file names the VM (host
# name and machine id), the boot and the pid, and is touched every 20 s while
# held. A lock is left over from a run that died, and is broken:
# - at once, when this VM owns it but from another boot or a pid that is gone
#   (this VM holds its own VM lock, so no run of its own can hold it now);
# - after SHARE_LOCK_STALE minutes without a heartbeat, whoever owns it: six
#   missed heartbeats, well above NFS attribute caching (actimeo=30).

# azlin_vm_id: this VM in the owner file: host name and machine id.
azlin_vm_id() {
  printf '%s machine %s' "$HOSTNAME" "$(tr -d '\n' </etc/machine-id 2>/dev/null || true)"
}

# azlin_boot_id: this boot of the VM (a new one at every boot).
azlin_boot_id() {
  tr -d '\n' </proc/sys/kernel/random/boot_id 2>/dev/null || true
}

# azlin_share_lock_own_dead DIR: whether the lock in DIR is this VM's own,
# left by a run of an earlier boot or by a process that is gone. Only a lock
# written with a machine id counts: without one, another VM of the same name
# cannot be told apart.
azlin_share_lock_own_dead() {
  local host machine pid boot
  # owner: HOST machine MACHINE-ID pid PID boot BOOT-ID since TIME
  read -r host _ machine _ pid _ boot _ <"$1/owner" 2>/dev/null || return 1
  [ "$host machine $machine" = "$(azlin_vm_id)" ] && [ -n "$machine" ] || return 1
  [ "$boot" != "$(azlin_boot_id)" ] || ! kill -0 "$pid" 2>/dev/null
}

# azlin_share_lock_break DIR: moves the lock aside (atomically, so that only
# one VM breaks it) and removes it, saying whose it was.
azlin_share_lock_break() {
  local stale="$1.stale-$HOSTNAME-$$"
  if mv -T "$1" "$stale" 2>/dev/null; then
    azlin_info share_lock_broken "$(tr -d '\n' <"$stale/owner" 2>/dev/null || true)"
    rm -f "$stale/owner"
    rmdir "$stale" 2>/dev/null || true
  fi
}

azlin_share_lock() {
  local dir="$1/.azlin-lock" deadline=$((SECONDS + SHARE_LOCK_WAIT)) said=0
  until mkdir "$dir" 2>/dev/null; do
    # Released between our mkdir and now: try again at once. (A lock that
    # is gone must not count as stale: breaking it would steal the lock
    # another VM takes next.)
    [ -d "$dir" ] || continue
    if azlin_share_lock_own_dead "$dir"; then
      azlin_share_lock_break "$dir"
      continue
    fi
    # Stale: the lock exists and is old, and neither it nor its owner file
    # changed for SHARE_LOCK_STALE minutes. Both on positive evidence: a lock
    # released (and maybe taken by another VM) during this check is not stale.
    if [ -n "$(find "$dir" -maxdepth 0 -mmin +"$SHARE_LOCK_STALE" -print 2>/dev/null)" ] &&
      [ -z "$(find "$dir" -maxdepth 1 -mmin -"$SHARE_LOCK_STALE" -print -quit 2>/dev/null)" ]; then
      azlin_share_lock_break "$dir"
      continue
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "the share is locked by another VM's attach ($(tr -d '\n' <"$dir/owner" 2>/dev/null || echo unknown)) for more than $SHARE_LOCK_WAIT s; run the command again later"
    fi
    if [ "$said" = 0 ]; then
      echo "waiting for another VM's attach to this share to finish ..."
      said=1
    fi
    # Short, jittered polls: several VMs attaching at once take turns quickly
    # without knocking in step.
    sleep "0.$((RANDOM % 8 + 2))"
  done
  SHARE_LOCK_DIR=$dir
  printf '%s pid %s boot %s since %s\n' "$(azlin_vm_id)" "$$" "$(azlin_boot_id)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$dir/owner"
  # The heartbeat must not inherit the VM lock (fd 9) nor the script's output:
  # it would hold them after the script ended. It stops with the script.
  (
    trap - ERR
    sleeper=
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    while kill -0 "$$" 2>/dev/null && [ -d "$dir" ]; do
      touch "$dir/owner" 2>/dev/null || true
      sleep 20 &
      sleeper=$!
      wait "$sleeper" || true
    done
  ) </dev/null >/dev/null 2>&1 9>&- &
  HEARTBEAT_PID=$!
}

azlin_share_unlock() {
  if [ -n "$HEARTBEAT_PID" ]; then
    kill "$HEARTBEAT_PID" 2>/dev/null || true
    wait "$HEARTBEAT_PID" 2>/dev/null || true
    HEARTBEAT_PID=
  fi
  if [ -n "$SHARE_LOCK_DIR" ]; then
    rm -f "$SHARE_LOCK_DIR/owner"
    rmdir "$SHARE_LOCK_DIR" 2>/dev/null || true
    SHARE_LOCK_DIR=
  fi
}

# azlin_as_user CMD...: runs CMD as the home's owner (no PAM, no login shell).
azlin_as_user() {
  setpriv --reuid="$USER_UID" --regid="$USER_GID" --clear-groups -- "$@"
}

# azlin_verify_rw DIR: a write and a read back as the user in DIR. Its file's
# name is its own: attach's check-mounted probe (.azlin-probe-...) was just
# made and removed through another mount of the share, and this mount may
# still have that name cached (NFS attribute caching; a Blob re-attach
# failed here when both used one name).
azlin_verify_rw() {
  local probe="$1/.azlin-verify-$HOSTNAME-$$" token="azlin-$TS-$$" got
  # One shell as the user writes, reads back and removes the file.
  # shellcheck disable=SC2016 # $1 and $2 are the inner shell's arguments
  if ! got=$(azlin_as_user sh -c 'printf %s "$1" >"$2" || exit 3; cat "$2"; rm -f "$2"' sh "$token" "$probe" 2>/dev/null); then
    if [ -e "$probe" ]; then rm -f "$probe"; fi
    die "$USER_NAME cannot write in $1"
  fi
  if [ "$got" != "$token" ]; then
    die "$USER_NAME wrote a file in $1 but read back something else"
  fi
}

# ---- break-glass login: the VM's keys also on local disk ----
# With the home on NFS, sshd reads ~/.ssh/authorized_keys from the share: if
# the share hangs or is gone, nobody can log in to fix it. So the keys azlin
# knows (azlin_collect_keys) are also kept in BG_KEYS_DIR/<user> (root's, 0644: sshd's
# StrictModes accepts it), and a drop-in makes sshd look there first. The
# drop-in is checked with `sshd -t` (and `sshd -T` for the value sshd will
# really use) before sshd is reloaded; if either check fails, the previous
# configuration is put back and the attach goes on without break-glass,
# saying why.

# azlin_breakglass_init: the break-glass files, and the state a rollback
# reads (BG_CHANGED: the sshd configuration was changed and not yet kept).
azlin_breakglass_init() {
  BG_KEYS_DIR=/etc/ssh/azlin_authorized_keys
  BG_DROPIN=/etc/ssh/sshd_config.d/50-azlin.conf
  SSHD_CONFIG=/etc/ssh/sshd_config
  BG_AKF="$BG_KEYS_DIR/%u .ssh/authorized_keys"
  BG_DROPIN_TEXT="# azlin: break-glass login. sshd reads the keys on local disk first, so that a
# login works while the shared home (NFS) is slow or unreachable.
AuthorizedKeysFile $BG_AKF"
  BG_CHANGED=0
  BG_HAD_DROPIN=0
}

# azlin_collect_keys ARRAY: ARRAY = the keys given to the script, then those
# in the local home's authorized_keys (while the home is not the share's mount).
azlin_collect_keys() {
  local -n azlin_keys_out=$1
  local line
  azlin_keys_out=("${KEYS[@]}")
  if [ -f "$HOME_DIR/.ssh/authorized_keys" ] && [ ! -L "$HOME_DIR/.ssh/authorized_keys" ] && ! azlin_mounted "$HOME_DIR"; then
    while IFS= read -r line || [ -n "$line" ]; do
      line=${line%$'\r'}
      case $line in '' | '#'*) continue ;; esac
      azlin_keys_out+=("$line")
    done <"$HOME_DIR/.ssh/authorized_keys"
  fi
}

# azlin_sshd_bin: prints the sshd binary's path, or nothing.
azlin_sshd_bin() {
  local sshd
  sshd=$(type -P sshd || true)
  if [ -z "$sshd" ] && [ -x /usr/sbin/sshd ]; then sshd=/usr/sbin/sshd; fi
  printf '%s' "$sshd"
}

# azlin_sshd_akf SSHD VAR: VAR = the AuthorizedKeysFile the sshd binary SSHD
# would use for the user; empty when sshd cannot tell.
# shellcheck disable=SC2034 # a nameref: it sets the variable its caller names
azlin_sshd_akf() {
  local -n azlin_akf_out=$2
  local sshd=$1 conf line
  azlin_akf_out=
  conf=$("$sshd" -T -C "user=$USER_NAME,host=localhost,addr=127.0.0.1" 2>/dev/null) || return 0
  while IFS= read -r line; do
    if [[ $line == "authorizedkeysfile "* ]]; then
      azlin_akf_out=${line#authorizedkeysfile }
      return 0
    fi
  done <<<"$conf"
}

# azlin_sock_inodes PID: the sockets a process holds, by file descriptor
# (they change when sshd re-executes). One process, no pipeline: it is polled.
azlin_sock_inodes() {
  find /proc/"$1"/fd -maxdepth 1 -lname 'socket:*' -printf '%f=%l ' 2>/dev/null || true
}

# azlin_sshd_reload HOW: makes a running sshd read its configuration again
# and sets HOW to how it did: systemd's reload where systemd runs sshd, else
# SIGHUP to the daemon in /run/sshd.pid (sshd re-executes itself; the wait
# below lasts until it holds new sockets, so a login right after the script
# finds it listening). An sshd that is not running reads the configuration
# when it starts.
# shellcheck disable=SC2034 # a nameref: it sets the variable its caller names
azlin_sshd_reload() {
  local -n azlin_reload_out=$1
  local pid comm='' before after n
  # /run/systemd/system exists only when systemd is the init (sd_booted(3)).
  if [ -d /run/systemd/system ] && { systemctl reload ssh >/dev/null 2>&1 || systemctl reload sshd >/dev/null 2>&1; }; then
    azlin_reload_out='systemctl reload'
    return 0
  fi
  azlin_slurp pid /run/sshd.pid
  if [[ $pid =~ ^[0-9]+$ ]]; then azlin_slurp comm "/proc/$pid/comm"; fi
  if [ "$comm" = sshd ]; then
    before=$(azlin_sock_inodes "$pid")
    if kill -HUP "$pid" 2>/dev/null; then
      # Polls 0.05 s apart at first, then further apart (a busy VM takes
      # longer, and each poll is a process): about 6 s in all.
      for n in 0.05 0.05 0.1 0.1 0.2 0.2 0.4 0.4 0.8 0.8 1 1 1; do
        sleep "$n"
        after=$(azlin_sock_inodes "$pid")
        if [ -n "$after" ] && [ "$after" != "$before" ]; then break; fi
      done
      sleep 0.1
      azlin_reload_out="SIGHUP to sshd (pid $pid)"
      return 0
    fi
  fi
  azlin_reload_out='none: sshd is not running (it reads the configuration when it starts)'
}

# azlin_breakglass_keys ADDED KEY...: merges KEYs into the local keys file
# (never overwrites: keys already there stay); ADDED = how many were new.
azlin_breakglass_keys() {
  local -n azlin_bg_added_out=$1
  shift
  local file="$BG_KEYS_DIR/$USER_NAME" tmp key
  azlin_bg_added_out=0
  if [ -L "$BG_KEYS_DIR" ] || [ -L "$file" ]; then
    die "$BG_KEYS_DIR or $file is a symlink; azlin will not write through it"
  fi
  local old='' new line
  local -A have=()
  # root's, 0755 (sshd's StrictModes), whatever it was before.
  install -d -m 0755 -o root -g root "$BG_KEYS_DIR"
  if [ -f "$file" ]; then
    azlin_slurp old "$file"
    while IFS= read -r line || [ -n "$line" ]; do have[x$line]=1; done <"$file"
  fi
  new=${old:+$old$'\n'}
  for key in "$@"; do
    if [ -z "${have[x$key]:-}" ]; then
      new+=$key$'\n'
      have[x$key]=1
      azlin_bg_added_out=$((azlin_bg_added_out + 1))
    fi
  done
  if [ "$azlin_bg_added_out" = 0 ] && [ -f "$file" ] && [ "$(stat -c %a:%u:%g "$file")" = 644:0:0 ]; then return 0; fi
  # Existing lines kept as they were; the file replaced through a rename.
  tmp="$file.azlin-new"
  printf '%s' "$new" >"$tmp" # root's, 0644: the scripts' umask
  mv -f "$tmp" "$file"
}

# azlin_breakglass_restore: puts back the sshd configuration saved by azlin_breakglass.
azlin_breakglass_restore() {
  if [ "$BG_CHANGED" != 1 ]; then return 0; fi
  if [ "$BG_HAD_DROPIN" = 1 ]; then mv -f "$BG_DROPIN.azlin-prev" "$BG_DROPIN"; else rm -f "$BG_DROPIN"; fi
  if cmp -s "$SSHD_CONFIG.azlin-prev" "$SSHD_CONFIG"; then rm -f "$SSHD_CONFIG.azlin-prev"; else mv -f "$SSHD_CONFIG.azlin-prev" "$SSHD_CONFIG"; fi
  BG_CHANGED=0
}

# azlin_breakglass KEY...: the local keys file with KEYs and the drop-in (see
# above). Reports breakglass=on|off: REASON, bg_keys_added and sshd_reload.
azlin_breakglass() {
  local out akf='' cur line include=no sshd added how
  local include_re='^[[:space:]]*Include[[:space:]]+(/etc/ssh/)?sshd_config\.d/\*\.conf'
  azlin_breakglass_keys added "$@"
  azlin_info bg_keys_added "$added"
  sshd=$(azlin_sshd_bin)
  if [ -z "$sshd" ]; then
    azlin_info breakglass "off: no sshd on this VM (the keys are in $BG_KEYS_DIR/$USER_NAME)"
    return 0
  fi
  # sshd refuses to run, even for -t and -T, without its privilege separation
  # folder, which systemd makes only while sshd runs (RuntimeDirectory).
  [ -d /run/sshd ] || mkdir -p /run/sshd
  azlin_slurp cur "$BG_DROPIN"
  if [ "$cur" = "$BG_DROPIN_TEXT" ] && azlin_sshd_akf "$sshd" akf && [ "$akf" = "$BG_AKF" ]; then
    azlin_info breakglass on
    return 0
  fi
  BG_HAD_DROPIN=0
  if [ -e "$BG_DROPIN" ]; then
    cp -p "$BG_DROPIN" "$BG_DROPIN.azlin-prev"
    BG_HAD_DROPIN=1
  fi
  cp -p "$SSHD_CONFIG" "$SSHD_CONFIG.azlin-prev"
  BG_CHANGED=1
  [ -d "${BG_DROPIN%/*}" ] || mkdir -p "${BG_DROPIN%/*}"
  printf '%s\n' "$BG_DROPIN_TEXT" >"$BG_DROPIN.azlin-new" # 0644: the scripts' umask
  mv -f "$BG_DROPIN.azlin-new" "$BG_DROPIN"
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ $line =~ $include_re ]]; then include=yes; break; fi
  done <"$SSHD_CONFIG"
  if [ "$include" = no ]; then
    # An sshd_config that does not read the drop-in folder (Ubuntu's does, at
    # its top): add that Include first, since in sshd_config the first value wins.
    { printf '%s\n' '# azlin: read the drop-in folder first, as Ubuntu'"'"'s sshd_config does' 'Include /etc/ssh/sshd_config.d/*.conf'; cat "$SSHD_CONFIG"; } >"$SSHD_CONFIG.azlin-new"
    chmod --reference="$SSHD_CONFIG" "$SSHD_CONFIG.azlin-new"
    chown --reference="$SSHD_CONFIG" "$SSHD_CONFIG.azlin-new"
    mv -f "$SSHD_CONFIG.azlin-new" "$SSHD_CONFIG"
  fi
  if ! out=$("$sshd" -t 2>&1); then
    azlin_breakglass_restore
    azlin_info breakglass "off: sshd -t rejected the configuration with the drop-in ($(printf '%s' "$out" | tr '\n\r' '  ' | cut -c1-200)); the previous configuration is restored"
    return 0
  fi
  azlin_sshd_akf "$sshd" akf
  if [ "$akf" != "$BG_AKF" ]; then
    azlin_breakglass_restore
    azlin_info breakglass "off: sshd would still use AuthorizedKeysFile ${akf:-unknown} (set before the drop-in is read); the previous configuration is restored"
    return 0
  fi
  rm -f "$BG_DROPIN.azlin-prev" "$SSHD_CONFIG.azlin-prev"
  BG_CHANGED=0
  azlin_info breakglass on
  azlin_sshd_reload how
  azlin_info sshd_reload "$how"
}

# azlin_breakglass_remove: at detach the home's authorized_keys is on local
# disk again, and a second, hidden list of keys would keep working keys that
# the user later removes from it; so the drop-in and the keys file (azlin's
# own files; their keys were merged into the home's authorized_keys at
# attach) are removed. An Include line azlin added to sshd_config stays: it
# is what Ubuntu's default has and reads nothing else of azlin's.
azlin_breakglass_remove() {
  local file="$BG_KEYS_DIR/$USER_NAME" out sshd how
  if [ ! -e "$BG_DROPIN" ] && [ ! -e "$file" ]; then return 0; fi
  rm -f "$BG_DROPIN" "$file"
  rmdir "$BG_KEYS_DIR" 2>/dev/null || true
  azlin_info breakglass removed
  sshd=$(azlin_sshd_bin)
  if [ -n "$sshd" ]; then
    [ -d /run/sshd ] || mkdir -p /run/sshd
    if out=$("$sshd" -t 2>&1); then
      azlin_sshd_reload how
      azlin_info sshd_reload "$how"
    else
      azlin_info sshd_reload "none: sshd -t fails without azlin's drop-in too ($(printf '%s' "$out" | tr '\n\r' '  ' | cut -c1-200))"
    fi
  fi
}
