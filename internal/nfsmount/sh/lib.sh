# ---- azlin nfsmount library: shared by the attach and detach scripts ----
# Data rules kept by every function below: user files are moved, never
# deleted; nothing is removed under a path that is or may be a mount; the only
# deletions are `rmdir` of empty directories and `rm -f` of single files this
# script created itself (probe files, temp files, the share lock's owner file).

FSTAB=/etc/fstab
LOCK_FILE=/run/lock/azlin-nfsmount.lock
SHARE_LOCK_WAIT=600   # seconds to wait for another VM's attach on the same share
SHARE_LOCK_STALE=10   # minutes without a heartbeat after which a share lock is stale
ROLLBACK_NOTE=
DYING=0
HEARTBEAT_PID=
SHARE_LOCK_DIR=

cd /
umask 022

# azlin_rollback is replaced by each script: it undoes what that script did.
azlin_rollback() { :; }

# die rolls back, then prints the one failure marker. In a subshell (command
# substitution, pipeline) it only exits: the main shell sees the failure and
# rolls back with the real state.
die() {
  if [ "$BASHPID" != "$$" ]; then exit 1; fi
  local reason
  reason=$(printf '%s' "$*" | tr '\n\r\t' '   ')
  trap - ERR INT TERM HUP
  set +e
  if [ "$DYING" = 0 ]; then
    DYING=1
    azlin_rollback
  fi
  azlin_fail "$reason${ROLLBACK_NOTE:+ -- $ROLLBACK_NOTE}"
}
trap 'die "command failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
trap 'die "interrupted by a signal"' INT TERM HUP

# The lock that keeps two azlin operations on one VM apart.
azlin_lock() {
  mkdir -p "$(dirname "$LOCK_FILE")"
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
  local me=$$ sub=$BASHPID mine
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
    }' | while read -r pid; do
      local comm=?
      [ "$(readlink /proc/"$pid"/ns/mnt 2>/dev/null || true)" = "$mine" ] || continue
      read -r comm 2>/dev/null </proc/"$pid"/comm || true
      [ "$pid" = "$PPID" ] || printf '%s(%s) ' "$pid" "$comm"
    done
}

# The apt/dpkg lock files unattended-upgrades holds after boot.
APT_LOCKS=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock)

azlin_nfs_client_installed() {
  local status
  status=$(dpkg -s nfs-common 2>/dev/null || true)
  case $status in *"Status: install ok installed"*) return 0 ;; esac
  return 1
}

# Installs nfs-common when missing, waiting (bounded by APT_WAIT) for the
# apt/dpkg locks that unattended upgrades hold after a VM boots.
azlin_ensure_nfs_client() {
  if azlin_nfs_client_installed; then
    return 0
  fi
  local deadline=$((SECONDS + APT_WAIT)) holders out updated=0 said=0
  while :; do
    holders=$(azlin_holders "${APT_LOCKS[@]}")
    if [ -z "$holders" ]; then
      if out=$(DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=10 install -y -q nfs-common 2>&1); then
        break
      fi
      case $out in
        *"Could not get lock"* | *"Unable to acquire"* | *"Unable to lock"*) holders="apt/dpkg lock" ;;
        *)
          if [ "$updated" = 0 ]; then
            # Package lists may be missing or stale on a fresh VM: update once.
            updated=1
            DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=10 update -q >/dev/null 2>&1 || true
            continue
          fi
          die "apt-get install nfs-common failed: $(printf '%s\n' "$out" | tail -n 3)"
          ;;
      esac
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "apt/dpkg is still locked after ${APT_WAIT} s (held by ${holders:-unknown}); nfs-common is not installed; run the command again when package updates have finished"
    fi
    if [ "$said" = 0 ]; then
      echo "waiting for the apt/dpkg lock (held by $holders) ..."
      said=1
    fi
    sleep 2
  done
  if ! azlin_nfs_client_installed; then
    die "apt-get installed nfs-common but dpkg does not report it installed"
  fi
}

azlin_check_mount_helper() {
  if [ ! -x /sbin/mount.nfs ] && [ ! -x /usr/sbin/mount.nfs ]; then
    die "nfs-common is installed but mount.nfs is missing"
  fi
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

# azlin_mount DIR: mounts the share at DIR, one attempt bounded by
# MOUNT_TIMEOUT seconds (see nfsmount.MountOptions).
azlin_mount() {
  local out
  if ! out=$(timeout -k 5 "$MOUNT_TIMEOUT" mount -t "$NFS_TYPE" -o "$MOUNT_OPTS" "$NFS_SOURCE" "$1" 2>&1); then
    die "mounting $NFS_SOURCE at $1 failed: ${out:-timed out after $MOUNT_TIMEOUT s}"
  fi
  if ! mountpoint -q "$1"; then
    die "mount reported success but $1 is not a mount point"
  fi
}

# azlin_unmount DIR: a plain unmount; returns non-zero when busy.
azlin_unmount() {
  umount "$1" 2>/dev/null
}

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

# azlin_copy_tree SRC DST: copies every entry of SRC (dotfiles included) into
# the existing directory DST with cp -a (modes, ownership, timestamps,
# symlinks, hard links, xattrs where the target keeps them), then checks that
# both trees list the same.
azlin_copy_tree() {
  local src=$1 dst=$2 entries=() a b
  mapfile -d '' entries < <(find "$src" -mindepth 1 -maxdepth 1 ! -name .snapshot ! -name .azlin-lock -print0)
  if [ "${#entries[@]}" -gt 0 ]; then
    local out
    if ! out=$(cp -a -- "${entries[@]}" "$dst"/ 2>&1); then
      die "copying $src to $dst failed: $(printf '%s\n' "$out" | tail -n 3)"
    fi
  fi
  a=$(azlin_tree_listing "$src")
  b=$(azlin_tree_listing "$dst")
  if [ "$a" != "$b" ]; then
    die "the copy of $src in $dst differs from the original (files changed during the copy?): $(diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -n 4)"
  fi
  COPIED_ENTRIES=$(printf '%s' "$a" | grep -c '' || true)
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

# azlin_fstab_write LINE: writes the filtered fstab through a temp file and a
# rename (never a half-written fstab), keeping the previous one at
# $FSTAB.azlin-prev for rollback. No change, no write.
azlin_fstab_write() {
  local tmp="$FSTAB.azlin-new"
  azlin_fstab_filter "$1" >"$tmp"
  if cmp -s "$tmp" "$FSTAB"; then
    rm -f "$tmp"
    return 0
  fi
  chmod --reference="$FSTAB" "$tmp"
  chown --reference="$FSTAB" "$tmp"
  cp -p "$FSTAB" "$FSTAB.azlin-prev"
  FSTAB_CHANGED=1
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
# the lock is a directory in the share root. Its owner file is touched every
# 20 s while held; a lock without a heartbeat for SHARE_LOCK_STALE minutes is
# left over from a killed run and is broken.

azlin_share_lock() {
  local dir="$1/.azlin-lock" deadline=$((SECONDS + SHARE_LOCK_WAIT)) said=0
  until mkdir "$dir" 2>/dev/null; do
    # Stale: neither the lock nor its owner file changed for SHARE_LOCK_STALE minutes.
    if [ -z "$(find "$dir" -maxdepth 1 -mmin -"$SHARE_LOCK_STALE" -print -quit 2>/dev/null)" ]; then
      local stale="$dir.stale-$HOSTNAME-$$"
      if mv -T "$dir" "$stale" 2>/dev/null; then
        azlin_info share_lock_broken "$(tr -d '\n' <"$stale/owner" 2>/dev/null || true)"
        rm -f "$stale/owner"
        rmdir "$stale" 2>/dev/null || true
      fi
      continue
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "the share is locked by another VM's attach ($(tr -d '\n' <"$dir/owner" 2>/dev/null || echo unknown)) for more than $SHARE_LOCK_WAIT s; run the command again later"
    fi
    if [ "$said" = 0 ]; then
      echo "waiting for another VM's attach to this share to finish ..."
      said=1
    fi
    sleep 2
  done
  SHARE_LOCK_DIR=$dir
  printf '%s pid %s since %s\n' "$HOSTNAME" "$$" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$dir/owner"
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

# azlin_verify_rw DIR: a write and a read back as the user in DIR.
azlin_verify_rw() {
  local probe="$1/.azlin-probe-$HOSTNAME-$$" token="azlin-$TS-$$" got
  if ! azlin_as_user sh -c 'printf %s "$1" >"$2"' sh "$token" "$probe" 2>/dev/null; then
    die "$USER_NAME cannot write in $1"
  fi
  got=$(azlin_as_user cat "$probe" 2>/dev/null || true)
  azlin_as_user rm -f "$probe" 2>/dev/null || rm -f "$probe"
  if [ "$got" != "$token" ]; then
    die "$USER_NAME wrote a file in $1 but read back something else"
  fi
}
